"""The rules' inputs read from the database (specs, a learner's facts): one reading for awarding and pages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from lti_microcred.competencies.models import (
    Assessment,
    Award,
    Evidence,
    MicroCredential,
    PathwayComponent,
    Requirement,
)
from lti_microcred.competencies.rules import (
    COUNTABLE_KINDS,
    CredentialSpec,
    Fact,
    PathwaySpec,
    RequirementSpec,
    counting_evidence,
)

AUTHORITATIVE = frozenset({"lms_score", "rubric", "override"})  # recorded by staff or the LMS: no decision needed


def credential_spec(session: Session, micro_credential_id: int) -> CredentialSpec:
    rows = session.execute(
        select(Requirement).where(Requirement.micro_credential_id == micro_credential_id).order_by(Requirement.id)
    ).scalars().all()
    return spec_from_requirements(micro_credential_id, rows)


def counted_kinds(requirement: Requirement) -> frozenset[str]:
    """Which evidence an evidence-count requirement counts (all countable kinds when none is stored)."""
    return frozenset(requirement.evidence_kinds.split(",")) if requirement.evidence_kinds else COUNTABLE_KINDS


def spec_from_requirements(micro_credential_id: int, rows: Sequence[Requirement]) -> CredentialSpec:
    """The rules' view of a credential from its requirement rows, in id order."""
    competencies: list[int] = []
    for r in rows:
        if r.competency_id not in competencies:
            competencies.append(r.competency_id)
    specs = tuple(
        RequirementSpec(r.id, r.competency_id, r.module_id, r.kind, r.min_percent, r.min_level, r.min_count,
                        counted_kinds(r))
        for r in rows
    )
    return CredentialSpec(micro_credential_id, tuple(competencies), specs)


def learner_facts(session: Session, learner_id: int, context_id: int) -> list[Fact]:
    """The learner's evidence in a course as rule facts, with the latest decision on each.

    One query: the evidence outer-joined to its decisions in id order, so the last row of each record carries
    its latest decision (an IN list of the record ids cost ~3 ms on PostgreSQL at 300 records)."""
    rows = session.execute(
        select(Evidence.id, Evidence.kind, Evidence.module_id, Evidence.competency_id, Evidence.score_given,
               Evidence.score_maximum, Evidence.rubric_level, Evidence.achieved, Evidence.supersedes_id,
               Assessment.decision, Assessment.rubric_level.label("decided_level"))
        .outerjoin(Assessment, Assessment.evidence_id == Evidence.id)
        .where(Evidence.learner_id == learner_id, Evidence.context_id == context_id)
        .order_by(Evidence.id, Assessment.id)
    )
    latest = {row[0]: row for row in rows}
    return [fact_of(*row) for row in latest.values()]


def fact_of(id_: int, kind: str, module_id: int | None, competency_id: int | None, score_given: float | None,
            score_maximum: float | None, rubric_level: int | None, achieved: bool | None, supersedes: int | None,
            decision: str | None, decided_level: int | None) -> Fact:
    """One evidence record and its latest decision as the rules see it."""
    if kind in AUTHORITATIVE:
        accepted, level = True, rubric_level
    elif decision is None:
        accepted, level = None, None
    else:
        accepted, level = decision == "accepted", decided_level
    ratio = (score_given / score_maximum) if score_given is not None and score_maximum else None
    return Fact(id_, kind, module_id, competency_id, ratio, level, accepted, achieved, supersedes)


def evidence_decided_since(session: Session, spec: CredentialSpec, facts: Sequence[Fact], since: dt.datetime) -> bool:
    """Whether evidence the credential counts was recorded (staff and LMS records) or accepted (learners'
    evidence) after `since`. Asked only after a revocation: the frequent evaluations never load decision dates."""
    ids = sorted(counting_evidence(spec, facts))
    if not ids:
        return False
    recorded = select(Evidence.id).where(Evidence.id.in_(ids), Evidence.kind.in_(AUTHORITATIVE),
                                         Evidence.created_dt > since)
    accepted = select(Assessment.id).where(Assessment.evidence_id.in_(ids), Assessment.decision == "accepted",
                                           Assessment.created_dt > since)
    return bool(session.execute(select(or_(recorded.exists(), accepted.exists()))).scalar())


def affected_specs(session: Session, context_id: int, module_id: int | None,
                   competency_id: int | None) -> dict[int, CredentialSpec]:
    """Published standard credentials of the course whose requirements mention this module or competency,
    loaded in one query (each statement is a round trip on PostgreSQL, on every piece of evidence)."""
    clauses = []
    if module_id is not None:
        clauses.append(Requirement.module_id == module_id)
    if competency_id is not None:
        clauses.append(Requirement.competency_id == competency_id)
    if not clauses:
        return {}
    affected = (select(Requirement.micro_credential_id)
                .join(MicroCredential, MicroCredential.id == Requirement.micro_credential_id)
                .where(MicroCredential.context_id == context_id, MicroCredential.status == "published",
                       or_(*clauses)))
    rows = session.execute(select(Requirement).where(Requirement.micro_credential_id.in_(affected))
                           .order_by(Requirement.micro_credential_id, Requirement.id)).scalars().all()
    by_credential: dict[int, list[Requirement]] = {}
    for row in rows:
        by_credential.setdefault(row.micro_credential_id, []).append(row)
    return {cid: spec_from_requirements(cid, reqs) for cid, reqs in sorted(by_credential.items())}


def pathway_spec(session: Session, pathway_id: int) -> PathwaySpec:
    pathway = session.get(MicroCredential, pathway_id)
    assert pathway is not None
    components = session.execute(
        select(MicroCredential.id, MicroCredential.ects_credits).join(
            PathwayComponent, PathwayComponent.component_id == MicroCredential.id)
        .where(PathwayComponent.pathway_id == pathway_id).order_by(MicroCredential.id)
    ).all()
    return PathwaySpec(pathway_id, pathway.pathway_rule or "all", pathway.pathway_k, pathway.pathway_credits,
                       tuple((c.id, c.ects_credits or 0.0) for c in components))


def component_awarded_since(session: Session, learner_id: int, spec: PathwaySpec, since: dt.datetime) -> bool:
    """A pathway's "evidence decided since": one of its components awarded (and still active) after `since`."""
    return bool(session.execute(select(select(Award.id).where(
        Award.learner_id == learner_id, Award.status == "active", Award.awarded_dt > since,
        Award.micro_credential_id.in_([cid for cid, _ in spec.components])).exists())).scalar())


def active_awards(session: Session, learner_id: int) -> set[int]:
    return set(session.execute(
        select(Award.micro_credential_id).where(Award.learner_id == learner_id, Award.status == "active")
    ).scalars())
