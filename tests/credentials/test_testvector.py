"""The 1EdTech OB 3.0 Data Integrity test vector, reproduced exactly (eddsa-rdfc-2022 signatures are
deterministic), and its CLR 2.0 sibling. Expected values: Open Badges 3.0 Implementation Guide, chapters
"Linked Data Proof Test Vector for Open Badges 3.0" / "... for Comprehensive Learner Record 2.0". The OB
credential and controller document are the copies in shared/specdata; the CLR credential is transcribed
from the guide."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from lti_microcred.credentials.proofs.controller_keys import document_resolver
from lti_microcred.credentials.proofs.dataintegrity import Ed25519Signer, create_proof, hash_data, verify_proof
from lti_microcred.credentials.proofs.multikey import (
    ed25519_private_key_from_multibase,
    ed25519_public_key_to_multibase,
)
from lti_microcred.credentials.verification.verifier import verify_credential

DATA = Path(__file__).parent / "data"
SECRET_KEY_HEX = (
    "6241a409e6707bb640a0140a8a32bc3d193c33a661747284d6adfa4ed4180be4"
    "4bdeafde2ea8beefadd8c699b5c7e0704cf51154d52e17b20b71337ca04cc5a5"
)
SECRET_KEY_MULTIBASE = "zrv2bqTbNwCTsRrHFcJCPjVAduh4Ezcnoq1A3ZxH1GWTNkxipLVuaAoMFmze2gFN9oNXfJjufxSHWVZzsJiUsMHFMcx"
PUBLIC_KEY_MULTIBASE = "z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi"

OB = "https://purl.imsglobal.org/spec/vc/ob/vocab.html#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
CRED = "https://www.w3.org/2018/credentials#"
ACHIEVEMENT = "<https://example.com/achievements/21st-century-skills/teamwork>"
ISSUER = "<https://example.edu/issuers/565049>"
CREDENTIAL = "<http://example.com/credentials/3527>"
SUBJECT = "<did:example:ebfeb1f712ebc6f1c276e12ec21>"
NARRATIVE = (
    "Team members are nominated for this badge by their peers and recognized upon review by Example Corp management."
)
DESCRIPTION = "This badge recognizes the development of the capacity to collaborate within a group environment."
EXPECTED_DOCUMENT_NQUADS = "".join(
    line + "\n"
    for line in [
        f"{SUBJECT} <{RDF_TYPE}> <{OB}AchievementSubject> .",
        f"{SUBJECT} <{OB}achievement> {ACHIEVEMENT} .",
        f"{CREDENTIAL} <{RDF_TYPE}> <{OB}OpenBadgeCredential> .",
        f"{CREDENTIAL} <{RDF_TYPE}> <{CRED}VerifiableCredential> .",
        f'{CREDENTIAL} <https://schema.org/name> "Teamwork Badge" .',
        f"{CREDENTIAL} <{CRED}credentialSubject> {SUBJECT} .",
        f"{CREDENTIAL} <{CRED}issuer> {ISSUER} .",
        f'{CREDENTIAL} <{CRED}validFrom> "2010-01-01T00:00:00Z"^^<http://www.w3.org/2001/XMLSchema#dateTime> .',
        f"{ACHIEVEMENT} <{RDF_TYPE}> <{OB}Achievement> .",
        f"{ACHIEVEMENT} <{OB}Criteria> _:c14n0 .",
        f'{ACHIEVEMENT} <https://schema.org/description> "{DESCRIPTION}" .',
        f'{ACHIEVEMENT} <https://schema.org/name> "Teamwork" .',
        f"{ISSUER} <{RDF_TYPE}> <{OB}Profile> .",
        f'{ISSUER} <https://schema.org/name> "Example Corp" .',
        f'{ISSUER} <https://schema.org/url> "https://www.imsglobal.org"^^<https://www.w3.org/2001/XMLSchema#anyURI> .',
        f'_:c14n0 <{OB}narrative> "{NARRATIVE}" .',
    ]
)
EXPECTED_PROOF_NQUADS = "".join(
    line + "\n"
    for line in [
        '_:c14n0 <http://purl.org/dc/terms/created> "2010-01-01T19:23:24Z"'
        "^^<http://www.w3.org/2001/XMLSchema#dateTime> .",
        f"_:c14n0 <{RDF_TYPE}> <https://w3id.org/security#DataIntegrityProof> .",
        '_:c14n0 <https://w3id.org/security#cryptosuite> "eddsa-rdfc-2022"'
        "^^<https://w3id.org/security#cryptosuiteString> .",
        "_:c14n0 <https://w3id.org/security#proofPurpose> <https://w3id.org/security#assertionMethod> .",
        "_:c14n0 <https://w3id.org/security#verificationMethod> "
        f"<https://example.edu/issuers/565049#{PUBLIC_KEY_MULTIBASE}> .",
    ]
)
DOCUMENT_HASH = "87f65a76d40146205e3b3e06cb0fbd153f97f9ce70372390f52566bb7f9e0773"
PROOF_HASH = "d34009cea0dbc1ca941e09dc01c8c9d3e3ce3c5b853f67ee44698dcea10f5d19"
SIGNATURE_HEX = (
    "f7a017acf7d27983267ec362657c0fb08e955549f49dac5bf36a03c4f2c3a4f1"
    "e3738a6c5ecd7ffba7135cb9cd754e6196f4b73082ea8df8e703c8ecd4333503"
)
PROOF_VALUE = "z5x9aCBYovW3CQCbKdNyhEm7ffYSw1YpEdPywQJoNbzDD2gkzQDKJ1sYKJaWvqZtkMtSbz35HcbgXVEDYHxCzgkCr"


@pytest.fixture()
def vector() -> dict[str, Any]:
    return json.loads((DATA / "1edtech-ob3-testvector.json").read_text())


@pytest.fixture()
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(SECRET_KEY_HEX)[:32])


def _unsecured(vector: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    proof = vector.pop("proof")
    return vector, proof


def test_key_encodings_match_the_vector(key: Ed25519PrivateKey) -> None:
    assert ed25519_public_key_to_multibase(key.public_key()) == PUBLIC_KEY_MULTIBASE
    decoded = ed25519_private_key_from_multibase(SECRET_KEY_MULTIBASE)
    assert decoded.public_key() == key.public_key()


def test_canonical_forms_and_hashes_match(vector: dict[str, Any]) -> None:
    document, proof = _unsecured(vector)
    hashed = hash_data(document, proof)
    assert hashed.canonical_document == EXPECTED_DOCUMENT_NQUADS
    assert hashed.canonical_proof_config == EXPECTED_PROOF_NQUADS
    assert hashed.document_hash.hex() == DOCUMENT_HASH
    assert hashed.proof_config_hash.hex() == PROOF_HASH
    assert hashed.data.hex() == PROOF_HASH + DOCUMENT_HASH
    assert hashed.problems == ()


def test_signature_and_proof_value_are_reproduced(vector: dict[str, Any], key: Ed25519PrivateKey) -> None:
    document, expected = _unsecured(vector)
    signer = Ed25519Signer(expected["verificationMethod"], key)
    proof = create_proof(document, signer, created=datetime(2010, 1, 1, 19, 23, 24, tzinfo=UTC))
    assert proof == expected
    assert proof["proofValue"] == PROOF_VALUE
    assert key.sign(hash_data(document, expected).data).hex() == SIGNATURE_HEX


def test_the_vector_verifies_against_its_controller_document(vector: dict[str, Any]) -> None:
    controller = json.loads((DATA / "1edtech-ob3-testvector-controller.json").read_text())
    resolver = document_resolver([controller])
    key = resolver(vector["proof"]["verificationMethod"])
    verify_proof(vector, vector["proof"], key.public_key)  # type: ignore[arg-type]
    verdict = verify_credential(vector, resolve_key=resolver)
    assert verdict.verified, verdict.failures


# The guide's second vector: a ClrCredential bundling a signed AchievementCredential (1EdTech extensions
# context, credentialSchema, a proof in a named graph, associations typed xsd:anyURI).
CLR_DOCUMENT_HASH = "768d7015ae69e0210e1c2a45194d9c1d15d7a6022e52b946574a2a27f6fa85fe"
CLR_SIGNATURE_HEX = (
    "0c220dadbcfcaa64ab8a8c5002dbe258e6c7746ca71c25e2ea3b7fbffd665684"
    "13f53b1d34f5655f3057864bd372bbf0d1e74ea2f8c72e2f4b5790f21a22b70a"
)
CLR_PROOF_VALUE = "zF52sU1nfPAjcwCqtgxPNSor6SJnAzRBwZW5VNQXPt8xXCHkd39sgqj32DnMjhFCzbyHsLkhQ8HpBqQTkMgXy329"


def test_clr_vector_is_reproduced_and_verifies(key: Ed25519PrivateKey) -> None:
    clr = json.loads((DATA / "1edtech-clr2-testvector.json").read_text())
    [expected] = clr["proof"]
    unsecured = {k: v for k, v in clr.items() if k != "proof"}
    hashed = hash_data(unsecured, expected)
    assert hashed.document_hash.hex() == CLR_DOCUMENT_HASH
    assert hashed.proof_config_hash.hex() == PROOF_HASH
    assert hashed.problems == ()
    assert '"urn:uuid:dd887f0a-56cb-11ec-bf63-0242ac130002"^^<xsd:anyURI>' in hashed.canonical_document
    assert key.sign(hashed.data).hex() == CLR_SIGNATURE_HEX
    signer = Ed25519Signer(expected["verificationMethod"], key)
    assert create_proof(unsecured, signer, created=datetime(2010, 1, 1, 19, 23, 24, tzinfo=UTC)) == expected
    controller = json.loads((DATA / "1edtech-ob3-testvector-controller.json").read_text())
    verdict = verify_credential(clr, resolve_key=document_resolver([controller]))
    assert verdict.verified, verdict.failures  # including the bundled credential's own proof
