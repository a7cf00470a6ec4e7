"""Re-evaluation after each change, and awards: recorded once, revoked with a reason, never lost.

`reevaluate` runs the pure rules over one learner's evidence for the credentials a change touches, stores
what changed in competency_progress, and awards when a credential is complete. The award and its outbox
rows (credential issuing, gradebook passback) are written in the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any

from sqlalchemy import Select, or_, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from lti_microcred import outbox
from lti_microcred.competencies import audit
from lti_microcred.competencies.audit import Actor
from lti_microcred.competencies.errors import DomainError
from lti_microcred.competencies.models import (
    Assessment,
    Award,
    CompetencyProgress,
    Evidence,
    MicroCredential,
    PathwayComponent,
    Requirement,
)
from lti_microcred.competencies.rules import (
    COUNTABLE_KINDS,
    CredentialResult,
    CredentialSpec,
    Fact,
    PathwaySpec,
    RequirementSpec,
    counting_evidence,
    evaluate,
    evaluate_pathway,
)
from lti_microcred.db import dialect_insert, utcnow

AUTHORITATIVE = frozenset({"lms_score", "rubric", "override"})  # recorded by staff or the LMS: no decision needed
# Run after each re-evaluation, in its transaction: the gradebook registers its module results here (the
# domain imports nothing of the delivery packages).
EVALUATION_LISTENERS: list[Callable[[Session, int, int, list[CredentialResult]], None]] = []


class AwardError(DomainError):
    """An award operation the rules refuse (e.g. revoking an award that is not active)."""


@dataclass(frozen=True)
class Evaluation:
    result: CredentialResult
    award: Award | None


# --- loading ------------------------------------------------------------------------------------------
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


# --- re-evaluation ----------------------------------------------------------------------------------------
def lock_learner(session: Session, learner_id: int) -> None:
    """Serialise evaluations of one learner (PostgreSQL), so two concurrent changes never both miss the award.

    SQLite writers are already serialised (BEGIN IMMEDIATE)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(7301, :id)"), {"id": learner_id})


def reevaluate(session: Session, actor: Actor, learner_id: int, context_id: int,
               credential_ids: Iterable[int], specs: dict[int, CredentialSpec] | None = None) -> list[Evaluation]:
    """Recompute the given credentials for one learner; award those newly complete. `specs`: credentials
    already loaded by a caller that evaluates many learners in one transaction."""
    ids = sorted(set(credential_ids))
    if not ids:
        return []
    facts = learner_facts(session, learner_id, context_id)
    evaluations = []
    for credential_id in ids:
        spec = (specs.get(credential_id) if specs else None) or credential_spec(session, credential_id)
        result = evaluate(spec, facts)
        store_progress(session, learner_id, result)
        award = None
        if result.earned and may_award_automatically(
                session, credential_id, learner_id, partial(evidence_decided_since, session, spec, facts)):
            award = grant(session, actor, credential_id, learner_id, "rules",
                          "All competencies met by the evidence.", result.evidence_ids)
        evaluations.append(Evaluation(result, award))
    for listener in EVALUATION_LISTENERS:
        listener(session, learner_id, context_id, [e.result for e in evaluations])
    for evaluation in evaluations:
        if evaluation.award is not None:
            reevaluate_pathways(session, actor, learner_id, evaluation.result.credential_id)
    return evaluations


def store_progress(session: Session, learner_id: int, result: CredentialResult) -> int:
    """Upsert only the competency rows whose state changed; returns how many were written."""
    current = {
        row.competency_id: (row.state, row.met, row.required, row.via)
        for row in session.execute(
            select(CompetencyProgress.competency_id, CompetencyProgress.state, CompetencyProgress.met,
                   CompetencyProgress.required, CompetencyProgress.via)
            .where(CompetencyProgress.micro_credential_id == result.credential_id,
                   CompetencyProgress.learner_id == learner_id)
        )
    }
    now = utcnow()
    changed = [
        {"micro_credential_id": result.credential_id, "learner_id": learner_id, "competency_id": c.competency_id,
         "state": c.state, "met": c.met_count, "required": len(c.requirements), "via": c.via, "updated_dt": now}
        for c in result.competencies
        if current.get(c.competency_id) != (c.state, c.met_count, len(c.requirements), c.via)
    ]
    if changed:  # one statement for all of them (a changed requirement touches every row of a learner)
        upsert = dialect_insert(session, CompetencyProgress.__table__)
        session.execute(upsert.on_conflict_do_update(
            index_elements=["micro_credential_id", "learner_id", "competency_id"],
            set_={name: upsert.excluded[name] for name in ("state", "met", "required", "via", "updated_dt")}),
            changed)
    return len(changed)


