"""The badge SVG carries the credential's title and the issuer's name: whatever they hold (quotes, `&`, `<`,
entities cut in half, an `onload=` payload, characters XML forbids), the SVG parses, has exactly the elements
and attributes we write, shows the text as plain text (laid out in lines, never markup), and its URL answers 200."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

import defusedxml.ElementTree as SafeET
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lti_microcred.competencies import operations as ops
from lti_microcred.core.db import transaction
from lti_microcred.credentials.images.badge import badge_svg
from lti_microcred.credentials.images.svg_baking import extract_svg
from lti_microcred.credentials.images.text_fit import plain
from lti_microcred.credentials.issuing.issuance import issue
from lti_microcred.credentials.models import IssuerProfile
from tests.support.factories import fields, institution
from tests.support.issuer import issuer_restored

SVG = "{http://www.w3.org/2000/svg}"
BAKED = "{https://purl.imsglobal.org/ob/v3p0}credential"
TAGS = {f"{SVG}svg", f"{SVG}title", f"{SVG}polygon", f"{SVG}g", f"{SVG}rect", f"{SVG}text", BAKED}
ATTRIBUTES = {"viewBox", "width", "height", "role", "aria-label", "points", "fill", "stroke", "stroke-width",
              "stroke-linejoin", "stroke-opacity", "fill-opacity", "font-family", "font-weight", "text-anchor", "id",
              "x", "y", "rx", "font-size", "textLength", "lengthAdjust"}
ONLOAD = 'Badge" onload="alert(document.domain)'
SPECIALS = ['"', "'", "&", "<", ">", "&amp;", "&#34;", "&quot;", "]]>", "<!--", "\ufffe", "\x01", "\x00", ONLOAD]
HOSTILE = [ONLOAD, "Tom's \"quoted\" <b>bold</b> & co", "x" * 19 + "&amp;&lt;&gt;", "'" * 80, "&" * 80,
           "<script>alert(1)</script>", "Caf\u00e9 \U0001f393 badge"]


def _cut_positions() -> Iterator[str]:
    """Each special string at every offset up to 64 characters (where lines break and where an older badge cut)."""
    for special in SPECIALS:
        for offset in range(0, 64):
            yield "x" * offset + special + "y" * 10


def _squeezed(text: str) -> str:
    """Text without the spaces, hyphens and ellipsis the layout may add or drop between lines."""
    return "".join(c for c in text if c not in " -\u2026")


def parsed(svg: bytes) -> ET.Element:
    """The SVG, parsed safely; only our elements and attributes are in it."""
    root = SafeET.fromstring(svg, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    elements = list(root.iter())
    assert {e.tag for e in elements} <= TAGS, {e.tag for e in elements} - TAGS
    found = {name for e in elements for name in e.attrib}
    assert found <= ATTRIBUTES, found - ATTRIBUTES
    return root


def lines(root: ET.Element, group: str) -> list[str]:
    found = root.find(f".//{SVG}g[@id='{group}']")
    return [t.text or "" for t in found.iter(f"{SVG}text")] if found is not None else []


def label(title: str, issuer: str) -> str:
    by = f", issued by {plain(issuer)}" if plain(issuer) else ""
    return f"{plain(title) or 'Micro-credential'}{by}"


def check(title: str, issuer: str) -> None:
    root = parsed(badge_svg(title, issuer))
    assert root.get("aria-label") == label(title, issuer)
    assert root.findtext(f"{SVG}title") == label(title, issuer)
    shown = lines(root, "title")
    assert shown and _squeezed(plain(title) or "Micro-credential").startswith(_squeezed("".join(shown)))
    assert _squeezed(plain(issuer)).startswith(_squeezed("".join(lines(root, "issuer"))))
    for element in root.iter():  # text only in <title> and <text>, never as markup of its own
        assert element.tag in (f"{SVG}title", f"{SVG}text") or not (element.text or "").strip()


@pytest.mark.parametrize("title", HOSTILE)
def test_hostile_titles_stay_text(title: str) -> None:
    check(title, "Example University")


@pytest.mark.parametrize("issuer", HOSTILE)
def test_hostile_issuer_names_stay_text(issuer: str) -> None:
    check("Data Analysis", issuer)


def test_every_cut_position_parses() -> None:
    for value in _cut_positions():
        check(value, value)


@settings(max_examples=200, derandomize=True, deadline=None)
@given(st.text(max_size=120), st.text(max_size=120))
def test_any_text_parses(title: str, issuer: str) -> None:
    check(title, issuer)


@pytest.fixture
def issuer_named(services: Any) -> Iterator[Any]:
    """Rename the one issuer profile for the test; restored afterwards."""
    def rename(name: str) -> None:
        with transaction(services.sessions) as session:
            profile = session.get(IssuerProfile, 1)
            assert profile is not None
            profile.name = name
        services.issuer.invalidate()

    with issuer_restored(services):
        yield rename


def _issued_with_title(services: Any, title: str) -> str:
    with transaction(services.sessions) as session:
        inst = institution(session)
        course = inst.course(session)
        teacher, learner = inst.person(session, "Teacher"), inst.person(session, "Learner")
        staff = inst.actor(teacher, course)
        credential = ops.create_micro_credential(session, staff, fields(title=title))
        award = ops.award_manually(session, staff, credential, learner.id, "Assessed at work.")
        return issue(session, services.issuer.state(), services.credential_urls, award.id).public_id


@pytest.mark.parametrize("title", [ONLOAD, "x" * 19 + "& more", "x" * 20 + '"quoted"', "A < B > C & 'D'",
                                   "x" * 58 + "&&&", "Badge \ufffe\uffff"])
def test_badge_url_answers_200_with_plain_text(services: Any, client: Any, issuer_named: Any, title: str) -> None:
    issuer_named('Example "University" & <Partners> ' + ONLOAD)
    public_id = _issued_with_title(services, title)
    answer = client.get(f"/credentials/{public_id}.svg")
    assert answer.status_code == 200, answer.text[:500]
    root = parsed(answer.data)
    by = 'Example "University" & <Partners> ' + ONLOAD
    assert root.findtext(f"{SVG}title") == label(title, by) + ", EQF level 5"  # the factory's level
    assert _squeezed(plain(title)).startswith(_squeezed("".join(lines(root, "title"))))
    assert b'onload="' not in answer.data.split(b"<openbadges:credential>")[0]
    assert json.loads(extract_svg(answer.data)) == client.get(f"/credentials/{public_id}.json").json
