"""Text on badge art, measured rather than guessed: widths come from the font the PNG is drawn with (DejaVu Sans
Bold, shipped in `fonts/` with its licence), one advance per character, so a line's width is known before
it is drawn and the SVG can state it (`textLength`). Words wrap into the room each line has, a word too long
for any line is broken, and an ellipsis ends the text only when even the smallest size leaves it over.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Final

from PIL import ImageFont

FONT_PATH: Final = Path(__file__).parent / "fonts" / "DejaVuSans-Bold.ttf"
FONT_FAMILY: Final = "'DejaVu Sans', Verdana, 'Bitstream Vera Sans', sans-serif"  # Verdana: near the same widths
ASCENT: Final = 0.76  # of the font size: how far capitals and most accents rise above the baseline
DESCENT: Final = 0.24
CAP_HEIGHT: Final = 0.73
ELLIPSIS: Final = "\u2026"
_EM: Final = 1000  # widths are measured at this size and scaled
_NOT_XML: Final = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")  # what XML 1.0 cannot carry
_SPACES: Final = re.compile(r"\s+")
_BREAKS: Final = re.compile(r"[^-/]*[-/]+|[^-/]+")  # a word's parts, each ending after its hyphen or slash


def plain(value: object) -> str:
    """What a badge may show of a value: characters XML can carry, every run of white space one space."""
    return _SPACES.sub(" ", _NOT_XML.sub("", str(value))).strip()


@cache
def font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_PATH), size)


@cache
def _notdef() -> bytes:
    return bytes(font(_EM // 10).getmask("\U0010fffd"))


@cache
def _advance(char: str) -> float:
    """One character's advance in thousandths of an em; a character the font lacks is drawn by the viewer's
    fallback font, so it counts as a full em (as wide as a CJK ideograph)."""
    measured = font(_EM).getlength(char)
    missing = not char.isspace() and bytes(font(_EM // 10).getmask(char)) == _notdef()
    if missing or unicodedata.east_asian_width(char) in ("W", "F"):
        return max(measured, float(_EM))
    return measured


def width(text: str, size: float) -> float:
    """The width of one line of text at a font size: the sum of its characters' advances (no kerning, so
    never less than what a renderer draws)."""
    return sum(_advance(c) for c in text) * size / _EM


def _tokens(text: str) -> list[tuple[str, str]]:
    """(joiner, piece): words joined by a space, and the parts of a hyphenated or slashed word by nothing, so a
    line may end after a hyphen or slash without breaking a word."""
    return [(" " if index == 0 and at else "", part) for at, word in enumerate(text.split(" "))
            for index, part in enumerate(_BREAKS.findall(word) or [word])]


def wrap(text: str, rooms: Sequence[float], size: float, *, break_words: bool = False) -> list[str] | None:
    """Greedy wrapping into at most len(rooms) lines, line i no wider than rooms[i]; None when the text does not
    fit. With `break_words`, a word wider than its line is cut with a hyphen instead of failing."""
    lines, rest = _fill(text, rooms, size, break_words)
    return None if rest else lines


def wrap_with_ellipsis(text: str, rooms: Sequence[float], size: float) -> list[str]:
    """The last resort: the lines filled (words broken where need be), the last one cut with an ellipsis."""
    lines, rest = _fill(text, rooms, size, True)
    if not rest:
        return lines
    last = (lines.pop() + " " if len(lines) == len(rooms) else "") + rest
    return [*lines, _longest_prefix(last, rooms[len(lines)], size, ELLIPSIS).rstrip(" -/") + ELLIPSIS]


def _fill(text: str, rooms: Sequence[float], size: float, break_words: bool) -> tuple[list[str], str]:
    """Lines filled greedily, and what did not fit ("" when everything did)."""
    lines: list[str] = []
    current = ""
    tokens = _tokens(text)
    for index, (joiner, piece) in enumerate(tokens):
        candidate = current + joiner + piece if current else piece
        if width(candidate, size) <= rooms[len(lines)]:
            current = candidate
            continue
        if current:
            lines.append(current)
            current = ""
        while len(lines) < len(rooms) and width(piece, size) > rooms[len(lines)] and break_words:
            head = _longest_prefix(piece, rooms[len(lines)], size, "-")
            lines.append(head + "-")
            piece = piece[len(head):]
        if len(lines) == len(rooms) or width(piece, size) > rooms[len(lines)]:
            return lines, (piece + "".join(j + p for j, p in tokens[index + 1:])).strip()
        current = piece
    return ([*lines, current] if current else lines), ""


def fit_line(text: str, room: float, sizes: Sequence[float]) -> tuple[str, float]:
    """One line at the largest of `sizes` (largest first) that fits; else the smallest, with an ellipsis."""
    for size in sizes:
        if width(text, size) <= room:
            return text, size
    smallest = sizes[-1]
    return _longest_prefix(text, room, smallest, ELLIPSIS).rstrip() + ELLIPSIS, smallest


def _longest_prefix(text: str, room: float, size: float, suffix: str) -> str:
    """The longest start of `text` that, followed by `suffix`, fits in `room` (at least one character)."""
    budget, used = room - width(suffix, size), 0.0
    for index, char in enumerate(text):
        used += _advance(char) * size / _EM
        if used > budget:
            return text[: max(index, 1)]
    return text
