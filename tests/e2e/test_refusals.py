"""Every refused login or launch answers 4xx with a page naming its reason (never a 5xx or a stack trace)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select, update

from lti_microcred.core.db import transaction
from lti_microcred.lti import claims as c
from lti_microcred.lti.admin import PlatformSpec, activate, add_platform
from lti_microcred.lti.models import Deployment, Platform
from tests.support.driver import Browser, LmsHandle, LoginStep, reason_of

OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def start(browser: Browser, lms: LmsHandle, user: str = "learner-1") -> LoginStep:
    login = browser.start_login(lms.login_url(user))
    assert login.auth_url, reason_of(login.response)
    return login


def post(browser: Browser, login: LoginStep, id_token: str, state: str | None = None) -> Any:
    form = {"id_token": id_token, "state": state or login.state}
    return browser.http.post(browser.tool_url + "/lti/launch", data=form, allow_redirects=False)


def assert_refused(response: Any, status: int, reason: str) -> None:
    assert (response.status_code, reason_of(response)) == (status, reason), response.text[:400]
    assert "Traceback" not in response.text


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


# --- replay ------------------------------------------------------------------------------------------------
def test_replayed_id_token_same_browser(moodle: LmsHandle, browser: Browser,
                                        caplog: pytest.LogCaptureFixture) -> None:
    login = start(browser, moodle)
    action, fields = browser.authorize(login)
    assert browser.post_launch(action, fields).status_code == 303
    with caplog.at_level(logging.WARNING, logger="lti_microcred.refusals"):
        assert_refused(browser.post_launch(action, fields), 401, "replayed")
    # The refusal log names the LMS whose launch was replayed, as for every other refusal.
    logged = [r.getMessage() for r in caplog.records if "replayed" in r.getMessage()]
    assert logged and all(f"issuer={moodle.platform.issuer} client_id=moodle-client" in m for m in logged), logged


def test_replayed_id_token_from_another_client(moodle: LmsHandle, browser: Browser, live_tool: str) -> None:
    login = start(browser, moodle)
    action, fields = browser.authorize(login)
    assert browser.post_launch(action, fields).status_code == 303
    thief = Browser(live_tool)
    assert_refused(thief.post_launch(action, fields), 401, "replayed")
    thief.close()


def test_replayed_id_token_registered_under_another_client_id(moodle: LmsHandle, canvas: LmsHandle,
                                                              browser: Browser) -> None:
    login = start(browser, moodle)
    action, fields = browser.authorize(login)
    assert browser.post_launch(action, fields).status_code == 303
    other_login = start(browser, canvas)
    assert_refused(post(browser, other_login, fields["id_token"]), 401, "wrong_issuer")


def test_reused_nonce_in_a_new_token(moodle: LmsHandle, browser: Browser) -> None:
    login = start(browser, moodle)
    claims = moodle.valid_claims(login)
    assert post(browser, login, moodle.sign(claims)).status_code == 303
    again = moodle.sign({**claims, "iat": claims["iat"] + 1, "jti": "another"})
    assert_refused(post(browser, login, again), 401, "nonce_reused")


def test_nonce_of_another_login(moodle: LmsHandle, browser: Browser) -> None:
    first, second = start(browser, moodle), start(browser, moodle)
    token = moodle.sign(moodle.valid_claims(first))
    assert_refused(post(browser, second, token), 401, "nonce_mismatch")


# --- time ---------------------------------------------------------------------------------------------------
def test_expired_token(moodle: LmsHandle, browser: Browser) -> None:
    login = start(browser, moodle)
    now = int(time.time())
    token = moodle.sign(moodle.valid_claims(login, iat=now - 900, exp=now - 600))
    assert_refused(post(browser, login, token), 401, "expired")


def test_token_issued_too_long_ago_even_if_exp_is_far(moodle: LmsHandle, browser: Browser) -> None:
    login = start(browser, moodle)
    now = int(time.time())
    token = moodle.sign(moodle.valid_claims(login, iat=now - 3600, exp=now + 3600))
    assert_refused(post(browser, login, token), 401, "expired")


def test_token_issued_in_the_future(moodle: LmsHandle, browser: Browser) -> None:
    login = start(browser, moodle)
    now = int(time.time())
    token = moodle.sign(moodle.valid_claims(login, iat=now + 600, exp=now + 900))
    assert_refused(post(browser, login, token), 401, "issued_in_future")


def test_expired_state(moodle: LmsHandle, browser: Browser, monkeypatch: pytest.MonkeyPatch) -> None:
    real_time = time.time
    monkeypatch.setattr("lti_microcred.core.signing.time.time", lambda: real_time() - 3600)
    login = start(browser, moodle)  # the tool issues the state "an hour ago"
    monkeypatch.undo()
    token = moodle.sign(moodle.valid_claims(login))
    assert_refused(post(browser, login, token), 401, "state_expired")


# --- audience and issuer ------------------------------------------------------------------------------------
def test_wrong_audience(moodle: LmsHandle, browser: Browser) -> None:
    login = start(browser, moodle)
    token = moodle.sign(moodle.valid_claims(login, aud="someone-else", azp="someone-else"))
    assert_refused(post(browser, login, token), 401, "wrong_audience")


def test_audience_list_needs_our_azp(moodle: LmsHandle, browser: Browser) -> None:
    login = start(browser, moodle)
    client_id = moodle.platform.setup.client_id
    token = moodle.sign(moodle.valid_claims(login, aud=["someone-else", client_id], azp="someone-else"))
    assert_refused(post(browser, login, token), 401, "wrong_azp")


def test_audience_list_with_our_azp_is_accepted(moodle: LmsHandle, browser: Browser) -> None:
    login = start(browser, moodle)
    client_id = moodle.platform.setup.client_id
    token = moodle.sign(moodle.valid_claims(login, aud=["someone-else", client_id], azp=client_id))
    assert post(browser, login, token).status_code == 303


def test_wrong_issuer_in_token(moodle: LmsHandle, browser: Browser) -> None:
    login = start(browser, moodle)
    token = moodle.sign(moodle.valid_claims(login, iss="https://evil.example"))
    assert_refused(post(browser, login, token), 401, "wrong_issuer")


# --- keys and algorithms -------------------------------------------------------------------------------------
def test_unknown_kid(moodle: LmsHandle, browser: Browser) -> None:
    login = start(browser, moodle)
    token = moodle.sign(moodle.valid_claims(login), headers={"kid": "not-published"})
    assert_refused(post(browser, login, token), 401, "unknown_key")


def test_signature_by_another_key(moodle: LmsHandle, browser: Browser) -> None:
    login = start(browser, moodle)
    token = moodle.sign(moodle.valid_claims(login), key=OTHER_KEY)
    assert_refused(post(browser, login, token), 401, "bad_signature")


def test_alg_none(moodle: LmsHandle, browser: Browser) -> None:
    login = start(browser, moodle)
    unsigned = b64({"alg": "none", "typ": "JWT", "kid": moodle.kid}) + "." + b64(moodle.valid_claims(login)) + "."
    assert_refused(post(browser, login, unsigned), 401, "unsupported_algorithm")


def test_hs256_with_the_public_key_as_secret(moodle: LmsHandle, browser: Browser) -> None:
    login = start(browser, moodle)
    public_pem = moodle.platform.key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    header = b64({"alg": "HS256", "typ": "JWT", "kid": moodle.kid})
    body = b64(moodle.valid_claims(login))
    mac = hmac.new(public_pem, f"{header}.{body}".encode(), hashlib.sha256).digest()
    forged = f"{header}.{body}." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
    assert_refused(post(browser, login, forged), 401, "unsupported_algorithm")


def test_malformed_jwt(moodle: LmsHandle, browser: Browser) -> None:
    login = start(browser, moodle)
    assert_refused(post(browser, login, "not.a-jwt"), 400, "malformed_token")
    assert_refused(post(browser, login, "a.b.c"), 400, "malformed_token")


def test_oversized_body(moodle: LmsHandle, browser: Browser) -> None:
    login = start(browser, moodle)
    assert_refused(post(browser, login, "x" * (1024 * 1024)), 413, "payload_too_large")


# --- claims ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("claim", [c.MESSAGE_TYPE, c.VERSION, c.ROLES, c.DEPLOYMENT_ID, "nonce", "sub"])
def test_missing_required_claim(claim: str, moodle: LmsHandle, browser: Browser) -> None:
    login = start(browser, moodle)
    claims = moodle.valid_claims(login)
    del claims[claim]
    assert_refused(post(browser, login, moodle.sign(claims)), 400, "missing_claim")


def test_missing_resource_link_in_resource_launch(moodle: LmsHandle, browser: Browser) -> None:
    login = start(browser, moodle)
    claims = moodle.valid_claims(login)
    del claims[c.RESOURCE_LINK]
    assert_refused(post(browser, login, moodle.sign(claims)), 400, "missing_claim")


def test_unsupported_message_type(moodle: LmsHandle, browser: Browser) -> None:
    login = start(browser, moodle)
    token = moodle.sign(moodle.valid_claims(login, **{c.MESSAGE_TYPE: "LtiStartProctoring"}))
    assert_refused(post(browser, login, token), 400, "invalid_claim")


def test_foreign_target_link_uri_in_token(moodle: LmsHandle, browser: Browser) -> None:
    login = start(browser, moodle)
    token = moodle.sign(moodle.valid_claims(login, **{c.TARGET_LINK_URI: "https://evil.example/lti/launch"}))
    assert_refused(post(browser, login, token), 400, "foreign_target_link_uri")


def test_target_link_uri_other_than_the_login(moodle: LmsHandle, browser: Browser) -> None:
    login = start(browser, moodle)
    token = moodle.sign(moodle.valid_claims(login, **{c.TARGET_LINK_URI: browser.tool_url + "/lti/launch/other"}))
    assert_refused(post(browser, login, token), 400, "foreign_target_link_uri")


# --- state ------------------------------------------------------------------------------------------------------
def test_tampered_state(moodle: LmsHandle, browser: Browser) -> None:
    login = start(browser, moodle)
    token = moodle.sign(moodle.valid_claims(login))
    body, _, mac = login.state.partition(".")
    assert_refused(post(browser, login, token, state=body + "." + mac[::-1]), 401, "state_mismatch")


def test_state_cookie_of_another_login_is_refused(moodle: LmsHandle, browser: Browser, live_tool: str) -> None:
    """A launch begun in another browser, posted here: this browser's state cookie belongs to its own login."""
    start(browser, moodle)
    (own,) = browser.http.cookies
    for under_their_name in (False, True):
        other = Browser(live_tool)
        action, fields = other.authorize(start(other, moodle))
        (theirs,) = other.http.cookies
        other.close()
        assert own.name != theirs.name and own.value != theirs.value
        if under_their_name:  # even named as the other login's cookie, this browser's binding is not that login's
            browser.http.cookies.set(theirs.name, own.value, domain=theirs.domain, path=theirs.path)
        assert_refused(browser.post_launch(action, fields), 401, "storage_unavailable")


