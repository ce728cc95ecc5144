"""Uploaded photos are judged by their bytes and stored as a clean JPEG copy; no app, no database."""

import io
import math
import random
import resource
import struct
import time
import zipfile
import zlib
from contextlib import contextmanager

import pytest
from flask import Flask
from flask_babel import Babel
from PIL import Image, ImageDraw
from PIL.PngImagePlugin import PngInfo

from voting_app import images
from voting_app.errors import DomainError
from voting_app.images import (
    APART_PIXELS,
    MAX_SOURCE_PIXELS,
    MAX_SOURCE_SIDE,
    MAX_UPLOAD_BYTES,
    OUTPUT_MAX_SIDE,
    CleanImage,
    clean_image,
)

ORIENTATION, MODEL, GPS_IFD = 0x0112, 0x0110, 0x8825
RED, BLUE, GREEN, WHITE = (220, 30, 30), (30, 30, 220), (30, 180, 30), (255, 255, 255)


@pytest.fixture
def english():
    """Lazy messages render only inside an app context; a bare app with Babel renders the msgids."""
    app = Flask(__name__)
    Babel(app)
    with app.app_context():
        yield


def encode(image: Image.Image, fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def halves(size, left, right, mode="RGB") -> Image.Image:
    image = Image.new(mode, size, left)
    ImageDraw.Draw(image).rectangle((size[0] // 2, 0, size[0], size[1]), fill=right)
    return image


def a_jpeg(size=(400, 300)) -> bytes:
    return encode(halves(size, RED, BLUE), "JPEG", quality=90)


def png_header_only(width: int, height: int) -> bytes:
    """A valid PNG start that declares any size, without allocating that image."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 4)) + chunk(b"IEND", b"")


def opened(clean: CleanImage) -> Image.Image:
    image = Image.open(io.BytesIO(clean.data))
    assert image.format == "JPEG"
    assert clean.content_type == "image/jpeg"
    assert (clean.width, clean.height) == image.size
    return image


def close_to(pixel, colour, tolerance=40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour))


def rejection(data: bytes) -> str:
    with pytest.raises(DomainError) as caught:
        clean_image(data)
    assert type(caught.value) is DomainError
    assert caught.value.message is not None
    message = str(caught.value.message)
    assert message
    return message


def test_phone_photo_loses_all_metadata_and_stands_upright():
    exif = Image.Exif()
    exif[MODEL] = "SpyCam X1000"
    exif[ORIENTATION] = 6
    gps = exif.get_ifd(GPS_IFD)
    gps[1], gps[2], gps[3], gps[4] = "N", (30.0, 35.0, 12.0), "E", (114.0, 17.0, 44.0)
    source = encode(
        halves((400, 200), RED, BLUE), "JPEG", exif=exif, icc_profile=b"fake-icc-profile",
        comment=b"private comment", xmp=b"<x:xmpmeta>GPSLatitude</x:xmpmeta>", quality=95,
    )
    before = Image.open(io.BytesIO(source)).getexif()
    assert before[MODEL] == "SpyCam X1000" and before.get_ifd(GPS_IFD), "the source must carry what we strip"

    clean = clean_image(source)

    image = opened(clean)
    assert not image.getexif()
    assert not image.getexif().get_ifd(GPS_IFD)
    assert not {"exif", "icc_profile", "comment", "xmp"} & set(image.info)
    for leak in (b"Exif\x00\x00", b"SpyCam", b"fake-icc-profile", b"private comment", b"GPSLatitude"):
        assert leak not in clean.data
    # Orientation 6 means "rotate 90 degrees clockwise to view": the left (red) half ends on top.
    assert image.size == (200, 400)
    assert close_to(image.getpixel((100, 20)), RED)
    assert close_to(image.getpixel((100, 380)), BLUE)


def test_transparent_png_is_flattened_onto_white_and_its_text_dropped():
    info = PngInfo()
    info.add_text("Comment", "home address: 12 Example Road")
    source = encode(halves((200, 100), (0, 0, 0, 0), GREEN + (255,), mode="RGBA"), "PNG", pnginfo=info)

    clean = clean_image(source)

    image = opened(clean)
    assert b"Example Road" not in clean.data and "Comment" not in image.info
    assert image.mode == "RGB"
    assert close_to(image.getpixel((20, 50)), WHITE, tolerance=3)
    assert close_to(image.getpixel((180, 50)), GREEN)


@pytest.mark.parametrize(
    ("size", "expected"),
    [((4000, 3000), (1600, 1200)), ((3000, 4000), (1200, 1600)), ((1000, 600), (1000, 600))],
)
def test_large_photos_fit_the_output_box_keeping_aspect(size, expected):
    clean = clean_image(encode(halves(size, RED, BLUE), "JPEG"))

    assert (clean.width, clean.height) == expected
    assert max(expected) <= OUTPUT_MAX_SIDE


def test_large_png_is_scaled_too():
    clean = clean_image(encode(halves((3200, 800), RED, BLUE), "PNG"))

    assert (clean.width, clean.height) == (1600, 400)


def test_a_large_png_shrunk_strip_by_strip_keeps_its_picture_and_orientation():
    """Over twice the output size the source is converted and reduced in strips of rows: the
    strips must meet where they belong, with transparency and the EXIF rotation kept."""
    source = Image.new("RGBA", (6600, 1400), RED + (255,))
    draw = ImageDraw.Draw(source)
    draw.rectangle((0, 700, 6600, 1400), fill=BLUE + (255,))  # the lower half, across strip boundaries
    draw.rectangle((3300, 0, 3400, 1400), fill=(0, 0, 0, 0))  # a transparent column through every strip
    exif = Image.Exif()
    exif[ORIENTATION] = 6

    image = opened(clean_image(encode(source, "PNG", exif=exif)))

    # Rotated a quarter turn clockwise: the top (red) half now on the right, the bottom (blue) on the left.
    assert image.size == (339, 1600)
    assert close_to(image.getpixel((300, 200)), RED) and close_to(image.getpixel((40, 200)), BLUE)
    assert close_to(image.getpixel((300, 1200)), RED) and close_to(image.getpixel((40, 1200)), BLUE)
    assert close_to(image.getpixel((170, 812)), WHITE, tolerance=10)  # the transparent column, on white


def test_only_a_large_decode_takes_a_turn_and_gives_it_back_even_when_refused():
    turns = []

    @contextmanager
    def turn():
        turns.append("taken")
        try:
            yield
        finally:
            turns.append("given back")

    clean_image(a_jpeg((4032, 3024)), turn)  # a 12-megapixel phone photo
    assert turns == []
    large = encode(Image.new("RGB", (4200, 4200), GREEN), "PNG")  # 70 MB decoded
    clean_image(large, turn)
    assert turns == ["taken", "given back"]
    with pytest.raises(DomainError):
        clean_image(large[: len(large) // 2], turn)
    assert turns == ["taken", "given back"] * 2


def children_cpu_seconds() -> float:
    """CPU time of this process's children that have ended: a decode done in a child shows here."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def test_a_photo_decoded_in_a_child_comes_out_as_the_worker_itself_makes_it(monkeypatch):
    """From APART_PIXELS on, the decode's CPU time is a child's, not this process's, and the
    photo, its thumbnail and size are the same to the byte; under it, no child is started."""
    source = Image.linear_gradient("L").resize((2000, 1200)).convert("RGB")
    ImageDraw.Draw(source).ellipse((300, 200, 1700, 1000), fill=RED)
    exif = Image.Exif()
    exif[ORIENTATION] = 8
    photo = encode(source, "JPEG", exif=exif, quality=90)
    assert 2000 * 1200 >= APART_PIXELS
    with monkeypatch.context() as in_the_worker:
        in_the_worker.setattr(images, "APART_PIXELS", math.inf)
        started = time.process_time()
        expected = clean_image(photo)
        worker_seconds = time.process_time() - started

    children_before = children_cpu_seconds()
    apart = clean_image(photo)

    assert children_cpu_seconds() - children_before > worker_seconds / 2
    assert apart == expected and (apart.width, apart.height) == (960, 1600)
    small = a_jpeg((1600, 1200))
    children_before = children_cpu_seconds()
    assert clean_image(small).width == 1600
    assert children_cpu_seconds() == children_before


def test_a_photo_refused_in_a_child_is_refused_as_in_the_worker(english):
    """A truncated PNG passes the header check in the worker and fails in the child's decode."""
    whole = encode(halves((2400, 1600), RED, BLUE), "PNG")
    assert 2400 * 1600 >= APART_PIXELS

    assert rejection(whole[: len(whole) // 2]) == "Only photos in JPEG, PNG or WebP format can be uploaded."


def test_polyglot_keeps_the_photo_and_drops_the_appended_script():
    payload = b"<html><script>alert(document.cookie)</script></html>"

    clean = clean_image(a_jpeg() + payload)

    assert b"<script" not in clean.data and b"<html" not in clean.data
    assert opened(clean).size == (400, 300)


def test_webp_with_alpha_is_accepted():
    source = encode(halves((120, 60), (0, 0, 0, 0), BLUE + (255,), mode="RGBA"), "WEBP", lossless=True)

    image = opened(clean_image(source))

    assert close_to(image.getpixel((10, 30)), WHITE, tolerance=3)
    assert close_to(image.getpixel((110, 30)), BLUE)


def test_animated_webp_keeps_its_first_frame():
    first, second = Image.new("RGB", (80, 80), RED), Image.new("RGB", (80, 80), BLUE)
    source = encode(first, "WEBP", save_all=True, append_images=[second], lossless=True)
    assert Image.open(io.BytesIO(source)).n_frames == 2

    image = opened(clean_image(source))

    assert close_to(image.getpixel((40, 40)), RED)


def test_multi_picture_jpeg_from_android_cameras_is_accepted():
    source = encode(Image.new("RGB", (90, 60), RED), "MPO", save_all=True, append_images=[Image.new("RGB", (90, 60), BLUE)])
    assert Image.open(io.BytesIO(source)).format == "MPO"

    image = opened(clean_image(source))

    assert image.size == (90, 60) and close_to(image.getpixel((45, 30)), RED)


def test_palette_png_with_transparency_is_flattened_onto_white():
    image = halves((100, 50), (0, 0, 0, 0), RED + (255,), mode="RGBA").convert("P")
    image.info["transparency"] = image.getpixel((10, 10))
    source = encode(image, "PNG", transparency=image.getpixel((10, 10)))

    result = opened(clean_image(source))

    assert close_to(result.getpixel((10, 25)), WHITE, tolerance=3)
    assert close_to(result.getpixel((90, 25)), RED)


def test_sixteen_bit_grayscale_keeps_its_grey_levels():
    image = Image.new("I;16", (64, 8))
    for x in range(64):
        for y in range(8):
            image.putpixel((x, y), x * 1024)

    result = opened(clean_image(encode(image, "PNG"))).convert("L")

    assert result.getpixel((0, 4)) < 10
    assert 100 < result.getpixel((32, 4)) < 156
    assert result.getpixel((63, 4)) > 240


def test_cmyk_jpeg_comes_out_rgb():
    result = opened(clean_image(encode(Image.new("CMYK", (40, 40), (0, 255, 255, 0)), "JPEG")))

    assert result.mode == "RGB"
    assert close_to(result.getpixel((20, 20)), (255, 0, 0), tolerance=50)


def _zip_with_a_photo() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("photo.jpg", a_jpeg())
    return buffer.getvalue()


NOT_PHOTOS = {
    "gif": lambda: encode(Image.new("RGB", (40, 40), RED), "GIF"),
    "bmp": lambda: encode(Image.new("RGB", (40, 40), RED), "BMP"),
    "tiff": lambda: encode(Image.new("RGB", (40, 40), RED), "TIFF"),
    "ico": lambda: encode(Image.new("RGB", (32, 32), RED), "ICO"),
    "pdf": lambda: encode(Image.new("RGB", (40, 40), RED), "PDF"),
    "pdf header": lambda: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
    "svg": lambda: (
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
        b"<script>alert(1)</script><rect width='10' height='10'/></svg>"
    ),
    "html": lambda: b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>",
    "text renamed .jpg": lambda: "这是一张照片，真的。 This is a photo, honestly.\n".encode(),
    "zip holding a jpeg": _zip_with_a_photo,
    "random bytes": lambda: random.Random(7).randbytes(4096),
    "jpeg signature then garbage": lambda: b"\xff\xd8\xff\xe0" + random.Random(8).randbytes(2048),
    "truncated jpeg": lambda: a_jpeg()[: len(a_jpeg()) // 2],
    "truncated png": lambda: (lambda d: d[: len(d) // 2])(encode(Image.effect_noise((200, 200), 80), "PNG")),
}


@pytest.mark.parametrize("make", NOT_PHOTOS.values(), ids=NOT_PHOTOS.keys())
def test_anything_but_a_jpeg_png_or_webp_is_refused(english, make):
    assert rejection(make()) == "Only photos in JPEG, PNG or WebP format can be uploaded."


def test_empty_upload_is_refused(english):
    assert rejection(b"") == "The photo is empty."


def test_upload_over_the_limit_is_refused_before_anything_is_parsed(english):
    assert "8 MB" in rejection(a_jpeg() + b"\x00" * MAX_UPLOAD_BYTES)


def test_upload_of_exactly_the_limit_is_accepted():
    source = a_jpeg()
    padded = source + b"\x00" * (MAX_UPLOAD_BYTES - len(source))

    assert len(padded) == MAX_UPLOAD_BYTES
    assert clean_image(padded).width == 400


@pytest.mark.parametrize(
    ("width", "height"),
    [
        (20_000, 20_000),  # Pillow's own bomb error would also fire
        (11_000, 9_000),  # 99 million: Pillow would only warn
        (10_000, 5_001),  # just over our pixel limit, far under Pillow's
        (MAX_SOURCE_SIDE + 1, 10),  # a sliver: few pixels, too wide
        (10, MAX_SOURCE_SIDE + 1),
    ],
)
def test_oversized_sources_are_refused_from_the_header_alone(english, recwarn, width, height):
    message = rejection(png_header_only(width, height))

    # The size message, not the format one, proves the refusal came before decoding the tiny IDAT.
    assert "too many pixels" in message
    assert not [w for w in recwarn if issubclass(w.category, Image.DecompressionBombWarning)]


def test_sources_at_the_limits_pass_the_size_check(english):
    """Still refused, since the IDAT is fake, but for their content, not their size."""
    for width, height in [(MAX_SOURCE_SIDE, 10), (10_000, MAX_SOURCE_PIXELS // 10_000)]:
        assert "JPEG, PNG or WebP" in rejection(png_header_only(width, height))
