"""Gradebook delivery through the outbox: module results and awards reach their columns, in order, once."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from sqlalchemy import select

from lti_microcred.competencies import awarding
from lti_microcred.competencies import operations as ops
from lti_microcred.competencies.models import Award
from lti_microcred.core import outbox
from lti_microcred.core.db import transaction
from lti_microcred.devplatform.services import DevServices
from lti_microcred.lms.ags import Ags
from lti_microcred.lms.delivery.jobs import Job
from lti_microcred.lms.delivery.state import cells
from lti_microcred.lms.delivery.worker import Worker, WorkerOptions
from lti_microcred.lms.models import GradebookColumn
from lti_microcred.lms.runtime import LmsRuntime
from lti_microcred.services import Services
from tests.lms.scenario import Course, make_course
from tests.support.driver import Browser, LmsHandle


@pytest.fixture
def course(services: Services, browser: Browser, lms: tuple[LmsHandle, DevServices], runtime: LmsRuntime) -> Course:
    return make_course(services, browser, *lms)


def test_module_result_reaches_the_deep_linking_column(course: Course, worker: Worker) -> None:
    assert course.set_result("learner-1", 1) == 1
    assert course.set_result("learner-1", 1) == 0  # unchanged: nothing to send
    worker.drain(5)
    result = course.dev.score_of(course.column_item_id(), "learner-1")
    assert result is not None and (result["scoreGiven"], result["scoreMaximum"]) == (12.5, 50.0)
    assert result["activityProgress"] == "InProgress"
    canvas_marks = "https://canvas.instructure.com/lti/submission" in course.dev.score_log[-1]
    assert canvas_marks == (course.lms.flavour == "canvas")  # a grade from the tool, not a new submission
    [delivery] = course.deliveries().values()
    assert (delivery.state, delivery.score_given, delivery.sent_dt is not None) == ("sent", 12.5, True)
    with course.services.read_sessions() as session:
        column = session.scalars(select(GradebookColumn)).one()
        assert column.source == "deep_link"


def test_newer_results_coalesce_into_one_post(course: Course, worker: Worker) -> None:
    for met in (1, 2, 3, 4, 2):
        course.set_result("learner-1", met)
    worker.drain(5)
    posts = [s for s in course.dev.score_log if s["userId"] == "learner-1"]
    assert [p["scoreGiven"] for p in posts] == [25.0]  # only the last decision is sent
    assert [m.status for m in course.outbox("module_result")] == ["superseded"] * 4 + ["done"]


def test_a_value_older_than_ours_in_the_lms_is_not_sent_nor_called_an_lms_grade(course: Course, worker: Worker) -> None:
    course.set_result("learner-1", 3)
    worker.drain(5)
    [sent] = course.outbox("module_result")
    late = {**sent.data, "score_given": 12.5, "met": 1,  # decided before the value the LMS already has from us
            "timestamp": (dt.datetime.fromisoformat(sent.data["timestamp"]) - dt.timedelta(seconds=5)).isoformat()}
    with transaction(course.services.sessions) as session:
        outbox.enqueue(session, outbox.MODULE_RESULT, course.platform_id, late, sent.ordering_key)
    posts = len(course.dev.score_log)
    worker.drain(5)
    assert len(course.dev.score_log) == posts  # the LMS was not asked
    assert [m.status for m in course.outbox("module_result")] == ["done", "superseded"]
    with course.services.read_sessions() as session:
        cell = cells(session, course.context_id, [course.module_id], [])[sent.ordering_key]
    assert (cell.state, cell.label, cell.score_given) == ("sent", "In the LMS", 37.5)


def test_moodle_column_found_by_resource_id_or_created_on_the_link(services: Services, browser: Browser,
                                                                   moodle: LmsHandle, moodle_services: DevServices,
                                                                   runtime: LmsRuntime, worker: Worker) -> None:
    """Moodle attaches a line item created with resourceLinkId to the activity (Canvas: test_canvas_columns)."""
    course = make_course(services, browser, moodle, moodle_services, line_item=False)
    course.set_result("learner-1", 4)
    worker.drain(5)
    [item] = moodle.platform.line_items.values()
    assert (item["resourceId"], item["resourceLinkId"], item["tag"]) == (course.module_key(), course.link_id,
                                                                         "microcred-module")
    assert course.dev.score_of(course.column_item_id(), "learner-1")["scoreGiven"] == 50.0


def test_a_deep_linking_column_deleted_in_moodle_is_found_or_created_again(services: Services, browser: Browser,
                                                                          moodle: LmsHandle,
                                                                          moodle_services: DevServices,
                                                                          runtime: LmsRuntime, worker: Worker) -> None:
    """Canvas cannot delete an assignment's own line item through AGS (test_canvas_columns)."""
    course = make_course(services, browser, moodle, moodle_services)
    course.set_result("learner-1", 1)
    worker.drain(5)
    deep_linked = course.column_item_id()
    with course.services.read_sessions() as session:
        column = session.scalars(select(GradebookColumn)).one()
    assert column.source == "deep_link"
    Ags(runtime.client, course.platform_id).delete_line_item(column.lineitem_url or "")  # someone deletes it
    course.set_result("learner-1", 3)
    worker.drain(5)
    item_id = course.column_item_id()
    item = course.lms.platform.line_items[item_id]
    assert item_id != deep_linked and (item["resourceLinkId"], item["tag"]) == (course.link_id, "microcred-module")
    assert course.dev.score_of(item_id, "learner-1")["scoreGiven"] == 37.5
    [delivery] = course.deliveries().values()
    assert delivery.state == "sent"
    assert [m.attempts for m in course.outbox("module_result")] == [1, 2]  # one 404, then the new column
    with course.services.read_sessions() as session:
        assert session.scalars(select(GradebookColumn.source)).one() == "created"


