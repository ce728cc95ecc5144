"""QR codes as inline SVG: sharp on paper and on the venue screen, no image files."""

import io

import qrcode
import qrcode.image.svg
from markupsafe import Markup


def qr_svg(data: str, title: str = "") -> Markup:
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, border=2, box_size=10)
    buffer = io.BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode("utf-8")
    svg = svg[svg.index("<svg") :]
    attributes = ' role="img" class="qr"'
    if title:
        attributes += f' aria-label="{Markup.escape(title)}"'
    return Markup(svg.replace("<svg", "<svg" + attributes, 1))
