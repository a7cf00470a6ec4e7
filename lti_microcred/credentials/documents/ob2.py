"""Open Badges 2.0 hosted exports (Issuer, BadgeClass, Assertion) for backpacks that predate OB 3.0,
such as Moodle's and Badgr's: plain JSON documents the web layer serves at the given URLs."""

from __future__ import annotations

from typing import Any, Final

from lti_microcred.credentials.documents.data import Achievement, Award, Evidence, HashedIdentity, IssuerProfile
from lti_microcred.credentials.documents.dates import format_datetime, parse_datetime
from lti_microcred.credentials.documents.openbadge import pruned
from lti_microcred.credentials.errors import CredentialError

OB2_CONTEXT: Final = "https://w3id.org/openbadges/v2"


def build_ob2_issuer(issuer: IssuerProfile, *, issuer_url: str) -> dict[str, Any]:
    """Hosted OB 2.0 Issuer profile (url is required by OB 2.0)."""
    return pruned(
        {
            "@context": OB2_CONTEXT,
            "type": "Issuer",
            "id": issuer_url,
            "name": issuer.name,
            "url": issuer.url or issuer.id,
            "email": issuer.email,
            "description": issuer.description,
            "image": issuer.image,
        }
    )


def build_ob2_badge_class(
    achievement: Achievement, *, badge_class_url: str, issuer_url: str, image_url: str
) -> dict[str, Any]:
    """Hosted OB 2.0 BadgeClass for an achievement."""
    return pruned(
        {
            "@context": OB2_CONTEXT,
            "type": "BadgeClass",
            "id": badge_class_url,
            "name": achievement.name,
            "description": achievement.description,
            "image": image_url,
            "criteria": pruned({"id": achievement.criteria_id, "narrative": achievement.criteria_narrative}),
            "issuer": issuer_url,
            "tags": list(achievement.tags),
            "alignment": [
                pruned(
                    {
                        "targetName": a.target_name,
                        "targetUrl": a.target_url,
                        "targetDescription": a.target_description,
                        "targetFramework": a.target_framework,
                        "targetCode": a.target_code,
                    }
                )
                for a in achievement.alignments
            ],
        }
    )


def build_ob2_assertion(
    award: Award, *, assertion_url: str, badge_class_url: str, revocation_reason: str | None = None
) -> dict[str, Any]:
    """Hosted OB 2.0 Assertion; a revoked one says so (hosted verification reads it live)."""
    if revocation_reason is not None:
        return {
            "@context": OB2_CONTEXT,
            "type": "Assertion",
            "id": assertion_url,
            "revoked": True,
            "revocationReason": revocation_reason,
        }
    return pruned(
        {
            "@context": OB2_CONTEXT,
            "type": "Assertion",
            "id": assertion_url,
            "recipient": _recipient(award),
            "badge": badge_class_url,
            "verification": {"type": "hosted"},
            "issuedOn": format_datetime(award.awarded),
            "expires": format_datetime(award.valid_until) if award.valid_until else None,
            "evidence": [
                pruned(
                    {
                        "id": e.id,
                        "name": e.name,
                        "narrative": e.narrative,
                        "description": e.description,
                        "genre": e.genre,
                    }
                )
                for e in award.evidence
            ],
        }
    )


def award_of(credential: dict[str, Any]) -> Award:
    """What an OB 2.0 assertion says, read back from the OB 3.0 credential as it was signed."""
    subject = credential.get("credentialSubject", {})
    identifier = (subject.get("identifier") or [{}])[0]
    identity = HashedIdentity(identifier.get("identityHash", ""), identifier.get("salt", ""),
                              identifier.get("identityType", "emailAddress")) if identifier else None
    awarded = parse_datetime(credential.get("awardedDate") or credential.get("validFrom"))
    if awarded is None:
        raise CredentialError("The credential has no award date to put in an OB 2.0 assertion.")
    evidence = tuple(Evidence(name=e.get("name"), narrative=e.get("narrative"), id=e.get("id"),
                              description=e.get("description"), genre=e.get("genre"))
                     for e in credential.get("evidence", []) if isinstance(e, dict))
    return Award(credential_id=credential["id"], awarded=awarded, valid_from=awarded, identity=identity,
                 subject_id=subject.get("id"), valid_until=parse_datetime(credential.get("validUntil")),
                 evidence=evidence)


def revocation_reason(status: str, reason: str | None) -> str | None:
    """OB 2.0 knows only revocation, so a suspended credential is shown revoked too (for as long as it lasts)."""
    if status == "revoked":
        return reason or "Revoked"
    if status == "suspended":
        return f"Suspended: {reason}" if reason else "Suspended"
    return None


def _recipient(award: Award) -> dict[str, Any]:
    if award.identity is not None:
        kind = "email" if award.identity.identity_type == "emailAddress" else award.identity.identity_type
        return {
            "type": kind,
            "hashed": True,
            "salt": award.identity.salt,
            "identity": award.identity.identity_hash,
        }
    if award.subject_id is not None and award.subject_id.startswith(("https://", "http://")):
        return {"type": "url", "hashed": False, "identity": award.subject_id}
    raise CredentialError("An OB 2.0 assertion needs a hashed email identity or a URL for the learner.")
