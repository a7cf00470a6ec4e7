"""Credentials issued in a course: the list reads on a phone and offers Suspend, Re-issue and Revoke; each takes
effect only from its confirmation page, which says what will happen; a POST that skipped it changes nothing."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func, select

from lti_microcred.app.delivery import drain
from lti_microcred.competencies.models import Award
from lti_microcred.credentials.models import IssuedCredential
from lti_microcred.lti.models import User
from lti_microcred.services import Services
from tests.support.driver import Browser, LmsHandle
from tests.web.support import build_credential, text_of, text_of_html, visit

PUBLIC_PAGE = "The reason is shown to the learner and to anyone who checks this credential."


@pytest.fixture
def issued(moodle: LmsHandle, browser: Browser, services: Services, competencies: list[int]) -> dict[str, Any]:
    """Lea holds Data Analysis (awarded by hand) and its credential is issued."""
    instructor = visit(browser, services, moodle, "instructor-1")
    key = build_credential(instructor, services, competencies)
    visit(browser, services, moodle, "learner-1")
    with services.read_sessions() as session:
        lea = session.scalars(select(User.id).where(User.sub == "learner-1")).one()
    assert instructor.post(f"/learners/{lea}/award", {"credential": key, "reason": "Portfolio"}).status_code == 200
    drain(services)
    with services.read_sessions() as session:
        public_id = session.scalars(select(IssuedCredential.public_id)).one()
    return {"instructor": instructor, "public_id": public_id, "lea": lea}


def state(services: Services) -> tuple[list[str], int, list[str]]:
    """Statuses of the current credentials, how many were ever issued, the awards' statuses."""
    with services.read_sessions() as session:
        current = session.scalars(select(IssuedCredential.status).where(IssuedCredential.superseded_dt.is_(None)))
        return (list(current), int(session.scalar(select(func.count(IssuedCredential.id))) or 0),
                list(session.scalars(select(Award.status))))


def test_the_list_offers_each_action_behind_a_confirmation(issued: dict[str, Any]) -> None:
    listing = issued["instructor"].get("/issued/")
    row = re.search(rf'<tr data-public-id="{issued["public_id"]}".*?</tr>', listing.text, re.S).group(0)  # type: ignore
    assert 'class="data stacked"' in listing.text
    assert [label for label in re.findall(r'data-label="([^"]+)"', row)] == [
        "Learner", "Micro-credential", "Issued", "Status", "Actions"]
    for action, label in (("suspend", "Suspend…"), ("reissue", "Re-issue…"), ("revoke", "Revoke…")):
        assert f'/issued/{issued["public_id"]}/{action}">{label}' in row
    assert "Valid" in text_of_html(row) and "<form" not in row  # nothing acts from the list but Reinstate


def test_suspend_only_from_its_confirmation_page(issued: dict[str, Any], services: Services) -> None:
    instructor, public_id = issued["instructor"], issued["public_id"]
    page = instructor.get(f"/issued/{public_id}/suspend")
    words = text_of(page)
    assert "Suspend “Data Analysis” for Lea Learner?" in words and PUBLIC_PAGE in words
    assert "with your reason, and it no longer verifies as valid" in words
    skipped = instructor.post(f"/issued/{public_id}/status", {"action": "suspend", "reason": "Exam board review"})
    assert skipped.status_code == 200 and 'data-action="suspend"' in skipped.text
    assert "Exam board review</textarea>" in skipped.text and state(services)[0] == ["active"]
    no_reason = instructor.post(f"/issued/{public_id}/status", {"action": "suspend", "confirmed": "yes"})
    assert no_reason.status_code == 422 and 'class="error-summary"' in no_reason.text
    assert '<a href="#reason">' in no_reason.text and state(services)[0] == ["active"]
    done = instructor.post(f"/issued/{public_id}/status", {"action": "suspend", "confirmed": "yes",
                                                           "reason": "Exam board review"})
    assert done.status_code == 200 and state(services)[0] == ["suspended"] and "is suspended" in text_of(done)
    assert "Reinstate" in done.text and "Exam board review" in text_of(done)
    back = instructor.post(f"/issued/{public_id}/status", {"action": "reinstate"})  # not destructive: one click
    assert back.status_code == 200 and state(services)[0] == ["active"]
    audit = text_of_html(instructor.get(f"/learners/{issued['lea']}").text.split('id="audit"', 1)[1])
    assert "Ian Instructor suspended “Data Analysis” for Lea Learner. Exam board review" in audit
    assert "Ian Instructor reinstated “Data Analysis” for Lea Learner." in audit


def test_reissue_only_from_its_confirmation_page(issued: dict[str, Any], services: Services) -> None:
    instructor, public_id = issued["instructor"], issued["public_id"]
    page = text_of(instructor.get(f"/issued/{public_id}/reissue"))
    assert "Re-issue “Data Analysis” for Lea Learner?" in page and "marked as replaced" in page
    skipped = instructor.post(f"/issued/{public_id}/reissue")
    assert skipped.status_code == 200 and 'data-action="reissue"' in skipped.text and state(services)[1] == 1
    done = instructor.post(f"/issued/{public_id}/reissue", {"confirmed": "yes"})
    assert done.status_code == 200 and state(services)[:2] == (["active"], 2)
    assert "A new credential was issued" in text_of(done) and public_id not in done.text


def test_revoke_from_the_list_only_from_its_confirmation_page(issued: dict[str, Any], services: Services) -> None:
    instructor, public_id = issued["instructor"], issued["public_id"]
    page = text_of(instructor.get(f"/issued/{public_id}/revoke"))
    assert "Revoke “Data Analysis” for Lea Learner?" in page and PUBLIC_PAGE in page
    assert "cannot be reinstated" in page
    skipped = instructor.post(f"/issued/{public_id}/revoke", {"reason": "Plagiarism"})
    assert skipped.status_code == 200 and 'data-action="revoke"' in skipped.text
    assert state(services)[2] == ["active"]
    no_reason = instructor.post(f"/issued/{public_id}/revoke", {"confirmed": "yes"})
    assert no_reason.status_code == 422 and state(services)[2] == ["active"]
    done = instructor.post(f"/issued/{public_id}/revoke", {"confirmed": "yes", "reason": "Plagiarism"})
    assert done.status_code == 200 and state(services)[2] == ["revoked"]
    drain(services)
    listing = instructor.get("/issued/")
    row = text_of_html(re.search(r'<tr data-public-id=.*?</tr>', listing.text, re.S).group(0))  # type: ignore
    assert "Revoked Plagiarism" in row and "Revoke…" not in row
    again = instructor.post(f"/issued/{public_id}/revoke", {"confirmed": "yes", "reason": "Twice"})
    assert again.status_code == 422 and "revoked already" in text_of(again)
    audit = text_of_html(instructor.get(f"/learners/{issued['lea']}").text.split('id="audit"', 1)[1])
    assert "Ian Instructor revoked “Data Analysis” for Lea Learner. Plagiarism" in audit
