"""The audit trail in sentences ("Ian Instructor revoked Data Analysis Essentials for Lea Learner"), with the
recorded code and details kept as secondary text. The names are read in a fixed number of queries per page.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_microcred.competencies.models import AuditEntry, Competency, Evidence, MicroCredential, Module
from lti_microcred.competencies.rules import RUBRIC_LEVELS
from lti_microcred.credentials.models import IssuedCredential
from lti_microcred.lti.models import User

EVIDENCE_WORDS = {"submission": "evidence", "prior_learning": "a claim of prior learning",
                  "workplace": "workplace evidence", "lms_score": "a score", "rubric": "a rubric level",
                  "override": "a decision"}
STATUS_WORDS = {"credential.created": "created {title} as a draft",
                "credential.updated": "edited the description of {title}", "credential.published": "published {title}",
                "credential.archived": "archived {title}", "credential.draft": "put {title} back to draft",
                "credential.badge_image": "changed the badge image of {title}"}
QUOTED = frozenset({"reason", "comment"})  # shown as the person's words, not again among the details
MAX_ID = 2**31 - 1


@dataclass(frozen=True)
class AuditLine:
    entry: AuditEntry
    sentence: str
    quote: str = ""  # a reason or comment, in the words of the person who gave it

    @property
    def details(self) -> list[tuple[str, str]]:
        values = json.loads(self.entry.detail or "{}")
        return [(k, ", ".join(map(str, v)) if isinstance(v, list) else str(v)) for k, v in values.items()
                if v not in (None, "", [], {}) and not (self.quote and k in QUOTED)]


@dataclass
class Names:
    """What the entries name, read once for the page: people, micro-credentials, evidence, competencies, modules."""

    learners: dict[int, str] = field(default_factory=dict)
    credentials: dict[str, str] = field(default_factory=dict)  # micro-credential key or issued public id -> title
    evidence: dict[str, Evidence] = field(default_factory=dict)
    competencies: dict[int, str] = field(default_factory=dict)
    modules: dict[str, str] = field(default_factory=dict)  # module key or str(id) -> title

    def credential(self, key: Any) -> str:
        return f"“{self.credentials.get(str(key), 'a micro-credential')}”"

    def competency(self, competency_id: Any) -> str:
        return self.competencies.get(competency_id, "a competency") if isinstance(competency_id, int) else (
            "a competency")

    def module(self, key: Any) -> str:
        return self.modules.get(str(key), "a module")


def audit_lines(session: Session, entries: list[AuditEntry]) -> list[AuditLine]:
    names = _names(session, entries)
    return [_line(entry, names) for entry in entries]


def _line(entry: AuditEntry, names: Names) -> AuditLine:
    detail = json.loads(entry.detail or "{}")
    words = SENTENCES.get(entry.action)
    if words is None and entry.action in STATUS_WORDS:
        what = STATUS_WORDS[entry.action].format(title=_subject(entry, names))
        return AuditLine(entry, f"{entry.actor_label} {what}.")
    if words is None:
        return AuditLine(entry, f"{entry.actor_label}: {entry.action.replace('.', ' ').replace('_', ' ')}.")
    sentence, quote = words(entry, detail, names)
    return AuditLine(entry, sentence, quote)


def _subject(entry: AuditEntry, names: Names) -> str:
    return names.credential(entry.subject.split(":", 1)[-1])


def _learner(entry: AuditEntry, names: Names) -> str:
    return names.learners.get(entry.learner_id or 0, "a learner")


def _evidence(entry: AuditEntry, detail: dict[str, Any], names: Names) -> tuple[str, str]:
    row = names.evidence.get(entry.subject.split(":", 1)[-1])
    kind = detail.get("kind") or (row.kind if row else "")
    learner, who = _learner(entry, names), entry.actor_label
    what = EVIDENCE_WORDS.get(kind, "evidence")
    corrected = "corrected" if entry.action == "evidence.corrected" else ""
    if kind == "lms_score":
        return f"{who} {corrected or 'recorded'} a score for {learner} in {names.module(detail.get('module_id'))}.", ""
    if kind == "override" and row is not None:
        state = "achieved" if row.achieved else "not achieved"
        competency = names.competency(detail.get("competency_id"))
        return f"{who} decided that {learner} has {state} {competency}.", row.text or ""
    verb = corrected or ("sent" if who == learner else "recorded")
    about = "" if who == learner else f" about {learner}"
    return f"{who} {verb} {what}{about} for {names.competency(detail.get('competency_id'))}.", ""


def _decision(entry: AuditEntry, detail: dict[str, Any], names: Names) -> tuple[str, str]:
    row = names.evidence.get(entry.subject.split(":", 1)[-1])
    what = EVIDENCE_WORDS.get(row.kind, "evidence") if row else "evidence"
    competency = names.competency(row.competency_id) if row else "a competency"
    verb = "accepted" if entry.action == "evidence.accepted" else "rejected"
    level = RUBRIC_LEVELS.get(detail.get("rubric_level") or 0)
    at = f" at level {level}" if level else ""
    sentence = f"{entry.actor_label} {verb} {_learner(entry, names)}'s {what} for {competency}{at}."
    return sentence, detail.get("comment", "")


def _award(entry: AuditEntry, detail: dict[str, Any], names: Names) -> tuple[str, str]:
    title, learner = names.credential(detail.get("credential")), _learner(entry, names)
    if entry.action == "award.revoked":
        return f"{entry.actor_label} revoked {title} for {learner}.", detail.get("reason", "")
    if detail.get("basis") == "manual":
        return f"{entry.actor_label} awarded {title} to {learner}.", detail.get("reason", "")
    return f"{learner} earned {title}: every requirement was met.", ""


def _issued(entry: AuditEntry, detail: dict[str, Any], names: Names) -> tuple[str, str]:
    verb = {"credential.suspend": "suspended", "credential.reinstate": "reinstated",
            "credential.reissued": "re-issued", "credential.revoked": "revoked"}[entry.action]
    sentence = f"{entry.actor_label} {verb} {_subject(entry, names)} for {_learner(entry, names)}."
    return sentence, detail.get("reason", "")


def _requirement(entry: AuditEntry, detail: dict[str, Any], names: Names) -> tuple[str, str]:
    title = _subject(entry, names)
    if entry.action == "requirement.removed":
        return f"{entry.actor_label} removed a requirement from {title}.", ""
    threshold, kind = detail.get("threshold"), detail.get("kind")
    asks = {"score": f"a score of at least {threshold:g}% in {names.module(detail.get('module'))}"
            if isinstance(threshold, (int, float)) else "a score",
            "rubric": f"rubric level {RUBRIC_LEVELS.get(int(threshold or 0), '?')} or above",
            "evidence_count": _pieces(threshold)}.get(kind or "", "a requirement")
    return (f"{entry.actor_label} set a requirement of {title}: {names.competency(detail.get('competency_id'))} "
            f"needs {asks}."), ""


def _pieces(threshold: Any) -> str:
    if not isinstance(threshold, (int, float)):
        return "accepted evidence"
    return f"{threshold:g} accepted piece{'' if threshold == 1 else 's'} of evidence"


def _components(entry: AuditEntry, detail: dict[str, Any], names: Names) -> tuple[str, str]:
    chosen = ", ".join(names.credential(k) for k in detail.get("components", [])) or "none"
    return f"{entry.actor_label} set the components of {_subject(entry, names)}: {chosen}.", ""


SENTENCES: dict[str, Callable[[AuditEntry, dict[str, Any], Names], tuple[str, str]]] = {
    "evidence.recorded": _evidence, "evidence.corrected": _evidence, "evidence.accepted": _decision,
    "evidence.rejected": _decision, "award.granted": _award, "award.revoked": _award,
    "credential.suspend": _issued, "credential.reinstate": _issued, "credential.reissued": _issued,
    "requirement.set": _requirement, "requirement.removed": _requirement, "pathway.components": _components,
}


def _names(session: Session, entries: list[AuditEntry]) -> Names:
    names, details = Names(), [json.loads(e.detail or "{}") for e in entries]
    subjects = [e.subject.split(":", 1) for e in entries if ":" in e.subject]
    learner_ids = {e.learner_id for e in entries if e.learner_id}
    if learner_ids:
        names.learners = {u.id: u.display_name for u in session.scalars(select(User).where(User.id.in_(learner_ids)))}
    _credential_names(session, names, {v for kind, v in subjects if kind == "credential"} | {
        str(k) for d in details for k in [d.get("credential"), *d.get("components", [])] if k})
    keys = {v for kind, v in subjects if kind == "evidence"}
    if keys:
        names.evidence = {e.key: e for e in session.scalars(select(Evidence).where(Evidence.key.in_(keys)))}
    _competency_names(session, names, {d.get("competency_id") for d in details} | {
        e.competency_id for e in names.evidence.values()})
    _module_names(session, names, {str(d.get(k)) for d in details for k in ("module", "module_id") if d.get(k)})
    return names


def _credential_names(session: Session, names: Names, keys: set[str]) -> None:
    if not keys:
        return
    names.credentials = dict(session.execute(select(MicroCredential.key, MicroCredential.title)
                                             .where(MicroCredential.key.in_(keys))).all())
    issued = keys - set(names.credentials)
    if issued:
        names.credentials.update(session.execute(
            select(IssuedCredential.public_id, MicroCredential.title)
            .join(MicroCredential, MicroCredential.id == IssuedCredential.micro_credential_id)
            .where(IssuedCredential.public_id.in_(issued))).all())


def _competency_names(session: Session, names: Names, ids: Iterable[Any]) -> None:
    wanted = {i for i in ids if isinstance(i, int)}
    if wanted:
        names.competencies = {c.id: f"{c.code} {c.short_name}" if c.code else c.short_name
                              for c in session.scalars(select(Competency).where(Competency.id.in_(wanted)))}


def _module_names(session: Session, names: Names, refs: set[str]) -> None:
    if not refs:
        return
    ids = [int(r) for r in refs if r.isdigit() and int(r) <= MAX_ID]
    for module in session.scalars(select(Module).where(Module.key.in_(refs) | Module.id.in_(ids))):
        names.modules[module.key] = names.modules[str(module.id)] = module.title
