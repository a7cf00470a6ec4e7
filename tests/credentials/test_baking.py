"""Baking: PNG iTXt and SVG <openbadges:credential> round trips, and refusal of anything else."""

from __future__ import annotations

import json
import struct
import time
import zlib

import pytest

from lti_microcred.credentials.errors import BakingError
from lti_microcred.credentials.images.png_baking import KEYWORD, bake_png, extract_png
from lti_microcred.credentials.images.svg_baking import bake_svg, extract_svg


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def tiny_png() -> bytes:
    """A valid 1x1 grey PNG."""
    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\0\x80")
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", pixels) + _chunk(b"IEND", b"")


CREDENTIAL = json.dumps({"id": "urn:uuid:1", "name": "Caf\u00e9 ]]> badge", "type": ["VerifiableCredential"]})
JWT = "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJkaWQ6d2ViOmV4YW1wbGUifQ.c2ln"
SVG = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<!-- badge -->\n'
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10" data-note="a > b">'
    b'<circle cx="5" cy="5" r="4"/></svg>\n'
)


@pytest.mark.parametrize("payload", [CREDENTIAL, JWT])
def test_png_round_trip(payload: str) -> None:
    baked = bake_png(tiny_png(), payload)
    assert extract_png(baked) == payload
    assert baked.startswith(tiny_png()[:-12]) and baked.endswith(_chunk(b"IEND", b""))
    with pytest.raises(BakingError, match="already"):
        bake_png(baked, payload)


def test_png_compressed_itxt_is_read() -> None:
    data = KEYWORD + b"\0\x01\x00\0\0" + zlib.compress(JWT.encode())
    png = tiny_png()
    baked = png[:-12] + _chunk(b"iTXt", data) + png[-12:]
    assert extract_png(baked) == JWT


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"GIF89a....", "not a PNG"),
        (b"", "not a PNG"),
        (tiny_png()[:-6], "truncated"),
        (tiny_png()[:-4] + b"\0\0\0\0", "corrupt"),
        (tiny_png(), "carries no"),
        (
            tiny_png()[:-12]
            + _chunk(b"iTXt", KEYWORD + b"\0\x01\x00\0\0" + zlib.compress(b"a" * (3 * 1024 * 1024)))
            + tiny_png()[-12:],
            "expands beyond",
        ),
    ],
    ids=["gif", "empty", "truncated", "bad-crc", "unbaked", "itxt-bomb"],
)
def test_png_garbage_is_refused(data: bytes, reason: str) -> None:
    with pytest.raises(BakingError, match=reason):
        extract_png(data)


@pytest.mark.parametrize("payload", [CREDENTIAL, JWT])
def test_svg_round_trip(payload: str) -> None:
    baked = bake_svg(SVG, payload)
    assert extract_svg(baked) == payload
    assert b'xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"' in baked
    assert b'<circle cx="5" cy="5" r="4"/>' in baked and b"<!-- badge -->" in baked
    with pytest.raises(BakingError, match="already"):
        bake_svg(baked, payload)


def test_svg_self_closing_root_and_existing_declaration() -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"/>'
    baked = bake_svg(svg, JWT)
    assert extract_svg(baked) == JWT
    assert baked.count(b"xmlns:openbadges") == 1 and baked.endswith(b"</svg>")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"<html><body/></html>", "not an SVG"),
        (b"\x89PNG\r\n\x1a\n\0\0", "UTF-8"),
        (b"just text", "well-formed"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'>", "well-formed"),
        (SVG, "carries no"),
        ("<svg xmlns='http://www.w3.org/2000/svg'/>".encode("utf-16"), "UTF-8"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'>" + b" " * (6 * 1024 * 1024) + b"</svg>", "larger"),
        (b"<svg xmlns='http://www.w3.org/2000/svg' xmlns:openbadges='urn:other'/>", "another namespace"),
    ],
    ids=["html", "binary", "text", "unclosed", "unbaked", "utf16", "oversized", "prefix-clash"],
)
def test_svg_garbage_is_refused(data: bytes, reason: str) -> None:
    with pytest.raises(BakingError, match=reason):
        bake_svg(data, JWT) if reason == "another namespace" else extract_svg(data)


def test_svg_entity_expansion_is_refused_promptly() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa">'
        + b"".join(f'<!ENTITY a{i} "{"&a;" * 10 if i == 0 else f"&a{i - 1};" * 10}">'.encode() for i in range(9))
        + b']><svg xmlns="http://www.w3.org/2000/svg"><text>&a8;</text></svg>'
    )
    started = time.perf_counter()
    with pytest.raises(BakingError, match="safe SVG"):
        extract_svg(bomb)
    assert time.perf_counter() - started < 0.5
