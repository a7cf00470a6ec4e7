"""PNG baking (OB 3.0 section 5.3.1): the credential (JSON or compact JWT) in an iTXt chunk, keyword
'openbadgecredential', so the badge image carries its own proof."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from typing import Final

from lti_microcred.credentials.errors import BakingError

PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
KEYWORD: Final = b"openbadgecredential"
MAX_PNG_BYTES: Final = 10 * 1024 * 1024
MAX_CREDENTIAL_BYTES: Final = 2 * 1024 * 1024


def bake_png(png: bytes, credential: str) -> bytes:
    """The PNG with the credential text in an uncompressed iTXt chunk just before IEND."""
    chunks = list(_chunks(png))
    if any(kind == b"iTXt" and _keyword(data) == KEYWORD for kind, data in chunks):
        raise BakingError("This PNG already carries a credential; bake a fresh copy of the badge image.")
    text = credential.encode("utf-8")
    if len(text) > MAX_CREDENTIAL_BYTES:
        raise BakingError("The credential is too large to bake into an image.")
    itxt = KEYWORD + b"\0" + b"\0\0" + b"\0" + b"\0" + text  # no compression, no language, no translation
    out = [PNG_SIGNATURE]
    for kind, data in chunks:
        if kind == b"IEND":
            out.append(png_chunk(b"iTXt", itxt))
        out.append(png_chunk(kind, data))
    return b"".join(out)


def extract_png(png: bytes) -> str:
    """The credential text baked into a PNG; BakingError if it is not a PNG or carries none."""
    for kind, data in _chunks(png):
        if kind == b"iTXt" and _keyword(data) == KEYWORD:
            return _itxt_text(data)
    raise BakingError("This PNG carries no Open Badges 3.0 credential (no 'openbadgecredential' iTXt chunk).")


def _chunks(png: bytes) -> Iterator[tuple[bytes, bytes]]:
    if len(png) > MAX_PNG_BYTES:
        raise BakingError(f"The image is larger than {MAX_PNG_BYTES // (1024 * 1024)} MB.")
    if not png.startswith(PNG_SIGNATURE):
        raise BakingError("This file is not a PNG image.")
    offset, seen_end = len(PNG_SIGNATURE), False
    while offset < len(png) and not seen_end:
        if offset + 12 > len(png):
            raise BakingError("The PNG is truncated.")
        length, kind = struct.unpack(">I4s", png[offset : offset + 8])
        end = offset + 12 + length
        if end > len(png):
            raise BakingError("The PNG is truncated.")
        data = png[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", png[end - 4 : end])
        if zlib.crc32(kind + data) != crc:
            raise BakingError(f"The PNG chunk {kind!r} is corrupt (CRC mismatch).")
        seen_end = kind == b"IEND"
        yield kind, data
        offset = end
    if not seen_end:
        raise BakingError("The PNG has no IEND chunk.")


def png_chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data, CRC."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _keyword(data: bytes) -> bytes:
    return data.split(b"\0", 1)[0]


def _itxt_text(data: bytes) -> str:
    """Text of an iTXt chunk: keyword, NUL, flag, method, language NUL, translated keyword NUL, text."""
    try:
        _, rest = data.split(b"\0", 1)
        flag, method, rest = rest[0], rest[1], rest[2:]
        _, rest = rest.split(b"\0", 1)
        _, text = rest.split(b"\0", 1)
    except (ValueError, IndexError) as exc:
        raise BakingError("The credential iTXt chunk is malformed.") from exc
    if flag:
        if method != 0:
            raise BakingError("The credential iTXt chunk uses an unknown compression method.")
        text = _inflate_bounded(text)
    try:
        return text.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BakingError("The baked credential is not UTF-8 text.") from exc


def _inflate_bounded(data: bytes) -> bytes:
    inflater = zlib.decompressobj()
    try:
        text = inflater.decompress(data, MAX_CREDENTIAL_BYTES + 1)
    except zlib.error as exc:
        raise BakingError("The compressed credential chunk is corrupt.") from exc
    if len(text) > MAX_CREDENTIAL_BYTES or inflater.unconsumed_tail:
        raise BakingError("The baked credential expands beyond the accepted size.")
    return text
