"""The generated badge design, laid out once for both the SVG and the PNG: a flat-topped hexagon in the
institution's colour, the EQF level in a pill at the top, the title in the middle (up to four lines, the
largest size at which it fits), the issuer's name at the bottom. Every line is measured against the room the
inner border leaves at its height, so nothing is clipped whatever the title's length.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from lti_microcred.credentials.images.text_fit import (
    ASCENT,
    CAP_HEIGHT,
    DESCENT,
    plain,
    width,
    wrap,
    wrap_with_ellipsis,
)

SIZE: Final = 512  # the artboard, in SVG units and PNG pixels
CENTRE: Final = SIZE / 2
RADIUS: Final = 244.0  # the hexagon's corners from the centre
INNER: Final = 0.9  # the inner border, as a share of the hexagon
PADDING: Final = 16.0  # between the inner border and any text
DEFAULT_COLOUR: Final = "#0B5CAD"
COLOUR: Final = re.compile(r"#[0-9A-Fa-f]{6}")
TITLE_SIZES: Final = tuple(range(56, 19, -2))
ISSUER_SIZES: Final = tuple(range(22, 14, -1))
TITLE_ZONE: Final = (146.0, 362.0)  # between the level pill and the issuer's name
ISSUER_ZONE: Final = (370.0, 438.0)
LINE_HEIGHT: Final = 1.16
LEVEL_CENTRE: Final = 104.0  # the EQF pill
LEVEL_SIZE: Final = 22.0
LEVEL_HEIGHT: Final = 38.0
LEVEL_PADDING: Final = 16.0
_HALF_HEIGHT: Final = RADIUS * 3**0.5 / 2


@dataclass(frozen=True)
class BadgeDesign:
    """What the generated art shows: the achievement's title, its issuer, its EQF level and the colour."""

    title: str
    issuer: str
    eqf_level: int | None = None
    colour: str = DEFAULT_COLOUR


@dataclass(frozen=True)
class Line:
    """One line of text: centred on x, its baseline at y, `width` measured, `room` what its height allows."""

    text: str
    x: float
    y: float
    size: float
    width: float
    room: float


@dataclass(frozen=True)
class Layout:
    design: BadgeDesign
    background: str
    foreground: str
    edge: str
    title: tuple[Line, ...]
    issuer: tuple[Line, ...]
    level: Line | None

    @property
    def label(self) -> str:
        """What a screen reader says of the picture."""
        level = f", EQF level {self.design.eqf_level}" if self.design.eqf_level else ""
        by = f", issued by {plain(self.design.issuer)}" if plain(self.design.issuer) else ""
        return f"{plain(self.design.title) or 'Micro-credential'}{by}{level}"


def hexagon(scale: float = 1.0) -> list[tuple[float, float]]:
    """The corners of the flat-topped hexagon, clockwise from the left."""
    r, h = RADIUS * scale, _HALF_HEIGHT * scale
    return [(CENTRE - r, CENTRE), (CENTRE - r / 2, CENTRE - h), (CENTRE + r / 2, CENTRE - h),
            (CENTRE + r, CENTRE), (CENTRE + r / 2, CENTRE + h), (CENTRE - r / 2, CENTRE + h)]


def room(top: float, bottom: float) -> float:
    """The width text may take between heights `top` and `bottom` inside the inner border."""
    def half(y: float) -> float:  # R at the centre's height, narrowing linearly to R/2 at the flat top and bottom
        rise = abs(y - CENTRE)
        if rise >= _HALF_HEIGHT * INNER:
            return 0.0
        return RADIUS * INNER * (1 - rise / (_HALF_HEIGHT * INNER) / 2)
    return max(0.0, 2 * min(half(top), half(bottom)) - 2 * PADDING)


def text_room(baseline: float, size: float) -> float:
    return room(baseline - ASCENT * size, baseline + DESCENT * size)


