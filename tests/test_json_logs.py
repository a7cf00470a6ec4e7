"""log_format = "json": one object per line, and the ids that tie lines together. A launch's id is on its own
lines, on every page opened with its session and on the worker's lines delivering what those pages caused; no
session token, id_token or LMS access token is in any line."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_microcred.app.request_log import logvar
from lti_microcred.core import request_ids
from lti_microcred.core.config import Settings
from lti_microcred.core.logs import HANDLER_NAME, RequestIdFilter, configure_logging, formatter
from lti_microcred.core.outbox import OutboxMessage, enqueue
from lti_microcred.devplatform.app import create_platform_app
from lti_microcred.devplatform.data import DevPlatformSetup
from lti_microcred.devplatform.demo import register_dev_platform, start_in_thread
from lti_microcred.devplatform.platform import DevPlatform
from lti_microcred.devplatform.services import dev_services
from lti_microcred.lti.sessions import csrf_token
from lti_microcred.services import Services
from tests.conftest import TEST_SECRET, free_port
from tests.lms.scenario import Course, credential_of, make_course
from tests.support.driver import Browser, LmsHandle
from tests.test_logging import ROOT, start_tool
from tests.web.support import Visit

TEXT_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ \S+: ")


# --- the pieces ---------------------------------------------------------------------------------------------
def test_configure_logging_twice_keeps_one_handler_and_leaves_caplog_working(
        caplog: pytest.LogCaptureFixture) -> None:
    root = logging.getLogger()
    try:
        configure_logging(Settings(log_format="json"))
        handler = configure_logging(Settings(log_format="json"))
        assert [h for h in root.handlers if h.get_name() == HANDLER_NAME] == [handler]
        assert caplog.handler in root.handlers
        with caplog.at_level(logging.INFO, logger="lti_microcred"):
            logging.getLogger("lti_microcred.test").info("still captured")
        assert "still captured" in [r.getMessage() for r in caplog.records]
    finally:
        configure_logging(Settings())  # text again, as the suite's app set it


def test_a_json_line_has_time_level_logger_message_ids_and_the_exception() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("lti_microcred.x", logging.ERROR, __file__, 1, "failed %s", ("here",),
                                   sys.exc_info())
    with request_ids.bound("req-0000000001", "launch-000001"):
        RequestIdFilter().filter(record)
    line = formatter("json").format(record)
    parsed = json.loads(line)
    assert "\n" not in line
    assert list(parsed)[:6] == ["time", "level", "logger", "message", "request_id", "launch_id"]
    assert (parsed["level"], parsed["logger"], parsed["message"]) == ("ERROR", "lti_microcred.x", "failed here")
    assert (parsed["request_id"], parsed["launch_id"]) == ("req-0000000001", "launch-000001")
    assert parsed["time"].endswith("Z") and dt.datetime.fromisoformat(parsed["time"]).utcoffset() == dt.timedelta(0)
    assert "ValueError: boom" in parsed["exception"]


def test_only_a_sane_incoming_request_id_is_kept() -> None:
    for sane in ("abcd1234", "proxy.req-0001_x", "f" * 32):
        assert request_ids.accepted(sane) == sane
    for odd in (None, "", "short", "f" * 33, "has space1", 'quote"d-id', "line\nbreak1", "caf\u00e9-1234"):
        assert request_ids.accepted(odd) is None


def test_every_response_names_its_request(client: Any) -> None:
    assert client.get("/health", headers={"X-Request-Id": "proxy.req-0001"}).headers["X-Request-Id"] == \
        "proxy.req-0001"
    for odd in ("short", "x" * 40, 'quote"d-id'):
        given = client.get("/health", headers={"X-Request-Id": odd}).headers["X-Request-Id"]
        assert re.fullmatch(r"[0-9a-f]{16}", given)
    first, second, missing = client.get("/health"), client.get("/health"), client.get("/no-such-page")
    assert first.headers["X-Request-Id"] != second.headers["X-Request-Id"]
    assert missing.status_code == 404 and len(missing.headers.getlist("X-Request-Id")) == 1


def test_uwsgi_request_variables_stay_whole_json_strings() -> None:
    for value in ['a"b\\c\n\t', "\x00\x1f\x7f", "\u00e9" * 300, "/s/" + "x" * 400, "\U0001f600" * 100, "\\" * 200]:
        escaped = logvar(value, json_string=True)
        assert len(escaped.encode()) <= 255  # uWSGI keeps the length in one byte
        assert value.startswith(json.loads(f'"{escaped}"'))
    assert logvar("p" * 300, json_string=False) == "p" * 255


def test_an_outbox_row_carries_the_launch_else_the_request(session: Session) -> None:
    with request_ids.bound("req-00000001", "launch-0000001"):
        assert enqueue(session, "module_result", 1, {}).request_id == "launch-0000001"
    with request_ids.bound("req-00000001"):
        assert enqueue(session, "module_result", 1, {}).request_id == "req-00000001"
    assert enqueue(session, "module_result", 1, {}).request_id is None


# --- one launch, followed through the logs of uWSGI and of a worker -----------------------------------------
def _json_lines(output: str) -> list[dict[str, Any]]:
    """Every line that is an object parses; the others are uWSGI's own start and stop messages or a command's
    printed output, never a log record in the text format."""
    lines = [line for line in output.splitlines() if line.strip()]
    assert not [line for line in lines if TEXT_LINE.match(line) or line.startswith("Traceback")], output
    return [json.loads(line) for line in lines if line.startswith("{")]


def _staff_session(browser: Browser, services: Services, lms: LmsHandle) -> tuple[Visit, str, str]:
    """An instructor's launch, step by step: (the session's pages, its launch id, the id_token it carried)."""
    login = browser.start_login(lms.login_url("instructor-1"))
    action, fields = browser.authorize(login)
    posted = browser.post_launch(action, fields)
    landing = browser.follow(posted)
    assert landing.status_code == 200
    token = landing.url.split("/s/")[1].split("/")[0]
    return Visit(browser, landing, csrf_token(services.signer, token)), posted.headers["X-Request-Id"], \
        fields["id_token"]


def _pages_and_an_award(staff: Visit, services: Services, course: Course) -> None:
    learner_id = course.learners["learner-1"]
    assert staff.get(f"/learners/{learner_id}").status_code == 200
    assert staff.get("/learners/999999").status_code == 404  # a refusal: a line of the app's own
    awarded = staff.post(f"/learners/{learner_id}/award", {"credential": credential_of(services, course).key,
                                                           "reason": "Portfolio reviewed"})
    assert awarded.status_code == 200


def _drain(services: Services, tmp: Path, tool_url: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LTI_MICROCRED_")}
    env.update(LTI_MICROCRED_DATABASE_URL=services.settings.resolved_database_url, LTI_MICROCRED_ENV="test",
               LTI_MICROCRED_SECRET_KEY=TEST_SECRET, LTI_MICROCRED_INSTANCE_PATH=str(tmp),
               LTI_MICROCRED_BASE_URL=tool_url, LTI_MICROCRED_LOG_FORMAT="json",
               LTI_MICROCRED_DELIVERY_BACKOFF_SECONDS="0.05", LTI_MICROCRED_DELIVERY_BACKOFF_MAX_SECONDS="0.2")
    return subprocess.run([sys.executable, "-m", "lti_microcred.cli", "worker", "--drain", "--no-schedule"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=180, check=True)


def test_one_launch_id_leads_from_the_launch_through_its_pages_to_the_delivery(services: Services,
                                                                               tmp_path: Path) -> None:
    process, port = start_tool(services, tmp_path, log_format="json")
    tool_url, lms_port = f"http://127.0.0.1:{port}", free_port()
    platform = DevPlatform(DevPlatformSetup(base_url=f"http://127.0.0.2:{lms_port}", tool_base_url=tool_url,
                                            client_id="json-logs-client"))
    server = start_in_thread(create_platform_app(platform), "127.0.0.2", lms_port)
    browser = Browser(tool_url)
    try:
        lms = LmsHandle(platform, register_dev_platform(services, platform), tool_url)
        dev = dev_services(platform)
        dev.reset()
        course = make_course(services, browser, lms, dev, placed=False)
        staff, launch_id, id_token = _staff_session(browser, services, lms)
        _pages_and_an_award(staff, services, course)
        worker = _drain(services, tmp_path, tool_url)
    finally:
        browser.close()
        server.shutdown()
        server.server_close()
        process.terminate()
        web_output = process.communicate(timeout=30)[0]
    with services.read_sessions() as db:
        caused = db.execute(select(OutboxMessage.kind, OutboxMessage.request_id)).all()
    assert {kind for kind, rid in caused if rid == launch_id} >= {"issue_credential", "award_passback"}

    web, delivered = _json_lines(web_output), _json_lines(worker.stderr)
    mine = [line for line in web if launch_id in (line["request_id"], line["launch_id"])]
    launch = [line for line in mine if line["request_id"] == launch_id]
    assert {line["logger"] for line in launch} >= {"lti_microcred.web.lti.views", "uwsgi.request"}
    assert all(line["launch_id"] == launch_id for line in launch)
    pages = [line for line in mine if line["request_id"] != launch_id]
    assert {line["method"] for line in pages if line["logger"] == "uwsgi.request"} == {"GET", "POST"}
    assert len({line["request_id"] for line in pages}) >= 4  # landing, learner page, refused page, award
    assert any(line["logger"] == "lti_microcred.refusals" for line in pages)
    ours = [line["message"] for line in delivered if line["request_id"] == launch_id
            and line["logger"] == "lti_microcred.lms.delivery.outcome_log"]
    assert any("(issue_credential) done" in line for line in ours), ours
    assert any("(award_passback)" in line for line in ours), ours

    session_token = staff.token
    secrets_ = [session_token, id_token, *dev.seen_tokens]
    assert dev.seen_tokens  # the worker did call the LMS with an access token
    for output in (web_output, worker.stdout, worker.stderr):
        assert "Bearer" not in output
        assert not [s for s in secrets_ if s in output]
