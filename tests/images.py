"""Photos as a phone would send them, made with Pillow for upload tests."""

import io

from PIL import Image


def jpeg_bytes(size=(640, 480), colour=(40, 120, 200), gps: bool = False) -> bytes:
    """A JPEG; with gps=True it carries a camera model and a GPS position, as phone photos do."""
    image = Image.new("RGB", size, colour)
    buffer = io.BytesIO()
    exif = Image.Exif()
    if gps:
        exif[0x0110] = "Phone X"  # camera model
        exif[0x8825] = {1: "N", 2: (32.0, 3.0, 0.0), 3: "E", 4: (112.0, 8.0, 0.0)}  # GPS IFD
    image.save(buffer, "JPEG", quality=90, exif=exif)
    return buffer.getvalue()
