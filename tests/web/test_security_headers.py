"""Response headers: pages that carry a session are never stored, and only the registered LMSs may frame the tool."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, update

from lti_microcred import create_app
from lti_microcred.core.db import transaction
from lti_microcred.devplatform.demo import register_dev_platform
from lti_microcred.devplatform.platform import DevPlatform
from lti_microcred.lti.admin import PlatformSpec, add_platform
from lti_microcred.lti.models import Platform
from lti_microcred.services import Services
from tests.support.driver import Browser, LmsHandle, reason_of


def frame_ancestors(response: Any) -> list[str]:
    policy = response.headers["Content-Security-Policy"]
    found = [p.strip() for p in policy.split(";") if p.strip().startswith("frame-ancestors ")]
    assert len(found) == 1, policy
    return found[0].split()[1:]


def origin(url: str) -> str:
    return "/".join(url.split("/")[:3])


def register(services: Services, issuer: str, login: str, client_id: str = "c-1") -> int:
    spec = PlatformSpec(issuer=issuer, client_id=client_id, auth_login_url=login, auth_token_url=login + "/token",
                        key_set_url=login + "/jwks")
    with transaction(services.sessions) as session:
        return add_platform(session, spec, ["1"]).id


@pytest.fixture
def frame_cache(app: Any) -> Any:
    """This process's list of the origins that may frame the tool, forgotten before the test."""
    cache = app.extensions["microcred_frame_ancestors"]
    cache.forget()
    return cache


@pytest.fixture
def platform_queries(services: Services) -> Iterator[list[str]]:
    """The SQL statements that read the platforms table while the test runs."""
    seen: list[str] = []

    def listen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "FROM platforms" in statement:
            seen.append(statement)

    event.listen(services.engine, "before_cursor_execute", listen)
    yield seen
    event.remove(services.engine, "before_cursor_execute", listen)


def test_the_launch_and_the_session_pages_are_never_stored(moodle: LmsHandle, browser: Browser) -> None:
    login = browser.start_login(moodle.login_url("learner-1"))
    assert login.response.headers["Cache-Control"] == "no-store"
    launch = browser.post_launch(*browser.authorize(login))
    assert launch.status_code == 303 and launch.headers["Cache-Control"] == "no-store"
    landing = browser.follow(launch)
    assert landing.status_code == 200, reason_of(landing)
    assert "/s/" in landing.url and landing.headers["Cache-Control"] == "no-store"
    refused = browser.http.get(f"{browser.tool_url}/s/{secrets.token_urlsafe(32)}/")
    assert refused.status_code == 401 and refused.headers["Cache-Control"] == "no-store"
    supervisor = browser.http.get(f"{browser.tool_url}/attest/{secrets.token_urlsafe(32)}")
    assert supervisor.headers["Cache-Control"] == "no-store"


def test_only_the_registered_lms_origins_may_frame_the_tool(moodle: LmsHandle, canvas: LmsHandle, client: Any,
                                                            services: Services, frame_cache: Any) -> None:
    register(services, "https://lms.example.edu", "https://auth.example.edu/mod/lti/auth.php")
    pending = register(services, "https://pending.example.org", "https://pending.example.org/auth")
    with transaction(services.sessions) as session:
        session.execute(update(Platform).where(Platform.id == pending).values(status="pending"))
    frame_cache.forget()
    allowed = frame_ancestors(client.get("/verify"))
    assert allowed[0] == "'self'"
    assert {origin(moodle.platform.url("/")), origin(canvas.platform.url("/")), "https://lms.example.edu",
            "https://auth.example.edu"} <= set(allowed)
    assert "https://pending.example.org" not in allowed and "*" not in allowed
    assert frame_ancestors(client.get("/s/x/")) == allowed  # the same header everywhere, refusals included


