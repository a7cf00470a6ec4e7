"""eddsa-rdfc-2022 proofs: every shape we emit round-trips, and any change, wrong key or foreign key fails."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from lti_microcred.credentials.errors import CredentialError, ProofError
from lti_microcred.credentials.proofs.controller_keys import KeyResolver
from lti_microcred.credentials.proofs.dataintegrity import Ed25519Signer, proofs_of, sign, verify_proof
from lti_microcred.credentials.proofs.multikey import (
    base58btc_decode,
    base58btc_encode,
    ed25519_private_key_from_multibase,
    ed25519_private_key_to_multibase,
    ed25519_public_key_from_multibase,
    ed25519_public_key_to_multibase,
)
from lti_microcred.credentials.verification.verdict import CheckName, Outcome
from lti_microcred.credentials.verification.verifier import verify_credential

from .conftest import NOW

ShapeMap = dict[str, Callable[[], dict[str, Any]]]


def _leaf_paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key not in ("@context", "proof"):
                yield from _leaf_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaf_paths(item, (*path, index))
    else:
        yield path


def _tampered(document: dict[str, Any], path: tuple[Any, ...]) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    parent = changed
    for step in path[:-1]:
        parent = parent[step]
    old = parent[path[-1]]
    parent[path[-1]] = (not old) if isinstance(old, bool) else old + 1 if isinstance(old, int | float) else old + "x"
    return changed


def _proof_outcome(document: dict[str, Any], resolver: KeyResolver) -> Outcome | None:
    check = verify_credential(document, resolve_key=resolver, now=NOW).check(CheckName.PROOF)
    return check.outcome if check else None


def _proof_refuses(document: dict[str, Any], resolver: KeyResolver) -> bool:
    """The proof fails, or holds only over a document JSON-LD would trim (what the verifier's checks refuse)."""
    proof = document["proof"]
    try:
        hashed = verify_proof(document, proof, resolver(proof["verificationMethod"]).public_key)  # type: ignore[arg-type]
    except CredentialError:
        return True
    return bool(hashed.problems)


@pytest.mark.parametrize(
    "shape",
    [
        "minimal",
        "full",
        "competency",
        "hashed-identity-only",
        "eu-mandatory-only",
        "one-status-entry",
        "integral-float",
        "status-list",
        "clr",
    ],
)
def test_every_shape_round_trips(shape: str, shapes: ShapeMap, signer: Ed25519Signer, resolver: KeyResolver) -> None:
    signed = sign(shapes[shape](), signer, created=NOW)
    [proof] = proofs_of(signed)
    assert proof["proofValue"].startswith("z") and proof["verificationMethod"] == signer.verification_method
    key = resolver(proof["verificationMethod"])
    verify_proof(signed, proof, key.public_key)  # type: ignore[arg-type]
    verdict = verify_credential(signed, resolve_key=resolver, now=NOW)
    assert verdict.check(CheckName.PROOF).outcome is Outcome.PASSED  # type: ignore[union-attr]
    assert verdict.check(CheckName.ISSUER).outcome is Outcome.PASSED  # type: ignore[union-attr]


@pytest.mark.parametrize("shape", ["full", "clr"])
def test_changing_any_value_breaks_the_proof(
    shape: str, shapes: ShapeMap, signer: Ed25519Signer, resolver: KeyResolver
) -> None:
    signed = sign(shapes[shape](), signer, created=NOW)
    paths = list(_leaf_paths(signed))
    assert len(paths) > 60
    for path in paths:
        # A changed type becomes an undefined term: the proof may still hold when the same node is repeated
        # elsewhere (a CLR's issuer), but the JSON-LD check then refuses the credential.
        assert _proof_refuses(_tampered(signed, path), resolver), path


def test_adding_or_removing_a_field_breaks_the_proof(
    shapes: ShapeMap, signer: Ed25519Signer, resolver: KeyResolver
) -> None:
    signed = sign(shapes["full"](), signer, created=NOW)
    added = copy.deepcopy(signed)
    added["credentialSubject"]["achievement"]["humanCode"] = "FAKE-1"
    removed = copy.deepcopy(signed)
    del removed["credentialSubject"]["result"]
    assert _proof_outcome(added, resolver) is Outcome.FAILED
    assert _proof_outcome(removed, resolver) is Outcome.FAILED


def test_a_proof_made_with_another_key_does_not_verify(
    shapes: ShapeMap, signer: Ed25519Signer, other_ed_key: Ed25519PrivateKey, resolver: KeyResolver
) -> None:
    impostor = Ed25519Signer(signer.verification_method, other_ed_key)  # our key id, someone else's key
    forged = sign(shapes["minimal"](), impostor, created=NOW)
    verdict = verify_credential(forged, resolve_key=resolver, now=NOW)
    assert not verdict.verified
    assert "signature does not match" in verdict.summary()


def test_a_valid_proof_by_someone_else_is_not_the_issuers(
    shapes: ShapeMap, other_signer: Ed25519Signer, resolver: KeyResolver
) -> None:
    signed = sign(shapes["minimal"](), other_signer, created=NOW)
    verdict = verify_credential(signed, resolve_key=resolver, now=NOW)
    assert verdict.check(CheckName.PROOF).outcome is Outcome.PASSED  # type: ignore[union-attr]
    assert verdict.check(CheckName.ISSUER).outcome is Outcome.FAILED  # type: ignore[union-attr]
    assert "signed with a key of did:web:other.example.org" in verdict.summary()


def test_a_proof_set_holds_only_if_every_proof_holds(
    shapes: ShapeMap, signer: Ed25519Signer, other_signer: Ed25519Signer, resolver: KeyResolver
) -> None:
    twice = sign(sign(shapes["minimal"](), signer, created=NOW), signer)
    assert len(proofs_of(twice)) == 2
    assert verify_credential(twice, resolve_key=resolver, now=NOW).verified
    broken = copy.deepcopy(twice)
    broken["proof"][1]["proofValue"] = twice["proof"][0]["proofValue"]
    verdict = verify_credential(broken, resolve_key=resolver, now=NOW)
    outcomes = [c.outcome for c in verdict.checks if c.name is CheckName.PROOF]
    assert outcomes == [Outcome.PASSED, Outcome.FAILED] and not verdict.verified
    mixed = sign(sign(shapes["minimal"](), signer, created=NOW), other_signer, created=NOW)
    assert verify_credential(mixed, resolve_key=resolver, now=NOW).check(CheckName.ISSUER).outcome is Outcome.FAILED  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"cryptosuite": "ecdsa-rdfc-2019"}, "Unsupported proof"),
        ({"proofPurpose": "authentication"}, "not 'assertionMethod'"),
        ({"proofValue": "uAAAA"}, "base58btc"),
        ({"proofValue": "z3mJ"}, "64-byte"),
        ({"expires": "2020-01-01T00:00:00Z"}, "expired"),
        ({"created": "yesterday"}, "not a valid date-time"),
        ({"previousProof": "urn:uuid:1"}, "chains"),
    ],
)
def test_malformed_proofs_are_rejected_with_a_reason(
    change: dict[str, str], reason: str, shapes: ShapeMap, signer: Ed25519Signer, resolver: KeyResolver
) -> None:
    signed = sign(shapes["minimal"](), signer, created=NOW)
    signed["proof"].update(change)
    key = resolver(signer.verification_method)
    with pytest.raises(ProofError, match=reason):
        verify_proof(signed, signed["proof"], key.public_key, now=NOW)  # type: ignore[arg-type]


