"""Photos uploaded by officers, deputies and residents, checked by what the bytes are.

Uploads come from phones (often the WeChat browser), so the file name and the declared
content type say nothing reliable. Only the bytes decide: Pillow must recognise a JPEG,
PNG or WebP, within size limits, before any pixel is decoded. What gets stored is never
the upload itself but a fresh JPEG drawn from its pixels, so nothing of the original
container survives: no EXIF (GPS position, camera), no XMP, ICC profile or comment, and
no bytes appended after the image (a polyglot that is also HTML or a script). Beside it goes
a thumbnail drawn the same way, which pages show, linking to the photo: a phone on a weak
network loads a few tens of kilobytes per photo instead of a few hundred.

A photo of 2 megapixels or more (APART_PIXELS) is decoded in a short-lived child process at
the lowest CPU priority (`voting_app.niced`): a decode of a tenth of a second to two seconds
then runs only on a core that no request wants, so the ballots cast meanwhile do not wait
behind it. The worker cannot lower its own priority for the decode, as it could not raise it
again afterwards. A smaller photo stays in the worker: its decode takes 10 to 40 ms, to which
a fork would add over a third, and so short a decode holds a cast up by a scheduler slice at
most.

Memory is bounded twice. Within one photo, the decoded source is the only full-size image:
it is converted and shrunk strip by strip, never copied whole (a 50-megapixel PNG decodes to
200 MB; converting it whole took 680 MB). Across the machine, a photo that large waits for
one of a few turns (`decode_turn`), so four of them at once cannot add up, and its memory
goes back to the system with its child before the turn passes on.

No Flask here; a bad upload raises DomainError, whose message the caller shows.
"""

import fcntl
import io
import logging
import math
import os
import struct
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, replace

from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps

from voting_app.errors import BusyError, DomainError
from voting_app.niced import ChildFailed, run_niced

MAX_UPLOAD_BYTES = 8 * 1024 * 1024  # per photo; the request cap (MAX_CONTENT_LENGTH) allows four
MAX_SOURCE_SIDE = 12_000
MAX_SOURCE_PIXELS = 50_000_000
OUTPUT_MAX_SIDE = 1600
# Pages show photos 160 CSS pixels wide (static/css/app.css .photos img): enough for a 2x screen.
THUMBNAIL_SIDE = 400
THUMBNAIL_QUALITY = 75
# Pillow keeps most modes at four bytes a pixel; a decode over this (16 megapixels) takes a
# turn. A 12-megapixel phone photo (48 MB) never waits, nor a 50-megapixel JPEG, which decodes
# at half its width and height (draft); a 50-megapixel PNG or WebP does.
LARGE_DECODE_BYTES = 64 * 1024 * 1024
# Decodes of this many pixels or more run in a niced child. Measured in a 160 MB process on
# this project's 2-core machine, a fork costs 10 to 25 ms of CPU (page tables, copy-on-write):
# over a third of the work on a photo under 2 megapixels (a 1600 x 1200 JPEG takes 40 ms,
# 640 x 480 10 ms), 12 to 20% from 2.4 megapixels (70 ms; a 12-megapixel phone photo 220 ms).
APART_PIXELS = 2_000_000
# Source rows converted at a time: at most 24 MB, for the widest source allowed.
_STRIP_ROWS = 512
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
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CleanImage:
    data: bytes
    width: int
    height: int
    content_type: str = "image/jpeg"
    thumbnail: bytes = b""  # a JPEG of at most THUMBNAIL_SIDE on a side, as clean as `data`


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


# What a decode child sends back: a refusal's name, or the photo's size, the photo and its thumbnail.
_REFUSED, _CLEANED = b"R", b"C"
_REFUSALS = {"not a photo": _not_a_photo, "too many pixels": _too_many_pixels}
_SIZES = struct.Struct(">III")  # width, height, length of the photo


