"""A choropleth of the grids drawn as SVG on the server: no map tiles, no script, no network.
Pure: no Flask, no database. Every region is one <path> with a <title> naming the grid and
its value, so a pointer or a screen reader reads the same figure the table beside it shows.

Coordinates are GeoJSON longitude and latitude, drawn in an equirectangular projection
scaled by the cosine of the middle latitude: true enough for one district.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from voting_app.registry.grids import polygons

# Five classes, light to dark (viridis, read by the colour-blind alike); each region has a
# dark outline, so even the lightest class stands out from the page (WCAG 1.4.11).
PALETTE = ("#fde725", "#5ec962", "#21918c", "#3b528b", "#440154")
OUTLINE = "#333333"
SUPPRESSED_FILL = "url(#grid-map-hatch)"
WIDTH = 1000.0
MARGIN = 4.0


@dataclass(frozen=True)
class MapClass:
    label: str  # shown in the legend, e.g. "60%–69.9%"
    colour: str


@dataclass(frozen=True)
class Region:
    """One grid on the map: `geometries` are its boundary (or its children's when it has none);
    `colour_class` indexes the classes, None draws it hatched (too few answers)."""

    key: int
    name: str
    value_text: str
    colour_class: int | None
    geometries: tuple[dict, ...]


RATE_EDGES = (600, 700, 800, 900)  # tenths of a percent: under 60% (the usual bar), then bands of ten points


def rate_class(rate_tenths: int) -> int:
    """Satisfaction classes: under 60%, 60%–70%, 70%–80%, 80%–90%, 90% and up."""
    return sum(1 for edge in RATE_EDGES if rate_tenths >= edge)


def rate_labels() -> list[str]:
    """The satisfaction classes as the legend names them."""
    return ["< 60%", "60%–70%", "70%–80%", "80%–90%", "≥ 90%"]


def count_breaks(values: Sequence[int], classes: int = len(PALETTE)) -> list[int]:
    """Upper ends of the count classes: 0 alone, then equal steps up to the largest count."""
    top = max(values, default=0)
    if top <= 0:
        return [0]
    step = max(1, math.ceil(top / (classes - 1)))
    breaks = [0]
    while breaks[-1] < top:
        breaks.append(breaks[-1] + step)
    return breaks[:classes]


def count_class(value: int, breaks: Sequence[int]) -> int:
    return next((index for index, edge in enumerate(breaks) if value <= edge), len(breaks) - 1)


def count_labels(breaks: Sequence[int]) -> list[str]:
    labels = []
    for index, edge in enumerate(breaks):
        low = 0 if index == 0 else breaks[index - 1] + 1
        labels.append(str(edge) if low == edge else f"{low}–{edge}")
    return labels


def _bounds(regions: Sequence[Region]) -> tuple[float, float, float, float] | None:
    xs, ys = [], []
    for region in regions:
        for geometry in region.geometries:
            for polygon in polygons(geometry):
                for ring in polygon:
                    xs += [position[0] for position in ring]
                    ys += [position[1] for position in ring]
    if not xs:
        return None
    return min(xs), min(ys), max(xs), max(ys)


def draw(regions: Sequence[Region], title: str, suppressed_label: str) -> str:
    """The map as an <svg> element, scaling to its container; "" when no region has a boundary."""
    bounds = _bounds(regions)
    if bounds is None:
        return ""
    west, south, east, north = bounds
    squash = math.cos(math.radians((south + north) / 2))
    span_x = max((east - west) * squash, 1e-9)
    scale = (WIDTH - 2 * MARGIN) / span_x
    height = (north - south) * scale + 2 * MARGIN

    def point(position) -> str:
        x = MARGIN + (position[0] - west) * squash * scale
        y = MARGIN + (north - position[1]) * scale
        return f"{x:.1f} {y:.1f}"

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="grid-map" viewBox="0 0 {WIDTH:.0f} {height:.0f}" '
        f'role="img" aria-labelledby="grid-map-title" preserveAspectRatio="xMidYMid meet">',
        f'<title id="grid-map-title">{escape(title)}</title>',
        '<defs><pattern id="grid-map-hatch" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        '<rect width="8" height="8" fill="#e0e0e0"/><line x1="0" y1="0" x2="0" y2="8" stroke="#6b6b6b" stroke-width="3"/>'
        "</pattern></defs>",
        f'<g stroke="{OUTLINE}" stroke-width="0.6" stroke-linejoin="round" fill-rule="evenodd">',
    ]
    for region in regions:
        if not region.geometries:
            continue
        path = " ".join(
            "M" + " L".join(point(position) for position in ring) + " Z"
            for geometry in region.geometries for polygon in polygons(geometry) for ring in polygon
        )
        fill = SUPPRESSED_FILL if region.colour_class is None else PALETTE[region.colour_class]
        value = region.value_text if region.colour_class is not None else suppressed_label
        parts.append(
            f'<path class="region" data-grid="{region.key}" fill="{fill}" d="{path}">'
            f"<title>{escape(region.name)}: {escape(value)}</title></path>"
        )
    parts.append("</g></svg>")
    return "".join(parts)
