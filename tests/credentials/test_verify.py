"""The verifier's verdict: validity dates, revocation and suspension through a fetched (and itself verified)
status list, CLR contents, and odd input, each refused with a reason a person can act on."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from lti_microcred.credentials.issuing.didweb import jwk_id
from lti_microcred.credentials.proofs.controller_keys import KeyResolver, document_resolver
from lti_microcred.credentials.proofs.dataintegrity import Ed25519Signer, sign
from lti_microcred.credentials.proofs.vcjwt import encode
from lti_microcred.credentials.status.bitstring import StatusList, build_status_list_credential
from lti_microcred.credentials.verification.verdict import CheckName, Outcome, Verdict
from lti_microcred.credentials.verification.verifier import verify_credential

from .conftest import ISSUER, NOW, OTHER_ISSUER, STATUS_URL, SUSPENSION_URL

ShapeMap = dict[str, Callable[[], dict[str, Any]]]
REVOKED_INDEX, SUSPENDED_INDEX = 94567, 1234  # the indexes full_award() uses


def status_lists(
    signer: Ed25519Signer, *, revoke: bool = False, suspend: bool = False, issuer: str = ISSUER
) -> dict[str, dict[str, Any]]:
    lists = {}
    for url, purpose, flagged, index in (
        (STATUS_URL, "revocation", revoke, REVOKED_INDEX),
        (SUSPENSION_URL, "suspension", suspend, SUSPENDED_INDEX),
    ):
        bits = StatusList()
        bits.set(index, flagged)
        unsigned = build_status_list_credential(
            credential_id=url, issuer=issuer, status_list=bits, purpose=purpose, valid_from=NOW - timedelta(days=1)
        )
        lists[url] = sign(unsigned, signer, created=NOW)
    return lists


def verdict_for(
    credential: dict[str, Any] | str, resolver: KeyResolver, lists: dict[str, Any] | None = None, **kwargs: Any
) -> Verdict:
    fetch = lists.__getitem__ if lists is not None else None
    return verify_credential(credential, resolve_key=resolver, fetch_status_list=fetch, **{"now": NOW, **kwargs})


@pytest.fixture()
def full_signed(shapes: ShapeMap, signer: Ed25519Signer) -> dict[str, Any]:
    return sign(shapes["full"](), signer, created=NOW)


def test_a_sound_credential_passes_every_check(
    full_signed: dict[str, Any], signer: Ed25519Signer, resolver: KeyResolver
) -> None:
    verdict = verdict_for(full_signed, resolver, status_lists(signer))
    assert verdict.verified, verdict.failures
    assert [c.name for c in verdict.checks] == [
        CheckName.FORMAT,
        CheckName.JSON_LD,
        CheckName.PROOF,
        CheckName.ISSUER,
        CheckName.VALIDITY,
        CheckName.STATUS,
    ]
    assert verdict.summary() == "This credential is authentic, current, and neither revoked nor suspended."
    assert verdict.credential == full_signed


@pytest.mark.parametrize(
    ("now", "reason"),
    [(NOW - timedelta(days=30), "not valid yet"), (NOW + timedelta(days=400), "expired on")],
)
def test_dates(
    full_signed: dict[str, Any], signer: Ed25519Signer, resolver: KeyResolver, now: Any, reason: str
) -> None:
    verdict = verdict_for(full_signed, resolver, status_lists(signer), now=now)
    assert not verdict.verified
    assert verdict.check(CheckName.VALIDITY).outcome is Outcome.FAILED  # type: ignore[union-attr]
    assert reason in verdict.summary()


@pytest.mark.parametrize(
    ("flags", "reason"),
    [({"revoke": True}, "revoked"), ({"suspend": True}, "suspended")],
)
def test_revoked_and_suspended(
    full_signed: dict[str, Any], signer: Ed25519Signer, resolver: KeyResolver, flags: dict[str, bool], reason: str
) -> None:
    lists = status_lists(signer, revoke=flags.get("revoke", False), suspend=flags.get("suspend", False))
    verdict = verdict_for(full_signed, resolver, lists)
    assert not verdict.verified
    assert verdict.check(CheckName.PROOF).outcome is Outcome.PASSED  # type: ignore[union-attr]
    assert verdict.summary() == f"The issuer has {reason} this credential" + (
        " for now." if reason == "suspended" else "."
    )


def test_the_status_list_itself_must_be_trustworthy(
    full_signed: dict[str, Any], signer: Ed25519Signer, other_signer: Ed25519Signer, resolver: KeyResolver
) -> None:
    forged = status_lists(signer)
    cleared = StatusList()
    cleared.set(5)  # a different list than the one signed
    forged[STATUS_URL]["credentialSubject"]["encodedList"] = cleared.encode()
    assert "cannot be trusted" in verdict_for(full_signed, resolver, forged).summary()
    foreign = status_lists(other_signer, issuer=OTHER_ISSUER)
    assert "not issued by the credential's issuer" in verdict_for(full_signed, resolver, foreign).summary()
    assert "could not be fetched" in verdict_for(full_signed, resolver, {}).summary()


def test_status_is_reported_as_unchecked_without_a_fetcher(full_signed: dict[str, Any], resolver: KeyResolver) -> None:
    verdict = verdict_for(full_signed, resolver)
    assert verdict.verified
    assert verdict.check(CheckName.STATUS).outcome is Outcome.WARNING  # type: ignore[union-attr]
    assert "not checked" in verdict.summary()


def test_vc_jwt_gets_the_same_checks(
    shapes: ShapeMap, signer: Ed25519Signer, rsa_key: rsa.RSAPrivateKey, resolver: KeyResolver
) -> None:
    token = encode(shapes["full"](), rsa_key, jwk_id(ISSUER, rsa_key.public_key()))
    assert verdict_for(token, resolver, status_lists(signer)).verified
    assert "revoked" in verdict_for(token, resolver, status_lists(signer, revoke=True)).summary()
    assert "expired" in verdict_for(token, resolver, status_lists(signer), now=NOW + timedelta(days=400)).summary()


def test_json_text_and_garbage_input(full_signed: dict[str, Any], resolver: KeyResolver) -> None:
    assert verdict_for(json.dumps(full_signed), resolver).verified
    for garbage, reason in (("{not json", "neither JSON"), ("[1, 2]", "JSON object"), ("a.b", "compact JWT")):
        verdict = verdict_for(garbage, resolver)
        assert not verdict.verified and reason in verdict.summary(), garbage
    not_vc = {**full_signed, "@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["Thing"]}
    assert "not a W3C Verifiable Credential" in " ".join(c.reason for c in verdict_for(not_vc, resolver).failures)


def test_undefined_term_in_a_proved_credential_fails_json_ld(
    shapes: ShapeMap, signer: Ed25519Signer, resolver: KeyResolver
) -> None:
    signed = sign(shapes["minimal"](), signer, created=NOW)
    signed["extraClaim"] = "added after signing, invisible to the signature"
    verdict = verdict_for(signed, resolver)
    assert verdict.check(CheckName.JSON_LD).outcome is Outcome.FAILED  # type: ignore[union-attr]
    assert verdict.check(CheckName.PROOF).outcome is Outcome.PASSED  # type: ignore[union-attr]  # pyld drops it...
    assert not verdict.verified  # ...which is exactly why the JSON-LD check exists


def test_clr_with_a_bad_bundled_credential_fails(
    shapes: ShapeMap, signer: Ed25519Signer, resolver: KeyResolver
) -> None:
    clr = shapes["clr"]()
    clr["credentialSubject"]["verifiableCredential"][1]["name"] = "Altered"
    signed = sign(clr, signer, created=NOW)
    verdict = verdict_for(signed, resolver)
    assert verdict.check(CheckName.PROOF).outcome is Outcome.PASSED  # type: ignore[union-attr]
    assert verdict.check(CheckName.EMBEDDED).outcome is Outcome.FAILED  # type: ignore[union-attr]
    assert "bundled credential does not verify" in verdict.summary()
    intact = sign(shapes["clr"](), signer, created=NOW)
    assert verdict_for(copy.deepcopy(intact), resolver).verified


def test_a_failing_or_unknowing_key_resolver_is_a_failed_proof(full_signed: dict[str, Any]) -> None:
    def broken(method_id: str) -> Any:
        raise RuntimeError("database unavailable")

    assert "could not be resolved" in verify_credential(full_signed, resolve_key=broken, now=NOW).summary()
    nobody = verify_credential(full_signed, resolve_key=document_resolver([]), now=NOW)
    assert "No controller document is known" in nobody.summary()


@pytest.mark.parametrize("text", ["[" * 100_000 + "]" * 100_000, '{"a": "\\ud800"}'],
                         ids=["nested 100,000 deep", "lone surrogate"])
def test_the_verifier_itself_refuses_what_python_cannot_hold(text: str) -> None:
    """Whoever calls the engine (not only the web pages, which refuse these first) gets a verdict, not a crash."""
    verdict = verify_credential(text, resolve_key=lambda method: pytest.fail("no key is looked up"))
    assert not verdict.verified and verdict.checks[0].name is CheckName.FORMAT
