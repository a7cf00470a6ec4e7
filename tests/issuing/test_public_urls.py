"""The public side of credentials over HTTP: every format, the DID document, status lists, the verification
page and API (valid, tampered, revoked, suspended, expired, garbage, oversized)."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
import requests
from sqlalchemy import select

from lti_microcred.competencies import operations as ops
from lti_microcred.core.db import transaction
from lti_microcred.credentials.images.png_baking import extract_png
from lti_microcred.credentials.images.svg_baking import extract_svg
from lti_microcred.credentials.issuing.credential_status import change_status, revoke_award_credential
from lti_microcred.credentials.issuing.issuance import issue
from lti_microcred.credentials.issuing.issuer import profile_of
from lti_microcred.credentials.issuing.records import learner_record
from lti_microcred.credentials.models import IssuedCredential
from tests.support.factories import fields, institution
from tests.support.issuer import issuer_restored


def issued(services: Any, awarded_days_ago: int = 0, **overrides: Any) -> dict[str, Any]:
    """A committed award (made `awarded_days_ago`) and its credential, as the worker would leave them."""
    with transaction(services.sessions) as session:
        inst = institution(session)
        course = inst.course(session)
        teacher, learner = inst.person(session, "Teacher"), inst.person(session, "Learner")
        staff = inst.actor(teacher, course)
        credential = ops.create_micro_credential(session, staff, fields(**overrides))
        award = ops.award_manually(session, staff, credential, learner.id, "Assessed at work.")
        award.awarded_dt -= dt.timedelta(days=awarded_days_ago)
        row = issue(session, services.issuer.state(), services.credential_urls, award.id)
        return {"public_id": row.public_id, "award_id": award.id, "staff": staff, "learner": learner.display_name}


@pytest.fixture
def one(services: Any, live_tool: str) -> dict[str, Any]:
    return issued(services)


def api(live_tool: str, body: str | bytes, content_type: str = "application/json") -> dict[str, Any]:
    response = requests.post(live_tool + "/api/verify", data=body, headers={"Content-Type": content_type},
                             timeout=30)
    assert response.status_code == 200, response.text[:300]
    return response.json()


def test_credential_in_every_format(one: dict[str, Any], live_tool: str) -> None:
    base = f"{live_tool}/credentials/{one['public_id']}"
    as_json = requests.get(base + ".json", timeout=10)
    assert as_json.headers["Content-Type"].startswith("application/vc+ld+json")
    credential = as_json.json()
    assert credential["id"] == base
    assert jwt.decode(requests.get(base + ".jwt", timeout=10).text, options={"verify_signature": False})["jti"] == base
    assert extract_png(requests.get(base + ".png", timeout=10).content) == as_json.text
    assert extract_svg(requests.get(base + ".svg", timeout=10).content) == as_json.text
    download = requests.get(base + ".json?download=1", timeout=10)
    assert "attachment" in download.headers["Content-Disposition"]


def test_issuer_documents_publish_the_signing_keys(one: dict[str, Any], live_tool: str, services: Any) -> None:
    did_doc = requests.get(live_tool + "/.well-known/did.json", timeout=10).json()
    credential = requests.get(f"{live_tool}/credentials/{one['public_id']}.json", timeout=10).json()
    assert did_doc["id"] == credential["issuer"]["id"] == services.issuer.state().did
    assert credential["proof"]["verificationMethod"] in did_doc["assertionMethod"]
    assert {m["type"] for m in did_doc["verificationMethod"]} == {"Multikey", "JsonWebKey"}
    profile = requests.get(live_tool + "/issuer", timeout=10).json()
    assert profile["alsoKnownAs"] == [did_doc["id"]] and len(profile["verificationMethod"]) == 2
    context = requests.get(live_tool + "/contexts/microcred-v1.json", timeout=10).json()
    assert live_tool + "/contexts/microcred-v1.json" in credential["@context"] and "ectsCredits" in context["@context"]


def test_verify_api_valid_then_revoked_within_seconds(one: dict[str, Any], live_tool: str, services: Any) -> None:
    text = requests.get(f"{live_tool}/credentials/{one['public_id']}.json", timeout=10).text
    assert api(live_tool, text)["verified"] is True
    with transaction(services.sessions) as session:
        from lti_microcred.competencies.models import Award

        award = session.get(Award, one["award_id"])
        ops.revoke(session, one["staff"], award, "Misconduct found.")
        revoke_award_credential(session, one["award_id"])
    verdict = api(live_tool, text)
    assert verdict["verified"] is False and "revoked" in verdict["summary"]
    status = next(c for c in verdict["checks"] if c["check"] == "status")
    assert status["outcome"] == "failed"


def test_verify_api_accepts_a_vc_jwt_and_names_tampering(one: dict[str, Any], live_tool: str) -> None:
    token = requests.get(f"{live_tool}/credentials/{one['public_id']}.jwt", timeout=10).text
    assert api(live_tool, token, "text/plain")["verified"] is True
    credential = requests.get(f"{live_tool}/credentials/{one['public_id']}.json", timeout=10).json()
    credential["credentialSubject"]["achievement"]["name"] = "Something grander"
    verdict = api(live_tool, json.dumps({"credential": credential}))
    assert verdict["verified"] is False
    assert next(c for c in verdict["checks"] if c["check"] == "proof")["outcome"] == "failed"


def test_verify_api_refuses_a_pile_of_proofs_at_once(one: dict[str, Any], live_tool: str) -> None:
    credential = requests.get(f"{live_tool}/credentials/{one['public_id']}.json", timeout=10).json()
    credential["proof"] = [credential["proof"]] * 300  # each one valid: a verifier that tries them all works for long
    start = time.monotonic()
    verdict = api(live_tool, json.dumps(credential))
    assert time.monotonic() - start < 2
    assert verdict["verified"] is False
    assert verdict["summary"] == "The credential carries 300 proofs; at most 4 are verified."


def test_suspended_credential_reads_suspended(one: dict[str, Any], live_tool: str, services: Any) -> None:
    with transaction(services.sessions) as session:
        row = session.scalars(select(IssuedCredential).where(IssuedCredential.public_id == one["public_id"])).one()
        change_status(session, row, "suspension", True, "Under investigation.")
    page = requests.get(f"{live_tool}/verify/{one['public_id']}", timeout=10)
    assert 'data-verified="false"' in page.text and "suspended" in page.text


def test_expired_credential_is_not_verified(services: Any, live_tool: str) -> None:
    one = issued(services, awarded_days_ago=400, validity_months=1)  # valid for a month, long ago
    text = requests.get(f"{live_tool}/credentials/{one['public_id']}.json", timeout=10).text
    assert json.loads(text)["validFrom"] < json.loads(text)["validUntil"]
    verdict = api(live_tool, text)
    assert verdict["verified"] is False
    validity = next(c for c in verdict["checks"] if c["check"] == "validity")
    assert validity["outcome"] == "failed" and validity["reason"].startswith("The credential expired on ")


def test_verify_page_in_plain_words(one: dict[str, Any], live_tool: str) -> None:
    page = requests.get(f"{live_tool}/verify/{one['public_id']}", timeout=10)
    assert 'data-verified="true"' in page.text
    assert one["learner"] in page.text and "Example University" in page.text and "Data Analysis Essentials" in page.text
    assert "a protected (hashed) e-mail address" not in page.text  # the holder is named


@pytest.mark.parametrize("payload, status, message", [
    (b"not a credential at all", 200, '<p class="verify-sentence" id="verdict-summary">Not valid: this is neither JSON '
                                      'nor a compact JWT.</p>'),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, 400, "The PNG chunk b'\\x00\\x00\\x00\\x00' is corrupt (CRC mismatch)."),
    (b"", 400, "Choose a credential file, or paste a credential (JSON or VC-JWT)."),
])
def test_upload_garbage_is_explained(payload: bytes, status: int, message: str, live_tool: str) -> None:
    response = requests.post(live_tool + "/verify", files={"file": ("x.bin", payload)}, timeout=10)
    assert response.status_code == status
    assert message in html.unescape(response.text)  # the reason itself, not just a word somewhere on the page
    assert "Traceback" not in response.text


def test_twenty_megabyte_upload_is_refused_quickly(live_tool: str) -> None:
    response = requests.post(live_tool + "/verify", files={"file": ("big.json", b"{" + b" " * (20 * 1024 * 1024))},
                             timeout=60)
    assert response.status_code == 413
    assert "larger than" in response.text or "too large" in response.text.lower()


def test_unknown_credential_is_404(live_tool: str) -> None:
    assert requests.get(live_tool + "/credentials/nope.json", timeout=10).status_code == 404
    assert requests.get(live_tool + "/verify/nope", timeout=10).status_code == 404


def test_status_list_is_a_signed_bitstring_list(one: dict[str, Any], live_tool: str) -> None:
    credential = requests.get(f"{live_tool}/credentials/{one['public_id']}.json", timeout=10).json()
    entry = credential["credentialStatus"][0]
    listed = requests.get(entry["statusListCredential"], timeout=10)
    assert listed.headers["Cache-Control"] == "public, max-age=10"
    body = listed.json()
    assert "BitstringStatusListCredential" in body["type"] and body["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    assert body["credentialSubject"]["encodedList"].startswith("u")


# --- a credential's address: a browser is shown the page, a program gets the JSON ------------------------------
CHROME = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
          "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,"
          "application/signed-exchange;v=b3;q=0.7")
FIREFOX = ("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
           "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")


@pytest.mark.parametrize("user_agent, accept, page", [
    (*CHROME, True),
    (*FIREFOX, True),
    (CHROME[0], "*/*", True),  # a browser that names nothing (a link preview, an old client): the page
    ("curl/8.5.0", "*/*", False),  # curl, wget, HTTP libraries: the credential
    ("python-requests/2.32", "*/*", False),
    ("curl/8.5.0", None, False),
    (CHROME[0], "application/ld+json", False),  # a program in a browser that asks for JSON-LD gets it
    (CHROME[0], "application/json, text/plain, */*", False),
    ("node", "application/vc+ld+json", False),
    ("verifier", "application/ld+json, text/html;q=0.5", False),
    ("verifier", "text/html, application/json;q=0.9", True),
])
def test_a_credentials_address_answers_a_browser_with_the_page(one: dict[str, Any], live_tool: str, user_agent: str,
                                                               accept: str | None, page: bool) -> None:
    headers = {"User-Agent": user_agent, **({"Accept": accept} if accept else {})}
    session = requests.Session()
    if accept is None:
        session.headers.pop("Accept", None)
    answer = session.get(f"{live_tool}/credentials/{one['public_id']}", headers=headers, allow_redirects=False,
                         timeout=10)
    assert "Accept" in answer.headers["Vary"] and "User-Agent" in answer.headers["Vary"]
    if page:
        assert answer.status_code == 302 and answer.headers["Location"].endswith(f"/verify/{one['public_id']}")
    else:
        assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("application/vc+ld+json")
        assert answer.json()["id"] == f"{live_tool}/credentials/{one['public_id']}"


# --- the verification page: identity, picture, holder and verdict first; the checks folded ---------------------
LOGO = "https://www.example.edu/logo.png"


@pytest.fixture
def branded(services: Any) -> Iterator[None]:
    """The issuer with a logo, a web site and a brand colour, as an institution sets them up."""
    with issuer_restored(services):
        with transaction(services.sessions) as session:
            profile = profile_of(session, services.issuer.state().institution_id)
            assert profile is not None
            profile.image_url, profile.url, profile.brand_color = LOGO, "https://www.example.edu", "#7A1F5C"
        services.issuer.invalidate()
        yield


def visible(page: str) -> str:
    """The page's text as a person reads it: one space between words, none before punctuation."""
    return re.sub(r"\s+([:.,])", r"\1", re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page))))


