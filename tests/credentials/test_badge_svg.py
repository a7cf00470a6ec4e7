"""The badge SVG carries the credential's title and the issuer's name: whatever they hold (quotes, `&`, `<`,
entities cut in half, an `onload=` payload, characters XML forbids), the SVG parses, has exactly the elements
and attributes we write, shows the text as plain text, and its URL answers 200."""

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
from lti_microcred.credentials.issuing.issuance import issue
from lti_microcred.credentials.models import IssuerProfile
from tests.support.factories import fields, institution
from tests.support.issuer import issuer_restored

SVG = "{http://www.w3.org/2000/svg}"
BAKED = "{https://purl.imsglobal.org/ob/v3p0}credential"
TAGS = {f"{SVG}svg", f"{SVG}title", f"{SVG}path", f"{SVG}circle", f"{SVG}text", BAKED}
ATTRIBUTES = {"viewBox", "width", "height", "role", "aria-label", "d", "fill", "cx", "cy", "r", "stroke",
              "stroke-width", "x", "y", "text-anchor", "font-family", "font-size"}
ONLOAD = 'Badge" onload="alert(document.domain)'
SPECIALS = ['"', "'", "&", "<", ">", "&amp;", "&#34;", "&quot;", "]]>", "<!--", "\ufffe", "\x01", "\x00", ONLOAD]
HOSTILE = [ONLOAD, "Tom's \"quoted\" <b>bold</b> & co", "x" * 19 + "&amp;&lt;&gt;", "'" * 80, "&" * 80,
           "<script>alert(1)</script>", "Caf\u00e9 \U0001f393 badge"]


def _cut_positions() -> Iterator[str]:
    """Each special string at every offset around the cuts (22 and 30 on the face, 60 in the title)."""
    for special in SPECIALS:
        for offset in range(0, 64):
            yield "x" * offset + special + "y" * 10


def _plain(value: str) -> str:
    """What the SVG may show of a value: the characters XML allows, line breaks and tabs as spaces."""
    kept = "".join(c for c in value if c in "\t\n\r" or " " <= c <= "\ud7ff" or "\ue000" <= c <= "\ufffd"
                   or c >= "\U00010000")
    return kept.replace("\t", " ").replace("\n", " ").replace("\r", " ")


def parsed(svg: bytes) -> ET.Element:
    """The SVG, parsed safely; only our elements and attributes are in it."""
    root = SafeET.fromstring(svg, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    elements = list(root.iter())
    assert {e.tag for e in elements} <= TAGS, {e.tag for e in elements} - TAGS
    found = {name for e in elements for name in e.attrib}
    assert found <= ATTRIBUTES, found - ATTRIBUTES
    return root


def check(title: str, issuer: str) -> None:
    root = parsed(badge_svg(title, issuer))
    name, by = _plain(title)[:60], _plain(issuer)[:60]
    assert root.get("aria-label") == f"{name}, issued by {by}"
    assert root.findtext(f"{SVG}title") == name
    assert [t.text or "" for t in root.iter(f"{SVG}text")] == [_plain(title)[:22], _plain(issuer)[:30]]


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
    assert root.findtext(f"{SVG}title") == _plain(title)[:60]
    assert b'onload="' not in answer.data.split(b"<openbadges:credential>")[0]
    assert json.loads(extract_svg(answer.data)) == client.get(f"/credentials/{public_id}.json").json
