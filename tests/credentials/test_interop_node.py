"""Interoperability with an independent implementation: Digital Bazaar's JS stack (@digitalbazaar/vc,
eddsa-rdfc-2022-cryptosuite, data-integrity, ed25519-multikey; jsonld.js in safe mode), run offline by
interop/verify.mjs with the very context files this package bundles. Both sides must accept what we sign and
reject the same bad credentials (tampered, another key, expired, revoked, suspended); our bundled contexts
must equal the copies the npm packages ship.

Needs `node` and `npm ci` in tests/credentials/interop; skipped with a message otherwise, except on CI.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from lti_microcred.credentials.contexts import (
    DATA_INTEGRITY_V2,
    DID_V1,
    MULTIKEY_V1,
    OB_V3P0,
    OB_V3P0_EXTENSIONS,
    VC_V2,
    bundled_context_urls,
    load_context,
)
from lti_microcred.credentials.documents.data import IssuerProfile, StatusEntry
from lti_microcred.credentials.documents.openbadge import build_open_badge_credential
from lti_microcred.credentials.proofs.canonical import canonicalize
from lti_microcred.credentials.proofs.controller_keys import KeyResolver
from lti_microcred.credentials.proofs.dataintegrity import Ed25519Signer, proofs_of, sign
from lti_microcred.credentials.proofs.multikey import ed25519_private_key_to_multibase, ed25519_public_key_to_multibase
from lti_microcred.credentials.status.bitstring import StatusList, build_status_list_credential
from lti_microcred.credentials.verification.verdict import CheckName
from lti_microcred.credentials.verification.verifier import verify_credential
from tests.support.interop import INTEROP, interop_node

from .conftest import ISSUER, NOW, OTHER_ISSUER, STATUS_URL, SUSPENSION_URL, full_achievement, full_award
from .test_verify import REVOKED_INDEX, SUSPENDED_INDEX, status_lists

DATA = Path(__file__).parent / "data"
SCRIPT = INTEROP / "verify.mjs"
ShapeMap = dict[str, Callable[[], dict[str, Any]]]
SIGNED_BY_JS = ("full", "clr", "status-list")
FLAGGED_REVOCATION_URL = "https://credentials.example.edu/status/3"
FLAGGED_SUSPENSION_URL = "https://credentials.example.edu/status/4"
# Each must be refused by both verifiers; the one check of ours that refuses it.
REJECTED = {"reject-tampered": CheckName.PROOF, "reject-key-swapped": CheckName.PROOF,
            "reject-foreign-key": CheckName.ISSUER, "reject-expired": CheckName.VALIDITY,
            "reject-revoked": CheckName.STATUS, "reject-suspended": CheckName.STATUS}
# Bundled contexts an npm package also ships (the CLR contexts and our own extension have no npm package).
FROM_NPM = (VC_V2, OB_V3P0, OB_V3P0_EXTENSIONS, DATA_INTEGRITY_V2, MULTIKEY_V1, DID_V1)


def flagged_lists(signer: Ed25519Signer) -> dict[str, dict[str, Any]]:
    """A revocation list and a suspension list, each with the bit of full_award()'s index set."""
    lists = {}
    for url, purpose, index in ((FLAGGED_REVOCATION_URL, "revocation", REVOKED_INDEX),
                                (FLAGGED_SUSPENSION_URL, "suspension", SUSPENDED_INDEX)):
        bits = StatusList()
        bits.set(index)
        lists[url] = sign(build_status_list_credential(credential_id=url, issuer=ISSUER, status_list=bits,
                                                       purpose=purpose, valid_from=NOW - timedelta(days=1)),
                          signer, created=NOW)
    return lists


def rejected(issuer: IssuerProfile, signer: Ed25519Signer, other_signer: Ed25519Signer) -> dict[str, dict[str, Any]]:
    """Bad credentials, each bad in one way only."""

    def signed(by: Ed25519Signer = signer, **award: Any) -> dict[str, Any]:
        return sign(build_open_badge_credential(issuer, full_achievement(), full_award(**award)), by, created=NOW)

    tampered = signed()
    tampered["credentialSubject"]["achievement"]["name"] = "Doctor of Everything"
    swapped = signed(other_signer)
    swapped["proof"]["verificationMethod"] = signer.verification_method
    long_ago = NOW - timedelta(days=400)
    return {
        "reject-tampered": tampered,
        "reject-key-swapped": swapped,  # signed with another key, naming the issuer's
        "reject-foreign-key": signed(other_signer),  # another issuer's key, sound on its own
        "reject-expired": signed(awarded=long_ago, valid_from=long_ago, valid_until=NOW - timedelta(days=35)),
        "reject-revoked": signed(status=(StatusEntry(FLAGGED_REVOCATION_URL, REVOKED_INDEX, "revocation"),
                                         StatusEntry(SUSPENSION_URL, SUSPENDED_INDEX, "suspension"))),
        "reject-suspended": signed(status=(StatusEntry(STATUS_URL, REVOKED_INDEX, "revocation"),
                                           StatusEntry(FLAGGED_SUSPENSION_URL, SUSPENDED_INDEX, "suspension"))),
    }