def test_the_page_leads_with_issuer_badge_holder_and_verdict(services: Any, live_tool: str, branded: None) -> None:
    one = issued(services)
    page = requests.get(f"{live_tool}/verify/{one['public_id']}", timeout=10)
    text, today = page.text, dt.datetime.now(dt.UTC)
    order = [text.index(marker) for marker in ('id="issuer-name"', 'class="verify-badge', 'id="holder"',
                                               'id="verdict-summary"', 'id="achievement"', '<details class="card '
                                               'verify-technical"')]
    assert order == sorted(order)
    assert f'<img class="verify-logo" src="{LOGO}"' in text
    assert "img-src 'self' data: https://www.example.edu;" in page.headers["Content-Security-Policy"]
    assert f'src="/credentials/{one["public_id"]}.svg"' in text
    sentence = f"Genuine: issued by Example University to {one['learner']} on {today.day} {today:%B %Y}."
    assert f'id="verdict-summary">{sentence}</p>' in text
    assert "2 ECTS credits" in visible(text) and "EQF level 5" in visible(text)
    assert "<details class=\"card verify-technical\" id=\"technical\">" in text  # folded: no `open`
    assert "Trusted issuer</strong>: passed." in text


def revoke(services: Any, one: dict[str, Any], reason: str) -> None:
    with transaction(services.sessions) as session:
        from lti_microcred.competencies.models import Award

        ops.revoke(session, one["staff"], session.get(Award, one["award_id"]), reason)
        revoke_award_credential(session, one["award_id"])


