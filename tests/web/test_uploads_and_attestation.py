"""Evidence files (too large, wrong type, empty: refused, nothing kept) and the supervisor's single-use link."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select, update

from lti_microcred.competencies.models import Assessment, AttestationRequest, Evidence
from lti_microcred.core.db import transaction
from lti_microcred.services import Services
from tests.support.driver import Browser, LmsHandle, form_fields, reason_of
from tests.web.support import Visit, build_credential, text_of, visit


@pytest.fixture
def setup(moodle: LmsHandle, browser: Browser, services: Services, competencies: list[int]) -> tuple[Visit, str, int]:
    key = build_credential(visit(browser, services, moodle, "instructor-1"), services, competencies)
    return visit(browser, services, moodle, "learner-1"), key, competencies[0]


def stored_files(services: Services) -> list[Path]:
    root = Path(services.settings.resolved_storage_path)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def evidence_count(services: Services) -> int:
    with services.read_sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Evidence)) or 0)


@pytest.mark.parametrize(("name", "content", "message"), [
    ("setup.pdf", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64,
     "setup.pdf is not really a PDF: it is a Windows program"),
    ("empty.txt", b"", "empty.txt is empty."),
    ("archive.docx", b"PK\x03\x04" + b"\x00" * 64,
     "archive.docx is not really a Word document: it looks like a damaged or encrypted archive"),
    ("binary.txt", b"text\x00with a NUL", "binary.txt is not really a text file: it is binary data"),
    ("page.exe", b"MZ\x90\x00", "page.exe is a Windows program we do not accept. Accepted: PDF,"),
])
def test_refused_files_leave_nothing_behind(setup: tuple[Visit, str, int], services: Services, name: str,
                                            content: bytes, message: str) -> None:
    learner, key, competency = setup
    before = (stored_files(services), evidence_count(services))
    answer = learner.post("/me/evidence", {"credential": key, "competency": str(competency), "text": "See file"},
                          files={"file": (name, content)})
    assert answer.status_code == 422 and message in answer.text
    assert 'role="alert"' in answer.text
    assert (stored_files(services), evidence_count(services)) == before


def test_a_file_over_the_limit_is_refused_while_streaming(setup: tuple[Visit, str, int], services: Services) -> None:
    learner, key, competency = setup
    limit, before = services.settings.upload_max_bytes, stored_files(services)
    answer = learner.post("/me/evidence", {"credential": key, "competency": str(competency)},
                          files={"file": ("big.pdf", b"%PDF-" + b"0" * (limit - 4))})
    assert answer.status_code == 413 and "That is too large" in answer.text and "files up to 10 MB" in answer.text
    assert evidence_count(services) == 0 and stored_files(services) == before
    exact = learner.post("/me/evidence", {"credential": key, "competency": str(competency)},
                         files={"file": ("exact.pdf", b"%PDF-" + b"0" * (limit - 5))})
    assert exact.status_code == 200 and evidence_count(services) == 1


def test_accepted_text_is_served_as_an_attachment_with_its_type(setup: tuple[Visit, str, int]) -> None:
    learner, key, competency = setup
    page = learner.post("/me/evidence", {"credential": key, "competency": str(competency)},
                        files={"file": ("../../notes.html", "<script>alert(1)</script> é".encode())})
    assert page.status_code == 200
    assert "notes.html.txt" in page.text  # no path, and the name says what it really is
    link = re.search(r'href="([^"]+/files/[0-9a-f]+)"', page.text).group(1)  # type: ignore[union-attr]
    download = learner.browser.http.get(learner.base.split("/s/")[0] + link)
    assert download.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Cache-Control"] == "private, no-store"


def request_link(learner: Visit, key: str, competency: int) -> str:
    page = learner.post("/me/workplace", {
        "credential": key, "competency": str(competency), "description": "I rebuilt the weekly sales dashboard.",
        "supervisor_name": "Sam Supervisor", "supervisor_email": "sam@employer.example"})
    assert page.status_code == 200, reason_of(page)
    assert "cannot send e-mail" in text_of(page) and "Copy link" in page.text
    return re.search(r'data-link="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]


def test_supervisor_confirms_once(setup: tuple[Visit, str, int], services: Services) -> None:
    learner, key, competency = setup
    link = request_link(learner, key, competency)
    assert "/attest/" in link and learner.token not in link
    assert "Waiting for your supervisor" in learner.get("/").text
    stranger = requests.Session()  # the supervisor: no LMS, no cookies
    page = stranger.get(link)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    words = text_of(page)
    for expected in ("Lea Learner", "DS.1.1 Skill 1 of DS", "Data Analysis", "Demo course",
                     "I rebuilt the weekly sales dashboard."):
        assert expected in words
    refused = stranger.post(link, data={"answer": "confirm"})
    assert (refused.status_code, reason_of(refused)) == (400, "csrf_failed")
    done = stranger.post(link, data={**form_fields(page.text), "answer": "confirm", "comment": "Yes, she did."})
    assert done.status_code == 200 and 'data-answer="confirmed"' in done.text
    again = stranger.get(link)
    assert (again.status_code, reason_of(again)) == (410, "link_used")
    assert (stranger.post(link, data=form_fields(page.text)).status_code) == 410
    assert "Yes, she did." in learner.get("/").text
    stranger.close()


def test_supervisor_declines_without_a_comment(setup: tuple[Visit, str, int], services: Services) -> None:
    learner, key, competency = setup
    link = request_link(learner, key, competency)
    page = requests.get(link, timeout=10)
    done = requests.post(link, data={**form_fields(page.text), "answer": "decline"}, timeout=10)
    assert 'data-answer="declined"' in done.text
    with services.read_sessions() as session:
        assert session.scalars(select(Assessment.comment)).one() == "Declined by the workplace supervisor."
    assert "Declined by the workplace supervisor." in learner.get("/").text


def test_unknown_and_expired_links(setup: tuple[Visit, str, int], services: Services) -> None:
    learner, key, competency = setup
    link = request_link(learner, key, competency)
    unknown = requests.get(link[:-4] + "AAAA", timeout=10)
    assert (unknown.status_code, reason_of(unknown)) == (404, "link_invalid")
    with transaction(services.sessions) as session:
        session.execute(update(AttestationRequest).values(
            expires_dt=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)))
    expired = requests.get(link, timeout=10)
    assert (expired.status_code, reason_of(expired)) == (410, "link_expired")
    assert "Ask the learner to send a new request" in expired.text
