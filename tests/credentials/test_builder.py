"""Builders: OB 3.0 credential shape (with and without optional fields, each EU Annex I element), CLR 2.0
bundling and stacking, and the OB 2.0 hosted export."""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any

import pytest

from lti_microcred.credentials.contexts import CLR_V2P0, MICROCRED_VOCAB, OB_V3P0, VC_V2, extension_context_url
from lti_microcred.credentials.documents.clr import Association, build_clr_credential, stacking
from lti_microcred.credentials.documents.data import EuMicrocredentialInfo, HashedIdentity, IssuerProfile
from lti_microcred.credentials.documents.ob2 import build_ob2_assertion, build_ob2_badge_class, build_ob2_issuer
from lti_microcred.credentials.documents.openbadge import build_open_badge_credential
from lti_microcred.credentials.errors import CredentialError
from lti_microcred.credentials.proofs.canonical import canonicalize_with_report
from lti_microcred.credentials.proofs.dataintegrity import Ed25519Signer

from .conftest import NOW, build_clr, eu_info, full_achievement, full_award, minimal_achievement, minimal_award

EU_TERMS = {
    "ects_credits": "ectsCredits",
    "notional_workload_hours": "notionalWorkloadHours",
    "eqf_level": "eqfLevel",
    "qualification_framework": "qualificationFramework",
    "qualification_framework_level": "qualificationFrameworkLevel",
    "assessment_type": "assessmentType",
    "participation_form": "participationForm",
    "quality_assurance_type": "qualityAssuranceType",
    "awarding_body": "awardingBody",
    "awarding_country": "awardingCountry",
    "prerequisites": "prerequisite",
    "integration_stackability": "integrationStackability",
    "stacks_into": "stacksInto",
    "supervision_and_identity_verification": "supervisionAndIdentityVerification",
}


def test_full_credential_shape(issuer: IssuerProfile) -> None:
    credential = build_open_badge_credential(issuer, full_achievement(), full_award())
    assert credential["@context"] == [VC_V2, OB_V3P0, extension_context_url()]
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert credential["issuer"]["type"] == ["Profile"] and credential["issuer"]["id"] == issuer.id
    assert credential["issuer"]["address"] == {
        "type": ["Address"], "addressCountry": "Ireland", "addressCountryCode": "IE", "addressRegion": "Leinster",
        "addressLocality": "Dublin", "streetAddress": "College Green 1", "postalCode": "D02 PN40"}
    subject = credential["credentialSubject"]
    assert subject["type"] == ["AchievementSubject"]
    assert subject["identifier"][0]["identityHash"].startswith("sha256$") and subject["identifier"][0]["hashed"]
    achievement = subject["achievement"]
    assert achievement["achievementType"] == "MicroCredential"
    assert achievement["alignment"][0] == {
        "type": ["Alignment"],
        "targetName": "Summarise data",
        "targetUrl": "https://case.example.org/uri/6f1e",
        "targetType": "CFItem",
        "targetCode": "DA.1",
        "targetDescription": "Produce descriptive statistics.",
        "targetFramework": "Data Skills Framework",
    }
    assert achievement["criteria"]["narrative"] and achievement["criteria"]["id"]
    assert subject["result"][0]["resultDescription"] == achievement["resultDescription"][0]["id"]
    assert [e["type"] for e in credential["evidence"]] == [["Evidence"], ["Evidence"]]
    assert [s["statusPurpose"] for s in credential["credentialStatus"]] == ["revocation", "suspension"]
    assert credential["validFrom"].endswith("Z") and credential["awardedDate"].endswith("Z")


def test_minimal_credential_has_no_empty_fields(issuer: IssuerProfile) -> None:
    credential = build_open_badge_credential(issuer, minimal_achievement(), minimal_award())
    assert set(credential) == {
        "@context",
        "id",
        "type",
        "name",
        "issuer",
        "validFrom",
        "awardedDate",
        "credentialSubject",
    }
    assert set(credential["credentialSubject"]["achievement"]) == {
        "id",
        "type",
        "achievementType",
        "name",
        "description",
        "criteria",
    }


@pytest.mark.parametrize("field_name", list(EU_TERMS))
def test_each_eu_element_alone_is_emitted_and_defined(field_name: str, issuer: IssuerProfile) -> None:
    value = getattr(eu_info(), field_name)
    eu = EuMicrocredentialInfo(**{field_name: value})
    achievement = replace(minimal_achievement(), eu=eu)
    credential = build_open_badge_credential(issuer, achievement, minimal_award())
    assert EU_TERMS[field_name] in credential["credentialSubject"]["achievement"]
    result = canonicalize_with_report(credential)
    assert result.problems == ()
    assert f"<{MICROCRED_VOCAB}{EU_TERMS[field_name]}>" in result.nquads


