"""A credential in plain words for people: who earned what, from whom, when, aligned to which competencies."""

from __future__ import annotations

from typing import Any


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def summarize(credential: dict[str, Any]) -> dict[str, Any]:
    subject = credential.get("credentialSubject") or {}
    subject = subject if isinstance(subject, dict) else {}
    achievement = subject.get("achievement") if isinstance(subject.get("achievement"), dict) else {}
    issuer = credential.get("issuer")
    issuer_name = issuer.get("name") if isinstance(issuer, dict) else issuer
    identifiers = subject.get("identifier") if isinstance(subject.get("identifier"), list) else []
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
        "criteria": _text((achievement.get("criteria") or {}).get("narrative"))
        if isinstance(achievement.get("criteria"), dict) else None,
        "outcomes": [o for o in achievement.get("learningOutcome", []) if isinstance(o, str)]
        if isinstance(achievement.get("learningOutcome"), list) else [],
        "alignments": [{"name": a.get("targetName"), "url": a.get("targetUrl"), "code": a.get("targetCode")}
                       for a in achievement.get("alignment", []) if isinstance(a, dict)]
        if isinstance(achievement.get("alignment"), list) else [],
        "evidence": [{"name": e.get("name"), "narrative": e.get("narrative"), "url": e.get("id")}
                     for e in credential.get("evidence", []) if isinstance(e, dict)]
        if isinstance(credential.get("evidence"), list) else [],
        "holder_hashed": any(isinstance(i, dict) and i.get("hashed") for i in identifiers),
        "eu": eu,
    }