def may_award_automatically(session: Session, credential_id: int, learner_id: int,
                            decided_since_revocation: Callable[[dt.datetime], bool]) -> bool:
    """The rule for every automatic award: none is active, and after a revocation only something decided
    since the last one brings it back (evidence the credential counts, accepted or recorded after it; for a
    pathway, a component awarded after it). The evidence a revoked award rested on never grants it again;
    a manual award always may."""
    rows = session.execute(
        select(Award.status, Award.revoked_dt).where(Award.micro_credential_id == credential_id,
                                                     Award.learner_id == learner_id)
    ).all()
    if any(r.status == "active" for r in rows):
        return False
    last_revocation = max((r.revoked_dt for r in rows if r.revoked_dt), default=None)
    return last_revocation is None or decided_since_revocation(last_revocation)


def reevaluate_pathways(session: Session, actor: Actor, learner_id: int, component_id: int) -> None:
    """After an award of `component_id`: grant the published pathways it completes."""
    pathway_ids = session.execute(
        select(PathwayComponent.pathway_id).join(MicroCredential, MicroCredential.id == PathwayComponent.pathway_id)
        .where(PathwayComponent.component_id == component_id, MicroCredential.status == "published")
    ).scalars().all()
    for pathway_id in pathway_ids:
        grant_pathway_if_earned(session, actor, learner_id, pathway_spec(session, pathway_id))


def grant_pathway_if_earned(session: Session, actor: Actor, learner_id: int, spec: PathwaySpec) -> Award | None:
    """Award the pathway when its components are held (recording which), then the pathways it completes."""
    if not evaluate_pathway(spec, active_awards(session, learner_id)) or not may_award_automatically(
            session, spec.id, learner_id, partial(component_awarded_since, session, learner_id, spec)):
        return None
    award = grant(session, actor, spec.id, learner_id, "rules",
                  "The pathway's component micro-credentials are earned.", (), [cid for cid, _ in spec.components])
    if award is not None:
        reevaluate_pathways(session, actor, learner_id, spec.id)
    return award


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


# --- awards -------------------------------------------------------------------------------------------------
def grant(session: Session, actor: Actor, credential_id: int, learner_id: int, basis: str, reason: str,
          evidence_ids: Iterable[int], component_ids: Iterable[int] = ()) -> Award | None:
    """Insert the award unless one is active already (a database constraint decides, even under races)."""
    credential = session.get(MicroCredential, credential_id)
    assert credential is not None
    key = secrets.token_hex(12)
    stmt = dialect_insert(session, Award.__table__).values(
        key=key, platform_id=credential.platform_id, micro_credential_id=credential_id, learner_id=learner_id,
        status="active", basis=basis, reason=reason,
        evidence_ids=json.dumps({"evidence": sorted(set(evidence_ids)), "components": sorted(set(component_ids))}),
        awarded_dt=utcnow(), awarded_by_id=actor.user_id,
    ).on_conflict_do_nothing(index_elements=["micro_credential_id", "learner_id"],
                             index_where=text("status = 'active'")).returning(Award.__table__.c.id)
    award_id = session.execute(stmt).scalar_one_or_none()
    if award_id is None:
        return None  # another request awarded it first
    award = session.get(Award, award_id)
    assert award is not None
    ordering = f"award:{credential_id}:{learner_id}"
    outbox.enqueue(session, outbox.ISSUE_CREDENTIAL, credential.platform_id, {"award_id": award_id}, ordering)
    outbox.enqueue(session, outbox.AWARD_PASSBACK, credential.platform_id,
                   {"award_id": award_id, "status": "active"}, ordering)
    audit.record(session, actor, "award.granted", f"award:{award.key}", learner_id, credential.context_id,
                 credential=credential.key, basis=basis, reason=reason)
    return award


