"""What a module's cell in the LMS shows: no grade (never a 0) while nothing is met, and, for a module placed
twice, which of its two columns the tool writes (the Gradebook page names both)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from lti_microcred.competencies import operations as ops
from lti_microcred.competencies.models import MicroCredential
from lti_microcred.core import outbox
from lti_microcred.core.db import transaction
from lti_microcred.devplatform.services import DevServices
from lti_microcred.lms.delivery.worker import Worker
from lti_microcred.lms.runtime import LmsRuntime
from lti_microcred.services import Services
from tests.lms.scenario import Course, make_course
from tests.lms.test_views import session_path
from tests.support.driver import Browser, LmsHandle


@pytest.fixture
def course(services: Services, browser: Browser, lms: tuple[LmsHandle, DevServices], runtime: LmsRuntime) -> Course:
    return make_course(services, browser, *lms)


def test_evidence_waiting_for_review_puts_no_zero_in_the_lms(course: Course, services: Services,
                                                             worker: Worker) -> None:
    me = ops.Actor(course.platform_id, course.context_id, course.learners["learner-1"], "Lea", "learner")
    with transaction(services.sessions) as session:
        ops.submit_evidence(session, me, course.competency_ids[0], text="My cleaned data set")
    worker.drain(5)
    assert [s for s in course.dev.score_log if "scoreGiven" in s] == []  # no 0 / 50 while it waits for review
    assert course.grade() is None
    assert course.outbox("module_result") == []


def test_a_grade_that_no_longer_holds_is_emptied_not_zeroed(course: Course, worker: Worker) -> None:
    course.set_result("learner-1", 1)
    worker.drain(5)
    assert course.grade() == 12.5
    course.set_result("learner-1", 0)  # e.g. an override: the competency is not achieved after all
    worker.drain(5)
    last = course.dev.score_log[-1]
    assert "scoreGiven" not in last and last["gradingProgress"] == "Pending"
    assert course.grade() is None
    [delivery] = course.deliveries().values()
    assert (delivery.state, delivery.score_given) == ("sent", None)
    assert course.set_result("learner-1", 0) == 0  # nothing new to say


def test_a_module_placed_twice_writes_one_column_and_the_page_names_the_other(
        services: Services, browser: Browser, client: Any, moodle: LmsHandle, moodle_services: DevServices,
        runtime: LmsRuntime, worker: Worker) -> None:
    course = make_course(services, browser, moodle, moodle_services)
    first = moodle.platform.links[course.link_id or ""]
    second = course.place("Module 1 again, in week 3")  # Moodle makes a grade item for each activity
    assert browser.launch(moodle, "learner-1", link=second.id).status_code == 200
    course.set_result("learner-1", 2)
    worker.drain(5)
    assert course.grade(item_id=course.item_of(first)) == 25.0
    assert course.grade(item_id=course.item_of(second)) is None
    html = re.sub(r"\s+", " ", client.get(session_path(browser, moodle, "instructor-1") + "gradebook/")
                  .get_data(as_text=True))
    assert 'id="extra-placements"' in html
    assert ("“Module 1: Cleaning data” is placed 2 times, each placement with its own gradebook column. The tool "
            "writes its grades to the column of “Module 1: Cleaning data” only; the column of “Module 1 again, in "
            "week 3” stays empty.") in html


def test_a_micro_credential_without_a_credential_column_sends_no_award_to_the_lms(
        course: Course, services: Services, runtime: LmsRuntime, worker: Worker) -> None:
    runtime.handlers.register(outbox.ISSUE_CREDENTIAL, lambda job: None)
    with transaction(services.sessions) as session:
        credential = session.get(MicroCredential, course.credential_id)
        assert credential is not None and credential.gradebook_column  # the default, as before
        credential.gradebook_column = False  # the instructor unticked it on the form
        ops.award_manually(session, course.staff, credential, course.learners["learner-1"], "Portfolio")
    worker.drain(5)
    assert [i for i in course.lms.platform.line_items.values() if i.get("tag") == "microcred-credential"] == []
    assert [m.status for m in course.outbox(outbox.AWARD_PASSBACK)] == ["done"]
    assert course.deliveries() == {}