def test_missing_state(moodle: LmsHandle, browser: Browser) -> None:
    start(browser, moodle)  # a login under way: only the launch's state is missing
    response = browser.http.post(browser.tool_url + "/lti/launch", data={"id_token": "a.b.c"})
    assert_refused(response, 400, "missing_parameter")


# --- registrations and deployments ---------------------------------------------------------------------------
def test_login_from_unknown_issuer(moodle: LmsHandle, browser: Browser) -> None:
    url = moodle.login_url().replace("iss=http", "iss=https%3A%2F%2Funknown.example%2F&x=http")
    assert_refused(browser.start_login(url).response, 400, "unknown_issuer")


def test_login_with_unknown_client_id(moodle: LmsHandle, browser: Browser) -> None:
    url = moodle.login_url().replace("client_id=moodle-client", "client_id=nobody")
    assert_refused(browser.start_login(url).response, 400, "unknown_client")


def test_login_without_parameters(browser: Browser) -> None:
    assert_refused(browser.http.get(browser.tool_url + "/lti/login"), 400, "missing_parameter")
    assert_refused(browser.http.post(browser.tool_url + "/lti/login", data={"iss": "x"}), 400, "missing_parameter")


def test_login_with_foreign_target(moodle: LmsHandle, browser: Browser) -> None:
    url = moodle.login_url().replace("target_link_uri=http", "target_link_uri=https%3A%2F%2Fevil.example%2F&y=http")
    assert_refused(browser.start_login(url).response, 400, "foreign_target_link_uri")


