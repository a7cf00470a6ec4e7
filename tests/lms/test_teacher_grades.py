"""Grades teachers enter in the LMS: read back from Moodle even for a module nobody has launched (the Gradebook
page says what was read and why not), kept in Canvas over the tool's next score, and not readable from Canvas
for a column the tool never wrote (the page says so)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select, update

from lti_microcred.competencies import operations as ops
from lti_microcred.competencies.models import Award, Evidence
from lti_microcred.core.db import transaction
from lti_microcred.devplatform.services import DevServices
from lti_microcred.lms.ags import CANVAS_SUBMISSION
from lti_microcred.lms.delivery.worker import Worker
from lti_microcred.lms.readback import read_back
from lti_microcred.lms.runtime import LmsRuntime
from lti_microcred.lti import scopes
from lti_microcred.lti.models import Platform
from lti_microcred.services import Services
from tests.lms.scenario import Course, make_course
from tests.lms.test_views import session_path
from tests.support.driver import Browser, LmsHandle, form_fields
from tests.support.factories import fields


def read_now(client: Any, browser: Browser, lms: LmsHandle) -> str:
    """The instructor presses "Read grades now" on the Gradebook page; returns the page it lands on."""
    base = session_path(browser, lms, "instructor-1")
    html = client.get(base + "gradebook/").get_data(as_text=True)
    answer = client.post(base + "gradebook/read-back", data={"csrf_token": form_fields(html)["csrf_token"]})
    assert answer.status_code == 303
    return re.sub(r"\s+", " ", client.get(answer.headers["Location"]).get_data(as_text=True))  # text as read


def report_rows(html: str) -> dict[str, tuple[str, str]]:
    """Module title -> (read yes/no, what the row says) from the page's read-back report."""
    return {title: (read, re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", text)).strip()) for read, title, text in
            re.findall(r'<tr data-module="\d+" data-read="(\w+)">\s*<th scope="row">([^<]+)</th>\s*<td>(.*?)</td>',
                       html, re.S)}


def lms_scores(services: Services) -> set[tuple[float | None, float | None]]:
    with services.read_sessions() as session:
        return {(e.score_given, e.score_maximum) for e in session.scalars(select(Evidence).where(
            Evidence.kind == "lms_score"))}


def test_moodle_grades_of_a_module_nobody_launched_are_read_and_the_page_says_what(
        services: Services, browser: Browser, client: Any, moodle: LmsHandle, moodle_services: DevServices,
        runtime: LmsRuntime, worker: Worker) -> None:
    course = make_course(services, browser, moodle, moodle_services, requirement="score", placed=False)
    with transaction(services.sessions) as session:  # an LMS-graded module of another credential, placed nowhere
        other_credential = ops.create_micro_credential(session, course.staff, fields(title="Reporting"))
        other = ops.create_module(session, course.context_id, "Module 2: Reporting", 20)
        ops.set_requirement(session, course.staff, other_credential, other, course.competency_ids[0], "score", 50)
    link = course.place()  # Deep Linking placed the module; nobody has opened it since
    course.dev.teacher_grades(course.item_of(link), "learner-1", 40.0)

    html = read_now(client, browser, moodle)
    assert "Grades were read from the LMS just now: 1 grade from 1 module, 1 of them new or changed. 1 module " \
           "was not read (see why below)." in html
    rows = report_rows(html)
    assert rows["Module 1: Cleaning data"] == ("yes", "1 grade read, 1 new or changed")
    read, why = rows["Module 2: Reporting"]
    assert read == "no" and "is not placed in the LMS course yet" in why and "nobody has launched it" in why
    assert "every 15 minutes" in html and "within a minute after someone launches the tool" in html
    assert lms_scores(services) == {(40.0, 50.0)}
    with services.read_sessions() as session:  # 80 % against 70 %: the teacher's grade completed the credential
        assert session.scalars(select(Award.status)).all() == ["active"]


def test_a_read_that_finds_no_column_says_why_instead_of_claiming_success(
        services: Services, browser: Browser, client: Any, moodle: LmsHandle, moodle_services: DevServices,
        runtime: LmsRuntime) -> None:
    course = make_course(services, browser, moodle, moodle_services, requirement="score", placed=False)
    html = read_now(client, browser, moodle)
    assert "0 grades from 0 modules, 0 of them new or changed. 1 module was not read" in html
    read, why = report_rows(html)["Module 1: Cleaning data"]
    assert read == "no" and f"({course.module_key()})" in why and "add it with Deep Linking" in why


@pytest.fixture
def canvas_course(services: Services, browser: Browser, canvas: LmsHandle, canvas_services: DevServices,
                  runtime: LmsRuntime) -> Course:
    return make_course(services, browser, canvas, canvas_services)


def test_canvas_keeps_a_grade_a_teacher_entered_over_the_tools_next_one(canvas_course: Course,
                                                                       worker: Worker) -> None:
    course = canvas_course
    course.set_result("learner-1", 1)
    worker.drain(5)
    assert course.grade() == 12.5
    course.dev.teacher_grades(course.column_item_id(), "learner-1", 40.0)  # Canvas moves no timestamp for it
    posts = len(course.dev.score_log)
    course.set_result("learner-1", 3)
    worker.drain(5)
    assert course.grade() == 40.0
    assert len(course.dev.score_log) == posts  # not even sent
    [delivery] = course.deliveries().values()
    assert delivery.state == "lms_newer"
    assert "a teacher changed this grade in Canvas (it reads 40 / 50" in (delivery.last_error or "")


def test_canvas_keeps_a_teachers_grade_entered_before_the_tools_first(canvas_course: Course, worker: Worker) -> None:
    course = canvas_course
    course.dev.teacher_grades(course.column_item_id(), "learner-1", 44.0)  # no result of the tool's to read yet
    course.set_result("learner-1", 2)
    worker.drain(5)
    assert course.grade() == 44.0
    assert course.dev.score_log[-1][CANVAS_SUBMISSION] == {"new_submission": False, "prioritize_non_tool_grade": True}


def test_canvas_lists_no_grade_the_tool_never_wrote_and_the_page_says_so(
        services: Services, browser: Browser, client: Any, canvas: LmsHandle, canvas_services: DevServices,
        runtime: LmsRuntime) -> None:
    course = make_course(services, browser, canvas, canvas_services, requirement="score", points=20)
    course.dev.teacher_grades(course.column_item_id(), "learner-1", 16.0)
    report = read_back(runtime.connection, course.context_id)
    assert (report.results, report.recorded, report.not_read) == (0, 0, [])  # the column was read: it was empty
    assert lms_scores(services) == set()
    html = read_now(client, browser, canvas)
    assert 'id="canvas-readback"' in html
    assert "Canvas lists only the grades of learners the tool has itself sent a score" in html


def test_a_canvas_key_without_the_results_scope_still_gets_every_score(canvas_course: Course, services: Services,
                                                                      worker: Worker) -> None:
    course = canvas_course
    with transaction(services.sessions) as session:  # an administrator left result.readonly out of the key
        session.execute(update(Platform).where(Platform.id == course.platform_id).values(
            granted_scopes=f"{scopes.AGS_SCORE} {scopes.AGS_LINEITEM} {scopes.AGS_LINEITEM_READONLY}"))
    for met in (1, 3):
        course.set_result("learner-1", met)
        worker.drain(5)
    assert course.grade() == 37.5
    assert [d.state for d in course.deliveries().values()] == ["sent"]
