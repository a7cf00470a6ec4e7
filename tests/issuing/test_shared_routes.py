"""Public routes around a credential: LinkedIn's add-to-profile link, and the Open Badges 2.0 hosted
documents (assertion, badge class, issuer) that older backpacks read, including revocation and suspension."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from sqlalchemy import select

from lti_microcred.competencies import operations as ops
from lti_microcred.competencies.models import Award, MicroCredential
from lti_microcred.core.db import transaction
from lti_microcred.credentials.issuing.credential_status import change_status, revoke_award_credential
from lti_microcred.credentials.models import IssuedCredential
from tests.issuing.test_public_urls import issued

OB2 = "https://w3id.org/openbadges/v2"


def stored(services: Any, public_id: str) -> dict[str, Any]:
    with services.read_sessions() as session:
        row = session.scalars(select(IssuedCredential).where(IssuedCredential.public_id == public_id)).one()
        key = session.get(MicroCredential, row.micro_credential_id).key  # type: ignore[union-attr]
        return {"credential": json.loads(row.signed_json), "key": key}


def test_linkedin_link_fills_in_the_certification(services: Any, live_tool: str) -> None:
    one = issued(services, validity_months=24)
    response = requests.get(f"{live_tool}/credentials/{one['public_id']}/linkedin", allow_redirects=False,
                            timeout=10)
    assert response.status_code == 302
    target = urlsplit(response.headers["Location"])
    assert (target.scheme, target.netloc, target.path) == ("https", "www.linkedin.com", "/profile/add")
    params = {k: v[0] for k, v in parse_qs(target.query).items()}
    credential = stored(services, one["public_id"])["credential"]
    awarded, until = credential["awardedDate"], credential["validUntil"]
    assert params == {
        "startTask": "CERTIFICATION_NAME", "name": "Data Analysis Essentials", "organizationName": "Example University",
        "issueYear": awarded[:4], "issueMonth": str(int(awarded[5:7])),
        "expirationYear": until[:4], "expirationMonth": str(int(until[5:7])),
        "certUrl": f"{live_tool}/verify/{one['public_id']}", "certId": one["public_id"],
    }
    assert requests.get(f"{live_tool}/credentials/nope/linkedin", allow_redirects=False, timeout=10).status_code == 404


def test_ob2_hosted_assertion_badge_class_and_issuer(services: Any, live_tool: str) -> None:
    one = issued(services)
    facts = stored(services, one["public_id"])
    credential, key = facts["credential"], facts["key"]
    assertion = requests.get(f"{live_tool}/ob2/assertions/{one['public_id']}", timeout=10).json()
    identity = credential["credentialSubject"]["identifier"][0]
    assert assertion == {
        "@context": OB2, "type": "Assertion", "id": f"{live_tool}/ob2/assertions/{one['public_id']}",
        "recipient": {"type": "email", "hashed": True, "salt": identity["salt"], "identity": identity["identityHash"]},
        "badge": f"{live_tool}/ob2/badges/{key}", "verification": {"type": "hosted"},
        "issuedOn": credential["awardedDate"],
    }
    badge = requests.get(assertion["badge"], timeout=10).json()
    assert (badge["type"], badge["name"], badge["issuer"]) == ("BadgeClass", "Data Analysis Essentials",
                                                               f"{live_tool}/ob2/issuer")
    assert badge["criteria"]["narrative"] == "Data Analysis Essentials"  # no competency required yet
    issuer = requests.get(badge["issuer"], timeout=10).json()
    assert (issuer["@context"], issuer["type"], issuer["id"], issuer["name"]) == (
        OB2, "Issuer", f"{live_tool}/ob2/issuer", "Example University")
    assert requests.get(f"{live_tool}/ob2/badges/nope", timeout=10).status_code == 404
    assert requests.get(f"{live_tool}/ob2/assertions/nope", timeout=10).status_code == 404


def test_ob2_assertion_of_a_suspended_then_revoked_credential(services: Any, live_tool: str) -> None:
    one = issued(services)
    url = f"{live_tool}/ob2/assertions/{one['public_id']}"
    with transaction(services.sessions) as session:
        row = session.scalars(select(IssuedCredential).where(IssuedCredential.public_id == one["public_id"])).one()
        change_status(session, row, "suspension", True, "Under investigation.")
    # OB 2.0 knows only revocation: a backpack must not accept a suspended assertion either
    assert requests.get(url, timeout=10).json() == {
        "@context": OB2, "type": "Assertion", "id": url, "revoked": True,
        "revocationReason": "Suspended: Under investigation."}
    with transaction(services.sessions) as session:
        row = session.scalars(select(IssuedCredential).where(IssuedCredential.public_id == one["public_id"])).one()
        change_status(session, row, "suspension", False, "")
    assert "revoked" not in requests.get(url, timeout=10).json()  # reinstated
    with transaction(services.sessions) as session:
        ops.revoke(session, one["staff"], session.get(Award, one["award_id"]), "Plagiarism.")
        revoke_award_credential(session, one["award_id"])
    assert requests.get(url, timeout=10).json() == {
        "@context": OB2, "type": "Assertion", "id": url, "revoked": True, "revocationReason": "Plagiarism."}
