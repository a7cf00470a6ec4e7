"""Learners of a course and the learners-by-competencies matrix, in a constant number of queries per page.

Learners of a course = learner memberships in the context, plus anyone with evidence there (e.g. scores
read back from the gradebook for someone who never launched). States come from `competency_progress`,
which the domain keeps up to date, read in one query for the page's learners.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, Select, exists, func, or_, select, tuple_
from sqlalchemy.orm import Session

from lti_microcred.competencies.models import (
    Award,
    Competency,
    CompetencyProgress,
    MicroCredential,
    Requirement,
)
from lti_microcred.lti.models import User
from lti_microcred.web.common.scoped import is_learner_of
from lti_microcred.web.staff.course_queries import pending_evidence

PER_PAGE = 50
EXPORT_BATCH = 500
STATES = {"": "Any", "earned": "Earned", "in_progress": "In progress", "not_started": "Not started",
          "pending": "Evidence waiting for review"}


@dataclass(frozen=True)
class MatrixFilter:
    credential_id: int | None = None
    state: str = ""
    q: str = ""
    page: int = 1


@dataclass(frozen=True)
class Column:
    credential: MicroCredential
    competency: Competency


@dataclass
class MatrixPage:
    credentials: list[MicroCredential]  # those the filter shows
    columns: list[Column]
    learners: list[User]
    total: int
    cells: dict[tuple[int, int, int], str] = field(default_factory=dict)  # (learner, credential, competency)
    awards: dict[tuple[int, int], Award] = field(default_factory=dict)  # (learner, credential)

    def state(self, learner_id: int, column: Column) -> str:
        return self.cells.get((learner_id, column.credential.id, column.competency.id), "not_started")


def count_learners(session: Session, platform_id: int, context_id: int) -> int:
    return int(session.scalar(select(func.count(User.id)).where(User.platform_id == platform_id,
                                                                is_learner_of(context_id))) or 0)


def sort_key() -> ColumnElement[str]:
    return func.lower(func.coalesce(User.name, User.email, User.sub))


def matrix_columns(session: Session, credentials: list[MicroCredential],
                   chosen: MatrixFilter) -> tuple[list[MicroCredential], list[Column]]:
    """The credentials the filter shows and their competencies, in credential order."""
    shown = [c for c in credentials if chosen.credential_id in (None, c.id)]
    return shown, _columns(session, shown)


def matrix_page(session: Session, platform_id: int, context_id: int, chosen: MatrixFilter,
                credentials: list[MicroCredential]) -> MatrixPage:
    """One page of the matrix: 5 queries whatever the class size (columns, count, learners, cells, awards)."""
    shown, columns = matrix_columns(session, credentials, chosen)
    query = _learners(platform_id, context_id, chosen, [c.id for c in shown])
    total = int(session.scalar(query.with_only_columns(func.count()).order_by(None)) or 0)
    learners = list(session.scalars(query.order_by(sort_key(), User.id)
                                    .limit(PER_PAGE).offset((max(chosen.page, 1) - 1) * PER_PAGE)))
    page = MatrixPage(shown, columns, learners, total)
    _fill(session, page)
    return page


def export_batches(session: Session, platform_id: int, context_id: int, chosen: MatrixFilter,
                   shown: list[MicroCredential], columns: list[Column]) -> Iterator[MatrixPage]:
    """The whole course in batches (keyset pagination), for a CSV streamed row by row."""
    query = _learners(platform_id, context_id, chosen, [c.id for c in shown])
    after: tuple[str, int] | None = None
    while True:
        batch_query = query if after is None else query.where(tuple_(sort_key(), User.id) > tuple_(*after))
        rows = session.execute(batch_query.add_columns(sort_key()).order_by(sort_key(), User.id)
                               .limit(EXPORT_BATCH)).all()
        if not rows:
            return
        page = MatrixPage(shown, columns, [r[0] for r in rows], len(rows))
        _fill(session, page)
        yield page
        after = (rows[-1][1], rows[-1][0].id)


def _columns(session: Session, credentials: list[MicroCredential]) -> list[Column]:
    by_id = {c.id: c for c in credentials}
    if not by_id:
        return []
    rows = session.execute(
        select(Requirement.micro_credential_id, Competency).distinct()
        .join(Competency, Competency.id == Requirement.competency_id)
        .where(Requirement.micro_credential_id.in_(by_id))
        .order_by(Requirement.micro_credential_id, Competency.sort_order, Competency.code, Competency.id)).all()
    ordered = {c.id: i for i, c in enumerate(credentials)}
    return sorted((Column(by_id[cid], comp) for cid, comp in rows), key=lambda col: ordered[col.credential.id])


def _learners(platform_id: int, context_id: int, chosen: MatrixFilter,
              credential_ids: list[int]) -> Select[User]:
    query = select(User).where(User.platform_id == platform_id, is_learner_of(context_id))
    needle = chosen.q.strip().lower()[:100]
    if needle:
        query = query.where(or_(func.lower(func.coalesce(User.name, "")).contains(needle, autoescape=True),
                                func.lower(func.coalesce(User.email, "")).contains(needle, autoescape=True)))
    return _with_state(query, chosen.state, credential_ids, context_id)


def _with_state(query: Select[User], state: str, credential_ids: list[int],
                context_id: int) -> Select[User]:
    earned = exists().where(Award.learner_id == User.id, Award.status == "active",
                            Award.micro_credential_id.in_(credential_ids))
    started = exists().where(CompetencyProgress.learner_id == User.id, CompetencyProgress.state != "not_started",
                             CompetencyProgress.micro_credential_id.in_(credential_ids))
    if state == "earned":
        return query.where(earned)
    if state == "in_progress":
        return query.where(~earned, started)
    if state == "not_started":
        return query.where(~earned, ~started)
    if state == "pending":
        waiting = pending_evidence(context_id).subquery()
        return query.where(exists().where(waiting.c.learner_id == User.id))
    return query


def _fill(session: Session, page: MatrixPage) -> None:
    """Cells and award badges of the page's learners: two queries over at most one page of learners."""
    ids, credential_ids = [u.id for u in page.learners], [c.id for c in page.credentials]
    if not ids or not credential_ids:
        return
    for learner_id, credential_id, competency_id, state in session.execute(
            select(CompetencyProgress.learner_id, CompetencyProgress.micro_credential_id,
                   CompetencyProgress.competency_id, CompetencyProgress.state)
            .where(CompetencyProgress.learner_id.in_(ids),
                   CompetencyProgress.micro_credential_id.in_(credential_ids))):
        page.cells[(learner_id, credential_id, competency_id)] = state
    for award in session.scalars(select(Award).where(Award.learner_id.in_(ids),
                                                     Award.micro_credential_id.in_(credential_ids))
                                 .order_by(Award.awarded_dt, Award.id)):
        current = page.awards.get((award.learner_id, award.micro_credential_id))
        if current is None or current.status != "active":
            page.awards[(award.learner_id, award.micro_credential_id)] = award
