"""Photos uploaded by officers, deputies and residents, checked by what the bytes are.

Uploads come from phones (often the WeChat browser), so the file name and the declared
content type say nothing reliable. Only the bytes decide: Pillow must recognise a JPEG,
PNG or WebP, within size limits, before any pixel is decoded. What gets stored is never
the upload itself but a fresh JPEG drawn from its pixels, so nothing of the original
container survives: no EXIF (GPS position, camera), no XMP, ICC profile or comment, and
no bytes appended after the image (a polyglot that is also HTML or a script).

No Flask here; a bad upload raises DomainError, whose message the caller shows.
"""

import io
import struct
import warnings
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps

from voting_app.errors import DomainError

MAX_UPLOAD_BYTES = 8 * 1024 * 1024  # per photo; the request cap (MAX_CONTENT_LENGTH) allows four
MAX_SOURCE_SIDE = 12_000
MAX_SOURCE_PIXELS = 50_000_000
OUTPUT_MAX_SIDE = 1600
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")

JPEG_QUALITY = 82
_WHITE = (255, 255, 255)
# Android and Samsung cameras write multi-picture JPEGs, which Pillow names MPO; frame 0 is the photo.
_JPEG_VARIANTS = ("MPO",)
# What Pillow raises on bytes it cannot make sense of: its own fuzzers expect OSError, the
# rest come from plugins and EXIF parsing of crafted files.
_PILLOW_ERRORS = (
    OSError,  # includes UnidentifiedImageError and "image file is truncated"
    SyntaxError,
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    EOFError,
    struct.error,
)
_BOMBS = (Image.DecompressionBombError, Image.DecompressionBombWarning)


@dataclass(frozen=True)
class CleanImage:
    data: bytes
    width: int
    height: int
    content_type: str = "image/jpeg"


def _not_a_photo() -> DomainError:
    return DomainError(_l("Only photos in JPEG, PNG or WebP format can be uploaded."))


def _too_many_pixels() -> DomainError:
    return DomainError(
        _l(
            "The photo has too many pixels: at most %(side)s on a side and %(megapixels)s million in all.",
            side=MAX_SOURCE_SIDE,
            megapixels=MAX_SOURCE_PIXELS // 1_000_000,
        )
    )


def clean_image(data: bytes) -> CleanImage:
    """Check an upload by its content and return a metadata-free JPEG copy to store.

    Raises DomainError for anything that is not a usable photo, so the caller stores nothing.
    """
    if not data:
        raise DomainError(_l("The photo is empty."))
    if len(data) > MAX_UPLOAD_BYTES:
        raise DomainError(_l("The photo is larger than %(limit)s MB.", limit=MAX_UPLOAD_BYTES // (1024 * 1024)))
    try:
        # A bomb warning must stop the upload, not end up in a log while decoding goes on.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS) as source:
                _check_source(source)
                # JPEG decodes straight at a reduced scale: far less memory and time for camera photos.
                source.draft("RGB", (OUTPUT_MAX_SIDE, OUTPUT_MAX_SIDE))
                source.load()
                ImageOps.exif_transpose(source, in_place=True)
                image = _rgb_or_rgba(source)
                image.thumbnail((OUTPUT_MAX_SIDE, OUTPUT_MAX_SIDE), Image.Resampling.LANCZOS)
                return _encode(image)
    except DomainError:
        raise
    except _BOMBS as error:
        raise _too_many_pixels() from error
    except _PILLOW_ERRORS as error:
        raise _not_a_photo() from error


def _check_source(source: Image.Image) -> None:
    """Refuse before decoding: the header's size is known while the pixels are still unread."""
    if source.format not in ACCEPTED_FORMATS + _JPEG_VARIANTS:
        raise _not_a_photo()
    width, height = source.size
    if width < 1 or height < 1:
        raise _not_a_photo()
    if width > MAX_SOURCE_SIDE or height > MAX_SOURCE_SIDE or width * height > MAX_SOURCE_PIXELS:
        raise _too_many_pixels()


def _rgb_or_rgba(image: Image.Image) -> Image.Image:
    """Bring any mode to 8-bit RGB, or RGBA when it has transparency, so resampling works on colour."""
    if image.mode.startswith("I"):
        # 16-bit grayscale PNG: Pillow's convert clips to 255 instead of scaling, leaving it white.
        image = image.convert("I").point(lambda value: value / 256).convert("L")
    if image.has_transparency_data:
        return image.convert("RGBA")
    return image.convert("RGB")


def _encode(image: Image.Image) -> CleanImage:
    """Draw onto a fresh white canvas so no info (comment, EXIF, ICC) of the source is carried along."""
    canvas = Image.new("RGB", image.size, _WHITE)
    canvas.paste(image, mask=image.getchannel("A") if image.mode == "RGBA" else None)
    out = io.BytesIO()
    canvas.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return CleanImage(data=out.getvalue(), width=canvas.width, height=canvas.height)