def clean_image(data: bytes, large_decode: Callable[[], AbstractContextManager] = nullcontext,
                decode_seconds: float = 20) -> CleanImage:
    """Check an upload by its content and return a metadata-free JPEG copy to store.

    `large_decode` is entered around the whole work on a photo over LARGE_DECODE_BYTES, so the
    caller can bound how many such photos are decoded at once. A photo of APART_PIXELS or more
    is decoded in a child process at the lowest priority, given `decode_seconds`. Raises
    DomainError for anything that is not a usable photo, and BusyError for a photo whose
    decode ended without a result, so the caller stores nothing.
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
                pixels = source.width * source.height
                if pixels * 4 > LARGE_DECODE_BYTES:
                    with large_decode():
                        return _cleaned_apart(source, decode_seconds)
                if pixels >= APART_PIXELS:
                    return _cleaned_apart(source, decode_seconds)
                return _cleaned(source)
    except DomainError:
        raise
    except _BOMBS as error:
        raise _too_many_pixels() from error
    except _PILLOW_ERRORS as error:
        raise _not_a_photo() from error


def _cleaned_apart(source: Image.Image, seconds: float) -> CleanImage:
    """`_cleaned` in a niced child, which finds `source` as it was at the fork: opened, checked, drafted."""
    try:
        output = run_niced(lambda: _cleaned_for_parent(source), seconds)
    except ChildFailed as failure:
        _log.warning("a photo's decode gave no result: %s", failure)
        raise BusyError(_l("The photo could not be processed, so nothing was saved. "
                           "Please send the form again in a minute, or send a smaller photo.")) from failure
    if output[:1] == _REFUSED:
        raise _REFUSALS[output[1:].decode()]()
    width, height, size = _SIZES.unpack_from(output, 1)
    start = 1 + _SIZES.size
    return CleanImage(data=output[start:start + size], width=width, height=height, thumbnail=output[start + size:])


def _cleaned_for_parent(source: Image.Image) -> bytes:
    """In the child: the clean photo, or which refusal clean_image would raise, as bytes."""
    try:
        clean = _cleaned(source)
    except _BOMBS:
        return _REFUSED + b"too many pixels"
    except _PILLOW_ERRORS:
        return _REFUSED + b"not a photo"
    return _CLEANED + _SIZES.pack(clean.width, clean.height, len(clean.data)) + clean.data + clean.thumbnail


def _cleaned(source: Image.Image) -> CleanImage:
    """Shrink, then free the full-size pixels at once, before the smaller copies are made."""
    source.load()
    image = _shrunk(source)
    image.info = dict(source.info)  # the EXIF orientation, for exif_transpose
    source.close()
    ImageOps.exif_transpose(image, in_place=True)
    image.thumbnail((OUTPUT_MAX_SIDE, OUTPUT_MAX_SIDE), Image.Resampling.LANCZOS)
    photo = _encode(image)
    image.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.LANCZOS)
    return replace(photo, thumbnail=_encode(image, THUMBNAIL_QUALITY).data)


def thumbnail_of(stored: bytes) -> bytes:
    """The thumbnail of a photo stored before thumbnails were made: it is already a clean JPEG
    of ours, drawn again the same way, so the thumbnail carries no metadata either."""
    try:
        with Image.open(io.BytesIO(stored), formats=("JPEG",)) as photo:
            photo.draft("RGB", (THUMBNAIL_SIDE, THUMBNAIL_SIDE))
            image = _rgb_or_rgba(photo, "RGB")
    except _PILLOW_ERRORS as error:
        raise _not_a_photo() from error
    image.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.LANCZOS)
    return _encode(image, THUMBNAIL_QUALITY).data


def _shrunk(source: Image.Image) -> Image.Image:
    """Convert and box-reduce the decoded source strip by strip into a copy still at least twice
    the output size (as Pillow's thumbnail reduces before it resamples), so the decoded source
    stays the only full-size image: converting it whole would make a second one."""
    width, height = source.size
    mode = "RGBA" if source.has_transparency_data else "RGB"
    factor = max(1, int(max(width, height) / OUTPUT_MAX_SIDE / 2))
    small = Image.new(mode, (math.ceil(width / factor), math.ceil(height / factor)))
    step = factor * max(1, _STRIP_ROWS // factor)
    for top in range(0, height, step):
        strip = _rgb_or_rgba(source.crop((0, top, width, min(top + step, height))), mode)
        small.paste(strip.reduce(factor) if factor > 1 else strip, (0, top // factor))
    return small


def _check_source(source: Image.Image) -> None:
    """Refuse before decoding: the header's size is known while the pixels are still unread."""
    if source.format not in ACCEPTED_FORMATS + _JPEG_VARIANTS:
        raise _not_a_photo()
    width, height = source.size
    if width < 1 or height < 1:
        raise _not_a_photo()
    if width > MAX_SOURCE_SIDE or height > MAX_SOURCE_SIDE or width * height > MAX_SOURCE_PIXELS:
        raise _too_many_pixels()


def _rgb_or_rgba(image: Image.Image, mode: str) -> Image.Image:
    """Bring any mode to 8-bit RGB, or RGBA for a source with transparency, so resampling works on colour."""
    if image.mode.startswith("I"):
        # 16-bit grayscale PNG: Pillow's convert clips to 255 instead of scaling, leaving it white.
        image = image.convert("I").point(lambda value: value / 256).convert("L")
    return image.convert(mode)


def _encode(image: Image.Image, quality: int = JPEG_QUALITY) -> CleanImage:
    """Draw onto a fresh white canvas so no info (comment, EXIF, ICC) of the source is carried along."""
    canvas = Image.new("RGB", image.size, _WHITE)
    canvas.paste(image, mask=image.getchannel("A") if image.mode == "RGBA" else None)
    out = io.BytesIO()
    canvas.save(out, "JPEG", quality=quality, optimize=True, progressive=True)
    return CleanImage(data=out.getvalue(), width=canvas.width, height=canvas.height)


@contextmanager
def decode_turn(folder: str, slots: int, wait: float) -> Iterator[None]:
    """Hold one of `slots` lock files in `folder` while a large photo is decoded, so that at most
    that many decodes of up to 200 MB run at once on the machine, whichever worker they are in.
    The kernel drops a lock when its worker dies; a photo that finds no turn within `wait`
    seconds is refused with a message to send it again, and nothing is stored."""
    deadline = time.monotonic() + wait
    while True:
        for index in range(slots):
            handle = os.open(os.path.join(folder, f"photo-decode-{index}.lock"), os.O_RDONLY | os.O_CREAT, 0o644)
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(handle)
                continue
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
                os.close(handle)
            return
        if time.monotonic() > deadline:
            raise BusyError(_l("Many large photos are being processed right now, so nothing was saved. "
                               "Please send the form again in a minute."))
        time.sleep(0.02)
