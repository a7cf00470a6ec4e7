"""Rotating the issuer's keys: credentials signed before keep verifying (Data Integrity and VC-JWT), because
the retired keys stay in the DID document; credentials signed after use the new keys."""

from __future__ import annotations

import json
from typing import Any

import jwt
import requests

from lti_microcred.core.db import transaction
from lti_microcred.credentials.issuing.issuer import rotate_issuer_keys
from tests.issuing.test_public_urls import api, issued


def signed_forms(live_tool: str, public_id: str) -> tuple[str, str]:
    base = f"{live_tool}/credentials/{public_id}"
    return requests.get(base + ".json", timeout=10).text, requests.get(base + ".jwt", timeout=10).text


def test_credentials_signed_before_a_rotation_still_verify(services: Any, live_tool: str,
                                                           keys_restored: None) -> None:
    before_json, before_jwt = signed_forms(live_tool, issued(services)["public_id"])
    old_keys = {json.loads(before_json)["proof"]["verificationMethod"], jwt.get_unverified_header(before_jwt)["kid"]}
    with transaction(services.sessions) as session:
        rotate_issuer_keys(session, services.box, services.issuer.state().institution_id)
    services.issuer.invalidate()
    did_document = requests.get(live_tool + "/.well-known/did.json", timeout=10).json()
    assert old_keys <= set(did_document["assertionMethod"]) and len(did_document["assertionMethod"]) == 4
    for signed in (before_json, before_jwt):
        verdict = api(live_tool, signed)
        assert verdict["verified"] is True, verdict["summary"]
    after_json, after_jwt = signed_forms(live_tool, issued(services)["public_id"])
    new_keys = {json.loads(after_json)["proof"]["verificationMethod"], jwt.get_unverified_header(after_jwt)["kid"]}
    assert not new_keys & old_keys and new_keys <= set(did_document["assertionMethod"])
    assert api(live_tool, after_json)["verified"] is True and api(live_tool, after_jwt)["verified"] is True