def test_a_revoked_credential_reads_as_claims_with_the_reason(services: Any, live_tool: str, branded: None) -> None:
    one = issued(services)
    revoke(services, one, "Plagiarism in the final project.")
    page = requests.get(f"{live_tool}/verify/{one['public_id']}", timeout=10)
    text, today = visible(page.text), dt.datetime.now(dt.UTC)
    assert 'data-verified="false"' in page.text
    assert (f"Not valid: revoked on {today.day} {today:%B %Y}, reason: Plagiarism in the final project." in text)
    assert "This credential claims that Example University issued Data Analysis Essentials to" in text
    assert "Trusted issuer: passed" not in text and "Trusted issuer: no problem found" in text
    assert "verify-logo" not in page.text and "Content-Security-Policy" in page.headers
    assert "https://www.example.edu" not in page.headers["Content-Security-Policy"]
    assert 'class="verify-badge is-unverified"' in page.text


def test_a_tampered_paste_reads_as_unverified_claims(one: dict[str, Any], live_tool: str) -> None:
    credential = requests.get(f"{live_tool}/credentials/{one['public_id']}.json", timeout=10).json()
    credential["credentialSubject"]["achievement"]["name"] = "Something grander"
    page = requests.post(live_tool + "/verify", data={"credential": json.dumps(credential)}, timeout=30)
    text = visible(page.text)
    assert 'data-verified="false"' in page.text
    assert ("Not valid: this credential was changed after it was signed, or was not signed by the issuer it "
            "names.") in text
    assert "This credential claims that" in text and one["learner"] not in text  # no name from our records
    assert "Trusted issuer: passed" not in text and "Proof: failed" in text


