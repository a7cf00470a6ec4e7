"""Rosters from NRPS (every member, kept in sync) and grades entered in the LMS read back as evidence,
both queued by the scheduler from launches and run by the worker."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from sqlalchemy import select

from lti_microcred.competencies.models import CompetencyProgress, Evidence
from lti_microcred.core.db import transaction
from lti_microcred.devplatform.services import DevServices
from lti_microcred.lms.delivery.worker import Worker
from lti_microcred.lms.models import CourseServices, RosterEntry
from lti_microcred.lms.roster import sync_roster
from lti_microcred.lms.runtime import LmsRuntime
from lti_microcred.lti.models import LaunchSession, Membership, User
from lti_microcred.services import Services
from tests.lms.scenario import make_course
from tests.support.driver import Browser, LmsHandle


def roster(services: Services) -> dict[str, RosterEntry]:
    with services.read_sessions() as session:
        return {sub: entry for entry, sub in session.execute(
            select(RosterEntry, User.sub).join(User, User.id == RosterEntry.user_id))}


def test_launch_brings_the_whole_roster_then_keeps_it_in_sync(lms: tuple[LmsHandle, DevServices],
                                                              services: Services, browser: Browser,
                                                              runtime: LmsRuntime, worker: Worker) -> None:
    handle, dev = lms
    for i in range(230):
        dev.add_member(f"s{i:03}", name=f"Student {i}", email=f"s{i}@example.edu")
    expected = len(dev.roster())  # the LMS's own users and 230 students
    assert browser.launch(handle, "instructor-1").status_code == 200
    assert runtime.scheduler.tick(force=True) >= 1  # the launch made the course's roster due
    worker.drain(10)
    found = roster(services)
    assert len(found) == expected and found["s007"].status == "active" and found["instructor-1"].role == "instructor"
    with services.read_sessions() as session:
        assert session.scalars(select(User.email).where(User.sub == "s007")).one() == "s7@example.edu"
        row = session.scalars(select(CourseServices)).one()
        assert (row.roster_count, row.roster_error) == (expected, None)
        assert session.query(Membership).count() == expected  # so every part of the tool sees them

    dev.members.pop("s001")  # withdrawn from the course
    dev.add_member("s002", status="Deleted")
    dev.add_member("late-1", name="Late Enrolment")
    context_id = found["s007"].context_id
    report = sync_roster(runtime.connection, context_id)
    pages = math.ceil(expected / (50 if handle.flavour == "canvas" else 100))  # Canvas serves 50 a page at most
    assert (report.members, report.added, report.withdrawn, report.pages) == (expected, 1, 2, pages)
    found = roster(services)
    assert found["s001"].status == "withdrawn" and found["s001"].withdrawn_dt is not None
    assert found["s002"].status == "withdrawn" and found["late-1"].status == "active"
    first_withdrawal = found["s001"].withdrawn_dt
    dev.add_member("s001")  # re-enrolled
    sync_roster(runtime.connection, context_id)
    again = roster(services)
    assert again["s001"].status == "active" and again["s001"].withdrawn_dt is None
    assert again["s002"].withdrawn_dt == found["s002"].withdrawn_dt  # the first withdrawal date is kept
    assert first_withdrawal is not None


def test_roster_errors_are_kept_for_the_instructor(moodle: LmsHandle, moodle_services: DevServices,
                                                   services: Services, browser: Browser, runtime: LmsRuntime,
                                                   worker: Worker) -> None:
    assert browser.launch(moodle, "instructor-1").status_code == 200
    moodle_services.faults.add("400", match="memberships")
    runtime.scheduler.tick(force=True)
    worker.drain(5)
    with services.read_sessions() as session:
        row = session.scalars(select(CourseServices)).one()
        assert "HTTP 400" in (row.roster_error or "") and row.roster_synced_dt is None


def test_grades_entered_in_moodle_become_evidence(moodle: LmsHandle, moodle_services: DevServices,
                                                  services: Services, browser: Browser, runtime: LmsRuntime,
                                                  worker: Worker) -> None:
    """Canvas lists no grade the tool did not write (tests/lms/test_teacher_grades.py)."""
    handle, dev = moodle, moodle_services
    course = make_course(services, browser, handle, dev, requirement="score", points=20)
    dev.add_member("never-launched")
    item = course.column_item_id()
    dev.teacher_grades(item, "learner-1", 16.0)  # the instructor types grades into the LMS gradebook
    dev.teacher_grades(item, "never-launched", 9.0)
    runtime.scheduler.tick(force=True)  # the launches made the course's grades due for read-back
    worker.drain(10)
    with services.read_sessions() as session:
        scores = {(e.learner_id, e.score_given, e.score_maximum) for e in session.scalars(
            select(Evidence).where(Evidence.kind == "lms_score"))}
        ids = dict(session.execute(select(User.sub, User.id).where(User.platform_id == course.platform_id)).all())
        assert scores == {(ids["learner-1"], 16.0, 20.0), (ids["never-launched"], 9.0, 20.0)}
        states = set(session.scalars(select(CompetencyProgress.state).where(
            CompetencyProgress.learner_id == ids["learner-1"])))
        assert states == {"achieved"}  # 80 % against a 70 % threshold
    assert dev.score_log == []  # the tool never writes to a column the LMS grades

    dev.teacher_grades(item, "learner-1", 10.0)  # corrected in the LMS
    with transaction(services.sessions) as session:
        session.execute(CourseServices.__table__.update().values(next_readback_dt=dt.datetime.now(dt.UTC)))
    runtime.scheduler.tick(force=True)
    worker.drain(10)
    with services.read_sessions() as session:
        latest = session.scalars(select(Evidence).where(Evidence.learner_id == ids["learner-1"])
                                 .order_by(Evidence.id.desc())).first()
        assert latest is not None and latest.score_given == 10.0 and latest.supersedes_id is not None
        assert session.query(Evidence).count() == 3  # unchanged grades are not recorded twice


@pytest.mark.parametrize("flavour", ["moodle"])
def test_readback_is_due_again_on_launch_but_not_more_than_once_a_minute(flavour: str, moodle: LmsHandle,
                                                                         moodle_services: DevServices,
                                                                         services: Services, browser: Browser,
                                                                         runtime: LmsRuntime, worker: Worker) -> None:
    assert browser.launch(moodle, "instructor-1").status_code == 200
    runtime.scheduler.tick(force=True)
    worker.drain(5)
    assert browser.launch(moodle, "learner-1").status_code == 200
    assert runtime.scheduler.tick(force=True) == 0  # read back a moment ago: due in a minute, not now
    with services.read_sessions() as session:
        row = session.scalars(select(CourseServices)).one()
        assert row.readback_dt is not None and row.next_readback_dt > dt.datetime.now(dt.UTC)


@pytest.mark.parametrize("flavour", ["moodle"])
def test_launches_outside_a_course_leave_the_scheduler_idle(flavour: str, moodle: LmsHandle, services: Services,
                                                            browser: Browser, runtime: LmsRuntime) -> None:
    """Nothing to note means no write transaction every tick (SQLite has one writer for everyone)."""
    assert browser.launch(moodle, "instructor-1").status_code == 200
    runtime.scheduler.tick(force=True)
    with transaction(services.sessions) as session:  # then many launches without a course (account level)
        course_launch = session.scalars(select(LaunchSession).order_by(LaunchSession.id.desc())).first()
        assert course_launch is not None and course_launch.context_id is not None
        copied = {c.key: getattr(course_launch, c.key) for c in LaunchSession.__table__.columns if c.key != "id"}
        for i in range(60):
            session.add(LaunchSession(**{**copied, "token_hash": f"t{i}", "nonce": f"n{i}", "context_id": None,
                                         "resource_link_id": None}))
    runtime.scheduler.tick(force=True)
    assert not runtime.scheduler._anything_to_do()