def test_unknown_deployment_is_held_then_activated(moodle: LmsHandle, browser: Browser, db_session,
                                                   services, caplog: pytest.LogCaptureFixture) -> None:
    login = start(browser, moodle)
    token = moodle.sign(moodle.valid_claims(login, **{c.DEPLOYMENT_ID: "new-install-42"}))
    with caplog.at_level(logging.WARNING, logger="lti_microcred.refusals"):
        assert_refused(post(browser, login, token), 403, "deployment_held")
    assert any(moodle.platform.issuer in r.getMessage() and "deployment_held" in r.getMessage() for r in caplog.records)
    held = db_session.scalars(select(Deployment).where(Deployment.lti_deployment_id == "new-install-42")).one()
    assert held.status == "held"

    with transaction(services.sessions) as session:
        activate(session, moodle.platform_id, "new-install-42")
    services.reset_caches()
    login = start(browser, moodle)
    token = moodle.sign(moodle.valid_claims(login, **{c.DEPLOYMENT_ID: "new-install-42"}))
    assert post(browser, login, token).status_code == 303


def test_unknown_deployment_accepted_when_policy_says_so(moodle: LmsHandle, browser: Browser, services) -> None:
    with transaction(services.sessions) as session:
        session.get(Platform, moodle.platform_id).deployment_policy = "accept"
    services.reset_caches()
    login = start(browser, moodle)
    token = moodle.sign(moodle.valid_claims(login, **{c.DEPLOYMENT_ID: "canvas-style-new-deployment"}))
    assert post(browser, login, token).status_code == 303


