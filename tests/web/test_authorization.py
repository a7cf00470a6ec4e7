"""Refusals: every page and action is scoped to the launch's platform, course, role and (for learners) person.

Objects of another course, LMS or learner answer 404 `not_found` (their existence is not confirmed); a role
that may not act answers 403 `not_allowed`; a form without its CSRF token answers 400 `csrf_failed`.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from lti_microcred.app.delivery import drain
from lti_microcred.competencies.models import Award, Evidence
from lti_microcred.credentials.models import IssuedCredential
from lti_microcred.services import Services
from tests.support.driver import Browser, LmsHandle, reason_of
from tests.web.support import Visit, add_framework, build_credential, visit

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def submitted(learner: Visit, key: str, competency: int, name: str = "shot.png") -> str:
    """The learner sends a file as evidence; returns the evidence key."""
    page = learner.post("/me/evidence", {"credential": key, "competency": str(competency), "text": "Mine."},
                        files={"file": (name, PNG, "image/png")})
    assert page.status_code == 200, reason_of(page)
    return re.findall(r'data-evidence="([0-9a-f]+)"', page.text)[0]


def learner_id(services: Services, evidence_key: str) -> int:
    with services.read_sessions() as session:
        return session.scalars(select(Evidence.learner_id).where(Evidence.key == evidence_key)).one()


def refused(response: object, status: int, reason: str) -> None:
    assert (response.status_code, reason_of(response)) == (status, reason)  # type: ignore[attr-defined]


@pytest.fixture
def world(moodle: LmsHandle, browser: Browser, services: Services, competencies: list[int]) -> dict[str, object]:
    """A published credential in Moodle course DEMO-101 with one file of learner-1 as evidence."""
    instructor = visit(browser, services, moodle, "instructor-1")
    key = build_credential(instructor, services, competencies)
    lea = visit(browser, services, moodle, "learner-1")
    evidence = submitted(lea, key, competencies[0])
    return {"instructor": instructor, "key": key, "lea": lea, "evidence": evidence,
            "lea_id": learner_id(services, evidence)}


def test_a_learner_cannot_reach_another_learners_evidence(world: dict, moodle: LmsHandle, browser: Browser,
                                                          services: Services) -> None:
    lou = visit(browser, services, moodle, "learner-2")
    refused(lou.get(f"/files/{world['evidence']}"), 404, "not_found")
    assert world["evidence"] not in lou.landing.text
    assert world["lea"].get(f"/files/{world['evidence']}").status_code == 200  # the owner can
    refused(lou.get("/files/not-a-key"), 404, "not_found")


def test_a_learner_cannot_use_staff_pages(world: dict, moodle: LmsHandle, browser: Browser,
                                          services: Services) -> None:
    lea, key = world["lea"], world["key"]
    for path in ("/credentials/new", f"/credentials/{key}", "/review/", "/matrix/", "/matrix/export.csv",
                 f"/learners/{world['lea_id']}"):
        refused(lea.get(path), 403, "not_allowed")
    for path, data in ((f"/credentials/{key}/status", {"status": "archived"}),
                       ("/credentials/", {"title": "Mine"}),
                       (f"/review/{world['evidence']}", {"decision": "accepted"}),
                       (f"/learners/{world['lea_id']}/award", {"credential": key, "reason": "I deserve it"})):
        refused(lea.post(path, data), 403, "not_allowed")
    with services.read_sessions() as session:
        assert session.scalar(select(func.count()).select_from(Award)) == 0


def test_an_assessor_reviews_but_does_not_build_award_or_revoke(world: dict, moodle: LmsHandle, browser: Browser,
                                                                services: Services) -> None:
    ta, key, lea_id = visit(browser, services, moodle, "ta-1"), world["key"], world["lea_id"]
    assert ta.get("/matrix/").status_code == 200 and ta.get(f"/learners/{lea_id}").status_code == 200
    refused(ta.get("/credentials/new"), 403, "not_allowed")
    refused(ta.post(f"/credentials/{key}/status", {"status": "archived"}), 403, "not_allowed")
    refused(ta.post(f"/learners/{lea_id}/award", {"credential": key, "reason": "Because"}), 403, "not_allowed")
    refused(ta.post(f"/learners/{lea_id}/override", {"credential": key, "competency": "1", "reason": "x"}),
            403, "not_allowed")
    awarded = world["instructor"].post(f"/learners/{lea_id}/award", {"credential": key, "reason": "Portfolio"})
    award_key = re.search(r'data-award="([0-9a-f]+)" data-status="active"', awarded.text).group(1)  # type: ignore
    refused(ta.post(f"/learners/{lea_id}/awards/{award_key}/revoke", {"reason": "No"}), 403, "not_allowed")
    assert ta.post(f"/review/{world['evidence']}", {"decision": "accepted"}).status_code == 200


def test_an_instructor_of_another_course_reaches_nothing(world: dict, moodle: LmsHandle, browser: Browser,
                                                         services: Services, other_course: object) -> None:
    with other_course:  # type: ignore[attr-defined]
        elsewhere = visit(browser, services, moodle, "instructor-1")
    assert "Another course" in elsewhere.landing.text and world["key"] not in elsewhere.landing.text
    key, evidence, lea_id = world["key"], world["evidence"], world["lea_id"]
    for path in (f"/credentials/{key}", f"/credentials/{key}/edit", f"/files/{evidence}", f"/learners/{lea_id}"):
        refused(elsewhere.get(path), 404, "not_found")
    for path, data in ((f"/credentials/{key}/status", {"status": "archived"}),
                       (f"/credentials/{key}/modules", {"title": "Sneaky"}),
                       (f"/review/{evidence}", {"decision": "rejected", "comment": "no"}),
                       (f"/learners/{lea_id}/award", {"credential": key, "reason": "x"})):
        refused(elsewhere.post(path, data), 404, "not_found")
    export = elsewhere.get("/matrix/export.csv").text
    assert "Lea Learner" not in export
    awarded = world["instructor"].post(f"/learners/{lea_id}/award", {"credential": key, "reason": "Portfolio"})
    award_key = re.search(r'data-award="([0-9a-f]+)" data-status="active"', awarded.text).group(1)  # type: ignore
    drain(services)  # the award's credential is issued
    with services.read_sessions() as session:
        public_id = session.scalars(select(IssuedCredential.public_id)).one()
    for path, data in ((f"/learners/{lea_id}/override", {"credential": key, "competency": "1", "reason": "x"}),
                       (f"/learners/{lea_id}/awards/{award_key}/revoke", {"reason": "x"}),
                       (f"/issued/{public_id}/status", {"action": "suspend", "reason": "x"}),
                       (f"/issued/{public_id}/reissue", {})):
        refused(elsewhere.post(path, data), 404, "not_found")
    with services.read_sessions() as session:
        assert session.scalars(select(IssuedCredential.status)).all() == ["active"]
        assert session.scalars(select(Award.status)).all() == ["active"]


def test_a_user_of_another_lms_reaches_nothing(world: dict, canvas: LmsHandle, browser: Browser,
                                               services: Services) -> None:
    add_framework(services, canvas.platform_id, prefix="CV")
    teacher = visit(browser, services, canvas, "instructor-1")  # same user id and course id, other LMS
    key, evidence, lea_id = world["key"], world["evidence"], world["lea_id"]
    assert key not in teacher.landing.text
    for path in (f"/credentials/{key}", f"/files/{evidence}", f"/learners/{lea_id}"):
        refused(teacher.get(path), 404, "not_found")
    refused(teacher.post(f"/review/{evidence}", {"decision": "accepted"}), 404, "not_found")
    new_credential = teacher.get("/credentials/new")
    assert new_credential.status_code == 200
    canvas_learner = visit(browser, services, canvas, "learner-1")
    refused(canvas_learner.get(f"/files/{evidence}"), 404, "not_found")
    refused(canvas_learner.post("/me/evidence", {"credential": key, "competency": "1", "text": "x"}),
            404, "not_found")


def test_forms_need_the_csrf_token(world: dict) -> None:
    lea, instructor, key = world["lea"], world["instructor"], world["key"]
    refused(lea.post("/me/evidence", {"credential": key, "competency": "1", "text": "x"}, csrf=False),
            400, "csrf_failed")
    refused(instructor.post("/credentials/", {"title": "No token"}, csrf=False), 400, "csrf_failed")
    refused(instructor.post(f"/review/{world['evidence']}", {"decision": "accepted", "csrf_token": "forged"},
                            csrf=False), 400, "csrf_failed")


def test_learners_submit_only_for_published_credentials_of_their_course(
        moodle: LmsHandle, browser: Browser, services: Services, competencies: list[int]) -> None:
    instructor = visit(browser, services, moodle, "instructor-1")
    draft = build_credential(instructor, services, competencies, title="Draft one", publish=False)
    lea = visit(browser, services, moodle, "learner-1")
    assert draft not in lea.landing.text
    refused(lea.post("/me/evidence", {"credential": draft, "competency": str(competencies[0]), "text": "x"}),
            404, "not_found")
    published = build_credential(instructor, services, competencies, title="Published one")
    refused(lea.post("/me/evidence", {"credential": published, "competency": str(competencies[2]), "text": "x"}),
            404, "not_found")  # DS.1.3 is not required by it
