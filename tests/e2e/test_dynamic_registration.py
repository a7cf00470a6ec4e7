"""LTI Dynamic Registration against loopback LMSs shaped like Moodle's and Canvas's endpoints."""

from __future__ import annotations

import dataclasses
import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from requests import PreparedRequest, Response
from requests.adapters import HTTPAdapter
from sqlalchemy import select

from lti_microcred.core.db import transaction
from lti_microcred.core.public_http import PublicHTTP
from lti_microcred.devplatform.app import create_platform_app
from lti_microcred.devplatform.data import DevPlatformSetup
from lti_microcred.devplatform.demo import start_in_thread
from lti_microcred.devplatform.platform import DevPlatform
from lti_microcred.lti.admin import activate
from lti_microcred.lti.institutions import create_institution
from lti_microcred.lti.models import Deployment, Platform
from lti_microcred.lti.platform_configuration import RegistrationError, issuer_matches_configuration
from lti_microcred.lti.registration import Registrar, RegistrationParams
from lti_microcred.services import Services, lms_runtime
from tests.conftest import free_port
from tests.support.driver import Browser, LmsHandle, form_fields, reason_of

CANVAS_ISSUER = "https://canvas.instructure.com"
CANVAS_CONFIG_PATH = "/api/lti/security/openid-configuration"
AGS_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"


def register(browser: Browser, lms: LmsHandle, invite: str = "", config_url: str | None = None) -> Any:
    start = browser.http.get(lms.platform.url("/registration-start")).json()
    path = "/lti/register" + (f"/{invite}" if invite else "")
    params = {"openid_configuration": config_url or start["openid_configuration"],
              "registration_token": start["registration_token"]}
    confirm = browser.http.get(browser.tool_url + path, params=params)
    if confirm.status_code != 200:
        return confirm
    assert "Register the tool" in confirm.text
    return browser.http.post(browser.tool_url + path, data=form_fields(confirm.text))


def new_client_id(lms: LmsHandle) -> str:
    return list(lms.platform.registrations)[-1]


def test_moodle_registration_is_pending_until_an_admin_activates_it(moodle: LmsHandle, browser: Browser,
                                                                    services, db_session) -> None:
    done = register(browser, moodle)
    assert done.status_code == 200, reason_of(done)
    assert 'data-status="pending"' in done.text
    assert "org.imsglobal.lti.close" in browser.http.get(browser.tool_url + "/static/js/register-close.js").text
    client_id = new_client_id(moodle)
    body = moodle.platform.registrations[client_id]
    tool_conf = body["https://purl.imsglobal.org/spec/lti-tool-configuration"]
    assert body["initiate_login_uri"] == browser.tool_url + "/lti/login"
    assert body["redirect_uris"] == [browser.tool_url + "/lti/launch"]
    assert body["jwks_uri"] == browser.tool_url + "/lti/jwks"
    assert body["token_endpoint_auth_method"] == "private_key_jwt"
    assert "https://purl.imsglobal.org/spec/lti-ags/scope/score" in body["scope"].split()
    assert tool_conf["domain"] == browser.tool_url.removeprefix("http://")
    assert {m["type"] for m in tool_conf["messages"]} == {"LtiDeepLinkingRequest", "LtiResourceLinkRequest"}

    row = db_session.scalars(select(Platform).where(Platform.client_id == client_id)).one()
    assert (row.status, row.source, row.product_family_code) == ("pending", "dynamic", "moodle")
    assert row.auth_login_url == moodle.platform.url("/auth") and row.key_set_url == moodle.platform.url("/jwks")
    deployment = db_session.scalars(select(Deployment).where(Deployment.platform_id == row.id)).one()
    assert (deployment.lti_deployment_id, deployment.status) == ("1", "active")

    login = browser.start_login(moodle.platform.login_url("learner-1", client_id=client_id))
    assert (login.response.status_code, reason_of(login.response)) == (403, "platform_not_active")
    with transaction(services.sessions) as session:
        activate(session, row.id)
    services.reset_caches()
    page = browser.follow(browser.post_launch(*browser.authorize(
        browser.start_login(moodle.platform.login_url("learner-1", client_id=client_id)))))
    assert page.status_code == 200, reason_of(page)


