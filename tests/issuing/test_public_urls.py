"""The public side of credentials over HTTP: every format, the DID document, status lists, the verification
page and API (valid, tampered, revoked, suspended, expired, garbage, oversized)."""

from __future__ import annotations

import datetime as dt
import html
import json
import time
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
from lti_microcred.credentials.models import IssuedCredential
from tests.support.factories import fields, institution


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


@pytest.mark.parametrize("payload, status, message", [
    (b"not a credential at all", 200, '<p id="verdict-summary">This is neither JSON nor a compact JWT.</p>'),
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
