"""LTI Dynamic Registration (https://www.imsglobal.org/spec/lti-dr/v1p0) for Moodle and Canvas.

The registration URL is public, so a registration made without a valid invite (created with
`microcred platform invite`) is stored as *pending* and launches are refused until an admin activates it.
The platform's configuration URL is fetched by the server: in production only public https hosts.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import SplitResult, urlsplit

from pylti1p3.dynamic_registration import DynamicRegistration
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_microcred.config import Settings
from lti_microcred.db import utcnow
from lti_microcred.lti import claims as c
from lti_microcred.lti.errors import LaunchError, MissingParameter
from lti_microcred.lti.models import Deployment, Platform
from lti_microcred.lti.scopes import TOOL_SCOPES
from lti_microcred.outbound import OutboundError
from lti_microcred.services import Services
from lti_microcred.signing import BadToken

INVITE_PURPOSE = "registration-invite"
PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
CANVAS_PRIVACY = "https://canvas.instructure.com/lti/privacy_level"
ENDPOINTS = ("authorization_endpoint", "token_endpoint", "jwks_uri", "registration_endpoint")
# Hosted Canvas signs launches with one issuer per environment for every school, but serves its configuration
# from Instructure's SSO host or the school's own *.instructure.com host: never from the issuer's host.
CANVAS_CLOUD_ISSUERS = frozenset({"https://canvas.instructure.com", "https://canvas.beta.instructure.com",
                                  "https://canvas.test.instructure.com"})
CANVAS_SSO_HOSTS = frozenset({"sso.canvaslms.com", "sso.beta.canvaslms.com", "sso.test.canvaslms.com"})
CANVAS_CONFIGURATION_PATH = "/api/lti/security/openid-configuration"


class RegistrationError(LaunchError):
    code, status, title = "registration_failed", 400, "The registration could not be completed"
    hint = ("Start the registration again from the LMS. If it fails again, register the tool manually "
            "(see the tool's README) and send the reason code to its administrator.")


@dataclass(frozen=True)
class RegistrationParams:
    openid_configuration: str
    registration_token: str | None
    invite: str

    @classmethod
    def from_request(cls, values: Mapping[str, str], invite: str) -> RegistrationParams:
        url = values.get("openid_configuration", "")
        if not url or len(url) > 2048:
            raise MissingParameter("this page must be opened by the LMS with an openid_configuration URL")
        token = values.get("registration_token") or None
        return cls(url, token[:4096] if token else None, invite or values.get("invite", ""))

    def headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self.registration_token:
            headers["Authorization"] = f"Bearer {self.registration_token}"
        return headers


@dataclass(frozen=True)
class PlatformConfiguration:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    registration_endpoint: str
    authorization_server: str | None
    product_family_code: str | None
    version: str | None
    messages_supported: list[str] = field(default_factory=list)

    @property
    def display_name(self) -> str:
        product = (self.product_family_code or "LMS").capitalize()
        return f"{product} at {urlsplit(self.issuer).netloc}"


@dataclass(frozen=True)
class RegistrationOutcome:
    platform_id: int
    client_id: str
    deployment_id: str | None
    status: str
    granted_scopes: list[str]
    missing_scopes: list[str]


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def check_fetchable(url: str, allow_private: bool) -> None:
    """Refuse URLs that would make the server call itself or an internal network (SSRF)."""
    parts = urlsplit(url)
    if parts.scheme not in ({"http", "https"} if allow_private else {"https"}) or not parts.hostname:
        raise RegistrationError(f"the configuration URL {url!r} must be an absolute https URL")
    if allow_private:
        return
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, parts.port or 443)}
    except ValueError as exc:
        raise RegistrationError(f"the configuration URL {url!r} has no usable port") from exc
    except OSError as exc:
        raise RegistrationError(f"cannot resolve {parts.hostname}: {exc}") from exc
    for address in addresses:
        ip = ipaddress.ip_address(address)
        if not ip.is_global:
            raise RegistrationError(f"{parts.hostname} resolves to a non-public address ({ip})")


def issuer_matches_configuration(issuer: str, configuration_url: str) -> bool:
    """LTI-DR 3.5.1: the issuer is on the host that served the configuration (https://www.imsglobal.org/spec/
    lti-dr/v1p0#issuer-and-openid-configuration-url-match); hosted Canvas only from Instructure's own hosts."""
    parts = urlsplit(configuration_url)
    if urlsplit(issuer).netloc == parts.netloc:
        return True
    return issuer in CANVAS_CLOUD_ISSUERS and _is_instructure_configuration(parts)


def _is_instructure_configuration(parts: SplitResult) -> bool:
    """Canvas's configuration address on Instructure's SSO host or a school's *.instructure.com host, https only."""
    host = parts.hostname or ""
    try:
        default_port = parts.port in (None, 443)
    except ValueError:  # not a port number
        return False
    return (parts.scheme == "https" and default_port and "@" not in parts.netloc
            and parts.path == CANVAS_CONFIGURATION_PATH
            and (host in CANVAS_SSO_HOSTS or host.endswith(".instructure.com")))


def fetch_platform_configuration(s: Services, params: RegistrationParams) -> PlatformConfiguration:
    check_fetchable(params.openid_configuration, allow_private=not s.settings.is_production)
    try:
        doc = s.http.get_json(params.openid_configuration, headers=params.headers())
    except OutboundError as exc:
        raise RegistrationError(f"could not read the LMS configuration: {exc}") from exc
    except RecursionError as exc:
        raise RegistrationError("the LMS configuration nests its JSON too deep to read") from exc
    if not isinstance(doc, dict):
        raise RegistrationError("the LMS configuration is not a JSON object")
    _check_endpoints(doc)
    if not issuer_matches_configuration(doc["issuer"], params.openid_configuration):
        raise RegistrationError(f"issuer {doc['issuer']!r} is not on the host the configuration came from")
    return _configuration(doc)


def _check_endpoints(doc: dict[str, Any]) -> None:
    """The issuer and URLs we store must be strings that fit their columns (issuer 255, URLs 2048)."""
    missing = [k for k in ("issuer", *ENDPOINTS) if not isinstance(doc.get(k), str) or not doc.get(k)]
    if missing:
        raise RegistrationError(f"the LMS configuration lacks {', '.join(missing)}")
    limits = {"issuer": 255, **{k: 2048 for k in (*ENDPOINTS, "authorization_server")}}
    too_long = [k for k, limit in limits.items() if isinstance(doc.get(k), str) and len(doc[k]) > limit]
    if too_long:
        raise RegistrationError(f"the LMS configuration's {', '.join(too_long)} is longer than the tool can store")


def _configuration(doc: dict[str, Any]) -> PlatformConfiguration:
    """What we keep of a checked configuration; optional LTI details of the wrong shape are ignored."""
    lti = _mapping(doc.get(PLATFORM_CONFIGURATION))
    supported = lti.get("messages_supported")
    messages = [m.get("type") for m in supported if isinstance(m, dict)] if isinstance(supported, list) else []
    return PlatformConfiguration(
        issuer=doc["issuer"], authorization_endpoint=doc["authorization_endpoint"],
        token_endpoint=doc["token_endpoint"], jwks_uri=doc["jwks_uri"],
        registration_endpoint=doc["registration_endpoint"],
        authorization_server=doc["authorization_server"] if isinstance(doc.get("authorization_server"), str) else None,
        product_family_code=str(lti.get("product_family_code") or "")[:64] or None,
        version=str(lti.get("version") or "")[:64] or None,
        messages_supported=[m for m in messages if isinstance(m, str) and m],
    )


class ToolRegistrationRequest(DynamicRegistration):
    """pylti1p3 shapes the registration body; we supply our URLs, scopes and messages."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.client_name = settings.tool_name
        self.description = "Assessed, stackable micro-credentials with verifiable Open Badges 3.0 credentials."

    def get_initiate_login_uri(self) -> str:
        return self.settings.url("/lti/login")

    def get_jwks_uri(self) -> str:
        return self.settings.url("/lti/jwks")

    def get_redirect_uris(self) -> list[str]:
        return [self.settings.url("/lti/launch")]

    def get_target_link_uri(self) -> str:
        return self.settings.url("/lti/launch")

    def get_scopes(self) -> list[str]:
        return list(TOOL_SCOPES)

    def get_domain(self) -> str:
        return self.settings.base_host

    def get_logo_uri(self) -> str:
        return self.settings.url("/static/icon.svg")

    def get_claims(self) -> list[str]:
        return ["iss", "sub", "name", "given_name", "family_name", "email"]

    def get_messages(self) -> list[dict[str, Any]]:
        launch, label = self.get_target_link_uri(), self.settings.tool_name
        return [
            {"type": c.DEEP_LINKING_REQUEST, "target_link_uri": launch, "label": label,
             "placements": ["link_selection", "assignment_selection"]},
            {"type": c.RESOURCE_LINK_REQUEST, "target_link_uri": launch, "label": label,
             "placements": ["course_navigation"]},
        ]

    def lti_registration_data(self) -> dict[str, Any]:
        data = super().lti_registration_data()
        data[TOOL_CONFIGURATION][CANVAS_PRIVACY] = "public"
        return data


def register_tool(s: Services, session: Session, params: RegistrationParams,
                  config: PlatformConfiguration) -> RegistrationOutcome:
    """POST our registration to the platform and store what it answers, pending unless invited."""
    body = ToolRegistrationRequest(s.settings).lti_registration_data()
    try:
        response = s.http.request("POST", config.registration_endpoint, json=body, headers=params.headers())
        answer = s.http.json_of(response, config.registration_endpoint)
    except OutboundError as exc:
        raise RegistrationError(f"the LMS refused the registration: {exc}") from exc
    except RecursionError as exc:
        raise RegistrationError("the LMS answered the registration with JSON nested too deep to read") from exc
    if not isinstance(answer, dict) or not answer.get("client_id"):
        raise RegistrationError("the LMS answered the registration without a client_id")
    client_id = _lti_id(answer["client_id"], "client_id")
    tool_conf = _mapping(answer.get(TOOL_CONFIGURATION))
    deployment_id = _lti_id(tool_conf["deployment_id"], "deployment_id") if tool_conf.get("deployment_id") else None
    invited = _invite_is_valid(s, params.invite)
    granted = str(answer.get("scope", "")).split()
    # An invited registration is trusted with its new deployments too; otherwise the default policy holds them.
    policy = "accept" if invited else s.settings.default_deployment_policy
    platform = _store_platform(session, config, client_id, "active" if invited else "pending", granted, policy)
    if deployment_id:
        _store_deployment(session, platform, deployment_id)
    return RegistrationOutcome(platform.id, client_id, deployment_id, platform.status, granted,
                               [sc for sc in TOOL_SCOPES if granted and sc not in granted])


def _lti_id(value: Any, name: str) -> str:
    """An identifier the LMS gave us, as we store it: a string or number of at most 255 characters."""
    if isinstance(value, bool) or not isinstance(value, str | int) or len(str(value)) > 255:
        raise RegistrationError(f"the LMS answered the registration with an unusable {name}: {str(value)[:40]!r}")
    return str(value)


def _invite_is_valid(s: Services, invite: str) -> bool:
    if not invite:
        return False
    try:
        s.signer.loads(INVITE_PURPOSE, invite, s.settings.dynamic_registration_invite_hours * 3600)
    except BadToken:
        return False
    return True


def make_invite(s: Services) -> str:
    return s.signer.dumps(INVITE_PURPOSE, {})


def _store_platform(session: Session, config: PlatformConfiguration, client_id: str, status: str,
                    granted: list[str], deployment_policy: str) -> Platform:
    platform = session.scalars(
        select(Platform).where(Platform.issuer == config.issuer, Platform.client_id == client_id)
    ).one_or_none()
    if platform is None:
        platform = Platform(issuer=config.issuer, client_id=client_id, status=status, source="dynamic",
                            deployment_policy=deployment_policy)
        session.add(platform)
    elif status == "active":
        platform.status, platform.deployment_policy = "active", deployment_policy
    platform.name = config.display_name[:200]
    platform.auth_login_url = config.authorization_endpoint
    platform.auth_token_url = config.token_endpoint
    platform.auth_audience = config.authorization_server
    platform.key_set_url = config.jwks_uri
    platform.product_family_code = config.product_family_code
    platform.granted_scopes = " ".join(granted)
    session.flush()
    return platform


def _store_deployment(session: Session, platform: Platform, deployment_id: str) -> None:
    exists = session.scalars(select(Deployment).where(
        Deployment.platform_id == platform.id, Deployment.lti_deployment_id == deployment_id)).one_or_none()
    if exists is None:
        session.add(Deployment(platform_id=platform.id, lti_deployment_id=deployment_id, status="active",
                               activated_dt=utcnow()))
        session.flush()