def layout(design: BadgeDesign) -> Layout:
    colour = design.colour if COLOUR.fullmatch(design.colour or "") else DEFAULT_COLOUR
    level = None
    if design.eqf_level:
        text = f"EQF LEVEL {design.eqf_level}"
        baseline = LEVEL_CENTRE + CAP_HEIGHT * LEVEL_SIZE / 2
        level = Line(text, CENTRE, baseline, LEVEL_SIZE, width(text, LEVEL_SIZE), text_room(baseline, LEVEL_SIZE))
    return Layout(design, colour.upper(), _readable_on(colour), _shade(colour, 0.72),
                  block(plain(design.title) or "Micro-credential", TITLE_ZONE, TITLE_SIZES, _title_lines, 1.25),
                  block(plain(design.issuer), ISSUER_ZONE, ISSUER_SIZES, _issuer_lines, 1.3), level)


def _issuer_lines(size: float) -> int:
    return 3 if size <= 17 else 2


def _title_lines(size: float) -> int:
    """Up to four lines; five once the size is small enough that five lines are still a compact block."""
    return 5 if size <= 26 else 4


def block(text: str, zone: tuple[float, float], sizes: tuple[int, ...], most: Callable[[float], int],
          bias: float = 1.15) -> tuple[Line, ...]:
    """The text at the largest size that fits the zone, whole words if at all possible; one more line must buy
    a size `bias` times larger (three lines of one word each read worse than two a little smaller). Failing
    that, at the smallest size with words broken; last, cut with an ellipsis."""
    if not text:
        return ()
    best: tuple[list[str], int] | None = None
    for count in range(1, most(sizes[-1]) + 1):
        found = next(((lines, size) for size in sizes if count <= most(size)
                      and (lines := _wrapped(text, count, size, zone, False)) is not None), None)
        if found and (best is None or found[1] > best[1] * bias):
            best = found
    if best is None:
        size = sizes[-1]
        counts = [c for c in range(1, most(size) + 1) if _baselines(c, size, zone) is not None]
        best = next(((lines, size) for c in counts if (lines := _wrapped(text, c, size, zone, True)) is not None),
                    (_cut(text, counts[-1], size, zone), size))
    return _lines(*best, zone)


def _wrapped(text: str, count: int, size: float, zone: tuple[float, float], break_words: bool) -> list[str] | None:
    baselines = _baselines(count, size, zone)
    if baselines is None:
        return None
    lines = wrap(text, [text_room(y, size) for y in baselines], size, break_words=break_words)
    return lines if lines is not None and len(lines) == count else None


def _cut(text: str, count: int, size: float, zone: tuple[float, float]) -> list[str]:
    baselines = _baselines(count, size, zone)
    assert baselines is not None
    return wrap_with_ellipsis(text, [text_room(y, size) for y in baselines], size)


def _baselines(count: int, size: float, zone: tuple[float, float]) -> list[float] | None:
    """Baselines of `count` lines centred in the zone, or None when they are too tall for it."""
    step = LINE_HEIGHT * size
    top, bottom = zone
    if count < 1 or (count - 1) * step + (ASCENT + DESCENT) * size > bottom - top:
        return None
    first = (top + bottom) / 2 - (count - 1) * step / 2 + CAP_HEIGHT * size / 2
    return [first + i * step for i in range(count)]


def _lines(texts: list[str], size: float, zone: tuple[float, float]) -> tuple[Line, ...]:
    """Lines centred in the zone for how many there are, each with its measured width and its room."""
    baselines = _baselines(len(texts), size, zone)
    assert baselines is not None
    return tuple(Line(t, CENTRE, y, size, width(t, size), text_room(y, size))
                 for t, y in zip(texts, baselines, strict=True))


def _channels(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _luminance(colour: str) -> float:
    """WCAG relative luminance."""
    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (linear(c) for c in _channels(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(one: str, other: str) -> float:
    light, dark = sorted((_luminance(one), _luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _readable_on(colour: str) -> str:
    """White text on the colour unless near-black reads better (a light brand colour)."""
    return "#FFFFFF" if contrast("#FFFFFF", colour) >= contrast("#111111", colour) else "#111111"


def _shade(colour: str, factor: float) -> str:
    return "#" + "".join(f"{round(c * factor):02X}" for c in _channels(colour))
