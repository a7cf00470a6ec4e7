"""Canvas's columns as Canvas keeps them: a module gets exactly one graded column (its assignment's own line
item), never a line item Canvas refuses or ignores; a revocation empties the credential column; an award's
comment is added once, however often its score is sent."""

from __future__ import annotations

import re
import time
from typing import Any

from sqlalchemy import select

from lti_microcred.competencies import operations as ops
from lti_microcred.competencies.models import Award, MicroCredential
from lti_microcred.core import outbox
from lti_microcred.core.db import transaction
from lti_microcred.devplatform.services import DevServices
from lti_microcred.lms.delivery.worker import Worker
from lti_microcred.lms.models import GradebookColumn
from lti_microcred.lms.runtime import LmsRuntime
from lti_microcred.services import Services
from tests.lms.scenario import Course, make_course
from tests.lms.test_views import session_path
from tests.support.driver import Browser, LmsHandle


def wait_until(check: Any, seconds: float) -> Any:
    deadline = time.monotonic() + seconds
    while not (found := check()) and time.monotonic() < deadline:
        time.sleep(0.02)
    return found


def test_a_module_placed_as_a_canvas_link_waits_for_an_assignment_and_never_gets_a_second_line_item(
        services: Services, browser: Browser, client: Any, canvas: LmsHandle, canvas_services: DevServices,
        runtime: LmsRuntime, worker: Worker) -> None:
    course = make_course(services, browser, canvas, canvas_services, line_item=False)  # a module link, no assignment
    course.set_result("learner-1", 2)
    worker.drain(5)
    assert canvas.platform.line_items == {}  # Canvas would have answered 412 (line_items_controller.rb)
    [delivery] = course.deliveries().values()
    assert delivery.state == "waiting" and "place it as an assignment" in (delivery.last_error or "")
    html = re.sub(r"\s+", " ", client.get(session_path(browser, canvas, "instructor-1") + "gradebook/")
                  .get_data(as_text=True))
    assert 'id="canvas-advice"' in html and "Place each module as an <strong>assignment</strong>" in html
    assert "publish it, or learners cannot open it" in html

    link = course.place()  # the teacher places it as an assignment, and a learner opens it
    assert browser.launch(canvas, "learner-1", link=link.id).status_code == 200
    with transaction(services.sessions) as session:  # rather than in 15 minutes
        session.execute(outbox.OutboxMessage.__table__.update().values(available_dt=course.outbox()[0].created_dt))
    worker.drain(5)
    assert course.grade(item_id=course.item_of(link)) == 25.0
    assert [i for i in canvas.platform.line_items.values() if i is not link.line_item] == []


def test_a_canvas_assignment_deleted_in_canvas_is_not_replaced_by_an_ignored_line_item(
        services: Services, browser: Browser, canvas: LmsHandle, canvas_services: DevServices,
        runtime: LmsRuntime, worker: Worker) -> None:
    course = make_course(services, browser, canvas, canvas_services)
    course.set_result("learner-1", 1)
    worker.drain(5)
    item = course.column_item_id()
    canvas_services.canvas_book.delete_assignment(item)  # the teacher deletes the assignment in Canvas
    course.set_result("learner-1", 3)
    worker.drain(5)
    assert list(canvas.platform.line_items) == [item]  # nothing created: Canvas would refuse it (412)
    [delivery] = course.deliveries().values()
    assert delivery.state == "waiting" and "or its assignment was deleted" in (delivery.last_error or "")
    with services.read_sessions() as session:
        assert session.scalars(select(GradebookColumn)).all() == []  # forgotten: found again once placed again


def _award(course: Course, services: Services) -> int:
    with transaction(services.sessions) as session:
        credential = session.get(MicroCredential, course.credential_id)
        award = ops.award_manually(session, course.staff, credential, course.learners["learner-1"], "Portfolio")
        session.flush()
        return award.id


def test_canvas_gets_the_award_comment_once_and_a_revocation_empties_the_column(
        services: Services, browser: Browser, canvas: LmsHandle, canvas_services: DevServices,
        runtime: LmsRuntime, worker: Worker) -> None:
    course = make_course(services, browser, canvas, canvas_services)
    runtime.handlers.register(outbox.ISSUE_CREDENTIAL, lambda job: None)
    runtime.handlers.register(outbox.REVOKE_CREDENTIAL, lambda job: None)
    runtime.set_award_comment(lambda session, award: f"Verify it at https://tool.example/verify/{award.key}")
    canvas_services.faults.add("hang", match="scores", seconds=0.8)  # Canvas applies it; the tool stops waiting
    award_id = _award(course, services)
    worker.run_once()  # the credential is issued
    worker.run_once()  # its score times out
    posted = wait_until(lambda: [s for s in canvas_services.score_log if s.get("comment")], 5)
    [item] = [i for i, it in canvas.platform.line_items.items() if it.get("tag") == "microcred-credential"]
    assert wait_until(lambda: course.grade(item_id=item) == 100.0, 5)
    worker.drain(5)  # the retry, and the cell says it is in the LMS
    assert len(canvas_services.score_log) == 2 and len(posted) == 1
    assert canvas_services.canvas_book.comments_of(item, "learner-1") == [posted[0]["comment"]]  # once
    assert [d.state for d in course.deliveries().values()] == ["sent"]

    with transaction(services.sessions) as session:
        ops.revoke(session, course.staff, session.get(Award, award_id), "Plagiarism found")
    worker.drain(5)
    assert course.grade(item_id=item) is None  # emptied, not 0 (scores_controller.rb `reset_score?`)
    assert "scoreGiven" not in canvas_services.score_log[-1]
    comments = canvas_services.canvas_book.comments_of(item, "learner-1")
    assert len(comments) == 2 and comments[1].startswith("Micro-credential revoked")


def test_a_value_of_the_tools_that_landed_after_a_timeout_is_not_taken_for_a_teachers(
        services: Services, browser: Browser, canvas: LmsHandle, canvas_services: DevServices,
        runtime: LmsRuntime, worker: Worker) -> None:
    course = make_course(services, browser, canvas, canvas_services)
    course.set_result("learner-1", 2)
    worker.drain(5)
    canvas_services.faults.add("hang", match="scores", seconds=0.8)
    course.set_result("learner-1", 0)  # no longer met: the grade is emptied, but the tool stops waiting first
    worker.run_once()
    assert wait_until(lambda: course.grade() is None, 5)  # Canvas applied it meanwhile
    course.set_result("learner-1", 3)
    worker.drain(5)
    assert course.grade() == 37.5  # its own emptied cell, not a teacher's: the newer value goes
    assert [d.state for d in course.deliveries().values()] == ["sent"]