def test_a_pasted_genuine_credential_names_its_holder(one: dict[str, Any], live_tool: str) -> None:
    credential = requests.get(f"{live_tool}/credentials/{one['public_id']}.json", timeout=10).text
    page = requests.post(live_tool + "/verify", data={"credential": credential}, timeout=30)
    assert 'data-verified="true"' in page.text and f'<strong id="holder">{one["learner"]}</strong>' in page.text
    assert "a protected (hashed) e-mail address" not in page.text


@pytest.mark.parametrize("typed, matches", [("learner@example.edu", True), ("  Learner@Example.EDU ", True),
                                            ("someone.else@example.edu", False), ("learner@example.ed", False)])
def test_an_employer_checks_the_candidates_address(one: dict[str, Any], live_tool: str, typed: str,
                                                   matches: bool) -> None:
    """The page's script does this in the browser (tests/browser); without it, the page's own form does."""
    page = requests.post(f"{live_tool}/verify/{one['public_id']}", data={"email": typed}, timeout=30)
    assert page.status_code == 200
    result = re.search(r'id="email-result"[^>]*data-match="(\w*)"[^>]*>([^<]*)<', page.text, re.S)
    assert result is not None and result.group(1) == ("true" if matches else "false")
    assert result.group(2).strip().startswith("✔ Matches" if matches else "✘ Does not match")
    assert typed.strip() not in page.text.replace(f'value="{html.escape(typed)}"', "")  # only in its own field