def second_client(services: Any, lms: LmsHandle, client_id: str = "moodle-second-client") -> str:
    """Another registration under the same issuer (as hosted Canvas has one per institution)."""
    spec = PlatformSpec(issuer=lms.platform.issuer, client_id=client_id, auth_login_url=lms.platform.url("/auth"),
                        auth_token_url=lms.platform.url("/token"), key_set_url=lms.platform.url("/jwks"))
    with transaction(services.sessions) as session:
        add_platform(session, spec, [lms.platform.setup.deployment_id])
    services.reset_caches()
    return client_id


def test_replayed_id_token_under_another_client_of_the_same_issuer(moodle: LmsHandle, browser: Browser,
                                                                   services: Any) -> None:
    other = second_client(services, moodle)
    login = start(browser, moodle)
    action, fields = browser.authorize(login)
    assert browser.post_launch(action, fields).status_code == 303
    other_login = browser.start_login(moodle.platform.login_url("learner-1", client_id=other))
    assert other_login.auth_url, reason_of(other_login.response)
    assert_refused(post(browser, other_login, fields["id_token"]), 401, "wrong_audience")


def test_login_without_client_id_when_the_issuer_has_several(moodle: LmsHandle, browser: Browser,
                                                              services: Any) -> None:
    second_client(services, moodle)
    url = moodle.login_url().replace("client_id=moodle-client", "x=y")
    assert_refused(browser.start_login(url).response, 400, "client_id_required")


def test_disabled_deployment_is_refused(moodle: LmsHandle, browser: Browser, services: Any) -> None:
    with transaction(services.sessions) as session:
        session.execute(update(Deployment).where(Deployment.platform_id == moodle.platform_id)
                        .values(status="disabled"))
    services.reset_caches()
    login = start(browser, moodle)
    assert_refused(post(browser, login, moodle.sign(moodle.valid_claims(login))), 403, "deployment_disabled")


def test_pending_platform_cannot_launch(moodle: LmsHandle, browser: Browser, services) -> None:
    with transaction(services.sessions) as session:
        session.get(Platform, moodle.platform_id).status = "pending"
    services.reset_caches()
    assert_refused(browser.start_login(moodle.login_url()).response, 403, "platform_not_active")