def test_every_eu_field_has_a_term() -> None:
    assert {f.name for f in fields(EuMicrocredentialInfo)} == set(EU_TERMS)


def test_learning_outcomes_are_our_term(issuer: IssuerProfile) -> None:
    credential = build_open_badge_credential(issuer, full_achievement(), full_award())
    nquads = canonicalize_with_report(credential).nquads
    assert f'<{MICROCRED_VOCAB}learningOutcome> "Choose a suitable chart"' in nquads


def test_builder_refuses_incomplete_input(issuer: IssuerProfile) -> None:
    with pytest.raises(CredentialError, match="learner"):
        build_open_badge_credential(issuer, minimal_achievement(), minimal_award(subject_id=None))
    with pytest.raises(CredentialError, match="criteria"):
        build_open_badge_credential(issuer, replace(minimal_achievement(), criteria_narrative=None), minimal_award())
    with pytest.raises(ValueError, match="naive"):
        build_open_badge_credential(issuer, minimal_achievement(), minimal_award(valid_from=NOW.replace(tzinfo=None)))


def test_hashed_identity() -> None:
    identity = HashedIdentity.of("Learner@Example.org", salt="f00d")
    assert identity.matches("learner@example.org") and not identity.matches("other@example.org")
    assert HashedIdentity.of("a@b.org").salt != HashedIdentity.of("a@b.org").salt


def test_clr_bundles_signed_credentials_and_stacking(issuer: IssuerProfile, signer: Ed25519Signer) -> None:
    clr = build_clr(issuer, signer)
    assert clr["@context"] == [VC_V2, CLR_V2P0, OB_V3P0, extension_context_url()]
    assert clr["type"] == ["VerifiableCredential", "ClrCredential"]
    subject = clr["credentialSubject"]
    assert subject["type"] == ["ClrSubject"]
    assert all("proof" in c for c in subject["verifiableCredential"])
    assert [a["id"] for a in subject["achievement"]] == [full_achievement().id, minimal_achievement().id]
    assert subject["association"] == [
        {
            "type": "Association",
            "associationType": "isParentOf",
            "sourceId": full_achievement().id,
            "targetId": minimal_achievement().id,
        },
        {
            "type": "Association",
            "associationType": "isChildOf",
            "sourceId": minimal_achievement().id,
            "targetId": full_achievement().id,
        },
    ]
    assert canonicalize_with_report(clr).problems == ()


def test_clr_refuses_unknown_association(issuer: IssuerProfile) -> None:
    with pytest.raises(CredentialError, match="associationType"):
        build_clr_credential(
            credential_id="urn:uuid:1",
            issuer=issuer,
            name="x",
            credentials=[],
            valid_from=NOW,
            subject_id="did:example:1",
            associations=[Association("contains", "a:1", "a:2")],
        )
    assert len(stacking("a:parent", ["a:1", "a:2"])) == 4


def test_ob2_hosted_export(issuer: IssuerProfile) -> None:
    award = full_award()
    assertion = build_ob2_assertion(
        award, assertion_url="https://t.example/ob2/a/1", badge_class_url="https://t.example/ob2/b/1"
    )
    assert assertion["@context"] == "https://w3id.org/openbadges/v2" and assertion["type"] == "Assertion"
    assert award.identity is not None
    assert assertion["recipient"] == {
        "type": "email",
        "hashed": True,
        "salt": "f00d",
        "identity": award.identity.identity_hash,
    }
    assert assertion["verification"] == {"type": "hosted"} and assertion["issuedOn"].endswith("Z")
    assert assertion["evidence"][0]["narrative"] == "Three analyses, reviewed."
    badge = build_ob2_badge_class(
        full_achievement(),
        badge_class_url="https://t.example/ob2/b/1",
        issuer_url="https://t.example/ob2/issuer",
        image_url="https://t.example/b.png",
    )
    assert badge["type"] == "BadgeClass" and badge["issuer"] == "https://t.example/ob2/issuer"
    assert badge["alignment"][0]["targetCode"] == "DA.1" and badge["criteria"]["narrative"]
    profile = build_ob2_issuer(issuer, issuer_url="https://t.example/ob2/issuer")
    assert profile["type"] == "Issuer" and profile["url"] == "https://www.example.edu"
    revoked = build_ob2_assertion(
        award, assertion_url="https://t.example/ob2/a/1", badge_class_url="x", revocation_reason="Issued in error"
    )
    assert revoked["revoked"] is True and "recipient" not in revoked
    url_only: Any = minimal_award(subject_id="https://learner.example/me")
    assert build_ob2_assertion(url_only, assertion_url="a", badge_class_url="b")["recipient"]["type"] == "url"
    with pytest.raises(CredentialError):
        build_ob2_assertion(minimal_award(), assertion_url="a", badge_class_url="b")
