"""An institution's own badge image: a PNG or an SVG recognised by its content, bounded in bytes and pixels, a
PNG encoded again (nothing but its pixels kept), an SVG rewritten with nothing that runs, links or loads; every
refusal in words that say what to do. Whatever the file, the answer is an image or a BadgeImageError."""

from __future__ import annotations

import io
import struct
import zlib

import defusedxml.ElementTree as SafeET
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from lti_microcred.credentials.images.art import png_in_svg
from lti_microcred.credentials.images.png_baking import bake_png, extract_png
from lti_microcred.credentials.images.svg_baking import bake_svg, extract_svg
from lti_microcred.credentials.images.uploads import (
    MAX_BYTES,
    PNG,
    SVG,
    BadgeImageError,
    read_badge_image,
    read_png,
)

HOSTILE_SVG = b"""<?xml version="1.0"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 100 100"
     onload="alert(1)">
  <script>alert(document.cookie)</script>
  <script xlink:href="https://evil.example/x.js"/>
  <style>@import url(https://evil.example/x.css); .ring { fill: #123456 }</style>
  <style>.a { background: url(https://evil.example/track.png) }</style>
  <foreignObject width="10" height="10"><div xmlns="http://www.w3.org/1999/xhtml">hi</div></foreignObject>
  <a href="javascript:alert(2)"><circle class="ring" cx="50" cy="50" r="40" onclick="alert(3)"/></a>
  <image href="https://evil.example/pixel.png" width="1" height="1"/>
  <image xlink:href="data:image/png;base64,iVBORw0KGgo=" width="1" height="1"/>
  <image href="data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=" width="1" height="1"/>
  <use href="#ring"/><use xlink:href="https://evil.example/sprite.svg#a"/>
  <rect width="10" height="10" fill="url(#grad)" style="fill: url(https://evil.example/x)"/>
  <set attributeName="href" to="javascript:alert(4)"/><animate attributeName="onload" to="alert(5)"/>
  <text x="5" y="95" font-family="sans-serif">Data &amp; Analysis</text>
</svg>"""


def png(width: int = 256, height: int = 256, mode: str = "RGBA") -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height), (11, 92, 173, 255) if mode == "RGBA" else (11, 92, 173)).save(out, "PNG")
    return out.getvalue()


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (256, 256), (200, 10, 10)).save(out, "JPEG")
    return out.getvalue()


def test_a_script_bearing_svg_is_cleaned_to_what_draws() -> None:
    image = read_badge_image(HOSTILE_SVG)
    assert image.media_type == SVG
    text = image.content.decode()
    for gone in ("script", "onload", "onclick", "javascript", "evil.example", "foreignObject", "@import", "<set",
                 "<animate", "image/svg+xml", "<!--", "<?xml-stylesheet"):
        assert gone not in text, gone
    root = SafeET.fromstring(image.content, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    assert root.find(".//{http://www.w3.org/2000/svg}circle") is not None  # the drawing is still there
    assert "Data &amp; Analysis" in text and 'fill="url(#grad)"' in text and "data:image/png;base64," in text
    assert ".ring { fill: #123456 }" not in text  # a style element that imports is dropped whole
    assert extract_svg(bake_svg(image.content, '{"id": "x"}')) == '{"id": "x"}'  # and it can be baked


@pytest.mark.parametrize("document, reason", [
    (b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaa">]><svg xmlns="http://www.w3.org/2000/svg">&a;</svg>',
     "not a well-formed SVG"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><circle', "not a well-formed SVG"),
    (b'<html><body>hello</body></html>', "not an SVG image"),
    ('<svg xmlns="http://www.w3.org/2000/svg"><text>Caf\u00e9</text></svg>'.encode("latin-1"), "not UTF-8"),
    (b'<svg xmlns="http://www.w3.org/2000/svg">' + b"<g/>" * 20_001 + b"</svg>", "more than 20,000 elements"),
])
def test_an_svg_that_cannot_be_made_safe_is_refused(document: bytes, reason: str) -> None:
    with pytest.raises(BadgeImageError, match=reason):
        read_badge_image(document)


def test_a_jpeg_named_png_is_refused_by_its_content() -> None:
    with pytest.raises(BadgeImageError) as refused:
        read_badge_image(jpeg())
    assert str(refused.value).startswith("This file is a JPEG photo, not a PNG or SVG image. Save or export it as PNG")
    with pytest.raises(BadgeImageError, match="a JPEG photo, not a PNG image"):
        read_png(jpeg())


@pytest.mark.parametrize("data, reason", [
    (b"", "The file is empty"),
    (b"GIF89a" + b"\0" * 40, "a GIF image"),
    (b"RIFF\0\0\0\0WEBPVP8 ", "a WebP image"),
    (b"%PDF-1.7\n", "a PDF document"),
    (b"\x1f\x8b\x08\0" + b"\0" * 20, "compressed file"),
    (b"just some words", "This file is not a PNG or SVG image."),
    (png()[:60], "damaged or incomplete"),
    (png(100, 100), "100 \u00d7 100 pixels, too small"),
    (png(2049, 300), "2049 \u00d7 300 pixels; a badge image may be at most 2048 \u00d7 2048"),
])
def test_refusals_say_what_is_wrong(data: bytes, reason: str) -> None:
    with pytest.raises(BadgeImageError, match=reason):
        read_badge_image(data)


def test_too_large_is_refused_with_the_sizes() -> None:
    with pytest.raises(BadgeImageError) as refused:
        read_badge_image(png() + b"\0" * MAX_BYTES)
    assert "a badge image may be at most 1.0 MB" in str(refused.value) and "The file is 1." in str(refused.value)


def test_a_png_is_encoded_again_keeping_only_its_pixels() -> None:
    baked = bake_png(png(), '{"id": "an old credential"}')  # a badge that already carries a credential
    image = read_badge_image(baked)
    assert image.media_type == PNG and b"openbadgecredential" not in image.content
    assert Image.open(io.BytesIO(image.content)).getpixel((10, 10)) == (11, 92, 173, 255)
    assert extract_png(bake_png(image.content, '{"id": "new"}')) == '{"id": "new"}'


def test_a_png_in_an_svg_wrapper_keeps_its_size() -> None:
    wrapped = png_in_svg(png(300, 200), 'Data "Analysis" & <co>')
    root = SafeET.fromstring(wrapped, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    assert root.get("viewBox") == "0 0 300 200" and root.get("aria-label") == 'Data "Analysis" & <co>'


def test_a_header_that_claims_a_huge_image_is_refused_before_decoding() -> None:
    header = struct.pack(">IIBBBBB", 60_000, 60_000, 8, 6, 0, 0, 0)
    chunk = struct.pack(">I", len(header)) + b"IHDR" + header + struct.pack(">I", zlib.crc32(b"IHDR" + header))
    with pytest.raises(BadgeImageError, match="60000 \u00d7 60000 pixels"):
        read_badge_image(b"\x89PNG\r\n\x1a\n" + chunk)


@settings(max_examples=150, derandomize=True, deadline=None)
@given(st.one_of(st.binary(max_size=400), st.binary(max_size=300).map(lambda b: b"\x89PNG\r\n\x1a\n" + b),
                 st.text(max_size=300).map(lambda t: f'<svg xmlns="http://www.w3.org/2000/svg">{t}</svg>'.encode())))
def test_any_file_gets_an_image_or_a_reason(data: bytes) -> None:
    try:
        image = read_badge_image(data)
    except BadgeImageError as refused:
        assert str(refused)
    else:
        assert image.media_type in (PNG, SVG)
