"""A credential in plain words for people: who earned what, from whom, when, aligned to which competencies."""

from __future__ import annotations

from typing import Any


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def summarize(credential: dict[str, Any]) -> dict[str, Any]:
    subject = _dict(credential.get("credentialSubject"))
    achievement = _dict(subject.get("achievement"))
    issuer = credential.get("issuer")
    issuer_name = issuer.get("name") if isinstance(issuer, dict) else issuer
    identifiers = _list(subject.get("identifier"))
    eu = {k: achievement.get(k) for k in ("ectsCredits", "notionalWorkloadHours", "eqfLevel",
                                          "qualificationFramework", "qualificationFrameworkLevel", "assessmentType",
                                          "participationForm", "qualityAssuranceType", "awardingCountry")
          if achievement.get(k) not in (None, "", [])}
    return {
        "id": _text(credential.get("id")),
        "name": _text(credential.get("name")) or _text(achievement.get("name")) or "Credential",
        "types": credential.get("type"),
        "issuer": _text(issuer_name) or "unknown issuer",
        "issuer_id": _text(issuer.get("id")) if isinstance(issuer, dict) else _text(issuer),
        "awarded": _text(credential.get("awardedDate")) or _text(credential.get("validFrom")),
        "valid_until": _text(credential.get("validUntil")),
        "description": _text(achievement.get("description")),
        "criteria": _text(_dict(achievement.get("criteria")).get("narrative")),
        "outcomes": [o for o in _list(achievement.get("learningOutcome")) if isinstance(o, str)],
        "alignments": [{"name": a.get("targetName"), "url": a.get("targetUrl"), "code": a.get("targetCode")}
                       for a in _list(achievement.get("alignment")) if isinstance(a, dict)],
        "evidence": [{"name": e.get("name"), "narrative": e.get("narrative"), "url": e.get("id")}
                     for e in _list(credential.get("evidence")) if isinstance(e, dict)],
        "holder_hashed": any(isinstance(i, dict) and i.get("hashed") for i in identifiers),
        "eu": eu,
    }
