"""An LMS that will not complete a login posts an OAuth error (error, error_description, state) to the launch URL
instead of an id_token: Canvas does for a user without a session, a launch already used or expired, and a
developer key that is off (app/controllers/lti/ims/authentication_controller.rb). The tool shows what happened
and what to do, in plain words, with a 4xx status, and logs the refusal with the LMS's issuer and client id."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import update

from lti_microcred.core.db import transaction
from lti_microcred.lti.models import Platform
from lti_microcred.services import Services
from tests.support.driver import Browser, LmsHandle, reason_of


@pytest.fixture(autouse=True)
def products_known(request: pytest.FixtureRequest) -> None:
    """The loopback LMSs as registered by Dynamic Registration, which records the LMS's product family."""
    names = [name for name in ("moodle", "canvas") if name in request.fixturenames]
    if not names:
        return
    services: Services = request.getfixturevalue("services")
    with transaction(services.sessions) as session:
        for name in names:
            lms: LmsHandle = request.getfixturevalue(name)
            session.execute(update(Platform).where(Platform.id == lms.platform_id).values(product_family_code=name))
    services.reset_caches()


def launch_page(browser: Browser, lms: LmsHandle, user: str = "learner-1") -> tuple[object, dict[str, str]]:
    login = browser.start_login(lms.login_url(user))
    assert login.auth_url, reason_of(login.response)
    action, fields = browser.authorize(login)
    return browser.post_launch(action, fields), fields


def test_a_canvas_user_without_a_session_is_told_to_sign_in_again(canvas: LmsHandle, browser: Browser,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    canvas.platform.canvas_auth.signed_out.add("learner-1")
    try:
        with caplog.at_level(logging.WARNING, logger="lti_microcred.refusals"):
            page, fields = launch_page(browser, canvas)
    finally:
        canvas.platform.canvas_auth.signed_out.clear()
    assert (fields["error"], "id_token" in fields) == ("login_required", False)
    assert (page.status_code, reason_of(page)) == (401, "login_required")  # type: ignore[attr-defined]
    text = page.text  # type: ignore[attr-defined]
    assert "Sign in to Canvas again" in text and "Must have an active user session" in text
    assert "no id_token" not in text
    logged = [r.getMessage() for r in caplog.records if "login_required" in r.getMessage()]
    assert logged and f"issuer={canvas.platform.issuer} client_id=canvas-client" in logged[0], logged


def test_a_canvas_launch_used_twice_says_reload_the_page(canvas: LmsHandle, browser: Browser) -> None:
    login = browser.start_login(canvas.login_url("learner-1"))
    first = browser.post_launch(*browser.authorize(login))
    assert first.status_code in (200, 303), reason_of(first)
    action, fields = browser.authorize(login)  # the same auth request again: Canvas deleted its cached launch
    page = browser.post_launch(action, fields)
    assert (page.status_code, reason_of(page)) == (401, "launch_no_longer_valid")
    assert "Reload the Canvas page" in page.text


def test_a_developer_key_that_is_off_is_an_admin_matter(canvas: LmsHandle, browser: Browser) -> None:
    canvas.platform.canvas_auth.keys_off.add("canvas-client")
    try:
        page, _ = launch_page(browser, canvas)
    finally:
        canvas.platform.canvas_auth.keys_off.clear()
    assert (page.status_code, reason_of(page)) == (403, "unauthorized_client")  # type: ignore[attr-defined]
    assert "developer key" in page.text and "administrator" in page.text  # type: ignore[attr-defined]


def test_an_unknown_error_without_a_state_is_still_a_clear_refusal(browser: Browser, live_tool: str) -> None:
    page = browser.http.post(live_tool + "/lti/launch", data={"error": "<b>server error</b>",
                                                               "error_description": "x" * 5000})
    assert (page.status_code, reason_of(page)) == (400, "lms_error")
    assert "x" * 301 not in page.text and "your LMS" in page.text


@pytest.mark.parametrize(("code", "status"), [("invalid_request_object", 400), ("invalid_request", 400),
                                              ("access_denied", 403), ("invalid_scope", 400)])
def test_each_oauth_error_has_its_status(moodle: LmsHandle, browser: Browser, code: str, status: int) -> None:
    login = browser.start_login(moodle.login_url("learner-1"))
    page = browser.http.post(browser.tool_url + "/lti/launch", data={"error": code, "state": login.state})
    assert (page.status_code, reason_of(page)) == (status, code)
    assert "Moodle" in page.text
