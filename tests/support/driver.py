"""A scripted browser for the launch flow over real HTTP, and helpers to forge id_tokens for refusal tests.

`Browser` follows redirects and auto-posted forms like a browser does; where the tool's pages run
JavaScript (platform storage), it performs the same requests the script would.
"""

from __future__ import annotations

import html
import re
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

import jwt
import requests

from lti_microcred.devplatform.platform import DevPlatform

FORM_FIELD = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


def form_fields(page: str) -> dict[str, str]:
    return {name: html.unescape(value) for name, value in FORM_FIELD.findall(page)}


def form_action(page: str) -> str:
    match = re.search(r'<form[^>]*action="([^"]+)"', page)
    assert match, f"no form in page: {page[:300]}"
    return html.unescape(match.group(1))


def data_attr(page: str, name: str) -> str:
    match = re.search(rf'data-{name}="([^"]*)"', page)
    assert match, f"no data-{name} in page: {page[:500]}"
    return html.unescape(match.group(1))


def reason_of(response: requests.Response) -> str:
    """The reason code an error page shows (`data-reason`)."""
    match = re.search(r'data-reason="([^"]+)"', response.text)
    return match.group(1) if match else f"<no reason; HTTP {response.status_code}>"


@dataclass
class LoginStep:
    response: requests.Response
    auth_url: str

    @property
    def auth_params(self) -> dict[str, str]:
        return dict(parse_qsl(urlsplit(self.auth_url).query))

    @property
    def state(self) -> str:
        return self.auth_params["state"]

    @property
    def nonce(self) -> str:
        return self.auth_params["nonce"]


@dataclass
class LmsHandle:
    """A loopback LMS registered with the tool."""

    platform: DevPlatform
    platform_id: int
    tool_url: str
    flavour: str = field(init=False)

    def __post_init__(self) -> None:
        self.flavour = self.platform.setup.flavour

    def login_url(self, user: str = "learner-1", link: str | None = None, deep_link: bool = False) -> str:
        return self.platform.login_url(user, link, deep_link)

    @property
    def kid(self) -> str:
        return str(self.platform.jwks()["keys"][0]["kid"])

    def sign(self, claims: dict[str, Any], key: Any = None, headers: dict[str, Any] | None = None,
             algorithm: str = "RS256") -> str:
        return jwt.encode(claims, key if key is not None else self.platform.key, algorithm=algorithm,
                          headers={"kid": self.kid, **(headers or {})})

    def valid_claims(self, login: LoginStep, user: str = "learner-1", **overrides: Any) -> dict[str, Any]:
        """The claims the LMS would sign for this login: taken from a real id_token it issues, then edited."""
        fields = self.platform.authorize({**login.auth_params, "login_hint": user})
        claims = jwt.decode(fields["id_token"], options={"verify_signature": False})
        claims.update(overrides)
        return claims


class Browser:
    def __init__(self, tool_url: str) -> None:
        self.tool_url = tool_url
        self.http = requests.Session()
        self.http.headers["User-Agent"] = "lti-microcred-tests"

    def close(self) -> None:
        self.http.close()

    def start_login(self, login_url: str, method: str = "GET", **kwargs: Any) -> LoginStep:
        if method == "GET":
            response = self.http.get(login_url, allow_redirects=False, **kwargs)
        else:
            base, _, query = login_url.partition("?")
            response = self.http.post(base, data=dict(parse_qsl(query)), allow_redirects=False, **kwargs)
        if response.status_code == 302:
            return LoginStep(response, response.headers["Location"])
        if response.status_code == 200:
            return LoginStep(response, data_attr(response.text, "auth-url"))
        return LoginStep(response, "")

    def authorize(self, login: LoginStep) -> tuple[str, dict[str, str]]:
        """Visit the LMS auth endpoint; returns the auto-posted form (action, fields)."""
        page = self.http.get(login.auth_url)
        assert page.status_code == 200, page.text[:500]
        return form_action(page.text), form_fields(page.text)

    def post_launch(self, action: str, fields: dict[str, str]) -> requests.Response:
        return self.http.post(action, data=fields, allow_redirects=False)

    def follow(self, response: requests.Response) -> requests.Response:
        while response.status_code in (301, 302, 303):
            response = self.http.get(urljoin(response.url, response.headers["Location"]), allow_redirects=False)
        return response

    def confirm_from_storage(self, launch_page: requests.Response, stored_state: str | None) -> requests.Response:
        """Do what lti-launch.js does: post back the state the LMS storage returned."""
        fields = form_fields(launch_page.text)
        fields["state"] = stored_state or ""
        return self.http.post(urljoin(launch_page.url, form_action(launch_page.text)), data=fields,
                              allow_redirects=False)

    def launch(self, lms: LmsHandle, user: str = "learner-1", link: str | None = None,
               deep_link: bool = False) -> requests.Response:
        """The whole journey: LMS frame -> tool login -> LMS auth -> tool launch -> the tool's page."""
        login = self.start_login(lms.login_url(user, link, deep_link))
        assert login.auth_url, f"login refused: {login.response.status_code} {reason_of(login.response)}"
        action, fields = self.authorize(login)
        response = self.post_launch(action, fields)
        return self.follow(response)


def wait_until(predicate: Any, timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")