def revoke(session: Session, actor: Actor, award: Award, reason: str) -> Award:
    reason = reason.strip()
    if not reason:
        raise AwardError("A revocation needs a reason.")
    if award.status != "active":
        raise AwardError("This award is not active.")
    credential = session.get(MicroCredential, award.micro_credential_id)
    assert credential is not None
    if award.platform_id != actor.platform_id or credential.context_id != actor.context_id:
        raise AwardError("That award belongs to another course.")
    changed = session.execute(
        update(Award).where(Award.id == award.id, Award.status == "active")
        .values(status="revoked", revoked_dt=utcnow(), revoked_by_id=actor.user_id, revoke_reason=reason[:5000])
    ).rowcount  # type: ignore[attr-defined]
    if not changed:
        raise AwardError("This award was revoked meanwhile.")
    session.refresh(award)
    ordering = f"award:{credential.id}:{award.learner_id}"
    outbox.enqueue(session, outbox.REVOKE_CREDENTIAL, award.platform_id, {"award_id": award.id}, ordering)
    outbox.enqueue(session, outbox.AWARD_PASSBACK, award.platform_id, {"award_id": award.id, "status": "revoked"},
                   ordering)
    audit.record(session, actor, "award.revoked", f"award:{award.key}", award.learner_id, credential.context_id,
                 credential=credential.key, reason=reason)
    return award


def reevaluate_everyone(session: Session, actor: Actor, credential: MicroCredential) -> int:
    """Every learner concerned, evaluated again in one transaction (small courses, tests). Returns how many
    awards this granted. Courses of any size go through `REEVALUATE_CREDENTIAL` and `reevaluate_in_batches`."""
    return reevaluate_learners(session, actor, credential, learners_concerned(session, credential))


def learners_concerned(session: Session, credential: MicroCredential) -> list[int]:
    """Who a change to the credential may affect: learners with evidence in its course or, for a pathway,
    with active awards of its components."""
    return sorted(session.execute(_concerned(credential).distinct()).scalars())


def _concerned(credential: MicroCredential) -> Select[int]:
    if credential.kind == "pathway":
        return (select(Award.learner_id)
                .join(PathwayComponent, PathwayComponent.component_id == Award.micro_credential_id)
                .where(PathwayComponent.pathway_id == credential.id, Award.status == "active"))
    return select(Evidence.learner_id).where(Evidence.context_id == credential.context_id)


def reevaluate_learners(session: Session, actor: Actor, credential: MicroCredential, learner_ids: Iterable[int]) -> int:
    """Evaluate the credential again for these learners (awarding those now complete); how many awards."""
    granted = 0
    if credential.kind == "pathway":
        spec = pathway_spec(session, credential.id)
        for learner_id in learner_ids:
            lock_learner(session, learner_id)
            granted += grant_pathway_if_earned(session, actor, learner_id, spec) is not None
        return granted
    specs = {credential.id: credential_spec(session, credential.id)}
    for learner_id in learner_ids:
        lock_learner(session, learner_id)
        granted += sum(e.award is not None for e in reevaluate(session, actor, learner_id, credential.context_id,
                                                                [credential.id], specs))
    return granted


def request_reevaluation(session: Session, actor: Actor, credential: MicroCredential) -> None:
    """Queue everyone's re-evaluation after the credential changed, in the caller's transaction: a worker runs
    it in batches, so publishing in a course of thousands answers at once and never holds the database.
    Nothing is queued when nobody could be concerned (a new credential in a course without evidence)."""
    if session.execute(select(_concerned(credential).exists())).scalar():
        outbox.enqueue(session, outbox.REEVALUATE_CREDENTIAL, credential.platform_id,
                       {"credential_id": credential.id, "actor": asdict(actor)}, f"reevaluate:{credential.id}")


def reevaluation_pending(session: Session, credential_id: int) -> bool:
    """Whether a change's re-evaluation of everyone is still queued (instructors are told it is under way)."""
    return session.execute(select(
        select(outbox.OutboxMessage.id).where(outbox.OutboxMessage.ordering_key == f"reevaluate:{credential_id}",
                                              outbox.OutboxMessage.status == "pending").exists())).scalar_one()


def reevaluate_in_batches(sessions: sessionmaker[Session], data: dict[str, Any], batch_size: int = 25) -> int:
    """The REEVALUATE_CREDENTIAL job: one short transaction per batch of learners, with the credential as it
    is now (a credential unpublished since is left alone). Safe to repeat: awards happen once."""
    actor = Actor(**data["actor"])
    with sessions() as session:
        credential = session.get(MicroCredential, int(data["credential_id"]))
        if credential is None or credential.status != "published":
            return 0
        learners = learners_concerned(session, credential)
    granted = 0
    for start in range(0, len(learners), batch_size):
        with sessions.begin() as session:
            credential = session.get(MicroCredential, int(data["credential_id"]))
            if credential is None or credential.status != "published":
                return granted
            granted += reevaluate_learners(session, actor, credential, learners[start:start + batch_size])
    return granted
