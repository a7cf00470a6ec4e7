"""The verification page's story, told to an employer who has five seconds: who issued the credential, to
whom, what it means, and whether it is genuine, in one sentence. A credential that fails is told as claims
("This credential claims…"), never dressed in the issuer's identity; the checks themselves come last.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lti_microcred.credentials.documents.dates import parse_datetime
from lti_microcred.credentials.verification import CheckName, Outcome, Verdict

# What an employer reads first about the work a micro-credential stands for.
HEADLINE_FACTS = {"ectsCredits": "ECTS credits", "notionalWorkloadHours": "Workload (hours)", "eqfLevel": "EQF level"}
OTHER_FACTS = {"qualificationFrameworkLevel": "National qualification level", "assessmentType": "Type of assessment",
               "participationForm": "Form of participation", "qualityAssuranceType": "Quality assurance",
               "awardingCountry": "Country"}
CHECK_LABELS = {"json-ld": "JSON-LD"}
_TAMPERED = ("Not valid: this credential was changed after it was signed, or was not signed by the issuer it "
             "names.")
_FIRST_FAILURE = (CheckName.FORMAT, CheckName.PROOF, CheckName.JSON_LD, CheckName.ISSUER, CheckName.TRUSTED_ISSUER,
                  CheckName.STATUS, CheckName.VALIDITY, CheckName.EMBEDDED)


@dataclass(frozen=True)
class Standing:
    """What our records say of a credential we issued: its state, why, and since when."""

    status: str  # active | revoked | suspended
    reason: str | None = None
    since: datetime | None = None
    holder: str | None = None


@dataclass(frozen=True)
class Identity:
    """The credential's hashed recipient (OB 3.0 IdentityObject), for the e-mail check."""

    identity_hash: str
    salt: str
    identity_type: str


def day(value: Any) -> str | None:
    """'3 March 2026' from an ISO date-time (or a datetime); None when there is none."""
    moment = value if isinstance(value, datetime) else parse_datetime(value) if isinstance(value, str) else None
    return f"{moment.day} {moment:%B %Y}" if moment else None


def first_failure(verdict: Verdict) -> CheckName | None:
    failed = {c.name for c in verdict.failures}
    return next((name for name in _FIRST_FAILURE if name in failed), None)


def sentence(verdict: Verdict, summary: dict[str, Any] | None, standing: Standing | None) -> str:
    """The verdict in one sentence: "Genuine: issued by … to … on …" or "Not valid: …"."""
    if verdict.verified and summary:
        holder = standing.holder if standing and standing.holder else None
        to = f" to {holder}" if holder else ""
        when = f" on {day(summary['awarded'])}" if day(summary["awarded"]) else ""
        tail = "" if holder else " (its holder is identified by a protected e-mail address: check it below)"
        return f"Genuine: issued by {summary['issuer']}{to}{when}{tail}."
    return _failure(verdict, summary, standing)


def _failure(verdict: Verdict, summary: dict[str, Any] | None, standing: Standing | None) -> str:
    name = first_failure(verdict)
    check = verdict.check(name) if name else None
    reason = check.reason if check else verdict.summary()
    if name in (CheckName.PROOF, CheckName.JSON_LD, CheckName.ISSUER):
        if "cannot be resolved" in reason or "could not be resolved" in reason:
            return f"Not verified: it is signed with a key this service cannot check. {reason}"
        return _TAMPERED
    if name is CheckName.TRUSTED_ISSUER and summary:
        return f"Not verified: issued by {summary['issuer_id']}, an issuer this service does not know."
    if name is CheckName.STATUS and standing and standing.status in ("revoked", "suspended"):
        since = f" on {day(standing.since)}" if day(standing.since) else ""
        because = f", reason: {standing.reason.rstrip('.')}" if standing.reason else ""
        return f"Not valid: {standing.status}{since}{because}."
    if name is CheckName.VALIDITY and summary:
        if summary.get("valid_until") and "expired" in reason:
            return f"Not valid: expired on {day(summary['valid_until'])}."
        if "not valid yet" in reason:
            return f"Not valid yet: {reason[reason.index(':') + 1:].strip()}"
    if name is CheckName.EMBEDDED:
        return "Not valid: a credential in this record does not verify (see each one below)."
    return f"Not valid: {reason[:1].lower()}{reason[1:]}" if reason else "Not valid."


def identity_of(credential: dict[str, Any] | None) -> Identity | None:
    """The first hashed identifier of the credential's subject, if it has one."""
    subject = credential.get("credentialSubject") if isinstance(credential, dict) else None
    identifiers = subject.get("identifier") if isinstance(subject, dict) else None
    for found in identifiers if isinstance(identifiers, list) else []:
        if isinstance(found, dict) and found.get("hashed") and isinstance(found.get("identityHash"), str):
            salt = found.get("salt")
            return Identity(found["identityHash"], salt if isinstance(salt, str) else "",
                            str(found.get("identityType") or "emailAddress"))
    return None


def facts(summary: dict[str, Any]) -> tuple[list[tuple[str, Any]], list[tuple[str, Any]]]:
    """(headline facts: credits, workload, level; the other EU facts), each as (label, value)."""
    eu = dict(summary.get("eu", {}))
    if "qualificationFramework" in eu:  # "RQF" and "5" read as one level: "RQF 5"
        framework, level = eu.pop("qualificationFramework"), eu.get("qualificationFrameworkLevel", "")
        eu["qualificationFrameworkLevel"] = f"{framework} {level}".strip()
    return ([(label, _number(eu[key])) for key, label in HEADLINE_FACTS.items() if key in eu],
            [(label, eu[key]) for key, label in OTHER_FACTS.items() if key in eu])


def _number(value: Any) -> Any:
    return f"{value:g}" if isinstance(value, float) else value


def checks_told(verdict: Verdict) -> tuple[list[Any], list[Any]]:
    """(the checks that failed, the others). Under a failure the others prove nothing, so the page shows them
    apart, as "no problem found" rather than "passed"."""
    failed = [c for c in verdict.checks if c.outcome is Outcome.FAILED]
    return failed, [c for c in verdict.checks if c.outcome is not Outcome.FAILED]


def bundled(record: dict[str, Any] | None) -> list[Any]:
    subject = record.get("credentialSubject") if isinstance(record, dict) else None
    inner = subject.get("verifiableCredential") if isinstance(subject, dict) else None
    return inner if isinstance(inner, list) else []
