"""A micro-credential's own badge image, as an institution uploads it: a PNG or an SVG, recognised by its
content (never its name), at most MAX_BYTES and MAX_SIDE pixels a side. A PNG is decoded and encoded again
(only its pixels survive: no text chunk, no credential already baked into it); an SVG is rewritten by
`svg_sanitise`. Every refusal says what was wrong and what to do.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from typing import Final

from PIL import Image, UnidentifiedImageError

from lti_microcred.credentials.errors import CredentialError
from lti_microcred.credentials.images.png_baking import PNG_SIGNATURE
from lti_microcred.credentials.images.svg_sanitise import UnsafeSvg, sanitised

MAX_BYTES: Final = 1024 * 1024
MAX_SIDE: Final = 2048
MIN_SIDE: Final = 128
PNG: Final = "image/png"
SVG: Final = "image/svg+xml"
_OTHER_KINDS: Final = (
    (b"\xff\xd8\xff", "a JPEG photo"), (b"GIF87a", "a GIF image"), (b"GIF89a", "a GIF image"),
    (b"%PDF", "a PDF document"), (b"BM", "a BMP image"), (b"\x1f\x8b", "a compressed file (.svgz or .gz)"),
    (b"PK\x03\x04", "a ZIP archive or office document"), (b"II*\x00", "a TIFF image"), (b"MM\x00*", "a TIFF image"),
)


class BadgeImageError(CredentialError):
    """An uploaded badge image was refused; the message says why and what to do."""


@dataclass(frozen=True)
class BadgeImage:
    """What is stored: the re-encoded PNG or the sanitised SVG."""

    media_type: str
    content: bytes


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def read_badge_image(data: bytes) -> BadgeImage:
    """The upload as a badge image we can serve and bake, or BadgeImageError."""
    _check_size(data)
    if data.startswith(PNG_SIGNATURE):
        return BadgeImage(PNG, read_png(data))
    start = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if start.startswith(b"<"):
        return BadgeImage(SVG, _read_svg(data))
    raise BadgeImageError(f"{_what(data, 'a PNG or SVG image')} Save or export it as PNG (or SVG) and upload "
                          "that file.")


def read_png(data: bytes) -> bytes:
    """A PNG decoded and encoded again, within the size limits; BadgeImageError otherwise."""
    _check_size(data)
    if not data.startswith(PNG_SIGNATURE):
        raise BadgeImageError(f"{_what(data, 'a PNG image')} Save it as PNG and upload it again.")
    if data[12:16] == b"IHDR" and len(data) >= 24:  # its size, read before any decoder sees the file
        _check_sides(*struct.unpack(">II", data[16:24]))
    try:
        with Image.open(io.BytesIO(data), formats=["PNG"]) as image:
            _check_sides(*image.size)
            image.load()
            pixels = image.convert("RGBA" if _has_alpha(image) else "RGB")
    except BadgeImageError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise BadgeImageError("This PNG is damaged or incomplete and cannot be read. Export it again and upload "
                              "the new file.") from exc
    out = io.BytesIO()
    pixels.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _read_svg(data: bytes) -> bytes:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadgeImageError("This SVG is not UTF-8 text. Save it as UTF-8 (most editors call it "
                              "\u201cUnicode (UTF-8)\u201d) and upload it again.") from exc
    try:
        clean = sanitised(data)
    except UnsafeSvg as exc:
        raise BadgeImageError(str(exc)) from exc
    if len(clean) > MAX_BYTES:
        raise BadgeImageError(f"This SVG is larger than {megabytes(MAX_BYTES)} once cleaned; simplify it and "
                              "upload it again.")
    return clean


def _check_size(data: bytes) -> None:
    if not data:
        raise BadgeImageError("The file is empty. Choose the PNG or SVG file of your badge image.")
    if len(data) > MAX_BYTES:
        raise BadgeImageError(f"The file is {megabytes(len(data))}; a badge image may be at most "
                              f"{megabytes(MAX_BYTES)}. Save it smaller (for example {MAX_SIDE // 4} \u00d7 "
                              f"{MAX_SIDE // 4} pixels) and upload it again.")


def _check_sides(width: int, height: int) -> None:
    if width > MAX_SIDE or height > MAX_SIDE:
        raise BadgeImageError(f"The image is {width} \u00d7 {height} pixels; a badge image may be at most "
                              f"{MAX_SIDE} \u00d7 {MAX_SIDE}. Scale it down and upload it again.")
    if width < MIN_SIDE or height < MIN_SIDE:
        raise BadgeImageError(f"The image is {width} \u00d7 {height} pixels, too small to stay sharp; upload one "
                              f"of at least {MIN_SIDE} \u00d7 {MIN_SIDE} (512 \u00d7 512 is best).")


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info


def _what(data: bytes, wanted: str) -> str:
    """What the file is instead of what was wanted, as its first bytes tell (a name can say anything)."""
    kind = "a WebP image" if data[:4] == b"RIFF" and data[8:12] == b"WEBP" else \
        next((name for magic, name in _OTHER_KINDS if data.startswith(magic)), None)
    return f"This file is {kind}, not {wanted}." if kind else f"This file is not {wanted}."
