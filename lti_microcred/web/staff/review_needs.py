"""What a piece of evidence in the review queue is for: the requirements of its competency in this course's
micro-credentials, the rubric level that meets them, what a decision would leave unmet, and the supervisor
a workplace record is waiting for. The rules decide what meets what, so the page never disagrees with them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_microcred.competencies.models import AttestationRequest, Evidence, MicroCredential, Module, Requirement
from lti_microcred.competencies.rule_inputs import counted_kinds
from lti_microcred.competencies.rules import (
    EVIDENCE_COUNT,
    RUBRIC,
    RUBRIC_LEVELS,
    SCORE,
    Fact,
    RequirementSpec,
    would_meet,
)
from lti_microcred.core.db import utcnow
from lti_microcred.web.common.progress import COUNTED_AS, requirement_text


@dataclass(frozen=True)
class Need:
    """One requirement of the evidence's competency, in words, with what accepting the evidence does to it."""

    credential: str
    text: str
    spec: RequirementSpec

    def effect(self, kind: str) -> str:
        """What accepting this kind of evidence does for the requirement, in a sentence."""
        if kind == "prior_learning":
            return "Accepting the claim recognises the competency as achieved, whatever this requirement asks."
        if self.spec.kind == SCORE:
            return "This comes from the LMS gradebook: your decision does not change it."
        if self.spec.kind == RUBRIC:
            levels = [label for n, label in RUBRIC_LEVELS.items() if n >= (self.spec.min_level or 1)]
            return f"Accepting at {' or '.join(levels)} meets it."
        if kind not in self.spec.evidence_kinds:
            counted = " or ".join(COUNTED_AS.get(k, k) for k in sorted(self.spec.evidence_kinds))
            return f"This kind of evidence does not count towards it (it counts {counted} evidence only)."
        count = self.spec.min_count or 1
        return "Accepting meets it." if count == 1 else f"Accepting counts as one of the {count} pieces."


@dataclass(frozen=True)
class Supervisor:
    """The workplace supervisor a record asked to confirm it, and whether they may still answer."""

    name: str
    email: str
    asked_dt: dt.datetime
    expires_dt: dt.datetime
    answered: bool

    @property
    def waiting(self) -> bool:
        return not self.answered and self.expires_dt > utcnow()

    @property
    def asked_ago(self) -> str:
        return ago(self.asked_dt)


@dataclass
class EvidenceNeeds:
    """Everything the review card shows beside one piece of evidence."""

    evidence: Evidence
    needs: list[Need] = field(default_factory=list)
    supervisor: Supervisor | None = None

    @property
    def level_to_meet(self) -> int | None:
        """The rubric level that meets every rubric requirement of the competency (the highest they ask)."""
        levels = [n.spec.min_level or 1 for n in self.needs if n.spec.kind == RUBRIC]
        return max(levels) if levels and self.evidence.kind != "prior_learning" else None

    def unmet(self, rubric_level: int | None) -> list[Need]:
        """The requirements accepting at this level would not meet (scores never depend on a decision)."""
        if self.evidence.kind == "prior_learning":
            return []
        fact = Fact(0, self.evidence.kind, self.evidence.module_id, self.evidence.competency_id,
                    rubric_level=rubric_level, accepted=True)
        return [n for n in self.needs if n.spec.kind in (RUBRIC, EVIDENCE_COUNT) and not would_meet(n.spec, fact)]


def ago(when: dt.datetime, now: dt.datetime | None = None) -> str:
    days = ((now or utcnow()) - when).days
    return "today" if days <= 0 else "yesterday" if days == 1 else f"{days} days ago"


def needs_of(session: Session, context_id: int, evidence: Sequence[Evidence]) -> dict[int, EvidenceNeeds]:
    """Per evidence id: its competency's requirements in the course, and its supervisor's request (3 queries)."""
    found = {e.id: EvidenceNeeds(e) for e in evidence}
    competencies = {e.competency_id for e in evidence if e.competency_id}
    if competencies:
        titles = dict(session.execute(select(Module.id, Module.title).where(Module.context_id == context_id)).all())
        rows = session.execute(
            select(Requirement, MicroCredential.title).join(
                MicroCredential, MicroCredential.id == Requirement.micro_credential_id)
            .where(MicroCredential.context_id == context_id, MicroCredential.status != "archived",
                   Requirement.competency_id.in_(competencies))
            .order_by(MicroCredential.title, Requirement.id)).all()
        for item in found.values():
            item.needs = [Need(title, requirement_text(r, titles), _spec(r)) for r, title in rows
                          if r.competency_id == item.evidence.competency_id]
    workplace = [e.id for e in evidence if e.kind == "workplace"]
    for request in session.scalars(select(AttestationRequest).where(
            AttestationRequest.evidence_id.in_(workplace))) if workplace else ():
        row = found[request.evidence_id].evidence
        found[request.evidence_id].supervisor = Supervisor(
            row.supervisor_name or "their supervisor", row.supervisor_email or "", request.created_dt,
            request.expires_dt, request.used_dt is not None)
    return found


def _spec(r: Requirement) -> RequirementSpec:
    return RequirementSpec(r.id, r.competency_id, r.module_id, r.kind, r.min_percent, r.min_level, r.min_count,
                           counted_kinds(r))
