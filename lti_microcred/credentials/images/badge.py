"""Badge pictures to bake credentials into: an SVG with the credential's name, and a plain PNG medal.

Drawn here (no image library): a PNG is a few zlib-compressed scanlines.
"""

from __future__ import annotations

import re
import struct
import zlib
from functools import cache
from xml.sax.saxutils import escape

from lti_microcred.credentials.images.png_baking import PNG_SIGNATURE, png_chunk

SIZE = 256
_BLUE, _ORANGE, _WHITE = (11, 92, 173, 255), (227, 98, 9, 255), (255, 255, 255, 255)
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")  # what XML 1.0 cannot carry
_LINE_BREAKS = re.compile("[\t\n\r]")
_QUOTES = {'"': "&#34;", "'": "&#39;"}


def _pixel(x: int, y: int) -> tuple[int, int, int, int]:
    cx, cy = SIZE / 2, SIZE * 0.42
    distance = ((x - cx) ** 2 + (y - cy) ** 2) ** 0.5
    ribbon = y > SIZE * 0.62 and abs(x - cx) < SIZE * 0.28 - (y - SIZE * 0.62) * 0.15
    if distance < SIZE * 0.30:
        return _WHITE if SIZE * 0.22 < distance < SIZE * 0.245 else _BLUE
    if ribbon:
        return _ORANGE
    return (0, 0, 0, 0)


@cache
def medal_png() -> bytes:
    rows = b"".join(b"\x00" + b"".join(bytes(_pixel(x, y)) for x in range(SIZE)) for y in range(SIZE))
    header = struct.pack(">IIBBBBB", SIZE, SIZE, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return PNG_SIGNATURE + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", zlib.compress(rows, 9)) + \
        png_chunk(b"IEND", b"")


def _shown(value: object, limit: int) -> str:
    """Plain text cut first (never an entity in half), then escaped for element text and quoted attributes alike."""
    plain = _LINE_BREAKS.sub(" ", _NOT_XML.sub("", str(value)))
    return escape(plain[:limit], _QUOTES)


def badge_svg(title: str, issuer: str) -> bytes:
    """A medal with the credential's title and issuer, readable by screen readers."""
    name, by = _shown(title, 60), _shown(issuer, 60)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 256 256" width="256" height="256" role="img" '
        f'aria-label="{name}, issued by {by}">'
        f"<title>{name}</title>"
        '<path d="M84 150 L60 250 L128 215 L196 250 L172 150 Z" fill="#e36209"/>'
        '<circle cx="128" cy="108" r="78" fill="#0b5cad"/>'
        '<circle cx="128" cy="108" r="62" fill="none" stroke="#fff" stroke-width="5"/>'
        '<text x="128" y="104" text-anchor="middle" font-family="sans-serif" font-size="15" fill="#fff">'
        f"{_shown(title, 22)}</text>"
        '<text x="128" y="126" text-anchor="middle" font-family="sans-serif" font-size="10" fill="#fff">'
        f"{_shown(issuer, 30)}</text></svg>"
    ).encode()