class Rerouted(HTTPAdapter):
    """What DNS does for the real Instructure hosts: their requests reach the loopback Canvas instead."""

    def __init__(self, target: str) -> None:
        super().__init__()
        self.target = target

    def send(self, request: PreparedRequest, *args: Any, **kwargs: Any) -> Response:  # type: ignore[override]
        scheme_and_host = "/".join(str(request.url).split("/", 3)[:3])
        request.url = self.target + str(request.url)[len(scheme_and_host):]
        return super().send(request, *args, **kwargs)


@pytest.fixture
def hosted_canvas(services: Services, live_tool: str) -> Iterator[LmsHandle]:
    """A Canvas shaped like Instructure's cloud: it signs as https://canvas.instructure.com and serves its
    configuration from sso.canvaslms.com or the school's *.instructure.com host (routed here to loopback)."""
    port = free_port()
    platform = DevPlatform(DevPlatformSetup(base_url=f"http://localhost:{port}", tool_base_url=live_tool,
                                            flavour="canvas", client_id="unused", issuer=CANVAS_ISSUER))
    server = start_in_thread(create_platform_app(platform), "127.0.0.1", port)
    hosts = ("https://sso.canvaslms.com/", "https://school.instructure.com/", "https://evilinstructure.com/")
    sessions = (services.http.session, services.registrar.http.session)  # LMS calls, and the registration's
    for host in hosts:
        for session in sessions:
            session.mount(host, Rerouted(platform.url("")))
    yield LmsHandle(platform, 0, live_tool)
    for host in hosts:
        for session in sessions:
            session.adapters.pop(host)
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("config_host", ["https://sso.canvaslms.com", "https://school.instructure.com"])
def test_hosted_canvas_registration_with_an_invite_is_active_at_once(hosted_canvas: LmsHandle, config_host: str,
                                                                    browser: Browser, services,
                                                                    db_session) -> None:
    done = register(browser, hosted_canvas, invite=services.registrar.make_invite(),
                    config_url=config_host + CANVAS_CONFIG_PATH)
    assert done.status_code == 200, reason_of(done)
    assert 'data-status="active"' in done.text
    client_id = new_client_id(hosted_canvas)
    row = db_session.scalars(select(Platform).where(Platform.client_id == client_id)).one()
    assert (row.issuer, row.status, row.product_family_code, row.deployment_policy) == (
        CANVAS_ISSUER, "active", "canvas", "accept")
    # Canvas publishes a bare host as authorization_server; its token endpoint still wants its own URL as aud.
    assert row.auth_audience == "canvas.instructure.com"
    platform = services.registry.platform(row.id)
    assert platform is not None
    assert lms_runtime(services).tokens.get(platform, frozenset({AGS_SCORE})).value
    # Canvas gives no deployment id at registration: the first signed launch records it.
    login = browser.start_login(hosted_canvas.platform.login_url("instructor-1", client_id=client_id))
    page = browser.follow(browser.post_launch(*browser.authorize(login)))
    assert page.status_code == 200, reason_of(page)


@pytest.mark.parametrize("config_url", ["LOOPBACK", "https://evilinstructure.com" + CANVAS_CONFIG_PATH])
def test_canvas_issuer_from_a_host_that_is_not_instructures_is_refused(hosted_canvas: LmsHandle, config_url: str,
                                                                      browser: Browser, db_session) -> None:
    url = hosted_canvas.platform.url(CANVAS_CONFIG_PATH) if config_url == "LOOPBACK" else config_url
    refused = register(browser, hosted_canvas, invite="", config_url=url)
    assert (refused.status_code, reason_of(refused)) == (400, "registration_failed")
    assert "not on the host" in refused.text
    assert db_session.scalars(select(Platform)).all() == []


