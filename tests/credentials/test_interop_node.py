"""Interoperability with an independent implementation: Digital Bazaar's JS stack (@digitalbazaar/vc,
eddsa-rdfc-2022-cryptosuite, data-integrity, ed25519-multikey; jsonld.js in safe mode), run offline by
interop/verify.mjs with the very context files this package bundles.

Needs `node` and `npm ci` in tests/credentials/interop; skipped with a message otherwise.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from lti_microcred.credentials.canonical import canonicalize
from lti_microcred.credentials.contexts import bundled_context_urls, load_context
from lti_microcred.credentials.dataintegrity import Ed25519Signer, proofs_of, sign
from lti_microcred.credentials.keys import KeyResolver
from lti_microcred.credentials.multikey import ed25519_private_key_to_multibase, ed25519_public_key_to_multibase
from lti_microcred.credentials.verify import verify_credential

from .conftest import ISSUER, NOW
from .test_verify import status_lists

INTEROP = Path(__file__).parent / "interop"
DATA = Path(__file__).parent / "data"
SCRIPT = INTEROP / "verify.mjs"
ShapeMap = dict[str, Callable[[], dict[str, Any]]]
SIGNED_BY_JS = ("full", "clr", "status-list")


def _node() -> str:
    node = shutil.which("node")
    if node is None or not (INTEROP / "node_modules" / "@digitalbazaar" / "vc").is_dir():
        pytest.skip("JS interop skipped: needs `node` and `npm ci` in tests/credentials/interop")
    return node


def _job(
    shapes: ShapeMap, signer: Ed25519Signer, ed_key: Ed25519PrivateKey, did_document: dict[str, Any]
) -> dict[str, Any]:
    revoked_lists = status_lists(signer, revoke=True)
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
    return {
        "now": NOW.isoformat(),
        "contexts": {url: load_context(url) for url in bundled_context_urls()},
        "documents": {ISSUER: did_document, controller["id"]: controller, **revoked_lists},
        "canonize": [{"name": n, "document": build()} for n, build in shapes.items()]
        + [{"name": "undefined-term", "document": undefined}],
        "verify": [{"name": n, "credential": sign(build(), signer, created=NOW)} for n, build in shapes.items()]
        + vectors,
        "sign": [
            {"name": n, "credential": shapes[n](), "key": key, "created": "2025-06-01T12:00:00Z"} for n in SIGNED_BY_JS
        ],
    }


@pytest.fixture(scope="module")
def node_run(
    shapes: ShapeMap,
    signer: Ed25519Signer,
    ed_key: Ed25519PrivateKey,
    did_document: dict[str, Any],
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[dict[str, Any], dict[str, Any]]:
    node = _node()
    job = _job(shapes, signer, ed_key, did_document)
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
        assert result["verify"][item["name"]]["verified"] is True, (item["name"], result["verify"][item["name"]])


def test_revocation_is_seen_by_status_check_not_by_verify(
    node_run: tuple[dict[str, Any], dict[str, Any]], signer: Ed25519Signer, resolver: KeyResolver
) -> None:
    job, result = node_run
    full = result["verify"]["full"]
    assert full["verified"] is True  # @digitalbazaar/vc: proof fine, so "verified" even though revoked
    assert {s["purpose"]: s["set"] for s in full["status"]} == {"revocation": True, "suspension": False}
    credential = next(i["credential"] for i in job["verify"] if i["name"] == "full")
    lists = status_lists(signer, revoke=True)
    verdict = verify_credential(credential, resolve_key=resolver, fetch_status_list=lists.__getitem__, now=NOW)
    assert verdict.summary() == "The issuer has revoked this credential."


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
