"""LTI Dynamic Registration (https://www.imsglobal.org/spec/lti-dr/v1p0) for Moodle and Canvas.

The registration URL is public, so a registration made without a valid invite (created with
`microcred platform invite`) is stored as *pending* and launches are refused until an admin activates it.
The platform's configuration URL and the registration endpoint it names are fetched by the server through
`core.public_http`: every hop is checked against the address connected to (in production: public https hosts).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_microcred.core.config import Settings
from lti_microcred.core.db import utcnow
from lti_microcred.core.outbound import OutboundError
from lti_microcred.core.public_http import PublicHTTP
from lti_microcred.core.signing import BadToken, Signer
from lti_microcred.lti.errors import MissingParameter
from lti_microcred.lti.models import Deployment, Institution, Platform
from lti_microcred.lti.platform_configuration import (
    PlatformConfiguration,
    RegistrationError,
    check_endpoints,
    configuration_of,
    is_fetchable_url,
    issuer_matches_configuration,
    mapping,
)
from lti_microcred.lti.registration_request import TOOL_CONFIGURATION, ToolRegistrationRequest
from lti_microcred.lti.scopes import TOOL_SCOPES

INVITE_PURPOSE = "registration-invite"


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
class RegistrationOutcome:
    platform_id: int
    client_id: str
    deployment_id: str | None
    status: str
    granted_scopes: list[str]
    missing_scopes: list[str]
    institution: str | None = None  # the name its courses' credentials carry (told only to an invited LMS)


@dataclass(frozen=True)
class Registrar:
    """What Dynamic Registration needs of the process: its settings, the outbound client, the invite signer."""

    settings: Settings
    http: PublicHTTP  # every hop checked: the URLs come from whoever opened the registration page
    signer: Signer

    @property
    def https_only(self) -> bool:
        return self.settings.is_production

    def fetch_configuration(self, params: RegistrationParams) -> PlatformConfiguration:
        return fetch_platform_configuration(self, params)

    def register(self, session: Session, params: RegistrationParams,
                 config: PlatformConfiguration) -> RegistrationOutcome:
        return register_tool(self, session, params, config)

    def invitation(self, invite: str) -> dict[str, Any] | None:
        """What a valid invite says (the institution to join, if any); None for none, a forged or an old one."""
        if not invite:
            return None
        try:
            return self.signer.loads(INVITE_PURPOSE, invite, self.settings.dynamic_registration_invite_hours * 3600)
        except BadToken:
            return None

    def make_invite(self, institution_id: int | None = None) -> str:
        """A registration URL's last segment: registrations made with it are active at once, and belong to the
        institution named (else to the institution of the same LMS, or the root one)."""
        return self.signer.dumps(INVITE_PURPOSE, {} if institution_id is None else {"institution": institution_id})


def fetch_platform_configuration(s: Registrar, params: RegistrationParams) -> PlatformConfiguration:
    if not is_fetchable_url(params.openid_configuration, s.https_only):
        scheme = "https" if s.https_only else "http(s)"
        raise RegistrationError(f"the configuration URL must be an absolute {scheme} URL with a host")
    try:
        doc = s.http.request_json("GET", params.openid_configuration, headers=params.headers())
    except OutboundError as exc:
        raise RegistrationError(f"could not read the LMS configuration: {exc}") from exc
    except RecursionError as exc:
        raise RegistrationError("the LMS configuration nests its JSON too deep to read") from exc
    if not isinstance(doc, dict):
        raise RegistrationError("the LMS configuration is not a JSON object")
    check_endpoints(doc, s.https_only)
    if not issuer_matches_configuration(doc["issuer"], params.openid_configuration):
        raise RegistrationError("the configuration's issuer is not on the host the configuration came from")
    return configuration_of(doc)


def register_tool(s: Registrar, session: Session, params: RegistrationParams,
                  config: PlatformConfiguration) -> RegistrationOutcome:
    """POST our registration to the platform and store what it answers, pending unless invited."""
    body = ToolRegistrationRequest(s.settings).lti_registration_data()
    try:
        answer = s.http.request_json("POST", config.registration_endpoint, json=body, headers=params.headers())
    except OutboundError as exc:
        raise RegistrationError(f"the LMS refused the registration: {exc}") from exc
    except RecursionError as exc:
        raise RegistrationError("the LMS answered the registration with JSON nested too deep to read") from exc
    if not isinstance(answer, dict) or not answer.get("client_id"):
        raise RegistrationError("the LMS answered the registration without a client_id")
    client_id = _lti_id(answer["client_id"], "client_id")
    tool_conf = mapping(answer.get(TOOL_CONFIGURATION))
    deployment_id = _lti_id(tool_conf["deployment_id"], "deployment_id") if tool_conf.get("deployment_id") else None
    invitation = s.invitation(params.invite)
    granted = str(answer.get("scope", "")).split()
    # An invited registration is trusted with its new deployments too; otherwise the default policy holds them.
    policy = "accept" if invitation is not None else s.settings.default_deployment_policy
    platform = _store_platform(session, config, client_id, "active" if invitation is not None else "pending", granted,
                               policy)
    if invitation is not None and isinstance(invitation.get("institution"), int):
        platform.institution_id = invitation["institution"]
        session.flush()
    if deployment_id:
        _store_deployment(session, platform, deployment_id)
    institution = session.get(Institution, platform.institution_id) if invitation is not None else None
    return RegistrationOutcome(platform.id, client_id, deployment_id, platform.status, granted,
                               [sc for sc in TOOL_SCOPES if granted and sc not in granted],
                               institution.name if institution is not None else None)


def _lti_id(value: Any, name: str) -> str:
    """An identifier the LMS gave us, as we store it: a string or number of at most 255 characters."""
    if isinstance(value, bool) or not isinstance(value, str | int) or len(str(value)) > 255:
        raise RegistrationError(f"the LMS answered the registration with an unusable {name}")
    return str(value)


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
