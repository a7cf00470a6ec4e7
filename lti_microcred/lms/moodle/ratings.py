"""The RATE_COMPETENCY handler: a learner's course competency rated in Moodle, in the order it was decided.

For each outbox row (one ordering key per course, competency and learner, so an achievement and its revocation
are sent in that order): nothing at all unless the registration has ratings enabled; otherwise the Moodle ids
(the launch's `sub` is Moodle's user id and its context id the course id: mod/lti/locallib.php,
lti_get_launch_data and lti_build_request), the course's competency with the tool's idnumber, the value to rate
with (scales.Scale.grade), then core_competency_grade_competency_in_course(courseid, userid, competencyid, grade,
note) (competency/classes/external.php, grade_competency_in_course).

What the instructor and the admin see is the delivery row of the key (subject kind `moodle_rating`): rated, with
the value and when; retrying after a network error or a 5xx; failed with Moodle's reason (a refused token, a
missing capability, a competency not in the course), which is never retried on its own. Problems only an
administrator can fix are also kept on the registration's settings for `microcred moodle-ratings status`.
A rating sent again after a crash is the same value again: Moodle records one more evidence entry, nothing else.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from lti_microcred.competencies.models import Competency, Framework
from lti_microcred.competencies.rating_changes import ACHIEVED_STATUS
from lti_microcred.core import outbox
from lti_microcred.core.config import Settings
from lti_microcred.core.db import transaction
from lti_microcred.lms.delivery.jobs import (
    DONE,
    RECORD_STATES,
    SUPERSEDED,
    DeliveryRecord,
    HandlerRegistry,
    Job,
    Outcome,
)
from lti_microcred.lms.errors import PERMANENT, ServiceError, UnexpectedError
from lti_microcred.lms.moodle.admin import open_token, record_problem, settings_of, token_box
from lti_microcred.lms.moodle.models import SUBJECT
from lti_microcred.lms.moodle.scales import CompetencyDirectory
from lti_microcred.lms.moodle.webservice import GRADE_IN_COURSE, MoodleError, MoodleWebService
from lti_microcred.lti.models import Context, User

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rating:
    """One row's rating as Moodle needs it, read from the database when it is sent."""

    achieved: bool
    when: dt.datetime
    user_sub: str
    course: str
    idnumber: str
    framework_idnumber: str
    competency: str


def resolve(session: Session, platform_id: int, data: dict[str, Any]) -> Rating | None:
    """None when the learner, course or competency is gone (nothing left to rate or to show)."""
    user = session.get(User, data["learner_id"])
    context = session.get(Context, data["context_id"])
    competency = session.get(Competency, data["competency_id"])
    framework = session.get(Framework, competency.framework_id) if competency is not None else None
    if user is None or context is None or competency is None or framework is None or context.platform_id != platform_id:
        return None
    return Rating(data["status"] == ACHIEVED_STATUS, dt.datetime.fromisoformat(data["timestamp"]), user.sub,
                  context.lti_context_id, competency.identifier, framework.identifier, competency.short_name)


def moodle_id(value: str, what: str) -> int:
    if not value.isascii() or not value.isdigit() or int(value) <= 0:
        raise ServiceError(f"the LMS's {what} id {value!r} is not a Moodle {what} id (a number): is this "
                           "registration a Moodle site?", PERMANENT)
    return int(value)


@dataclass(frozen=True)
class Target:
    """The learner's cell of one competency in one course."""

    job: Job
    data: dict[str, Any]

    def settled(self, outcome: Outcome, grade: int | None = None, when: dt.datetime | None = None) -> Outcome:
        m, d = self.job.message, self.data
        outcome.record = DeliveryRecord(m.ordering_key, m.platform_id, d["context_id"], SUBJECT, d["competency_id"],
                                        d["learner_id"], RECORD_STATES[outcome.status], score_given=grade,
                                        score_timestamp=when, http_status=outcome.http_status, error=outcome.error)
        return outcome


class MoodleRatings:
    """The handler of one process, with its cache of the courses' competencies."""

    def __init__(self, settings: Settings) -> None:
        self.box = token_box(settings)
        self.tool_name = " ".join(settings.tool_name.replace("<", " ").replace(">", " ").split())[:100]
        self.directory = CompetencyDirectory()

    def __call__(self, job: Job) -> Outcome | None:
        with job.lms.read_sessions() as session:
            config = settings_of(session, job.message.platform_id)
            if config is None or not config.enabled:
                return None  # off: nothing is sent, nothing is shown
            rating = resolve(session, job.message.platform_id, job.message.data)
        if rating is None:
            return None
        target = Target(job, job.message.data)
        try:
            return self._rate(job, MoodleWebService(job.lms.http.outbound, config.base_url,
                                                    open_token(self.box, config)), rating, target)
        except ServiceError as exc:
            return self._failed(job, target, exc)
        except Exception as exc:  # a bug here must still reach the cell: retried, then failed
            log.exception("outbox row %s (%s) failed unexpectedly", job.message.id, job.message.kind)
            return target.settled(job.outcome(UnexpectedError(exc)))

    def _rate(self, job: Job, ws: MoodleWebService, rating: Rating, target: Target) -> Outcome:
        last = job.message.last_sent
        if last is not None and rating.when < last:
            return Outcome(SUPERSEDED, "a newer rating of ours is already in Moodle")
        course_id, user_id = moodle_id(rating.course, "course"), moodle_id(rating.user_sub, "user")
        competency = self.directory.find(ws, course_id, rating.idnumber, rating.framework_idnumber)
        grade = self.directory.scale(ws, competency).grade(rating.achieved)
        ws.call(GRADE_IN_COURSE, courseid=course_id, userid=user_id, competencyid=competency.id, grade=grade,
                note=self.note(rating))
        return target.settled(Outcome(DONE, http_status=200), grade, rating.when)

    def note(self, rating: Rating) -> str:
        """The evidence note Moodle shows with the rating (plain text: PARAM_NOTAGS)."""
        if rating.achieved:
            return f"{self.tool_name}: competency achieved ({rating.when:%Y-%m-%d})."
        return (f"{self.tool_name}: competency revoked ({rating.when:%Y-%m-%d}), no longer achieved; rated with the "
                "lowest value of the scale.")

    def _failed(self, job: Job, target: Target, exc: ServiceError) -> Outcome:
        if isinstance(exc, MoodleError) and exc.admin_problem:
            with transaction(job.lms.sessions) as session:
                record_problem(session, job.message.platform_id, str(exc))
        return target.settled(job.outcome(exc))


def register_moodle_ratings(handlers: HandlerRegistry, settings: Settings) -> MoodleRatings:
    """Competency ratings in Moodle, for the registrations that enabled them (not coalesced: Moodle keeps every
    rating as evidence, so an achievement and its revocation are both sent, in order)."""
    handler = MoodleRatings(settings)
    handlers.register(outbox.RATE_COMPETENCY, handler)
    return handler