def test_unplaced_module_waits_then_goes_when_placed(services: Services, browser: Browser,
                                                     lms: tuple[LmsHandle, DevServices], runtime: LmsRuntime,
                                                     worker: Worker) -> None:
    handle, dev = lms
    course = make_course(services, browser, handle, dev, placed=False)
    course.set_result("learner-1", 2)
    worker.drain(1)
    [delivery] = course.deliveries().values()
    assert delivery.state == "waiting" and "not placed" in (delivery.last_error or "")
    [row] = course.outbox()
    assert (row.status, row.attempts) == ("pending", 0)  # waiting is not failing
    link = handle.platform.add_link("Module 1", {"microcred_module": course.module_key()},
                                    {"label": "Module 1", "scoreMaximum": 50, "resourceId": course.module_key()})
    assert browser.launch(handle, "instructor-1", link=link.id).status_code == 200
    with transaction(services.sessions) as session:  # an instructor asks for it now instead of in 10 minutes
        session.execute(outbox.OutboxMessage.__table__.update().values(available_dt=row.created_dt))
    worker.drain(5)
    assert dev.score_of(course.column_item_id(), "learner-1")["scoreGiven"] == 25.0


def test_kinds_without_a_handler_stay_pending_and_keep_their_key_in_order(course: Course, worker: Worker) -> None:
    with transaction(course.services.sessions) as session:
        outbox.enqueue(session, outbox.ISSUE_CREDENTIAL, course.platform_id, {"award_id": 1}, "award:1:1")
        outbox.enqueue(session, outbox.AWARD_PASSBACK, course.platform_id, {"award_id": 1, "status": "active"},
                       "award:1:1")
    worker.drain(1)
    assert [(m.kind, m.status, m.attempts) for m in course.outbox()] == [
        ("issue_credential", "pending", 0), ("award_passback", "pending", 0)]


def test_at_most_a_batch_and_the_rows_in_flight_are_sent_but_not_recorded(
        moodle: LmsHandle, services: Services, runtime: LmsRuntime, monkeypatch: pytest.MonkeyPatch) -> None:
    """What a worker that dies at the worst moment leaves for another to send again."""
    worker = runtime.worker(WorkerOptions(batch=20, concurrency=4, poll_seconds=0.05))
    sent: set[int] = set()
    settled: set[int] = set()
    unsettled: list[int] = []
    lock = threading.Lock()

    def probe(job: Job) -> None:
        with lock:
            sent.add(job.message.id)
            unsettled.append(len(sent - settled))

    def settle(results: Any, max_attempts: int) -> int:
        results = list(results)
        count = original(results, max_attempts)
        with lock:
            settled.update(claimed.id for claimed, _ in results)
        return count

    original = worker.queue.settle
    monkeypatch.setattr(worker.queue, "settle", settle)
    runtime.handlers.register("probe", probe)
    with transaction(services.sessions) as session:
        for i in range(100):
            outbox.enqueue(session, "probe", moodle.platform_id, {}, f"probe:{i}")
    try:
        assert worker.drain(10) == 100
    finally:
        worker.stop()
    assert len(settled) == 100 and max(unsettled) <= 20 + 4  # batch + concurrency


def _award(course: Course, services: Services) -> Award:
    with transaction(services.sessions) as session:
        credential = session.get(awarding.MicroCredential, course.credential_id)
        award = ops.award_manually(session, course.staff, credential, course.learners["learner-1"],
                                   "Recognised portfolio")
        session.flush()
        return award


