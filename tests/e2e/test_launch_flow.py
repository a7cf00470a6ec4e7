"""Complete launches over loopback HTTP from independent LTI platforms (lti1p3platform), as Moodle and Canvas."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin

import pytest
from sqlalchemy import func, select

from lti_microcred.lti.models import Context, LaunchSession, Membership, ResourceLink, User
from tests.support.driver import Browser, LmsHandle, data_attr, reason_of


def text_of(page: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</span>', page, re.S)  # the page header's one line
    assert match, f"no #{element_id}"
    return re.sub(r"<[^>]+>|\s+", " ", match.group(1)).strip()


@pytest.mark.parametrize("flavour", ["moodle", "canvas"])
def test_learner_lands_on_learner_page(flavour: str, request: pytest.FixtureRequest, browser: Browser) -> None:
    lms: LmsHandle = request.getfixturevalue(flavour)
    page = browser.launch(lms, "learner-1")
    assert page.status_code == 200, reason_of(page)
    assert data_attr(page.text, "role") == "learner"
    assert text_of(page.text, "who-name").startswith("Lea Learner")
    assert text_of(page.text, "who-role") == "Learner"
    assert "Demo course" in text_of(page.text, "who-course")
    assert page.url.startswith(browser.tool_url + "/s/")


@pytest.mark.parametrize("flavour", ["moodle", "canvas"])
def test_instructor_lands_on_staff_page(flavour: str, request: pytest.FixtureRequest, browser: Browser) -> None:
    lms: LmsHandle = request.getfixturevalue(flavour)
    page = browser.launch(lms, "instructor-1")
    assert page.status_code == 200, reason_of(page)
    assert data_attr(page.text, "role") == "instructor"
    assert text_of(page.text, "who-role") == "Instructor"


def test_launch_persists_user_course_link_and_membership(moodle: LmsHandle, browser: Browser, db_session) -> None:
    browser.launch(moodle, "learner-1")
    browser.launch(moodle, "learner-1")
    user = db_session.scalars(select(User)).one()
    assert (user.sub, user.email, user.platform_id) == ("learner-1", "lea@example.edu", moodle.platform_id)
    context = db_session.scalars(select(Context)).one()
    assert context.lti_context_id == "DEMO-101" and context.platform_id == moodle.platform_id
    assert db_session.scalars(select(ResourceLink)).one().lti_resource_link_id == "rl-course-nav"
    membership = db_session.scalars(select(Membership)).one()
    assert (membership.user_id, membership.context_id, membership.role) == (user.id, context.id, "learner")
    assert db_session.scalar(select(func.count()).select_from(LaunchSession)) == 2


def test_same_ids_on_two_platforms_stay_apart(moodle: LmsHandle, canvas: LmsHandle, browser: Browser,
                                              db_session) -> None:
    """Both LMSs send user learner-1 in course DEMO-101: they must be different rows."""
    browser.launch(moodle, "learner-1")
    browser.launch(canvas, "learner-1")
    users = db_session.scalars(select(User).order_by(User.platform_id)).all()
    contexts = db_session.scalars(select(Context).order_by(Context.platform_id)).all()
    assert [u.platform_id for u in users] == sorted([moodle.platform_id, canvas.platform_id])
    assert len({c.id for c in contexts}) == 2
    assert {c.lti_context_id for c in contexts} == {"DEMO-101"}


def test_refresh_of_the_landing_page_does_not_repost(moodle: LmsHandle, browser: Browser, services: Any) -> None:
    """The launch POST answers 303 See Other, so the page the browser shows (and refreshes) is a plain GET.
    (Posting the same id_token and state again is refused as replayed: test_replayed_id_token_same_browser.)"""
    action, fields = browser.authorize(browser.start_login(moodle.login_url("learner-1")))
    posted = browser.post_launch(action, fields)
    assert posted.status_code == 303 and posted.headers["Cache-Control"] == "no-store"
    location = urljoin(posted.url, posted.headers["Location"])
    assert re.fullmatch(re.escape(browser.tool_url) + r"/s/[A-Za-z0-9_-]{40,}/", location), location
    assert fields["id_token"] not in location and fields["state"] not in location
    page = browser.http.get(location, allow_redirects=False)
    assert (page.request.method, page.status_code, data_attr(page.text, "role")) == ("GET", 200, "learner")
    refreshed = browser.http.get(location, allow_redirects=False)  # what a refresh sends: the same GET, no form
    assert (refreshed.status_code, data_attr(refreshed.text, "role")) == (200, "learner")
    with services.read_sessions() as session:
        assert session.scalar(select(func.count()).select_from(LaunchSession)) == 1  # one launch, however viewed


def test_session_token_survives_without_cookies(moodle: LmsHandle, browser: Browser) -> None:
    page = browser.launch(moodle, "learner-1")
    fresh = Browser(browser.tool_url)  # another client: no cookies at all, only the URL
    assert fresh.http.get(page.url).status_code == 200
    fresh.close()


def test_unknown_session_token_is_refused(live_tool: str, browser: Browser) -> None:
    response = browser.http.get(live_tool + "/s/not-a-real-token/")
    assert response.status_code == 401
    assert reason_of(response) == "session_expired"


def test_moodle_posts_login_and_canvas_gets_storage_page(moodle: LmsHandle, canvas: LmsHandle,
                                                         browser: Browser) -> None:
    moodle_login = browser.start_login(moodle.login_url(), method="POST")
    assert moodle_login.response.status_code == 302  # no storage offered, top-level: plain redirect
    canvas_login = browser.start_login(canvas.login_url())
    assert canvas_login.response.status_code == 200
    assert data_attr(canvas_login.response.text, "storage-target") == "post_message_forwarding"
    assert data_attr(canvas_login.response.text, "auth-origin") == canvas.platform.issuer


def test_login_in_iframe_checks_cookies_first(moodle: LmsHandle, browser: Browser) -> None:
    login = browser.start_login(moodle.login_url(), headers={"Sec-Fetch-Dest": "iframe"})
    assert login.response.status_code == 200  # a page that probes cookies, not a redirect
    assert data_attr(login.response.text, "storage-target") == ""
    assert re.search(r'href="[^"]*lmc_new_window=1[^"]*" target="_blank"', login.response.text)


def test_canvas_launch_without_cookie_is_confirmed_through_platform_storage(canvas: LmsHandle,
                                                                            browser: Browser) -> None:
    login = browser.start_login(canvas.login_url())
    action, fields = browser.authorize(login)
    browser.http.cookies.clear()  # the browser dropped the third-party cookie
    waiting = browser.post_launch(action, fields)
    assert waiting.status_code == 200
    assert data_attr(waiting.text, "storage-key").startswith("state_")
    page = browser.follow(browser.confirm_from_storage(waiting, login.state))
    assert page.status_code == 200
    assert data_attr(page.text, "role") == "learner"


def test_storage_confirmation_with_another_state_is_refused(canvas: LmsHandle, browser: Browser) -> None:
    login = browser.start_login(canvas.login_url())
    other = browser.start_login(canvas.login_url())
    action, fields = browser.authorize(login)
    browser.http.cookies.clear()
    waiting = browser.post_launch(action, fields)
    refused = browser.confirm_from_storage(waiting, other.state)
    assert refused.status_code == 401
    assert reason_of(refused) == "state_mismatch"
    pending_token = waiting.text.split('name="token" value="')[1].split('"')[0]
    token_page = browser.http.get(browser.tool_url + "/s/" + pending_token + "/")
    assert reason_of(token_page) == "session_expired"  # the pending session never became usable


def test_moodle_launch_without_cookie_names_storage_problem(moodle: LmsHandle, browser: Browser) -> None:
    login = browser.start_login(moodle.login_url())
    action, fields = browser.authorize(login)
    browser.http.cookies.clear()
    response = browser.post_launch(action, fields)
    assert response.status_code == 401
    assert reason_of(response) == "storage_unavailable"


def test_launch_after_rows_vanished_behind_the_memo(moodle: LmsHandle, browser: Browser, services) -> None:
    """Another process (or an admin) deleted the user and course rows this process remembers."""
    browser.launch(moodle, "learner-1")
    with services.engine.begin() as conn:
        conn.execute(LaunchSession.__table__.delete())
        conn.execute(Membership.__table__.delete())
        conn.execute(ResourceLink.__table__.delete())
        conn.execute(Context.__table__.delete())
        conn.execute(User.__table__.delete())
    page = browser.launch(moodle, "learner-1")
    assert page.status_code == 200, reason_of(page)
    assert data_attr(page.text, "role") == "learner"


def test_repeat_launch_writes_only_its_session_row(moodle: LmsHandle, browser: Browser, services) -> None:
    from sqlalchemy import event

    browser.launch(moodle, "learner-1")
    statements: list[str] = []

    def record(conn, cursor, statement, *args) -> None:
        statements.append(statement.split()[0].upper() + " " + statement.split()[2] if statement.startswith(
            "INSERT") else statement.split()[0].upper())

    event.listen(services.engine, "before_cursor_execute", record)
    try:
        login = browser.start_login(moodle.login_url("learner-1"))
        action, fields = browser.authorize(login)
        assert browser.post_launch(action, fields).status_code == 303
    finally:
        event.remove(services.engine, "before_cursor_execute", record)
    writes = [s for s in statements if s.startswith(("INSERT", "UPDATE", "DELETE"))]
    assert writes == ["INSERT launch_sessions"], statements


def test_changed_name_is_written_on_the_next_launch(moodle: LmsHandle, browser: Browser, db_session,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    browser.launch(moodle, "learner-1")
    monkeypatch.setattr(moodle.platform.users["learner-1"], "name", "Lea Renamed")
    browser.launch(moodle, "learner-1")
    assert db_session.scalars(select(User.name)).one() == "Lea Renamed"


def test_the_tool_keys_are_published_at_both_addresses(browser: Browser) -> None:
    lti, well_known = (browser.http.get(browser.tool_url + path) for path in ("/lti/jwks", "/.well-known/jwks.json"))
    assert lti.status_code == well_known.status_code == 200
    keys = lti.json()["keys"]
    assert keys and all(k["kid"] and k["kty"] == "RSA" and "d" not in k for k in keys)  # public parts only
    assert well_known.json() == lti.json() and "max-age" in well_known.headers["Cache-Control"]