@pytest.mark.parametrize(("issuer", "config_url", "accepted"), [
    ("https://moodle.example.edu", "https://moodle.example.edu/mod/lti/openid-configuration.php", True),
    (CANVAS_ISSUER, "https://sso.canvaslms.com" + CANVAS_CONFIG_PATH, True),
    (CANVAS_ISSUER, "https://SSO.CanvasLMS.com" + CANVAS_CONFIG_PATH, True),
    ("https://canvas.beta.instructure.com", "https://sso.beta.canvaslms.com" + CANVAS_CONFIG_PATH, True),
    (CANVAS_ISSUER, "https://school.instructure.com" + CANVAS_CONFIG_PATH, True),
    (CANVAS_ISSUER, "https://school.beta.instructure.com:443" + CANVAS_CONFIG_PATH, True),
    ("https://moodle.example.edu", "https://moodle.example.edu.evil.example/config", False),
    ("https://evil.example", "https://sso.canvaslms.com" + CANVAS_CONFIG_PATH, False),
    (CANVAS_ISSUER, "https://evilinstructure.com" + CANVAS_CONFIG_PATH, False),
    (CANVAS_ISSUER, "https://instructure.com.evil.example" + CANVAS_CONFIG_PATH, False),
    (CANVAS_ISSUER, "http://sso.canvaslms.com" + CANVAS_CONFIG_PATH, False),
    (CANVAS_ISSUER, "https://sso.canvaslms.com:8443" + CANVAS_CONFIG_PATH, False),
    (CANVAS_ISSUER, "https://school.instructure.com/courses/1/files/2/download", False),
    (CANVAS_ISSUER, "https://evil.example@sso.canvaslms.com" + CANVAS_CONFIG_PATH, False),
    (CANVAS_ISSUER, "https://sso.canvaslms.com:notaport" + CANVAS_CONFIG_PATH, False),
    ("https://canvas.example.edu", "https://sso.canvaslms.com" + CANVAS_CONFIG_PATH, False),
])
def test_which_configuration_hosts_may_speak_for_an_issuer(issuer: str, config_url: str, accepted: bool) -> None:
    assert issuer_matches_configuration(issuer, config_url) is accepted


def test_an_invite_for_an_institution_registers_the_lms_there(moodle: LmsHandle, browser: Browser, services,
                                                               db_session) -> None:
    with transaction(services.sessions) as session:
        north = create_institution(session, "north", "North College").id
    done = register(browser, moodle, invite=services.registrar.make_invite(north))
    assert done.status_code == 200, reason_of(done)
    row = db_session.scalars(select(Platform).where(Platform.client_id == new_client_id(moodle))).one()
    assert (row.status, row.institution_id) == ("active", north)


def test_forged_invite_registers_as_pending(canvas: LmsHandle, browser: Browser, db_session) -> None:
    done = register(browser, canvas, invite="eyJpYXQiOjF9.forged")
    assert 'data-status="pending"' in done.text


def test_issuer_on_another_host_than_the_configuration_is_refused(canvas: LmsHandle, browser: Browser) -> None:
    config_url = canvas.platform.url("/.well-known/openid-configuration").replace("localhost", "127.0.0.1")
    refused = register(browser, canvas, config_url=config_url)
    assert (refused.status_code, reason_of(refused)) == (400, "registration_failed")
    assert "not on the host" in refused.text


def test_platform_refusing_the_token_is_reported(moodle: LmsHandle, browser: Browser) -> None:
    start = browser.http.get(moodle.platform.url("/registration-start")).json()
    params = {"openid_configuration": start["openid_configuration"], "registration_token": "not-issued"}
    refused = browser.http.post(browser.tool_url + "/lti/register", data=params)
    assert (refused.status_code, reason_of(refused)) == (400, "registration_failed")
    assert re.search(r"HTTP 401", refused.text)


def test_registration_page_needs_the_configuration_url(browser: Browser, live_tool: str) -> None:
    response = browser.http.get(live_tool + "/lti/register")
    assert (response.status_code, reason_of(response)) == (400, "missing_parameter")


def test_unreachable_configuration_is_a_clear_error(browser: Browser, live_tool: str) -> None:
    response = browser.http.get(live_tool + "/lti/register",
                                params={"openid_configuration": "http://127.0.0.1:9/.well-known/openid-configuration"})
    assert (response.status_code, reason_of(response)) == (400, "registration_failed")


@pytest.mark.parametrize("url", ["http://10.0.0.1/config", "https://127.0.0.1/config", "https://10.1.2.3/config",
                                 "file:///etc/passwd", "https://example.com:notaport/config"])