def test_award_and_revocation_reach_a_credential_column(course: Course, services: Services,
                                                        runtime: LmsRuntime, worker: Worker) -> None:
    issued: list[int] = []
    runtime.handlers.register(outbox.ISSUE_CREDENTIAL, lambda job: issued.append(job.message.data["award_id"]))
    runtime.handlers.register(outbox.REVOKE_CREDENTIAL, lambda job: None)
    runtime.set_award_comment(lambda session, award: f"Verify: https://tool.example/verify/{award.key}")
    award = _award(course, services)
    worker.drain(5)
    assert issued == [award.id]
    [(item_id, item)] = [(i, it) for i, it in course.lms.platform.line_items.items()
                         if it.get("tag") == "microcred-credential"]
    assert item["label"] == "Data Analysis Essentials" and "resourceLinkId" not in item
    if course.lms.flavour == "canvas":
        assert course.dev.new_assignments == [item_id]
    given = course.dev.score_of(item_id, "learner-1")
    assert (given["scoreGiven"], given["scoreMaximum"], given["gradingProgress"]) == (100.0, 100.0, "FullyGraded")
    assert given["comment"] == f"Verify: https://tool.example/verify/{award.key}"
    assert course.grade(item_id=item_id) == 100.0
    with transaction(services.sessions) as session:
        ops.revoke(session, course.staff, session.get(Award, award.id), "Plagiarism found")
    worker.drain(5)
    revoked = course.dev.score_of(item_id, "learner-1")
    assert revoked["scoreGiven"] is None and revoked["comment"].startswith("Micro-credential revoked")
    assert course.grade(item_id=item_id) is None  # emptied, not 0: the column no longer counts in the total
    assert len([i for i in course.lms.platform.line_items.values() if i.get("tag") == "microcred-credential"]) == 1


def test_an_award_whose_comment_breaks_is_shown_on_the_cell(course: Course, services: Services,
                                                            runtime: LmsRuntime, worker: Worker) -> None:
    runtime.handlers.register(outbox.ISSUE_CREDENTIAL, lambda job: None)

    def broken(session: object, award: Award) -> str:
        return f"{1 / 0}"

    runtime.set_award_comment(broken)
    _award(course, services)
    worker.run_once()  # the credential is issued
    worker.run_once()  # its passback breaks
    [delivery] = course.deliveries().values()
    assert (delivery.subject_kind, delivery.state) == ("credential", "retrying")
    assert "ZeroDivisionError" in (delivery.last_error or "")
    runtime.set_award_comment(lambda session, award: "Awarded")
    worker.drain(5)
    [delivery] = course.deliveries().values()
    assert (delivery.state, delivery.score_given) == ("sent", 100.0)


def test_domain_evidence_changes_the_module_result(course: Course, services: Services, runtime: LmsRuntime,
                                                   worker: Worker) -> None:
    runtime.handlers.register(outbox.ISSUE_CREDENTIAL, lambda job: None)
    learner = course.learners["learner-1"]
    me = ops.Actor(course.platform_id, course.context_id, learner, "Lea", "learner")

    def accept_two(competency_id: int) -> None:
        with transaction(services.sessions) as session:
            for n in (1, 2):
                piece = ops.submit_evidence(session, me, competency_id, text=f"Piece {n}")
                ops.assess_evidence(session, course.staff, piece, "accepted")

    accept_two(course.competency_ids[0])
    worker.drain(5)
    item = course.column_item_id()
    assert course.dev.score_of(item, "learner-1")["scoreGiven"] == 25.0  # one of two requirements met
    assert course.grade() == 25.0
    accept_two(course.competency_ids[1])
    worker.drain(5)
    assert course.dev.score_of(item, "learner-1")["scoreGiven"] == 50.0
    assert course.grade() == 50.0  # the tool's own earlier grade is replaced (Canvas too)
    assert [m.status for m in course.outbox(outbox.AWARD_PASSBACK)] == ["done"]  # and the credential was earned


def test_evidence_recorded_without_an_app_or_a_worker_queues_the_module_result(
        course: Course, services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(awarding, "EVALUATION_LISTENERS", [])  # a process that never built an app or a worker
    bare = Services(services.settings, services.engine)  # a script's or a command's own database access
    me = ops.Actor(course.platform_id, course.context_id, course.learners["learner-1"], "Lea", "learner")
    with transaction(bare.sessions) as session:
        for n in (1, 2):
            piece = ops.submit_evidence(session, me, course.competency_ids[0], text=f"Piece {n}")
            ops.assess_evidence(session, course.staff, piece, "accepted")
    rows = course.outbox(outbox.MODULE_RESULT)
    assert rows and {r.status for r in rows} == {"pending"}
    assert rows[-1].data["score_given"] == 25.0  # one of two requirements met


def test_modules_graded_in_the_lms_get_no_result_from_the_tool(services: Services, browser: Browser,
                                                              lms: tuple[LmsHandle, DevServices],
                                                              runtime: LmsRuntime) -> None:
    course = make_course(services, browser, *lms, requirement="score")
    with transaction(services.sessions) as session:
        ops.record_lms_score(session, course.staff, course.learners["learner-1"], course.module_id, 90, 100)
    assert course.outbox(outbox.MODULE_RESULT) == []  # the LMS owns that column
