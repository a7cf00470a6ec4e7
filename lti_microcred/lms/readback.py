"""Grades entered in the LMS gradebook come back as evidence: for each module graded in the LMS (it has a
`score` requirement), the results of its column are read through AGS and recorded with the domain's
`record_lms_score`, which ignores unchanged values and re-evaluates the learner's credentials.

A module's column is found without anyone launching it (by the Deep Linking item's `resourceId`, then by its
resource link). What each read-back read, per module, and why a module was not read, is kept on the course
(`readback_report`) for the Gradebook page. A permanent refusal of one module's column is reported and the
others are still read; a temporary failure stops the read-back, which is retried.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from lti_microcred.competencies.audit import Actor
from lti_microcred.competencies.models import Module, Requirement
from lti_microcred.competencies.operations import record_lms_score
from lti_microcred.competencies.rules import SCORE
from lti_microcred.core.db import dialect_insert, transaction, utcnow
from lti_microcred.lms.ags import Ags
from lti_microcred.lms.errors import NotReady, ServiceError
from lti_microcred.lms.models import CourseServices
from lti_microcred.lti.models import Context, User

if TYPE_CHECKING:
    from lti_microcred.lms.connection import LmsConnection

ACTOR_LABEL = "LMS gradebook (grade sync)"


@dataclass(frozen=True)
class ModuleRead:
    """One LMS-graded module in a read-back: its column's results read, or why not."""

    module_id: int
    title: str
    read: bool
    results: int = 0  # grades the LMS listed
    recorded: int = 0  # of them new or changed, recorded as evidence
    reason: str | None = None  # why the column was not read


@dataclass(frozen=True)
class ReadbackReport:
    reads: list[ModuleRead] = field(default_factory=list)
    at: str = ""  # when, ISO 8601

    @property
    def modules(self) -> int:
        return len(self.reads)

    @property
    def results(self) -> int:
        return sum(r.results for r in self.reads)

    @property
    def recorded(self) -> int:
        return sum(r.recorded for r in self.reads)

    @property
    def not_read(self) -> list[ModuleRead]:
        return [r for r in self.reads if not r.read]

    def to_json(self) -> str:
        return json.dumps({"at": self.at, "reads": [asdict(r) for r in self.reads]})

    @classmethod
    def from_json(cls, raw: str | None) -> ReadbackReport | None:
        try:
            data = json.loads(raw) if raw else None
            return cls([ModuleRead(**r) for r in data["reads"]], data["at"]) if isinstance(data, dict) else None
        except (ValueError, TypeError, KeyError):
            return None


def lms_graded_modules(lms: LmsConnection, context_id: int) -> list[tuple[int, int, str]]:
    """(module id, platform id, title) of the course's modules whose requirements include an LMS score."""
    with lms.read_sessions() as session:
        graded = select(Requirement.module_id).where(Requirement.kind == SCORE)
        return [(r.id, r.platform_id, r.title) for r in session.execute(
            select(Module.id, Context.platform_id, Module.title).join(Context, Context.id == Module.context_id)
            .where(Module.context_id == context_id, Module.id.in_(graded)).order_by(Module.id))]


def read_back(lms: LmsConnection, context_id: int) -> ReadbackReport:
    """Turn the LMS's results for the course's LMS-graded modules into evidence (one transaction each)."""
    reads: list[ModuleRead] = []
    try:
        for module_id, platform_id, title in lms_graded_modules(lms, context_id):
            reads.append(_read_module(lms, context_id, module_id, platform_id, title))
    except ServiceError as exc:
        _note(lms, context_id, ReadbackReport(reads, utcnow().isoformat()), str(exc))
        raise
    report = ReadbackReport(reads, utcnow().isoformat())
    _note(lms, context_id, report, None)
    return report


def _read_module(lms: LmsConnection, context_id: int, module_id: int, platform_id: int, title: str) -> ModuleRead:
    try:
        column = lms.columns.module(context_id, module_id, create=False)
    except NotReady as exc:
        return ModuleRead(module_id, title, False, reason=str(exc))
    except ServiceError as exc:
        if not exc.is_permanent:
            raise
        return ModuleRead(module_id, title, False, reason=f"the LMS refused to list its columns: {exc}")
    try:
        results = Ags(lms.client, platform_id).results(column.lineitem_url)
    except ServiceError as exc:
        if not exc.is_permanent:
            raise
        if exc.status == 404:
            lms.columns.forget(column)  # deleted in the LMS: looked for again next time
        return ModuleRead(module_id, title, False, reason=f"the LMS refused to list its grades: {exc}")
    recorded = _record(lms, platform_id, context_id, module_id, results, column.score_maximum)
    return ModuleRead(module_id, title, True, len(results), recorded)


def _record(lms: LmsConnection, platform_id: int, context_id: int, module_id: int,
            results: list[dict[str, Any]], column_maximum: float) -> int:
    """Record the numeric results; one without resultMaximum is on the column's scale (Canvas leaves it out)."""
    scores = [(str(r["userId"])[:255], float(r["resultScore"]), float(r.get("resultMaximum") or column_maximum))
              for r in results if r.get("userId") and isinstance(r.get("resultScore"), int | float)]
    if not scores:
        return 0
    actor = Actor(platform_id, context_id, None, ACTOR_LABEL, "system")
    recorded = 0
    with transaction(lms.sessions) as session:
        for sub, given, maximum in scores:
            if maximum <= 0 or given < 0:
                continue
            learner_id = _learner(session, platform_id, sub)
            recorded += record_lms_score(session, actor, learner_id, module_id, given, maximum) is not None
    return recorded


def _learner(session: Any, platform_id: int, sub: str) -> int:
    """The user a result belongs to, recorded if the roster has not brought them in yet."""
    found = session.execute(select(User.id).where(User.platform_id == platform_id, User.sub == sub)).scalar()
    if found is not None:
        return int(found)
    now = utcnow()
    session.execute(dialect_insert(session, User.__table__).values(
        platform_id=platform_id, sub=sub, created_dt=now, updated_dt=now).on_conflict_do_nothing(
        index_elements=["platform_id", "sub"]))
    return int(session.execute(select(User.id).where(User.platform_id == platform_id, User.sub == sub)).scalar_one())


def _note(lms: LmsConnection, context_id: int, report: ReadbackReport, error: str | None) -> None:
    """Keep the report (and the error, if any) on the course's row, made if no launch was noted yet."""
    values: dict[str, Any] = {"readback_error": error[:2000] if error else None, "readback_report": report.to_json()}
    if error is None:
        values["readback_dt"] = utcnow()
    with transaction(lms.sessions) as session:
        platform_id = session.execute(select(Context.platform_id).where(Context.id == context_id)).scalar()
        if platform_id is None:
            return  # the course was deleted meanwhile
        session.execute(dialect_insert(session, CourseServices.__table__).values(
            platform_id=platform_id, context_id=context_id, updated_dt=utcnow()).on_conflict_do_nothing(
            index_elements=["context_id"]))
        session.execute(update(CourseServices).where(CourseServices.context_id == context_id).values(**values))
