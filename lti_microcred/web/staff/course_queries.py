"""Read side of a course for staff: credentials with their counts, the review queue, the audit trails.

Each function is a fixed number of queries, scoped by the course (context ids belong to one platform).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, and_, exists, func, select
from sqlalchemy.orm import Session, aliased

from lti_microcred.competencies.evidence import LEARNER_KINDS
from lti_microcred.competencies.models import (
    Assessment,
    AttestationRequest,
    AuditEntry,
    Award,
    Competency,
    CompetencyProgress,
    Evidence,
    MicroCredential,
    Requirement,
)
from lti_microcred.core.db import utcnow
from lti_microcred.lti.models import User
from lti_microcred.web.common.progress import EvidenceItem

REVIEW_PAGE = 25
AUDIT_LIMIT = 500
CREDENTIAL_AUDIT_LIMIT = 50


@dataclass(frozen=True)
class CredentialRow:
    credential: MicroCredential
    in_progress: int
    earned: int
    pending: int


@dataclass(frozen=True)
class QueueItem:
    item: EvidenceItem
    learner: User
    competency: Competency | None
    credentials: list[str]

    @property
    def evidence(self) -> Evidence:
        return self.item.row


_NEWER = aliased(Evidence, name="newer")  # built once: a fresh alias per query costs ~2 ms of adaptation


def _pending(context_id: int) -> tuple[ColumnElement[bool], ...]:
    """Learner evidence of the course with no decision yet and not replaced by a correction."""
    return (Evidence.context_id == context_id, Evidence.kind.in_(LEARNER_KINDS),
            ~exists().where(Assessment.evidence_id == Evidence.id),
            ~exists().where(_NEWER.supersedes_id == Evidence.id))


def pending_evidence(context_id: int) -> Select[Evidence]:
    return select(Evidence).where(*_pending(context_id))


def dashboard_rows(session: Session, credentials: list[MicroCredential], context_id: int) -> list[CredentialRow]:
    """Per credential: learners in progress (not yet earned), active awards, evidence waiting for review."""
    ids = [c.id for c in credentials]
    if not ids:
        return []
    earned = dict(session.execute(select(Award.micro_credential_id, func.count()).where(
        Award.micro_credential_id.in_(ids), Award.status == "active").group_by(Award.micro_credential_id)).all())
    holds = exists().where(Award.micro_credential_id == CompetencyProgress.micro_credential_id,
                           Award.learner_id == CompetencyProgress.learner_id, Award.status == "active")
    started = dict(session.execute(
        select(CompetencyProgress.micro_credential_id, func.count(CompetencyProgress.learner_id.distinct()))
        .where(CompetencyProgress.micro_credential_id.in_(ids), CompetencyProgress.state != "not_started", ~holds)
        .group_by(CompetencyProgress.micro_credential_id)).all())
    waiting = pending_evidence(context_id).subquery()
    pending = dict(session.execute(
        select(Requirement.micro_credential_id, func.count(waiting.c.id.distinct()))
        .join(waiting, waiting.c.competency_id == Requirement.competency_id)
        .where(Requirement.micro_credential_id.in_(ids)).group_by(Requirement.micro_credential_id)).all())
    return [CredentialRow(c, started.get(c.id, 0), earned.get(c.id, 0), pending.get(c.id, 0)) for c in credentials]


def pending_count(session: Session, context_id: int) -> int:
    return int(session.scalar(select(func.count(Evidence.id)).where(*_pending(context_id))) or 0)


def review_queue(session: Session, context_id: int, page: int) -> list[QueueItem]:
    """The oldest pending evidence first, with who sent it and what it counts towards."""
    rows = session.execute(
        pending_evidence(context_id).add_columns(User, Competency)
        .join(User, User.id == Evidence.learner_id)
        .outerjoin(Competency, Competency.id == Evidence.competency_id)
        .order_by(Evidence.created_dt, Evidence.id).limit(REVIEW_PAGE).offset((page - 1) * REVIEW_PAGE)).all()
    ids = [row[0].id for row in rows]
    competencies = {row[0].competency_id for row in rows if row[0].competency_id}
    titles: dict[int, list[str]] = {}
    for competency_id, title in session.execute(
            select(Requirement.competency_id, MicroCredential.title).distinct()
            .join(MicroCredential, MicroCredential.id == Requirement.micro_credential_id)
            .where(MicroCredential.context_id == context_id, Requirement.competency_id.in_(competencies))
            .order_by(MicroCredential.title)) if competencies else ():
        titles.setdefault(competency_id, []).append(title)
    waiting = set(session.scalars(select(AttestationRequest.evidence_id).where(
        AttestationRequest.evidence_id.in_(ids), AttestationRequest.used_dt.is_(None),
        AttestationRequest.expires_dt > utcnow()))) if ids else set()
    return [QueueItem(EvidenceItem(e, waiting_for_supervisor=e.id in waiting), u, c,
                      titles.get(e.competency_id or 0, [])) for e, u, c in rows]


def audit_trail(session: Session, context_id: int, learner_id: int) -> list[AuditEntry]:
    """Every decision about the learner in this course, newest first."""
    return list(session.scalars(select(AuditEntry).where(
        and_(AuditEntry.context_id == context_id, AuditEntry.learner_id == learner_id))
        .order_by(AuditEntry.created_dt.desc(), AuditEntry.id.desc()).limit(AUDIT_LIMIT)))


def credential_audit(session: Session, credential: MicroCredential, limit: int = CREDENTIAL_AUDIT_LIMIT
                     ) -> list[AuditEntry]:
    """The latest decisions about the micro-credential itself (its description, requirements, status,
    components) in its course, newest first; decisions about learners are on each learner's page."""
    return list(session.scalars(select(AuditEntry).where(
        AuditEntry.context_id == credential.context_id, AuditEntry.learner_id.is_(None),
        AuditEntry.subject == f"credential:{credential.key}")
        .order_by(AuditEntry.created_dt.desc(), AuditEntry.id.desc()).limit(limit)))


def awards_of_learner(session: Session, context_id: int, learner_id: int) -> list[tuple[Award, MicroCredential]]:
    return [(a, c) for a, c in session.execute(
        select(Award, MicroCredential).join(MicroCredential, MicroCredential.id == Award.micro_credential_id)
        .where(Award.learner_id == learner_id, MicroCredential.context_id == context_id)
        .order_by(Award.awarded_dt.desc(), Award.id.desc()))]
