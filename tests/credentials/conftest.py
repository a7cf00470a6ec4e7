"""Fixtures for the credential tests: an issuer with fixed keys, its did:web document, and one unsigned
credential of every shape the builders emit. No network, no database."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from lti_microcred.credentials.documents.clr import build_clr_credential, stacking
from lti_microcred.credentials.documents.data import (
    Achievement,
    Address,
    Alignment,
    Award,
    EuMicrocredentialInfo,
    Evidence,
    HashedIdentity,
    IssuerProfile,
    Result,
    ResultDescription,
    StatusEntry,
)
from lti_microcred.credentials.documents.openbadge import build_open_badge_credential
from lti_microcred.credentials.issuing.didweb import build_did_document, multikey_id
from lti_microcred.credentials.proofs.controller_keys import KeyResolver, document_resolver
from lti_microcred.credentials.proofs.dataintegrity import Ed25519Signer, sign
from lti_microcred.credentials.status.bitstring import StatusList, build_status_list_credential

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
ISSUER = "did:web:credentials.example.edu"
OTHER_ISSUER = "did:web:other.example.org"
STATUS_URL = "https://credentials.example.edu/status/1"
SUSPENSION_URL = "https://credentials.example.edu/status/2"


def _seeded_ed25519(label: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(label.encode()).digest())


@pytest.fixture(scope="session")
def ed_key() -> Ed25519PrivateKey:
    return _seeded_ed25519("issuer")


@pytest.fixture(scope="session")
def other_ed_key() -> Ed25519PrivateKey:
    return _seeded_ed25519("other issuer")


@pytest.fixture(scope="session")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="session")
def did_document(ed_key: Any, rsa_key: Any, ec_key: Any) -> dict[str, Any]:
    return build_did_document(ISSUER, ed_key.public_key(), [rsa_key.public_key(), ec_key.public_key()])


@pytest.fixture(scope="session")
def other_did_document(other_ed_key: Any) -> dict[str, Any]:
    return build_did_document(OTHER_ISSUER, other_ed_key.public_key())


@pytest.fixture(scope="session")
def signer(ed_key: Ed25519PrivateKey) -> Ed25519Signer:
    return Ed25519Signer(multikey_id(ISSUER, ed_key.public_key()), ed_key)


@pytest.fixture(scope="session")
def other_signer(other_ed_key: Ed25519PrivateKey) -> Ed25519Signer:
    return Ed25519Signer(multikey_id(OTHER_ISSUER, other_ed_key.public_key()), other_ed_key)


@pytest.fixture(scope="session")
def resolver(did_document: dict[str, Any], other_did_document: dict[str, Any]) -> KeyResolver:
    return document_resolver([did_document, other_did_document])


@pytest.fixture(scope="session")
def issuer() -> IssuerProfile:
    return IssuerProfile(
        id=ISSUER,
        name="Example University",
        url="https://www.example.edu",
        email="badges@example.edu",
        description="A public university.",
        image="https://www.example.edu/logo.png",
        address=Address(country="Ireland", country_code="IE", region="Leinster", locality="Dublin",
                        street_address="College Green 1", postal_code="D02 PN40"),
    )


def eu_info() -> EuMicrocredentialInfo:
    return EuMicrocredentialInfo(
        ects_credits=5,
        notional_workload_hours=125.5,
        eqf_level=6,
        qualification_framework="FHEQ",
        qualification_framework_level="6",
        assessment_type="Proctored online examination and portfolio review",
        participation_form="online",
        quality_assurance_type="Internal QA under the university's accredited framework",
        awarding_body=IssuerProfile(id="https://awarding.example.org", name="Example Awarding Body"),
        awarding_country="IE",
        prerequisites=("Basic numeracy",),
        integration_stackability="Counts towards the Certificate in Data Skills",
        stacks_into=("https://credentials.example.edu/achievements/data-certificate",),
        supervision_and_identity_verification="supervised online, identity verified",
    )


def full_achievement() -> Achievement:
    return Achievement(
        id="https://credentials.example.edu/achievements/data-101",
        name="Data Analysis Fundamentals",
        description="Clean, summarise and visualise a data set.",
        criteria_narrative="Pass the proctored exam (60%+) and submit a reviewed portfolio.",
        criteria_id="https://credentials.example.edu/achievements/data-101/criteria",
        achievement_type="MicroCredential",
        learning_outcomes=("Clean a tabular data set", "Choose a suitable chart"),
        alignments=(
            Alignment(
                target_name="Summarise data",
                target_url="https://case.example.org/uri/6f1e",
                target_type="CFItem",
                target_code="DA.1",
                target_description="Produce descriptive statistics.",
                target_framework="Data Skills Framework",
            ),
        ),
        result_descriptions=(
            ResultDescription(
                id="https://credentials.example.edu/achievements/data-101/results/grade",
                name="Final grade",
                result_type="LetterGrade",
                allowed_values=("A", "B", "C", "D"),
                required_value="C",
            ),
        ),
        image="https://credentials.example.edu/achievements/data-101/image.png",
        credits_available=7.5,
        field_of_study="Statistics",
        human_code="DA101",
        tags=("data", "statistics"),
        eu=eu_info(),
    )


def minimal_achievement() -> Achievement:
    return Achievement(
        id="https://credentials.example.edu/achievements/teamwork",
        name="Teamwork",
        description="Collaborates within a group.",
        criteria_narrative="Nominated by peers.",
    )


def full_award(**changes: Any) -> Award:
    award = Award(
        credential_id="urn:uuid:5e0f6a7e-2a44-4a9d-9f7a-1b2c3d4e5f60",
        awarded=NOW - timedelta(days=10),
        valid_from=NOW - timedelta(days=10),
        valid_until=NOW + timedelta(days=365),
        subject_id="did:example:learner-42",
        identity=HashedIdentity.of("Learner@Example.org", salt="f00d"),
        results=(
            Result(
                result_description="https://credentials.example.edu/achievements/data-101/results/grade",
                value="B",
            ),
            Result(status="Completed"),
        ),
        evidence=(
            Evidence(name="Portfolio", narrative="Three analyses, reviewed.", id="https://lms.example.edu/ev/1"),
            Evidence(narrative="Exam passed with 78%.", genre="Exam"),
        ),
        status=(StatusEntry(STATUS_URL, 94567, "revocation"), StatusEntry(SUSPENSION_URL, 1234, "suspension")),
        credits_earned=7.5,
    )
    return replace(award, **changes)


def minimal_award(**changes: Any) -> Award:
    award = Award(
        credential_id="https://credentials.example.edu/credentials/1",
        awarded=NOW,
        valid_from=NOW,
        subject_id="did:example:learner-1",
    )
    return replace(award, **changes)


def _eu_only_mandatory() -> Achievement:
    eu = EuMicrocredentialInfo(
        ects_credits=2,
        eqf_level=5,
        assessment_type="Written test",
        participation_form="onsite",
        quality_assurance_type="External QA",
    )
    return replace(minimal_achievement(), learning_outcomes=("Explain the topic",), eu=eu)


def shape_builders(issuer: IssuerProfile) -> dict[str, Callable[[], dict[str, Any]]]:
    """Every credential shape the builders emit, unsigned."""
    return {
        "minimal": lambda: build_open_badge_credential(issuer, minimal_achievement(), minimal_award()),
        "full": lambda: build_open_badge_credential(issuer, full_achievement(), full_award()),
        "competency": lambda: build_open_badge_credential(
            issuer,
            replace(
                minimal_achievement(),
                achievement_type="Competency",
                criteria_narrative=None,
                criteria_id="https://credentials.example.edu/c/1",
            ),
            minimal_award(),
        ),
        "hashed-identity-only": lambda: build_open_badge_credential(
            issuer, minimal_achievement(), minimal_award(subject_id=None, identity=HashedIdentity.of("a@b.org", "s1"))
        ),
        "eu-mandatory-only": lambda: build_open_badge_credential(issuer, _eu_only_mandatory(), minimal_award()),
        "one-status-entry": lambda: build_open_badge_credential(
            issuer, minimal_achievement(), minimal_award(status=(StatusEntry(STATUS_URL, 7),))
        ),
        "integral-float": lambda: build_open_badge_credential(
            issuer, replace(minimal_achievement(), credits_available=7.0), minimal_award(credits_earned=3.0)
        ),
        "status-list": lambda: build_status_list_credential(
            credential_id=STATUS_URL,
            issuer=ISSUER,
            status_list=StatusList(),
            purpose="revocation",
            valid_from=NOW - timedelta(days=1),
        ),
    }


def build_clr(issuer: IssuerProfile, signer: Ed25519Signer) -> dict[str, Any]:
    """A CLR bundling two signed credentials whose achievements stack."""
    child = sign(build_open_badge_credential(issuer, minimal_achievement(), minimal_award()), signer, created=NOW)
    parent = sign(build_open_badge_credential(issuer, full_achievement(), full_award(status=())), signer, created=NOW)
    return build_clr_credential(
        credential_id="urn:uuid:0c1d2e3f-0000-4000-8000-000000000001",
        issuer=issuer,
        name="Transcript of micro-credentials",
        credentials=[parent, child],
        valid_from=NOW - timedelta(days=1),
        subject_id="did:example:learner-1",
        associations=stacking(full_achievement().id, [minimal_achievement().id]),
    )


@pytest.fixture(scope="session")
def shapes(issuer: IssuerProfile, signer: Ed25519Signer) -> dict[str, Callable[[], dict[str, Any]]]:
    builders = shape_builders(issuer)
    builders["clr"] = lambda: build_clr(issuer, signer)
    return builders
