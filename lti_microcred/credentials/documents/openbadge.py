"""OpenBadgeCredential documents from plain data (unsigned: sign with dataintegrity.sign or vcjwt.encode)."""

from __future__ import annotations

from typing import Any, Final

from lti_microcred.credentials.contexts import OB_V3P0, VC_V2, extension_context_url
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
)
from lti_microcred.credentials.documents.dates import format_datetime
from lti_microcred.credentials.errors import CredentialError
from lti_microcred.credentials.status.bitstring import build_status_entry

OB_CONTEXTS: Final = (VC_V2, OB_V3P0)


def build_open_badge_credential(issuer: IssuerProfile, achievement: Achievement, award: Award,
                                extension_context: str | None = None) -> dict[str, Any]:
    """An unsigned OB 3.0 OpenBadgeCredential with an embedded issuer Profile and AchievementSubject.
    `extension_context` is the URL of our context as this deployment serves it (default: as configured)."""
    credential = pruned(
        {
            "@context": [*OB_CONTEXTS, extension_context or extension_context_url()],
            "id": award.credential_id,
            "type": ["VerifiableCredential", "OpenBadgeCredential"],
            "name": award.name or achievement.name,
            "issuer": profile_json(issuer),
            "validFrom": format_datetime(award.valid_from),
            "validUntil": format_datetime(award.valid_until) if award.valid_until else None,
            "awardedDate": format_datetime(award.awarded),
            "credentialSubject": subject_json(achievement, award),
            "evidence": [evidence_json(e) for e in award.evidence],
        }
    )
    entries = [build_status_entry(s.list_credential, s.index, s.purpose) for s in award.status]
    if entries:
        credential["credentialStatus"] = entries[0] if len(entries) == 1 else entries
    return credential


def subject_json(achievement: Achievement, award: Award) -> dict[str, Any]:
    """The AchievementSubject: who (DID/URL and/or hashed identity), what, and how well."""
    if award.subject_id is None and award.identity is None:
        raise CredentialError("An award needs the learner's id (DID or URL) or a hashed identity.")
    return pruned(
        {
            "id": award.subject_id,
            "type": ["AchievementSubject"],
            "identifier": [identity_json(award.identity)] if award.identity else None,
            "achievement": achievement_json(achievement),
            "result": [result_json(r) for r in award.results],
            "creditsEarned": award.credits_earned,
        }
    )


def profile_json(profile: IssuerProfile) -> dict[str, Any]:
    """An OB 3.0 Profile object (issuers must be embedded objects, not bare URIs)."""
    return pruned(
        {
            "id": profile.id,
            "type": ["Profile"],
            "name": profile.name,
            "url": profile.url,
            "email": profile.email,
            "description": profile.description,
            "image": image_json(profile.image),
            "address": address_json(profile.address),
        }
    )


def achievement_json(achievement: Achievement) -> dict[str, Any]:
    """An OB 3.0 Achievement, with our Annex I terms when the achievement carries them."""
    if not (achievement.criteria_narrative or achievement.criteria_id):
        raise CredentialError(f"Achievement {achievement.id} needs criteria: a narrative, an id, or both.")
    return pruned(
        {
            "id": achievement.id,
            "type": ["Achievement"],
            "achievementType": achievement.achievement_type,
            "name": achievement.name,
            "description": achievement.description,
            "criteria": pruned({"id": achievement.criteria_id, "narrative": achievement.criteria_narrative}),
            "image": image_json(achievement.image),
            "creditsAvailable": achievement.credits_available,
            "fieldOfStudy": achievement.field_of_study,
            "humanCode": achievement.human_code,
            "tag": list(achievement.tags),
            "alignment": [alignment_json(a) for a in achievement.alignments],
            "resultDescription": [result_description_json(r) for r in achievement.result_descriptions],
            "learningOutcome": list(achievement.learning_outcomes),
            **(eu_json(achievement.eu) if achievement.eu else {}),
        }
    )


