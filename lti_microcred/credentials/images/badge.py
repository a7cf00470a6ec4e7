"""The generated badge art as SVG and PNG, from one layout (`design.layout`): the same picture in both.

The SVG names its font (DejaVu Sans Bold, with Verdana and any sans-serif after it) and states each line's
measured width as `textLength`, so a viewer without that font still keeps every line inside the badge.
"""

from __future__ import annotations

from functools import lru_cache
from xml.sax.saxutils import escape

from lti_microcred.credentials.images.design import (
    INNER,
    LEVEL_CENTRE,
    LEVEL_HEIGHT,
    LEVEL_PADDING,
    SIZE,
    BadgeDesign,
    Layout,
    Line,
    hexagon,
    layout,
)
from lti_microcred.credentials.images.png_render import render_png
from lti_microcred.credentials.images.text_fit import FONT_FAMILY, plain

_QUOTES = {'"': "&#34;", "'": "&#39;"}


def _shown(value: object) -> str:
    """Plain text escaped for element text and quoted attributes alike."""
    return escape(plain(value), _QUOTES)


def _points(scale: float) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in hexagon(scale))


def _text(line: Line) -> str:
    return (f'<text x="{line.x:.1f}" y="{line.y:.1f}" font-size="{line.size:g}" textLength="{line.width:.1f}" '
            f'lengthAdjust="spacingAndGlyphs">{_shown(line.text)}</text>')


def _level(found: Layout) -> str:
    if found.level is None:
        return ""
    line = found.level
    box_width = line.width + 2 * LEVEL_PADDING
    return (f'<g id="level"><rect x="{line.x - box_width / 2:.1f}" y="{LEVEL_CENTRE - LEVEL_HEIGHT / 2:.1f}" '
            f'width="{box_width:.1f}" height="{LEVEL_HEIGHT:g}" rx="{LEVEL_HEIGHT / 2:g}" fill="{found.foreground}"/>'
            f'<g fill="{found.background}">{_text(line)}</g></g>')


def svg_of(found: Layout) -> bytes:
    label = _shown(found.label)
    title = "".join(_text(line) for line in found.title)
    issuer = "".join(_text(line) for line in found.issuer)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {SIZE} {SIZE}" width="{SIZE}" height="{SIZE}" '
        f'role="img" aria-label="{label}"><title>{label}</title>'
        f'<polygon points="{_points(1.0)}" fill="{found.background}" stroke="{found.edge}" stroke-width="8" '
        'stroke-linejoin="round"/>'
        f'<polygon points="{_points(INNER)}" fill="none" stroke="{found.foreground}" stroke-opacity="0.6" '
        'stroke-width="4" stroke-linejoin="round"/>'
        f'<g font-family="{FONT_FAMILY}" font-weight="bold" text-anchor="middle">{_level(found)}'
        f'<g id="title" fill="{found.foreground}">{title}</g>'
        f'<g id="issuer" fill="{found.foreground}" fill-opacity="0.92">{issuer}</g></g></svg>'
    ).encode()


@lru_cache(maxsize=256)
def badge_svg(title: str, issuer: str, eqf_level: int | None = None, colour: str | None = None) -> bytes:
    """The generated design as SVG: the title laid out to fit, the issuer, the EQF level, the colour."""
    return svg_of(layout(_design(title, issuer, eqf_level, colour)))


@lru_cache(maxsize=64)
def badge_png(title: str, issuer: str, eqf_level: int | None = None, colour: str | None = None) -> bytes:
    """The same design as a PNG of SIZE x SIZE pixels."""
    return render_png(layout(_design(title, issuer, eqf_level, colour)))


def _design(title: str, issuer: str, eqf_level: int | None, colour: str | None) -> BadgeDesign:
    return BadgeDesign(title, issuer, eqf_level if isinstance(eqf_level, int) and 1 <= eqf_level <= 8 else None,
                       *((colour,) if colour else ()))
