"""The generated design drawn as a PNG with Pillow, from the same layout as the SVG.

Pillow is the one imaging dependency (README, "Dependency notes"): a PNG with legible text needs a font
rasteriser, which drawing pixels by hand cannot give. Its wheels carry FreeType and zlib, so nothing is needed
from the system; the font is the DejaVu Sans Bold file shipped beside this module. Drawn at twice the size and
scaled down, for smooth edges.
"""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

from lti_microcred.credentials.images.design import (
    INNER,
    LEVEL_CENTRE,
    LEVEL_HEIGHT,
    LEVEL_PADDING,
    SIZE,
    Layout,
    Line,
    hexagon,
)
from lti_microcred.credentials.images.text_fit import font

SCALE = 2


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _mix(one: str, other: str, share: float) -> tuple[int, int, int]:
    """`share` of one over the other, as the SVG's opacity blends them."""
    return tuple(round(a * share + b * (1 - share)) for a, b in zip(_rgb(one), _rgb(other), strict=True))  # type: ignore[return-value]


def _outline(draw: ImageDraw.ImageDraw, scale: float, colour: tuple[int, int, int], stroke: float) -> None:
    corners = [(x * SCALE, y * SCALE) for x, y in hexagon(scale)]
    draw.line([*corners, corners[0], corners[1]], fill=colour, width=round(stroke * SCALE), joint="curve")


def _text(draw: ImageDraw.ImageDraw, line: Line, colour: tuple[int, int, int]) -> None:
    draw.text((line.x * SCALE, line.y * SCALE), line.text, font=font(round(line.size * SCALE)), fill=colour,
              anchor="ms")


def render_png(found: Layout) -> bytes:
    image = Image.new("RGBA", (SIZE * SCALE, SIZE * SCALE), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    background, foreground = _rgb(found.background), _rgb(found.foreground)
    draw.polygon([(x * SCALE, y * SCALE) for x, y in hexagon()], fill=background)
    _outline(draw, 1.0, _rgb(found.edge), 8)
    _outline(draw, INNER, _mix(found.foreground, found.background, 0.6), 4)
    if found.level is not None:
        half = (found.level.width + 2 * LEVEL_PADDING) / 2
        box = ((found.level.x - half) * SCALE, (LEVEL_CENTRE - LEVEL_HEIGHT / 2) * SCALE,
               (found.level.x + half) * SCALE, (LEVEL_CENTRE + LEVEL_HEIGHT / 2) * SCALE)
        draw.rounded_rectangle(box, radius=LEVEL_HEIGHT / 2 * SCALE, fill=foreground)
        _text(draw, found.level, background)
    for line in found.title:
        _text(draw, line, foreground)
    issuer_colour = _mix(found.foreground, found.background, 0.92)
    for line in found.issuer:
        _text(draw, line, issuer_colour)
    out = io.BytesIO()
    small = image.resize((SIZE, SIZE), Image.Resampling.LANCZOS)
    small.quantize(256, method=Image.Quantize.FASTOCTREE).save(out, format="PNG", optimize=True)  # a quarter the bytes
    return out.getvalue()
