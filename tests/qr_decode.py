"""Decoding the app's QR codes in tests with zxing-cpp: inline SVGs (a page, a fragment or an
SVG file) are rasterised here, PNG downloads are read as they are."""

import html
import io
import re

import zxingcpp
from PIL import Image, ImageDraw

_SVG = re.compile(r"<svg\b[^>]*>.*?</svg>", re.DOTALL)


def _rasterise(view_width: int, view_height: int, path: str, scale: int = 8, border: int = 4) -> Image.Image:
    """Draw an SVG path made of axis-aligned rectangles (M x,y H x V y H x z) in black on white."""
    image = Image.new("L", ((view_width + 2 * border) * scale, (view_height + 2 * border) * scale), 255)
    draw = ImageDraw.Draw(image)
    x = y = 0.0
    points: list[tuple[float, float]] = []
    for command, a, b in re.findall(r"([MmHhVvLlZz])\s*(-?[\d.]+)?(?:[ ,]\s*(-?[\d.]+))?", path):
        if command == "M":
            x, y = float(a), float(b)
            points = [(x, y)]
        elif command == "H":
            x = float(a)
            points.append((x, y))
        elif command == "V":
            y = float(a)
            points.append((x, y))
        elif command == "L":
            x, y = float(a), float(b)
            points.append((x, y))
        elif command in "Zz":
            xs, ys = [p[0] for p in points], [p[1] for p in points]
            draw.rectangle(
                [
                    ((min(xs) + border) * scale, (min(ys) + border) * scale),
                    ((max(xs) + border) * scale - 1, (max(ys) + border) * scale - 1),
                ],
                fill=0,
            )
            points = [(x, y)]
        else:
            raise AssertionError(f"unexpected path command {command!r}: the rasteriser reads absolute M/H/V/L/z only")
    return image


def _decode(image: Image.Image, what: str = "the image") -> str:
    results = zxingcpp.read_barcodes(image)
    assert len(results) == 1, f"exactly one QR code must decode from {what}, got {len(results)}"
    assert results[0].format == zxingcpp.BarcodeFormat.QRCode
    return results[0].text


def _label(svg: str) -> str:
    label = re.search(r'aria-label="([^"]*)"', svg)
    return html.unescape(label.group(1)) if label else ""


def decode_svg(svg: str) -> str:
    """The text of the one inline SVG QR code in `svg` (an <svg> element, or a page or file holding exactly one)."""
    [element] = _SVG.findall(svg)
    width, height = (int(float(v)) for v in re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', element).groups())
    paths = re.findall(r'<path\b[^>]*\bd="([^"]+)"', element)
    assert len(paths) == 1
    return _decode(_rasterise(width, height, paths[0]), f"the SVG labelled {_label(element)!r}")


def decode_all_svgs(page: str) -> list[tuple[str, str]]:
    """(aria-label or '', decoded text) of every inline SVG QR code in a page or file, in page order."""
    return [(_label(svg), decode_svg(svg)) for svg in _SVG.findall(page)]


def decode_png(data: bytes) -> str:
    """The text of the one QR code in a PNG image."""
    return _decode(Image.open(io.BytesIO(data)).convert("L"), "the PNG")
