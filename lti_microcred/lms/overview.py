"""What the instructor's gradebook and roster pages show, in a fixed number of queries per page: the course's
columns, a page of learners, and per learner and column whether the LMS has the latest value."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select, union
from sqlalchemy.orm import Session

from lti_microcred.competencies.models import Evidence, MicroCredential, Module, Requirement
from lti_microcred.competencies.rules import SCORE
from lti_microcred.lms.delivery.state import Cell, cells
from lti_microcred.lms.lineitems import CREDENTIAL, MODULE
from lti_microcred.lms.models import CourseServices, Delivery, GradebookColumn, RosterEntry
from lti_microcred.lms.placements import ExtraPlacement, extra_placements
from lti_microcred.lms.readback import ReadbackReport
from lti_microcred.lms.results import award_key, module_key
from lti_microcred.lti.models import Membership, User
from lti_microcred.lti.roles import LEARNER

PER_PAGE = 100


@dataclass(frozen=True)
class ColumnView:
    kind: str  # module | credential
    subject_id: int
    title: str
    lineitem_url: str | None
    graded_in_lms: bool = False  # a module with an LMS score requirement: read back, never written

    def key(self, learner_id: int) -> str:
        return module_key(self.subject_id, learner_id) if self.kind == MODULE else award_key(self.subject_id,
                                                                                            learner_id)


@dataclass(frozen=True)
class LearnerView:
    id: int
    name: str
    sub: str
    roster_status: str | None  # active | inactive | withdrawn | None (not in the NRPS roster)


@dataclass
class Gradebook:
    columns: list[ColumnView]
    read_back: list[ColumnView]
    learners: list[LearnerView]
    cells: dict[str, Cell]
    total_learners: int
    page: int
    pages: int
    counts: dict[str, int] = field(default_factory=dict)
    services: CourseServices | None = None
    extra_placements: list[ExtraPlacement] = field(default_factory=list)

    @property
    def report(self) -> ReadbackReport | None:
        """What the last read-back read, per LMS-graded module."""
        return ReadbackReport.from_json(self.services.readback_report if self.services else None)

    def cell(self, column: ColumnView, learner: LearnerView) -> Cell:
        return self.cells.get(column.key(learner.id)) or Cell("none")


def columns(session: Session, context_id: int) -> tuple[list[ColumnView], list[ColumnView]]:
    """(columns the tool writes, modules graded in the LMS whose results it reads back)."""
    urls = {(c.subject_kind, c.subject_id): c.lineitem_url for c in session.scalars(
        select(GradebookColumn).where(GradebookColumn.context_id == context_id))}
    kinds: dict[int, set[str]] = {}
    for module_id, kind in session.execute(select(Requirement.module_id, Requirement.kind).join(
            Module, Module.id == Requirement.module_id).where(Module.context_id == context_id)):
        kinds.setdefault(module_id, set()).add(kind)
    written: list[ColumnView] = []
    read: list[ColumnView] = []
    for module in session.scalars(select(Module).where(Module.context_id == context_id, Module.id.in_(kinds))
                                  .order_by(Module.position, Module.id)):
        view = ColumnView(MODULE, module.id, module.title, urls.get((MODULE, module.id)), SCORE in kinds[module.id])
        (read if view.graded_in_lms else written).append(view)
    for credential in session.scalars(select(MicroCredential).where(
            MicroCredential.context_id == context_id, MicroCredential.status != "draft",
            MicroCredential.gradebook_column.is_(True)).order_by(MicroCredential.id)):
        written.append(ColumnView(CREDENTIAL, credential.id, credential.title, urls.get((CREDENTIAL, credential.id))))
    return written, read


def _learner_ids(context_id: int) -> object:
    """Learners of the course: in the NRPS roster, launched as learners, with evidence or a delivery."""
    return union(select(RosterEntry.user_id).where(RosterEntry.context_id == context_id, RosterEntry.role == LEARNER),
                 select(Membership.user_id).where(Membership.context_id == context_id, Membership.role == LEARNER),
                 select(Delivery.learner_id).where(Delivery.context_id == context_id),
                 select(Evidence.learner_id).where(Evidence.context_id == context_id))


def gradebook(session: Session, context_id: int, page: int = 1, per_page: int = PER_PAGE) -> Gradebook:
    written, read = columns(session, context_id)
    ids = _learner_ids(context_id).subquery()  # type: ignore[attr-defined]
    total = int(session.scalar(select(func.count()).select_from(ids)) or 0)
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    rows = session.execute(
        select(User.id, User.name, User.given_name, User.family_name, User.email, User.sub, RosterEntry.status)
        .where(User.id.in_(select(ids.c[0])))
        .outerjoin(RosterEntry, (RosterEntry.user_id == User.id) & (RosterEntry.context_id == context_id))
        .order_by(func.coalesce(User.family_name, User.name, User.sub), User.id)
        .offset((page - 1) * per_page).limit(per_page)).all()
    learners = [LearnerView(r.id, r.name or " ".join(p for p in (r.given_name, r.family_name) if p) or r.email
                            or f"User {r.sub}", r.sub, r.status) for r in rows]
    found = cells(session, context_id, [c.subject_id for c in written if c.kind == MODULE],
                  [c.subject_id for c in written if c.kind == CREDENTIAL])
    counts: dict[str, int] = {}
    for cell in found.values():
        counts[cell.state] = counts.get(cell.state, 0) + 1
    services = session.scalars(select(CourseServices).where(CourseServices.context_id == context_id)).one_or_none()
    return Gradebook(written, read, learners, found, total, page, pages, counts, services,
                     extra_placements(session, context_id))


@dataclass(frozen=True)
class RosterRow:
    user_id: int
    name: str
    email: str | None
    role: str
    status: str
    withdrawn_dt: object
    last_seen_dt: object


def roster_page(session: Session, context_id: int, status: str = "", page: int = 1,
                per_page: int = PER_PAGE) -> tuple[list[RosterRow], int, int]:
    """A page of the NRPS roster (all statuses, or one), by family name; returns (rows, total, pages)."""
    where = [RosterEntry.context_id == context_id]
    if status:
        where.append(RosterEntry.status == status)
    total = int(session.scalar(select(func.count()).select_from(RosterEntry).where(*where)) or 0)
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    rows = session.execute(
        select(RosterEntry, User).join(User, User.id == RosterEntry.user_id).where(*where)
        .order_by(RosterEntry.status == "withdrawn", func.coalesce(User.family_name, User.name, User.sub), User.id)
        .offset((page - 1) * per_page).limit(per_page)).all()
    return [RosterRow(u.id, u.display_name, u.email, e.role, e.status, e.withdrawn_dt, e.last_seen_dt)
            for e, u in rows], total, pages


def roster_counts(session: Session, context_id: int) -> dict[str, int]:
    return dict(session.execute(select(RosterEntry.status, func.count()).where(RosterEntry.context_id == context_id)
                                .group_by(RosterEntry.status)).all())
