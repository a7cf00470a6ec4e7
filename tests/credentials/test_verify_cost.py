"""What one verification may cost, whatever the input: a few proofs at most, the document canonicalized once for
all of them, one deadline for everything (proofs, status lists, bundled credentials), a bounded CLR whose
contents are only checked when the record itself holds."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest

from lti_microcred.credentials.documents.clr import build_clr_credential
from lti_microcred.credentials.documents.data import IssuerProfile
from lti_microcred.credentials.documents.openbadge import build_open_badge_credential
from lti_microcred.credentials.proofs.canonical import Limits, _BoundedProcessor
from lti_microcred.credentials.proofs.controller_keys import KeyResolver, ResolvedKey
from lti_microcred.credentials.proofs.dataintegrity import Ed25519Signer, sign
from lti_microcred.credentials.verification.status_check import MAX_STATUS_ENTRIES, status_check
from lti_microcred.credentials.verification.verdict import CheckName, Outcome
from lti_microcred.credentials.verification.verifier import MAX_EMBEDDED, MAX_PROOFS, verify_credential

from .conftest import NOW, minimal_achievement, minimal_award

ShapeMap = dict[str, Callable[[], dict[str, Any]]]


@pytest.fixture()
def canonicalized(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    """Every credential document that went through JSON-LD expansion (proof configurations left out)."""
    seen: list[dict[str, Any]] = []
    expand = _BoundedProcessor.expand

    def spy(self: _BoundedProcessor, document: Any, options: Any) -> Any:
        if isinstance(document, dict) and "credentialSubject" in document:
            seen.append(document)
        return expand(self, document, options)

    monkeypatch.setattr(_BoundedProcessor, "expand", spy)
    yield seen


def counting(resolver: KeyResolver, calls: list[str], pause: float = 0.0) -> KeyResolver:
    def resolve(method_id: str) -> ResolvedKey:
        calls.append(method_id)
        time.sleep(pause)
        return resolver(method_id)

    return resolve


def clr_of(issuer: IssuerProfile, signer: Ed25519Signer, count: int) -> dict[str, Any]:
    """A signed CLR bundling `count` signed credentials."""
    one = sign(build_open_badge_credential(issuer, minimal_achievement(), minimal_award()), signer, created=NOW)
    clr = build_clr_credential(credential_id="urn:uuid:0c1d2e3f-0000-4000-8000-000000000002", issuer=issuer,
                               name="Transcript", credentials=[copy.deepcopy(one) for _ in range(count)],
                               valid_from=NOW - timedelta(days=1), subject_id="did:example:learner-1")
    return sign(clr, signer, created=NOW)


def test_many_proofs_are_refused_before_any_work(
    shapes: ShapeMap, signer: Ed25519Signer, resolver: KeyResolver, canonicalized: list[dict[str, Any]]
) -> None:
    signed = sign(shapes["full"](), signer, created=NOW)
    signed["proof"] = [copy.deepcopy(signed["proof"]) for _ in range(50)]  # each one valid on its own
    canonicalized.clear()
    calls: list[str] = []
    verdict = verify_credential(signed, resolve_key=counting(resolver, calls), now=NOW)
    assert not verdict.verified
    assert verdict.summary() == f"The credential carries 50 proofs; at most {MAX_PROOFS} are verified."
    assert canonicalized == [] and calls == []


def test_proofs_over_the_same_context_canonicalize_the_document_once(
    shapes: ShapeMap, signer: Ed25519Signer, resolver: KeyResolver, canonicalized: list[dict[str, Any]]
) -> None:
    signed = shapes["full"]()
    for second in range(3):
        signed = sign(signed, signer, created=NOW + timedelta(seconds=second))
    assert len(signed["proof"]) == 3
    canonicalized.clear()
    verdict = verify_credential(signed, resolve_key=resolver, now=NOW + timedelta(minutes=1))
    assert verdict.verified, verdict.failures
    assert len([c for c in verdict.checks if c.name is CheckName.PROOF]) == 3
    assert len(canonicalized) == 1


def test_a_clr_whose_own_proof_fails_does_not_verify_its_contents(
    shapes: ShapeMap, signer: Ed25519Signer, resolver: KeyResolver, canonicalized: list[dict[str, Any]]
) -> None:
    clr = sign(shapes["clr"](), signer, created=NOW)
    clr["name"] = "Transcript of a doctorate"  # the record was changed after signing
    canonicalized.clear()
    calls: list[str] = []
    verdict = verify_credential(clr, resolve_key=counting(resolver, calls), now=NOW)
    assert verdict.check(CheckName.PROOF).outcome is Outcome.FAILED  # type: ignore[union-attr]
    embedded = verdict.check(CheckName.EMBEDDED)
    assert embedded is not None and embedded.outcome is Outcome.SKIPPED
    assert embedded.reason == "The bundled credentials were not checked: the record itself does not verify."
    assert len(calls) == 1 and len(canonicalized) == 1  # the record's own proof, nothing inside it


def test_a_clr_bundling_too_many_credentials_is_refused_before_any_work(
    issuer: IssuerProfile, signer: Ed25519Signer, resolver: KeyResolver, canonicalized: list[dict[str, Any]]
) -> None:
    clr = clr_of(issuer, signer, MAX_EMBEDDED + 1)
    canonicalized.clear()
    verdict = verify_credential(clr, resolve_key=resolver, now=NOW)
    assert not verdict.verified
    assert verdict.summary() == (f"The record bundles {MAX_EMBEDDED + 1} credentials; "
                                 f"at most {MAX_EMBEDDED} are verified.")
    assert canonicalized == []


def test_the_whole_verification_obeys_one_deadline(
    issuer: IssuerProfile, signer: Ed25519Signer, resolver: KeyResolver
) -> None:
    clr = clr_of(issuer, signer, 20)
    calls: list[str] = []
    slow = counting(resolver, calls, pause=0.1)  # each step is quick; twenty-one of them are not
    start = time.monotonic()
    verdict = verify_credential(clr, resolve_key=slow, now=NOW, limits=Limits(seconds=0.5))
    elapsed = time.monotonic() - start
    assert not verdict.verified
    assert "The verification took longer than 0.5 s in all" in " ".join(c.reason for c in verdict.failures)
    assert len(calls) < 10 and elapsed < 1.5


def test_many_status_entries_are_refused_without_fetching_a_list() -> None:
    entry = {"id": "https://tool.example/status/1#7", "type": "BitstringStatusListEntry", "statusPurpose": "revocation",
             "statusListIndex": "7", "statusListCredential": "https://tool.example/status/1"}
    fetched: list[str] = []

    def list_verdict(url: str) -> Any:
        fetched.append(url)
        raise AssertionError("no status list should be fetched")

    check = status_check({"credentialStatus": [entry] * (MAX_STATUS_ENTRIES + 1)}, list_verdict)
    assert check.outcome is Outcome.FAILED and fetched == []
    assert check.reason == f"The credential has {MAX_STATUS_ENTRIES + 1} status entries; at most " \
                           f"{MAX_STATUS_ENTRIES} are checked."