def eu_json(eu: EuMicrocredentialInfo) -> dict[str, Any]:
    """EU Annex I elements, in the terms of our microcred-v1 context."""
    return pruned(
        {
            "ectsCredits": eu.ects_credits,
            "notionalWorkloadHours": eu.notional_workload_hours,
            "eqfLevel": eu.eqf_level,
            "qualificationFramework": eu.qualification_framework,
            "qualificationFrameworkLevel": eu.qualification_framework_level,
            "assessmentType": eu.assessment_type,
            "participationForm": eu.participation_form,
            "qualityAssuranceType": eu.quality_assurance_type,
            "awardingBody": profile_json(eu.awarding_body) if eu.awarding_body else None,
            "awardingCountry": eu.awarding_country,
            "prerequisite": list(eu.prerequisites),
            "integrationStackability": eu.integration_stackability,
            "stacksInto": list(eu.stacks_into),
            "supervisionAndIdentityVerification": eu.supervision_and_identity_verification,
        }
    )


def alignment_json(alignment: Alignment) -> dict[str, Any]:
    """An OB 3.0 Alignment: how a verifier finds the framework item (e.g. a CASE CFItem) behind it."""
    return pruned(
        {
            "type": ["Alignment"],
            "targetName": alignment.target_name,
            "targetUrl": alignment.target_url,
            "targetType": alignment.target_type,
            "targetCode": alignment.target_code,
            "targetDescription": alignment.target_description,
            "targetFramework": alignment.target_framework,
        }
    )


def result_description_json(description: ResultDescription) -> dict[str, Any]:
    """An OB 3.0 ResultDescription: what results of this achievement can look like."""
    return pruned(
        {
            "id": description.id,
            "type": ["ResultDescription"],
            "name": description.name,
            "resultType": description.result_type,
            "allowedValue": list(description.allowed_values),
            "requiredValue": description.required_value,
            "valueMin": description.value_min,
            "valueMax": description.value_max,
        }
    )


def result_json(result: Result) -> dict[str, Any]:
    """An OB 3.0 Result, pointing at its ResultDescription by id."""
    return pruned(
        {
            "type": ["Result"],
            "resultDescription": result.result_description,
            "value": result.value,
            "status": result.status,
            "achievedLevel": result.achieved_level,
        }
    )


def evidence_json(evidence: Evidence) -> dict[str, Any]:
    """An OB 3.0 Evidence object (id optional: evidence may live only in the LMS)."""
    return pruned(
        {
            "id": evidence.id,
            "type": ["Evidence"],
            "name": evidence.name,
            "narrative": evidence.narrative,
            "description": evidence.description,
            "genre": evidence.genre,
        }
    )


def identity_json(identity: HashedIdentity) -> dict[str, Any]:
    """An OB 3.0 IdentityObject: the learner identified without revealing the email."""
    return {
        "type": "IdentityObject",
        "identityHash": identity.identity_hash,
        "identityType": identity.identity_type,
        "hashed": True,
        "salt": identity.salt,
    }


def address_json(address: Address | None) -> dict[str, Any] | None:
    """An OB 3.0 Address, or None when nothing is known."""
    if address is None:
        return None
    return (
        pruned(
            {
                "type": ["Address"],
                "addressCountry": address.country,
                "addressCountryCode": address.country_code,
                "addressRegion": address.region,
                "addressLocality": address.locality,
                "streetAddress": address.street_address,
                "postalCode": address.postal_code,
            }
        )
        or None
    )


def image_json(url: str | None) -> dict[str, Any] | None:
    """An OB 3.0 Image object (verifiers expect an object, not a bare URL)."""
    return {"id": url, "type": "Image"} if url else None


def pruned(values: dict[str, Any]) -> dict[str, Any]:
    """Drop absent values: JSON-LD would drop nulls and empty lists anyway, silently."""
    return {k: v for k, v in values.items() if v is not None and v != [] and v != {}}