def test_production_refuses_internal_configuration_urls(url: str, services: Services) -> None:
    """Refused without a connection: plain http and odd schemes by their form, private addresses on connect."""
    settings = dataclasses.replace(services.settings, env="production", base_url="https://tool.example")
    registrar = Registrar(settings, PublicHTTP(settings.base_url, 1.0, 1.0), services.signer)
    with pytest.raises(RegistrationError):
        registrar.fetch_configuration(RegistrationParams(url, None, ""))


class HostileLms:
    """An LMS anyone can stand up and point the public registration URL at: it answers whatever it likes."""

    def __init__(self) -> None:
        self.config = ""
        self.answer = json.dumps({"client_id": "hostile-client", "scope": ""})
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._answer(outer.config.replace("{BASE}", outer.url))

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self._answer(outer.answer)

            def _answer(self, body: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"


@pytest.fixture
def hostile_lms() -> Iterator[HostileLms]:
    lms = HostileLms()
    yield lms
    lms.server.shutdown()
    lms.server.server_close()


def hostile_config(**changes: Any) -> str:
    config = {"issuer": "{BASE}", "authorization_endpoint": "{BASE}/auth", "token_endpoint": "{BASE}/token",
              "jwks_uri": "{BASE}/jwks", "registration_endpoint": "{BASE}/register", **changes}
    return json.dumps(config)


@pytest.mark.parametrize("config", [
    '{"issuer": ' + "[" * 5000 + "]" * 5000 + "}",
    hostile_config(issuer="{BASE}/" + "i" * 300),
    hostile_config(jwks_uri="{BASE}/" + "j" * 3000),
    hostile_config(authorization_server="{BASE}/" + "a" * 3000),
], ids=["nested 5000 deep", "issuer too long", "jwks_uri too long", "authorization_server too long"])
def test_hostile_lms_configuration_is_refused_with_a_reason(config: str, hostile_lms: HostileLms,
                                                            browser: Browser) -> None:
    hostile_lms.config = config
    refused = browser.http.get(browser.tool_url + "/lti/register",
                               params={"openid_configuration": hostile_lms.url + "/config"})
    assert (refused.status_code, reason_of(refused)) == (400, "registration_failed"), refused.text[:300]


def test_odd_but_harmless_lms_configuration_is_registered_trimmed(hostile_lms: HostileLms, browser: Browser,
                                                                 db_session) -> None:
    hostile_lms.config = hostile_config(**{"https://purl.imsglobal.org/spec/lti-platform-configuration": {
        "product_family_code": "p" * 300, "version": ["4.5"], "messages_supported": 5}})
    params = {"openid_configuration": hostile_lms.url + "/config"}
    confirm = browser.http.get(browser.tool_url + "/lti/register", params=params)
    assert confirm.status_code == 200, reason_of(confirm)
    done = browser.http.post(browser.tool_url + "/lti/register", data=form_fields(confirm.text))
    assert done.status_code == 200, reason_of(done)
    row = db_session.scalars(select(Platform)).one()
    assert (row.status, row.product_family_code) == ("pending", "p" * 64)


@pytest.mark.parametrize("answer", [
    {"client_id": "c" * 300}, {"client_id": {"id": 1}},
    {"client_id": "ok", "https://purl.imsglobal.org/spec/lti-tool-configuration": {"deployment_id": "d" * 300}},
], ids=["client_id too long", "client_id an object", "deployment_id too long"])
def test_hostile_registration_answer_is_refused_with_a_reason(answer: dict[str, Any], hostile_lms: HostileLms,
                                                              browser: Browser, db_session) -> None:
    hostile_lms.config, hostile_lms.answer = hostile_config(), json.dumps(answer)
    params = {"openid_configuration": hostile_lms.url + "/config"}
    confirm = browser.http.get(browser.tool_url + "/lti/register", params=params)
    refused = browser.http.post(browser.tool_url + "/lti/register", data=form_fields(confirm.text))
    assert (refused.status_code, reason_of(refused)) == (400, "registration_failed"), refused.text[:300]
    assert db_session.scalars(select(Platform)).all() == []