def _job(shapes: ShapeMap, signer: Ed25519Signer, other_signer: Ed25519Signer, ed_key: Ed25519PrivateKey,
         documents: dict[str, Any], issuer: IssuerProfile) -> dict[str, Any]:
    key = {
        "id": signer.verification_method,
        "controller": ISSUER,
        "publicKeyMultibase": ed25519_public_key_to_multibase(ed_key.public_key()),
        "secretKeyMultibase": ed25519_private_key_to_multibase(ed_key),
    }
    controller = json.loads((DATA / "1edtech-ob3-testvector-controller.json").read_text())
    vectors = [
        {"name": name, "credential": json.loads((DATA / f"{name}.json").read_text())}
        for name in ("1edtech-ob3-testvector", "1edtech-clr2-testvector")
    ]
    undefined = shapes["minimal"]()
    undefined["credentialSubject"]["achievement"]["creditValue"] = 5
    bad = rejected(issuer, signer, other_signer)
    return {
        "now": NOW.isoformat(),
        "contexts": {url: load_context(url) for url in bundled_context_urls()},
        "documents": {controller["id"]: controller, **documents},
        "canonize": [{"name": n, "document": build()} for n, build in shapes.items()]
        + [{"name": "undefined-term", "document": undefined}],
        "verify": [{"name": n, "credential": sign(build(), signer, created=NOW)} for n, build in shapes.items()]
        + vectors + [{"name": n, "credential": c} for n, c in bad.items()],
        "packageContexts": True,
        "sign": [
            {"name": n, "credential": shapes[n](), "key": key, "created": "2025-06-01T12:00:00Z"} for n in SIGNED_BY_JS
        ],
    }


@pytest.fixture(scope="module")
def published(signer: Ed25519Signer, did_document: dict[str, Any], other_did_document: dict[str, Any]
              ) -> dict[str, Any]:
    """What both verifiers may look up: the two issuers' DID documents, clean and flagged status lists."""
    return {ISSUER: did_document, OTHER_ISSUER: other_did_document, **status_lists(signer), **flagged_lists(signer)}


@pytest.fixture(scope="module")
def node_run(
    shapes: ShapeMap,
    signer: Ed25519Signer,
    other_signer: Ed25519Signer,
    ed_key: Ed25519PrivateKey,
    published: dict[str, Any],
    issuer: IssuerProfile,
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[dict[str, Any], dict[str, Any]]:
    node = interop_node()
    job = _job(shapes, signer, other_signer, ed_key, published, issuer)
    path = tmp_path_factory.mktemp("interop") / "job.json"
    path.write_text(json.dumps(job))
    finished = subprocess.run(
        [node, str(SCRIPT), str(path)], capture_output=True, text=True, timeout=120, cwd=INTEROP, check=False
    )
    assert finished.returncode == 0, finished.stderr
    return job, json.loads(finished.stdout)


def test_canonical_nquads_are_identical_to_jsonld_js(node_run: tuple[dict[str, Any], dict[str, Any]]) -> None:
    job, result = node_run
    for item in job["canonize"]:
        if item["name"] != "undefined-term":
            assert result["canonize"][item["name"]] == {"nquads": canonicalize(item["document"])}, item["name"]


def test_jsonld_js_safe_mode_rejects_what_our_guard_refuses(node_run: tuple[dict[str, Any], dict[str, Any]]) -> None:
    _, result = node_run
    assert "invalid property" in result["canonize"]["undefined-term"]["error"]


def test_digital_bazaar_verifies_every_credential_we_sign_and_the_1edtech_vectors(
    node_run: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    job, result = node_run
    for item in job["verify"]:
        if item["name"] not in REJECTED:
            assert result["verify"][item["name"]]["verified"] is True, (item["name"], result["verify"][item["name"]])


def test_both_verifiers_reject_each_bad_credential(
    node_run: tuple[dict[str, Any], dict[str, Any]], resolver: KeyResolver, published: dict[str, Any]
) -> None:
    job, result = node_run
    bad = [item for item in job["verify"] if item["name"] in REJECTED]
    assert len(bad) == len(REJECTED)
    for item in bad:
        theirs = result["verify"][item["name"]]
        assert theirs["verified"] is False, (item["name"], theirs)
        ours = verify_credential(item["credential"], resolve_key=resolver, fetch_status_list=published.__getitem__,
                                 now=NOW)
        assert [c.name for c in ours.failures] == [REJECTED[item["name"]]], (item["name"], ours.failures)


def test_revoked_and_suspended_are_caught_by_the_status_bits_not_the_proof(
    node_run: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    _, result = node_run
    for name, purpose in (("reject-revoked", "revocation"), ("reject-suspended", "suspension")):
        theirs = result["verify"][name]
        assert theirs["proofVerified"] is True, theirs  # @digitalbazaar/vc alone would call it verified
        assert {s["purpose"]: s["set"] for s in theirs["status"]} == {
            "revocation": purpose == "revocation", "suspension": purpose == "suspension"}


def test_our_bundled_contexts_equal_the_npm_packages_copies(node_run: tuple[dict[str, Any], dict[str, Any]]) -> None:
    _, result = node_run
    for url in FROM_NPM:
        assert url in bundled_context_urls() and url in result["packageContexts"], url
        assert load_context(url) == result["packageContexts"][url], url


def test_missing_node_fails_on_ci_rather_than_skipping(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setenv("REQUIRE_POSTGRES", "1")
    with pytest.raises(pytest.fail.Exception, match="no `node` on PATH"):
        interop_node()
    monkeypatch.setenv("REQUIRE_POSTGRES", "0")
    with pytest.raises(pytest.skip.Exception, match="no `node` on PATH"):
        interop_node()


def test_we_verify_what_the_js_library_signs(
    node_run: tuple[dict[str, Any], dict[str, Any]], shapes: ShapeMap, signer: Ed25519Signer, resolver: KeyResolver
) -> None:
    _, result = node_run
    for name in SIGNED_BY_JS:
        js_signed = result["sign"][name]
        verdict = verify_credential(js_signed, resolve_key=resolver, now=NOW)
        assert verdict.verified, (name, verdict.failures)
        ours = sign(shapes[name](), signer, created=NOW)
        assert proofs_of(js_signed) == proofs_of(ours), name  # same bytes signed, deterministic Ed25519
