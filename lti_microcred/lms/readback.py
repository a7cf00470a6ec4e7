"""Grades entered in the LMS gradebook come back as evidence: for each module graded in the LMS (it has a
`score` requirement), the results of its column are read through AGS and recorded with the domain's
`record_lms_score`, which ignores unchanged values and re-evaluates the learner's credentials."""

from __future__ import annotations

from dataclasses import dataclass
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
class ReadbackReport:
    modules: int
    results: int
    recorded: int


def lms_graded_modules(lms: LmsConnection, context_id: int) -> list[tuple[int, int]]:
    """(module id, platform id) of the course's modules whose requirements include an LMS score."""
    with lms.read_sessions() as session:
        graded = select(Requirement.module_id).where(Requirement.kind == SCORE)
        return [(r.id, r.platform_id) for r in session.execute(
            select(Module.id, Context.platform_id).join(Context, Context.id == Module.context_id)
            .where(Module.context_id == context_id, Module.id.in_(graded)).order_by(Module.id))]


def read_back(lms: LmsConnection, context_id: int) -> ReadbackReport:
    """Turn the LMS's results for the course's LMS-graded modules into evidence (one transaction each)."""
    modules = lms_graded_modules(lms, context_id)
    seen = recorded = 0
    try:
        for module_id, platform_id in modules:
            try:
                column = lms.columns.module(context_id, module_id, create=False)
            except NotReady:
                continue  # not placed, or no column in the LMS yet: nothing to read
            results = Ags(lms.client, platform_id).results(column.lineitem_url)
            seen += len(results)
            recorded += _record(lms, platform_id, context_id, module_id, results)
    except ServiceError as exc:
        _note(lms, context_id, str(exc))
        raise
    _note(lms, context_id, None)
    return ReadbackReport(len(modules), seen, recorded)


def _record(lms: LmsConnection, platform_id: int, context_id: int, module_id: int,
            results: list[dict[str, Any]]) -> int:
    scores = [(str(r["userId"])[:255], float(r["resultScore"]), float(r.get("resultMaximum") or 1.0))
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


def _note(lms: LmsConnection, context_id: int, error: str | None) -> None:
    values: dict[str, Any] = {"readback_error": error[:2000] if error else None}
    if error is None:
        values["readback_dt"] = utcnow()
    with transaction(lms.sessions) as session:
        session.execute(update(CourseServices).where(CourseServices.context_id == context_id).values(**values))
