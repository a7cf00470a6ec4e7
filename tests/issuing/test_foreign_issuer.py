"""A credential signed with anybody's key (did:key) may call its issuer anything: the public verifier must not
present it as verified, and must headline the issuer's id rather than the name the credential gives it."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from lti_microcred.credentials.documents.data import IssuerProfile
from lti_microcred.credentials.documents.openbadge import build_open_badge_credential
from lti_microcred.credentials.proofs.dataintegrity import Ed25519Signer, sign
from lti_microcred.credentials.proofs.multikey import ed25519_public_key_to_multibase
from tests.credentials.conftest import minimal_achievement, minimal_award
from tests.issuing.test_public_urls import api


def self_signed(name: str) -> tuple[str, str]:
    """A sound credential from a fresh did:key that names itself `name`: (its issuer id, the JSON)."""
    key = Ed25519PrivateKey.generate()
    fingerprint = ed25519_public_key_to_multibase(key.public_key())
    did = f"did:key:{fingerprint}"
    unsigned = build_open_badge_credential(IssuerProfile(id=did, name=name), minimal_achievement(), minimal_award())
    return did, json.dumps(sign(unsigned, Ed25519Signer(f"{did}#{fingerprint}", key)))


def checks_of(verdict: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {c["check"]: c for c in verdict["checks"]}


def test_the_api_does_not_call_a_stranger_verified(live_tool: str) -> None:
    did, forged = self_signed("Example University")
    verdict = api(live_tool, forged)
    checks = checks_of(verdict)
    assert checks["proof"]["outcome"] == "passed"  # the signature itself is sound...
    assert verdict["verified"] is False  # ...but proves nothing about who the issuer is
    assert checks["trusted issuer"]["outcome"] == "failed"
    assert verdict["summary"] == checks["trusted issuer"]["reason"]
    assert did in verdict["summary"] and "does not know" in verdict["summary"]


def test_the_page_headlines_the_strangers_id_not_its_name(live_tool: str) -> None:
    did, forged = self_signed("Example University")
    page = requests.post(live_tool + "/verify", data={"credential": forged}, timeout=30)
    assert page.status_code == 200 and 'data-verified="false"' in page.text
    headline = html.unescape(re.search(r"<h1>(.*?)</h1>", page.text, re.S).group(1))  # type: ignore[union-attr]
    assert did in headline and "Example University" not in headline and "Verified" not in headline
    text = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page.text)))
    assert "The signature only proves who holds the key" in text
    assert 'calls itself "Example University" (not confirmed)' in text


def test_our_own_credentials_name_their_issuer_as_known(services: Any, live_tool: str) -> None:
    from tests.issuing.test_public_urls import issued

    one = issued(services)
    verdict = api(live_tool, requests.get(f"{live_tool}/credentials/{one['public_id']}.json", timeout=10).text)
    assert verdict["verified"] is True
    assert checks_of(verdict)["trusted issuer"]["outcome"] == "passed"
