"""`microcred framework import|list` as a real process, and the frameworks page after a real launch."""

from __future__ import annotations

import json
import re
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import func, select

from lti_microcred.competencies.importers import import_framework
from lti_microcred.competencies.importers.catalogue import competency_tree
from lti_microcred.competencies.models import AuditEntry, Competency, Framework
from lti_microcred.core.db import transaction
from lti_microcred.services import Services
from tests.support.driver import Browser, LmsHandle, form_fields, reason_of
from tests.test_cli import microcred
from tests.web.support import text_of

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "frameworks"
CANVAS = "https://canvas.instructure.com"
MOODLE = "https://moodle.example.edu"


def _add(tmp: Path, issuer: str, client_id: str) -> None:
    result = microcred(tmp, "platform", "add", "--issuer", issuer, "--client-id", client_id,
                       "--auth-login-url", f"{issuer}/auth", "--auth-token-url", f"{issuer}/token",
                       "--key-set-url", f"{issuer}/jwks")
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh instance with one Moodle and two hosted-Canvas institutions (same issuer)."""
    tmp = tmp_path_factory.mktemp("framework-cli")
    assert microcred(tmp, "init").returncode == 0
    _add(tmp, MOODLE, "moodle-client")
    _add(tmp, CANVAS, "10000000000001")
    _add(tmp, CANVAS, "10000000000002")
    return tmp


def test_cli_imports_reimports_and_lists(instance: Path) -> None:
    path = str(FIXTURES / "digital_skills_moodle.csv")
    first = microcred(instance, "framework", "import", path, "--issuer", MOODLE)
    assert first.returncode == 0, first.stderr
    assert "created from Moodle CSV" in first.stdout and "20 created, 0 updated, 0 unchanged" in first.stdout
    again = microcred(instance, "framework", "import", path, "--issuer", MOODLE, "--format", "moodle-csv")
    assert "imported again" in again.stdout and "0 created, 0 updated, 20 unchanged" in again.stdout
    listing = microcred(instance, "framework", "list", "--issuer", MOODLE).stdout
    assert re.search(rf"Digital Skills for Learners  competencies=20  platform=\d+ \({MOODLE} client_id=moodle-client\)"
                     r"  source=moodle_csv  identifier=DSL-2025", listing), listing
    assert len(listing.splitlines()) == 1
    entries = audit_entries(instance)
    assert [(e["action"], e["subject"]) for e in entries] == [("framework.imported", "framework:DSL-2025")] * 2
    assert entries[0]["actor_label"].startswith("command line") and entries[0]["context_id"] is None
    assert (entries[0]["detail"]["created"], entries[1]["detail"]["unchanged"]) == (20, 20)
    assert entries[0]["detail"]["title"] == "Digital Skills for Learners"
    assert entries[0]["detail"]["file"] == "digital_skills_moodle.csv"


def audit_entries(instance: Path) -> list[dict[str, Any]]:
    """The instance's audit log, oldest first (read straight from its SQLite file)."""
    with closing(sqlite3.connect(instance / "instance" / "microcred.sqlite3")) as db:
        db.row_factory = sqlite3.Row
        rows = db.execute("SELECT * FROM audit_log ORDER BY id").fetchall()
    return [{**dict(row), "detail": json.loads(row["detail"])} for row in rows]


def test_cli_needs_client_id_when_institutions_share_an_issuer(instance: Path) -> None:
    path = str(FIXTURES / "digital_skills_case.json")
    ambiguous = microcred(instance, "framework", "import", path, "--issuer", CANVAS)
    assert ambiguous.returncode != 0
    assert "2 registrations share the issuer" in ambiguous.stderr and "--client-id" in ambiguous.stderr
    chosen = microcred(instance, "framework", "import", path, "--issuer", CANVAS, "--client-id", "10000000000002")
    assert chosen.returncode == 0 and "created from CASE 1.1 JSON" in chosen.stdout, chosen.stderr
    assert "client_id=10000000000002" in microcred(instance, "framework", "list", "--issuer", CANVAS).stdout
    other = microcred(instance, "framework", "list", "--issuer", CANVAS, "--client-id", "10000000000001")
    assert other.stdout.startswith("no frameworks imported")