def test_no_proof_at_all_is_refused(shapes: ShapeMap, resolver: KeyResolver) -> None:
    verdict = verify_credential(shapes["minimal"](), resolve_key=resolver, now=NOW)
    assert "no proof" in verdict.summary()


def test_multikey_encodings_round_trip(ed_key: Ed25519PrivateKey) -> None:
    public = ed25519_public_key_to_multibase(ed_key.public_key())
    assert public.startswith("z6Mk")
    assert ed25519_public_key_from_multibase(public) == ed_key.public_key()
    secret = ed25519_private_key_to_multibase(ed_key)
    assert ed25519_private_key_from_multibase(secret).public_key() == ed_key.public_key()
    assert base58btc_decode(base58btc_encode(b"\0\0\x01\xff")) == b"\0\0\x01\xff"
    for bad in ("z0OIl", "u6Mk", "z" + "2" * 600):
        with pytest.raises(ValueError):
            ed25519_public_key_from_multibase(bad)


def test_signing_and_verifying_from_many_threads(
    shapes: ShapeMap, signer: Ed25519Signer, resolver: KeyResolver
) -> None:
    names = ["minimal", "full", "clr", "status-list"] * 6

    def round_trip(name: str) -> bool:
        return verify_credential(sign(shapes[name](), signer, created=NOW), resolve_key=resolver, now=NOW).verified

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert all(pool.map(round_trip, names))
