"""OIDC third-party initiated login: find the registration, issue a signed state, build the auth request.

https://www.imsglobal.org/spec/security/v1p0/#openid_connect_launch_flow
Moodle sends lti_deployment_id; Canvas sends deployment_id and lti_storage_target. Deployments are
not checked here: login parameters are unsigned, so only the signed launch may record a deployment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from lti_microcred.core.signing import Signer
from lti_microcred.lti.errors import ForeignTarget, MissingParameter
from lti_microcred.lti.launch import is_our_url
from lti_microcred.lti.registry import PlatformInfo, Registry
from lti_microcred.lti.state import LoginState, issue_state, nonce_for

MAX_PARAM_LENGTH = 4096
STORAGE_TARGET_PATTERN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


@dataclass(frozen=True)
class LoginRequest:
    iss: str
    login_hint: str
    target_link_uri: str
    lti_message_hint: str | None
    client_id: str | None
    deployment_id: str | None
    storage_target: str | None

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> LoginRequest:
        def get(name: str) -> str | None:
            value = params.get(name)
            if value is not None and len(value) > MAX_PARAM_LENGTH:
                raise MissingParameter(f"login parameter {name} is longer than {MAX_PARAM_LENGTH} characters")
            return value or None

        missing = [n for n in ("iss", "login_hint", "target_link_uri") if not get(n)]
        if missing:
            raise MissingParameter(f"the login request has no {', '.join(missing)}")
        storage = get("lti_storage_target")
        if storage and not set(storage) <= STORAGE_TARGET_PATTERN:
            storage = None  # a frame name we would not dare to address
        return cls(
            iss=get("iss") or "", login_hint=get("login_hint") or "", target_link_uri=get("target_link_uri") or "",
            lti_message_hint=get("lti_message_hint"), client_id=get("client_id"),
            deployment_id=get("lti_deployment_id") or get("deployment_id"), storage_target=storage,
        )


@dataclass(frozen=True)
class LoginRedirect:
    platform: PlatformInfo
    state: LoginState
    auth_url: str

    @property
    def auth_origin(self) -> str:
        return auth_origin(self.platform)


def auth_origin(platform: PlatformInfo) -> str:
    """Origin of the platform's OIDC auth endpoint: the target origin for platform-storage messages."""
    parts = urlsplit(platform.auth_login_url)
    return f"{parts.scheme}://{parts.netloc}"


def begin_login(request: LoginRequest, registry: Registry, signer: Signer, base_url: str,
                launch_url: str) -> LoginRedirect:
    """Everything the browser needs to go on to the platform's authorization endpoint."""
    platform = registry.find_platform(request.iss, request.client_id)
    if not is_our_url(request.target_link_uri, base_url):
        raise ForeignTarget(f"target_link_uri {request.target_link_uri!r} is not under {base_url}",
                            issuer=platform.issuer, client_id=platform.client_id)
    state = issue_state(signer, platform.id, request.target_link_uri, request.storage_target)
    params = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": platform.client_id,
        "redirect_uri": launch_url,
        "state": state.raw,
        "nonce": nonce_for(signer, state),
        "login_hint": request.login_hint,
    }
    if request.lti_message_hint:
        params["lti_message_hint"] = request.lti_message_hint
    separator = "&" if "?" in platform.auth_login_url else "?"
    return LoginRedirect(platform, state, platform.auth_login_url + separator + urlencode(params))