def test_cli_lists_every_problem_and_imports_nothing(instance: Path) -> None:
    before = microcred(instance, "framework", "list").stdout
    result = microcred(instance, "framework", "import", str(FIXTURES / "moodle_cycle.csv"), "--issuer", MOODLE)
    assert result.returncode == 1
    assert "moodle_cycle.csv: The framework was not imported: 2 problems found." in result.stderr
    assert "line 4: The parents form a cycle" in result.stderr and "line 6: It is its own parent" in result.stderr
    unknown = microcred(instance, "framework", "import", str(FIXTURES / "moodle_latin1.csv"), "--issuer", MOODLE)
    assert unknown.returncode == 1 and "not UTF-8" in unknown.stderr
    assert microcred(instance, "framework", "list").stdout == before
    assert all(e["subject"] != "framework:moodle-cycle" for e in audit_entries(instance))


def test_cli_refuses_a_file_over_the_limit_saying_how_large_it_is(instance: Path, tmp_path: Path) -> None:
    big = tmp_path / "big.csv"
    big.write_bytes(b"x" * (10 * 1024 * 1024 + 1))
    result = microcred(instance, "framework", "import", str(big), "--issuer", MOODLE)
    assert result.returncode == 1
    assert "The file is 10,485,761 bytes; the limit is 10,485,760 bytes (10 MB)." in result.stderr
    assert "administrator" not in result.stderr


def test_cli_unknown_issuer_is_a_clear_error(instance: Path) -> None:
    result = microcred(instance, "framework", "import", str(FIXTURES / "digital_skills_case.json"),
                       "--issuer", "https://lms.unknown.example")
    assert result.returncode == 1 and "no LMS registration with issuer https://lms.unknown.example" in result.stderr


# --- the page -----------------------------------------------------------------------------------------
def open_page(browser: Browser, lms: LmsHandle, user: str = "instructor-1") -> requests.Response:
    """The frameworks page of the tool the LMS launched (the real app, as served to everyone)."""
    landing = browser.launch(lms, user)
    assert landing.status_code == 200, reason_of(landing)
    return browser.http.get(landing.url + "frameworks/")


def upload(browser: Browser, page: requests.Response, name: str, data: bytes | None = None,
           **fields: str) -> requests.Response:
    content = data if data is not None else (FIXTURES / name).read_bytes()
    return browser.http.post(page.url, data={**form_fields(page.text), **fields}, files={"file": (name, content)})


def framework_count(services: Services) -> int:
    with services.read_sessions() as session:
        return session.scalar(select(func.count()).select_from(Framework)) or 0


def test_instructor_uploads_and_browses_the_hierarchy(moodle: LmsHandle, browser: Browser, live_tool: str,
                                                      services: Services) -> None:
    page = open_page(browser, moodle)
    assert page.status_code == 200, reason_of(page)
    assert 'id="no-frameworks"' in page.text and '<label for="framework-file">' in page.text
    title = page.text.split("<title>", 1)[1].split("</title>", 1)[0]
    assert title.startswith("Competency frameworks") and "<" not in title  # the page title is text only
    assert page.text.count('id="competency-form"') == 1
    answer = upload(browser, page, "digital_skills_case.json")
    assert answer.status_code == 200, answer.text[:500]
    assert 'data-created="20"' in answer.text and "Digital Skills for Learners" in answer.text
    assert "20 competencies" in answer.text
    link = re.search(r'href="([^"]+/frameworks/\d+)"', answer.text)
    assert link
    tree = browser.http.get(live_tool + link.group(1))
    assert tree.status_code == 200 and 'id="competency-count">20<' in tree.text
    codes = {code: int(level) for level, code in re.findall(r'data-level="(\d)">\s*<strong>(DS[.\d]+)</strong>',
                                                            tree.text)}
    assert (codes["DS.1"], codes["DS.1.1"], codes["DS.1.1.1"], len(codes)) == (1, 2, 3, 20)

    again = upload(browser, page, "digital_skills_case.json", format="case")
    assert 'data-unchanged="20"' in again.text and "imported again" in again.text
    with services.read_sessions() as session:
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        assert [(e.action, e.actor_label) for e in entries] == [("framework.imported", "Ian Instructor")] * 2
        assert all(e.platform_id == moodle.platform_id and e.actor_id is not None for e in entries)
        details = [json.loads(e.detail) for e in entries]
    assert [(d["framework_created"], d["created"], d["unchanged"]) for d in details] == [(True, 20, 0), (False, 0, 20)]
    assert details[0]["title"] == "Digital Skills for Learners" and details[0]["file"] == "digital_skills_case.json"


