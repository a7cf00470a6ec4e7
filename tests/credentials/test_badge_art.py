"""The generated badge design lays its title out legibly at any length: short, 40 and 120 characters fit whole
(no ellipsis, no clipping), each line's measured width within the room the badge has at that height, the lines
inside their zone and apart; the issuer's name likewise; the SVG and the PNG are the same picture."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import defusedxml.ElementTree as SafeET
import pytest
from PIL import Image

from lti_microcred.credentials.images.badge import badge_png, badge_svg
from lti_microcred.credentials.images.design import (
    ISSUER_ZONE,
    SIZE,
    TITLE_ZONE,
    BadgeDesign,
    contrast,
    layout,
    text_room,
)
from lti_microcred.credentials.images.text_fit import ASCENT, DESCENT, ELLIPSIS, width

SVG = "{http://www.w3.org/2000/svg}"
SHORT = "Data Analysis"
FORTY = "Sustainable Procurement for Small Firms."
ONE_TWENTY = ("Advanced Competencies in Sustainable Supply Chain Management, Circular Economy Practices and "
              "Responsible Procurement III")
LONG_ISSUER = "Technological University of the Shannon: Midlands Midwest"


def text_lines(svg: bytes, group: str) -> list[ET.Element]:
    root = SafeET.fromstring(svg, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    found = root.find(f".//{SVG}g[@id='{group}']")
    return list(found.iter(f"{SVG}text")) if found is not None else []


def assert_fits(lines: list[ET.Element], zone: tuple[float, float]) -> None:
    """Every line measured (textLength is its width in the shipped font), within its room, inside the zone,
    centred, and below the previous line."""
    previous_bottom = zone[0]
    for line in lines:
        size, y = float(line.get("font-size", "0")), float(line.get("y", "0"))
        stated = float(line.get("textLength", "0"))
        assert abs(width(line.text or "", size) - stated) < 0.1, line.text
        assert stated <= text_room(y, size) + 1e-6, (line.text, stated, text_room(y, size))
        top, bottom = y - ASCENT * size, y + DESCENT * size
        assert zone[0] - 1e-6 <= top and bottom <= zone[1] + 1e-6, (line.text, top, bottom, zone)
        assert top >= previous_bottom - 0.2 * size, "lines overlap"
        assert line.get("x") == f"{SIZE / 2:.1f}" and line.get("lengthAdjust") == "spacingAndGlyphs"
        previous_bottom = bottom


@pytest.mark.parametrize("title", [SHORT, FORTY, ONE_TWENTY])
def test_titles_of_any_length_are_laid_out_whole_and_within_the_badge(title: str) -> None:
    assert len(FORTY) == 40 and len(ONE_TWENTY) == 120
    svg = badge_svg(title, LONG_ISSUER, 5)
    lines = text_lines(svg, "title")
    assert " ".join(line.text or "" for line in lines) == title  # every word, none cut, no ellipsis
    assert 1 <= len(lines) <= 5
    assert min(float(line.get("font-size", "0")) for line in lines) >= 20  # 10 px on a 256 px badge at least
    assert_fits(lines, TITLE_ZONE)
    assert_fits(text_lines(svg, "issuer"), ISSUER_ZONE)


def test_shorter_titles_get_larger_type() -> None:
    sizes = [layout(BadgeDesign(t, "Example University")).title[0].size for t in (SHORT, FORTY, ONE_TWENTY)]
    assert sizes == sorted(sizes, reverse=True) and sizes[0] > sizes[-1] * 1.8


def test_a_single_word_longer_than_the_badge_is_broken_not_clipped() -> None:
    word = "Pneumonoultramicroscopicsilicovolcanoconiosis"
    lines = text_lines(badge_svg(word, "Example University"), "title")
    assert len(lines) >= 2 and lines[0].text and lines[0].text.endswith("-")
    assert "".join((line.text or "").rstrip("-") for line in lines) == word
    assert_fits(lines, TITLE_ZONE)


def test_only_a_title_beyond_any_size_ends_with_an_ellipsis() -> None:
    title = " ".join(["Competence"] * 40)  # 439 characters: more than the title field allows
    lines = text_lines(badge_svg(title, "Example University"), "title")
    assert (lines[-1].text or "").endswith(ELLIPSIS)
    assert_fits(lines, TITLE_ZONE)


def test_wide_scripts_count_as_full_ems() -> None:
    lines = text_lines(badge_svg("漢字" * 30, "Example University"), "title")
    assert_fits(lines, TITLE_ZONE)


def test_the_level_and_the_colour_are_shown_and_the_text_stays_readable() -> None:
    svg = badge_svg(SHORT, "Example University", 6, "#F2C12E")  # a light brand colour
    level = text_lines(svg, "level")
    assert [t.text for t in level] == ["EQF LEVEL 6"]
    found = layout(BadgeDesign(SHORT, "Example University", 6, "#F2C12E"))
    assert found.background == "#F2C12E" and found.foreground == "#111111"
    assert contrast(found.foreground, found.background) >= 4.5
    assert b'fill="#F2C12E"' in svg
    dark = layout(BadgeDesign(SHORT, "Example University", None, "#7A1F5C"))
    assert dark.foreground == "#FFFFFF" and dark.level is None
    assert text_lines(badge_svg(SHORT, "Example University"), "level") == []


def test_a_colour_that_is_not_one_falls_back_to_the_default() -> None:
    assert layout(BadgeDesign(SHORT, "x", None, 'red" onload="x')).background == "#0B5CAD"


def test_the_png_is_the_same_picture() -> None:
    png = Image.open(io.BytesIO(badge_png(SHORT, "Example University", 5, "#7A1F5C"))).convert("RGBA")
    assert png.size == (SIZE, SIZE)
    assert png.getpixel((2, 2))[3] == 0  # outside the hexagon: transparent
    assert png.getpixel((40, 256))[:3] == pytest.approx((0x7A, 0x1F, 0x5C), abs=6)  # inside: the colour
    found = layout(BadgeDesign(SHORT, "Example University", 5, "#7A1F5C"))
    line = found.title[0]
    band = png.crop((0, round(line.y - ASCENT * line.size), SIZE, round(line.y)))
    white = [x for x in range(SIZE) if any(min(band.getpixel((x, y))[:3]) >= 235 for y in range(band.height))]
    assert white, "the title is drawn on the PNG"
    assert SIZE / 2 - line.width / 2 - 4 <= min(white) and max(white) <= SIZE / 2 + line.width / 2 + 4