def test_every_refusal_is_logged_with_its_platform(moodle: LmsHandle, browser: Browser,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    login = start(browser, moodle)
    with caplog.at_level(logging.WARNING, logger="lti_microcred.refusals"):
        post(browser, login, moodle.sign(moodle.valid_claims(login), key=OTHER_KEY))
    line = " ".join(r.getMessage() for r in caplog.records)
    assert "bad_signature" in line and moodle.platform.issuer in line and "moodle-client" in line


def test_no_refusal_is_a_server_error(moodle: LmsHandle, browser: Browser) -> None:
    """Garbage in every field: always 4xx."""
    for data in ({"id_token": "\x00" * 10, "state": "\x00"}, {"id_token": "a" * 70000, "state": "b" * 5000},
                 {"id_token": jwt.encode({"x": 1}, "k" * 64, algorithm="HS256"), "state": "x.y"}):
        response = browser.http.post(browser.tool_url + "/lti/launch", data=data)
        assert 400 <= response.status_code < 500, (data, response.status_code)


def forged(header: dict[str, Any] | str, body: dict[str, Any] | str) -> str:
    """A compact JWS with any header and body text (the signature is junk: these die before it is checked)."""
    def part(value: dict[str, Any] | str) -> str:
        text = value if isinstance(value, str) else json.dumps(value)
        return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()
    return f"{part(header)}.{part(body)}.c2lnbmF0dXJl"


NESTED = "[" * 5000 + "]" * 5000
Forge = Callable[[LmsHandle, LoginStep], str]


def signed_with(**claims: Any) -> Forge:
    return lambda lms, login: lms.sign(lms.valid_claims(login, **claims))


# Anyone can get a state from the public login URL, so everything in the token is hostile input.
HOSTILE_TOKENS: dict[str, tuple[Forge, int, str]] = {
    "header nested 5000 deep": (lambda lms, login: forged('{"alg":"RS256","kid":"k","x":' + NESTED + "}",
                                                          lms.valid_claims(login)), 400, "malformed_token"),
    "body nested 5000 deep": (lambda lms, login: forged({"alg": "RS256", "kid": lms.kid}, '{"x":' + NESTED + "}"),
                              400, "malformed_token"),
    "kid is a list": (lambda lms, login: forged({"alg": "RS256", "kid": ["x"]}, lms.valid_claims(login)),
                      400, "malformed_token"),
    "kid is an object": (lambda lms, login: forged({"alg": "RS256", "kid": {"k": 1}}, lms.valid_claims(login)),
                         400, "malformed_token"),
    "alg is a list": (lambda lms, login: forged({"alg": ["RS256"], "kid": lms.kid}, lms.valid_claims(login)),
                      401, "unsupported_algorithm"),
    "message_type is a list": (signed_with(**{c.MESSAGE_TYPE: [c.RESOURCE_LINK_REQUEST]}), 400, "invalid_claim"),
    "message_type is an object": (signed_with(**{c.MESSAGE_TYPE: {"t": 1}}), 400, "invalid_claim"),
    "iat is NaN": (signed_with(iat=float("nan")), 400, "invalid_claim"),
    "exp is NaN": (signed_with(exp=float("nan")), 400, "invalid_claim"),
    "exp is infinite": (signed_with(exp=float("inf")), 400, "invalid_claim"),
    "iat is minus infinity": (signed_with(iat=float("-inf")), 400, "invalid_claim"),
    "iat beyond any float": (signed_with(iat=-(10**400)), 400, "invalid_claim"),
    "iat far in the future": (signed_with(iat=10**400), 400, "invalid_claim"),
    "iat is a string": (signed_with(iat=str(int(time.time()))), 400, "invalid_claim"),
    "sub is an object": (signed_with(sub={"id": "learner-1"}), 400, "invalid_claim"),
    "resource_link is a list": (signed_with(**{c.RESOURCE_LINK: ["link-1"]}), 400, "invalid_claim"),
    "deep_linking_settings is a list": (signed_with(**{c.MESSAGE_TYPE: c.DEEP_LINKING_REQUEST,
                                                       c.DL_SETTINGS: ["x"]}), 400, "invalid_claim"),
    "context is a string": (signed_with(**{c.CONTEXT: "course-1"}), 400, "invalid_claim"),
}


@pytest.mark.parametrize("case", list(HOSTILE_TOKENS))
def test_no_hostile_token_is_a_server_error(case: str, moodle: LmsHandle, browser: Browser) -> None:
    forge, status, reason = HOSTILE_TOKENS[case]
    login = start(browser, moodle)
    assert_refused(post(browser, login, forge(moodle, login)), status, reason)