def test_problems_are_listed_and_nothing_is_imported(moodle: LmsHandle, browser: Browser,
                                                     services: Services) -> None:
    page = open_page(browser, moodle)
    answer = upload(browser, page, "moodle_unknown_parent.csv")
    assert answer.status_code == 422
    assert 'id="import-problems"' in answer.text and 'role="alert"' in answer.text
    assert "<strong>line 4</strong>: Its parent &#39;SPR.9&#39; is not a competency of this file." in answer.text
    big = upload(browser, page, "huge.csv", data=b"x" * (10 * 1024 * 1024 + 1))
    assert big.status_code == 422
    assert "The file is 10,485,761 bytes; the limit is 10,485,760 bytes (10 MB)." in text_of(big)
    assert "administrator" not in text_of(big)
    larger = upload(browser, page, "huge.csv", data=b"x" * int(10.6 * 1024 * 1024))  # read only to the limit
    assert "The file is 10.6 MB; the limit is 10 MB." in text_of(larger)
    form_over = upload(browser, page, "huge.csv", data=b"x" * (12 * 1024 * 1024))  # over the whole form's limit
    assert form_over.status_code == 413
    assert "12.0 MB is larger than the tool accepts: files up to 10 MB." in text_of(form_over)
    assert framework_count(services) == 0
    with services.read_sessions() as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_upload_needs_the_csrf_token(moodle: LmsHandle, browser: Browser) -> None:
    page = open_page(browser, moodle)
    answer = browser.http.post(page.url, files={"file": ("f.json", b"{}")})
    assert (answer.status_code, reason_of(answer)) == (400, "csrf_failed")


def test_learners_may_not_open_the_page(moodle: LmsHandle, browser: Browser) -> None:
    page = open_page(browser, moodle, "learner-1")
    assert (page.status_code, reason_of(page)) == (403, "not_allowed")


def test_frameworks_of_another_platform_are_invisible(moodle: LmsHandle, canvas: LmsHandle, browser: Browser,
                                                      services: Services) -> None:
    with transaction(services.sessions) as session:
        theirs = import_framework(session, canvas.platform_id, (FIXTURES / "digital_skills_case.json").read_bytes())
        their_id = theirs.framework.id
    page = open_page(browser, moodle)
    assert page.status_code == 200 and 'id="no-frameworks"' in page.text
    assert "Digital Skills for Learners" not in page.text
    peek = browser.http.get(page.url + str(their_id))
    assert (peek.status_code, reason_of(peek)) == (404, "not_found")
    own = open_page(browser, canvas)
    assert "Digital Skills for Learners" in own.text


def test_tree_survives_rows_the_importer_would_refuse(services: Services, moodle: LmsHandle) -> None:
    """A cycle written by other means (SQL, a future editor) must not hang or hide the page."""
    with transaction(services.sessions) as session:
        report = import_framework(session, moodle.platform_id, (FIXTURES / "digital_skills_moodle.csv").read_bytes())
        comps = {c.code or "": c for c in session.scalars(select(Competency).where(
            Competency.framework_id == report.framework.id))}
        comps["DS.1"].parent_id = comps["DS.1.1.1"].id  # DS.1 -> DS.1.1 -> DS.1.1.1 -> DS.1
        comps["DS.2"].parent_id = comps["DS.2"].id
        session.flush()
        tree = competency_tree(session, report.framework.id)
    seen: list[str | None] = []
    stack = list(tree)
    while stack:
        node = stack.pop()
        seen.append(node.competency.code)
        stack.extend(node.children)
    assert sorted(c or "" for c in seen) == sorted(comps) and len(seen) == 20


def test_instructor_types_a_competency_in(moodle, browser) -> None:
    from tests.support.driver import form_fields

    landing = browser.launch(moodle, "instructor-1")
    page = browser.http.get(landing.url + "frameworks/")
    csrf = form_fields(page.text)["csrf_token"]
    added = browser.http.post(landing.url + "frameworks/competencies",
                              data={"csrf_token": csrf, "name": "Negotiate with suppliers", "code": "NEG.1"})
    assert added.status_code == 200 and "Negotiate with suppliers" in added.text
    assert "Competencies typed in by instructors" in added.text
    empty = browser.http.post(landing.url + "frameworks/competencies", data={"csrf_token": csrf, "name": " "})
    assert empty.status_code == 422
