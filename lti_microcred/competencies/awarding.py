"""Re-evaluation after each change, and awards: recorded once, revoked with a reason, never lost.

`reevaluate` runs the pure rules over one learner's evidence for the credentials a change touches, stores
what changed in competency_progress, and awards when a credential is complete. The award and its outbox
rows (credential issuing, gradebook passback) are written in the caller's transaction.
The rules' inputs are read in `rule_inputs`; everyone's re-evaluation after a credential changes runs
from `credential_reevaluation`.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from lti_microcred.competencies import audit
from lti_microcred.competencies.audit import Actor
from lti_microcred.competencies.errors import DomainError
from lti_microcred.competencies.models import (
    Award,
    CompetencyProgress,
    MicroCredential,
    PathwayComponent,
)
from lti_microcred.competencies.rating_changes import enqueue_rating_changes
from lti_microcred.competencies.rule_inputs import (
    active_awards,
    component_awarded_since,
    credential_spec,
    evidence_decided_since,
    learner_facts,
    pathway_spec,
)
from lti_microcred.competencies.rules import (
    ACHIEVED,
    CredentialResult,
    CredentialSpec,
    PathwaySpec,
    evaluate,
    evaluate_pathway,
)
from lti_microcred.core import outbox
from lti_microcred.core.db import dialect_insert, utcnow

# Run after each re-evaluation, in its transaction: the gradebook registers its module results here (the
# domain imports nothing of the delivery packages).
EVALUATION_LISTENERS: list[Callable[[Session, int, int, list[CredentialResult]], None]] = []


class AwardError(DomainError):
    """An award operation the rules refuse (e.g. revoking an award that is not active)."""


@dataclass(frozen=True)
class Evaluation:
    result: CredentialResult
    award: Award | None


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
    flipped: set[int] = set()  # competencies achieved, or no longer, in one of these credentials
    for credential_id in ids:
        spec = (specs.get(credential_id) if specs else None) or credential_spec(session, credential_id)
        result = evaluate(spec, facts)
        store_progress(session, learner_id, result, flipped)
        award = None
        if result.earned and may_award_automatically(
                session, credential_id, learner_id, partial(evidence_decided_since, session, spec, facts)):
            award = grant(session, actor, credential_id, learner_id, "rules",
                          "All competencies met by the evidence.", result.evidence_ids)
        evaluations.append(Evaluation(result, award))
    if flipped:
        enqueue_rating_changes(session, learner_id, context_id, flipped)
    for listener in EVALUATION_LISTENERS:
        listener(session, learner_id, context_id, [e.result for e in evaluations])
    for evaluation in evaluations:
        if evaluation.award is not None:
            reevaluate_pathways(session, actor, learner_id, evaluation.result.credential_id)
    return evaluations


def store_progress(session: Session, learner_id: int, result: CredentialResult,
                   flipped: set[int] | None = None) -> int:
    """Upsert only the competency rows whose state changed; returns how many were written. `flipped` collects
    the competencies that became achieved or stopped being achieved."""
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
    if flipped is not None:
        flipped.update(c.competency_id for c in result.competencies
                       if (c.state == ACHIEVED) != (current.get(c.competency_id, ("",))[0] == ACHIEVED))
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
