"""A Moodle course as competency ratings need it: the loopback Moodle launching with Moodle's own ids (course 7,
learner 42, teacher 2), the institution's framework imported from its Moodle CSV export, a published
micro-credential asking for two of its competencies, and Moodle's side (web-service token, course competencies,
enrolment) arranged on the loopback Moodle's web services."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from lti_microcred.competencies import operations as ops
from lti_microcred.competencies.audit import Actor
from lti_microcred.competencies.models import Competency, MicroCredential
from lti_microcred.core import outbox
from lti_microcred.core.db import transaction
from lti_microcred.core.outbox import OutboxMessage
from lti_microcred.devplatform.data import DevUser
from lti_microcred.devplatform.moodle_webservice import MoodleSite
from lti_microcred.lms.models import Delivery
from lti_microcred.lms.moodle import admin
from lti_microcred.lms.moodle.models import SUBJECT, MoodleRatingSettings
from lti_microcred.lti.models import Context, User
from lti_microcred.services import Services
from tests.support.driver import Browser, LmsHandle
from tests.support.factories import fields

CSV = Path(__file__).resolve().parent.parent / "fixtures" / "frameworks" / "digital_skills_moodle.csv"
COURSE, LEARNER, TEACHER = 7, 42, 2
RATED = {"DS.1.1.1": 101, "DS.1.1.2": 102}  # the tool's idnumber -> Moodle's competency id
MOODLE_PEOPLE = {str(LEARNER): DevUser(str(LEARNER), "Lea Learner", "lea@example.edu", "learner", "Lea", "Learner"),
                 str(TEACHER): DevUser(str(TEACHER), "Ian Instructor", "ian@example.edu", "instructor", "Ian",
                                       "Instructor")}


def arrange_moodle(site: MoodleSite, in_course: tuple[str, ...] = ("DS.1.1.1", "DS.1.1.2")) -> str:
    """The framework and competencies as Moodle has them (ids of its own), learner 42 enrolled in course 7, and
    a least-privilege token for course 7. Returns the token."""
    site.reset()
    site.add_framework(11, "DSL-2025")
    site.add_framework(12, "OTHER")  # an unrelated framework reusing an idnumber: never rated
    site.add_competency(900, "DS.1.1.1", 12, (COURSE,))
    for idnumber, moodle_id in RATED.items():
        site.add_competency(moodle_id, idnumber, 11, (COURSE,) if idnumber in in_course else ())
    site.enrol(COURSE, LEARNER)
    return site.add_token(courses=(COURSE,))


@dataclass
class MoodleCourse:
    services: Services
    lms: LmsHandle
    site: MoodleSite
    context_id: int
    credential_id: int
    learner_id: int
    staff: Actor
    competencies: dict[str, int]  # idnumber -> the tool's competency id

    def decide(self, idnumber: str, achieved: bool) -> None:
        """An instructor's override: the competency achieved (or no longer) for learner 42."""
        with transaction(self.services.sessions) as session:
            credential = session.get(MicroCredential, self.credential_id)
            assert credential is not None
            ops.override_competency(session, self.staff, credential, self.learner_id, self.competencies[idnumber],
                                    achieved, "Seen at work" if achieved else "Misjudged")

    def enable(self, token: str) -> None:
        with transaction(self.services.sessions) as session:
            admin.enable(session, admin.token_box(self.services.settings), self.lms.platform_id, token)

    def settings(self) -> MoodleRatingSettings:
        with self.services.read_sessions() as session:
            row = admin.settings_of(session, self.lms.platform_id)
            assert row is not None
            return row

    def rows(self) -> list[OutboxMessage]:
        with self.services.read_sessions() as session:
            return list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == outbox.RATE_COMPETENCY)
                                        .order_by(OutboxMessage.id)))

    def deliveries(self) -> dict[int, Delivery]:
        """The visible state per competency (the tool's id)."""
        with self.services.read_sessions() as session:
            return {d.subject_id: d for d in session.scalars(select(Delivery).where(Delivery.subject_kind == SUBJECT))}

    def grades(self) -> list[int]:
        return [entry["grade"] for entry in self.site.rating_log]


def make_moodle_course(services: Services, browser: Browser, lms: LmsHandle, site: MoodleSite) -> MoodleCourse:
    assert browser.launch(lms, str(TEACHER)).status_code == 200
    assert browser.launch(lms, str(LEARNER)).status_code == 200
    with transaction(services.sessions) as session:
        context = session.scalars(select(Context).where(Context.platform_id == lms.platform_id)).one()
        users = {u.sub: u.id for u in session.scalars(select(User).where(User.platform_id == lms.platform_id))}
        staff = Actor(lms.platform_id, context.id, users[str(TEACHER)], "Ian Instructor", "instructor")
        ops.import_competency_framework(session, staff, CSV.read_bytes(), CSV.name)
        competencies = {c.identifier: c.id for c in session.scalars(select(Competency).where(
            Competency.identifier.in_(list(RATED))))}
        module = ops.create_module(session, context.id, "Module 1: Searching", 100.0)
        credential = ops.create_micro_credential(session, staff, fields(title="Searching well"))
        for competency_id in competencies.values():  # graded in the LMS: no module results to send
            ops.set_requirement(session, staff, credential, module, competency_id, "score", 70)
        ops.set_status(session, staff, credential, "published")
        course = MoodleCourse(services, lms, site, context.id, credential.id, users[str(LEARNER)], staff,
                              competencies)
    return course


def payloads(course: MoodleCourse) -> list[dict[str, object]]:
    return [json.loads(m.payload) for m in course.rows()]
