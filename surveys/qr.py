"""QR codes for survey placements: PNG and SVG downloads (the page and the poster use
the inline SVG of voting_app.qr)."""

import io

import qrcode
import qrcode.image.svg


def qr_png(data: str, box_size: int = 12) -> bytes:
    image = qrcode.make(data, box_size=box_size, border=4)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def qr_svg_file(data: str) -> bytes:
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, border=4, box_size=10)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue()