# --- a learner record: what it holds, each with its own verdict -----------------------------------------------
def record(services: Any, revoke_second: bool = False) -> dict[str, Any]:
    """A signed CLR of two credentials of one learner (the second revoked after the record was made)."""
    with transaction(services.sessions) as session:
        inst = institution(session)
        course = inst.course(session)
        teacher, learner = inst.person(session, "Teacher"), inst.person(session, "Learner")
        staff = inst.actor(teacher, course)
        awards = []
        for title in ("Data Analysis Essentials", "Data Visualisation"):
            credential = ops.create_micro_credential(session, staff, fields(title=title))
            awards.append(ops.award_manually(session, staff, credential, learner.id, "Assessed at work."))
            issue(session, services.issuer.state(), services.credential_urls, awards[-1].id)
        signed = learner_record(session, services.issuer.state(), services.credential_urls, inst.platform.id,
                                learner.id)
        if revoke_second:
            ops.revoke(session, staff, awards[1], "Awarded in error.")
            revoke_award_credential(session, awards[1].id)
        return {"record": json.dumps(signed), "learner": learner.display_name}


def items_of(page: str) -> list[tuple[str, str]]:
    return re.findall(r'<li class="verify-item[^"]*" data-genuine="(\w+)".*?<h3>([^<]+)</h3>', page, re.S)


def test_a_record_lists_what_it_holds_each_with_its_verdict(services: Any, live_tool: str) -> None:
    held = record(services)
    page = requests.post(live_tool + "/verify", data={"credential": held["record"]}, timeout=30)
    assert 'data-verified="true"' in page.text and f'<strong id="holder">{held["learner"]}</strong>' in page.text
    assert "2 credentials in this record" in page.text
    assert sorted(items_of(page.text)) == [("true", "Data Analysis Essentials"), ("true", "Data Visualisation")]


def test_a_record_with_a_revoked_credential_says_which(services: Any, live_tool: str) -> None:
    held = record(services, revoke_second=True)
    page = requests.post(live_tool + "/verify", data={"credential": held["record"]}, timeout=30)
    text = visible(page.text)
    assert 'data-verified="false"' in page.text
    assert "Not valid: a credential in this record does not verify (see each one below)." in text
    assert sorted(items_of(page.text)) == [("false", "Data Visualisation"), ("true", "Data Analysis Essentials")]
    assert "reason: Awarded in error." in text


# --- badge art at public addresses ------------------------------------------------------------------------------
def test_the_achievement_image_is_the_badge_art(one: dict[str, Any], live_tool: str) -> None:
    credential = requests.get(f"{live_tool}/credentials/{one['public_id']}.json", timeout=10).json()
    image = credential["credentialSubject"]["achievement"]["image"]
    assert image["type"] == "Image" and image["id"].endswith("/badge.png")
    key = image["id"].split("/achievements/")[1].split("/")[0]
    png = requests.get(image["id"], timeout=10)
    assert png.status_code == 200 and png.headers["Content-Type"] == "image/png" and png.content.startswith(b"\x89PNG")
    svg = requests.get(f"{live_tool}/achievements/{key}/badge.svg", timeout=10)
    assert svg.headers["Content-Security-Policy"].startswith("default-src 'none'") and b"Data Analysis" in svg.content
    again = requests.get(image["id"], headers={"If-None-Match": png.headers["ETag"]}, timeout=10)
    assert again.status_code == 304
    badge_class = requests.get(f"{live_tool}/ob2/badges/{key}", timeout=10).json()
    assert badge_class["image"] == image["id"]
    baked = requests.get(f"{live_tool}/credentials/{one['public_id']}.png", timeout=10).content
    assert baked.startswith(png.content[:-12])  # the same picture, with the credential baked in before IEND


def test_a_drafts_art_is_not_public(services: Any, live_tool: str) -> None:
    with transaction(services.sessions) as session:
        inst = institution(session)
        staff = inst.actor(inst.person(session, "Teacher"), inst.course(session))
        key = ops.create_micro_credential(session, staff, fields()).key  # a draft: never issued
    assert requests.get(f"{live_tool}/achievements/{key}/badge.png", timeout=10).status_code == 404