def test_a_refusal_may_be_shown_inside_the_registered_lms_it_names_even_when_not_active(
        client: Any, services: Services, frame_cache: Any) -> None:
    pending = register(services, "https://pending.example.org", "https://login.pending.example.org/auth")
    with transaction(services.sessions) as session:
        session.execute(update(Platform).where(Platform.id == pending).values(status="pending"))
    refused = client.get("/lti/login", query_string={"iss": "https://pending.example.org", "client_id": "c-1",
                                                     "login_hint": "x", "target_link_uri": "http://x/"})
    assert refused.status_code == 403
    assert {"https://pending.example.org", "https://login.pending.example.org"} <= set(frame_ancestors(refused))
    assert "https://pending.example.org" not in frame_ancestors(client.get("/verify"))
    unknown = client.get("/lti/login", query_string={"iss": "https://evil.example", "login_hint": "x",
                                                     "target_link_uri": "http://x/"})
    assert unknown.status_code == 400 and "https://evil.example" not in frame_ancestors(unknown)


def test_hosted_canvas_may_frame_from_its_customer_hosts(client: Any, services: Services, frame_cache: Any) -> None:
    register(services, "https://canvas.instructure.com", "https://sso.canvaslms.com/api/lti/authorize_redirect")
    register(services, "https://canvas.instructure.com.evil.example", "https://evil.example/auth", "c-2")
    frame_cache.forget()
    allowed = frame_ancestors(client.get("/verify"))
    assert {"https://canvas.instructure.com", "https://*.instructure.com", "https://sso.canvaslms.com"} <= set(allowed)
    assert "https://*.evil.example" not in allowed and "https://evil.example" in allowed


def test_a_platform_registered_a_moment_ago_may_frame_the_tool_at_once(
        lms_servers: dict[str, DevPlatform], services: Services, browser: Browser, client: Any,
        frame_cache: Any) -> None:
    other_process = create_app(services=services).test_client()  # its list is read before the registration
    lms_origin = origin(lms_servers["moodle"].url("/"))
    assert lms_origin not in frame_ancestors(client.get("/verify"))
    assert lms_origin not in frame_ancestors(other_process.get("/verify"))
    moodle = LmsHandle(lms_servers["moodle"], register_dev_platform(services, lms_servers["moodle"]),
                       services.settings.base_url)
    login = browser.start_login(moodle.login_url("learner-1"))
    assert lms_origin in frame_ancestors(login.response)  # the login names its issuer
    landing = browser.follow(browser.post_launch(*browser.authorize(login)))
    assert landing.status_code == 200, reason_of(landing)
    assert lms_origin in frame_ancestors(landing)
    session_path = "/s/" + landing.url.split("/s/")[1]
    assert lms_origin in frame_ancestors(other_process.get(session_path))  # the session names its platform


def test_a_launch_names_its_issuer_to_a_process_that_did_not_see_the_login(
        lms_servers: dict[str, DevPlatform], services: Services) -> None:
    other_process = create_app(services=services).test_client()
    lms = lms_servers["moodle"]
    assert origin(lms.url("/")) not in frame_ancestors(other_process.get("/verify"))
    register_dev_platform(services, lms)
    claims = base64.urlsafe_b64encode(json.dumps({"iss": lms.issuer}).encode()).decode().rstrip("=")
    refused = other_process.post("/lti/launch", data={"id_token": f"e30.{claims}.c2ln", "state": "x"})
    assert refused.status_code >= 400
    assert origin(lms.url("/")) in frame_ancestors(refused)
    forged = base64.urlsafe_b64encode(json.dumps({"iss": "https://unknown.example"}).encode()).decode().rstrip("=")
    other = other_process.post("/lti/launch", data={"id_token": f"e30.{forged}.c2ln", "state": "x"})
    assert "https://unknown.example" not in frame_ancestors(other)


def test_the_origins_are_cached_per_process(client: Any, services: Services, platform_queries: list[str]) -> None:
    register(services, "https://lms.example.edu", "https://lms.example.edu/auth")
    client.get("/lti/login", headers={"Origin": "https://lms.example.edu"})
    platform_queries.clear()
    for _ in range(5):
        client.get("/verify", headers={"Origin": "https://elsewhere.example"})
        client.get(f"/s/{secrets.token_urlsafe(32)}/")
    assert [q for q in platform_queries if "auth_login_url" in q] == []
