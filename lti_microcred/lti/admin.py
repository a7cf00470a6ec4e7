"""Admin operations on registrations (used by the CLI): add, list, remove, activate platforms and deployments."""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lti_microcred.core.db import utcnow
from lti_microcred.lti.models import Deployment, Platform
from lti_microcred.lti.platform_keys import parse_key_set


class AdminError(Exception):
    """An admin command that cannot be carried out, with the reason."""


@dataclass(frozen=True)
class PlatformSpec:
    issuer: str
    client_id: str
    auth_login_url: str
    auth_token_url: str
    key_set_url: str | None = None
    key_set_json: str | None = None
    name: str | None = None
    auth_audience: str | None = None
    deployment_policy: str = "hold"
    source: str = "manual"

    def check(self) -> None:
        for label, url in (("issuer", self.issuer), ("auth login URL", self.auth_login_url),
                           ("auth token URL", self.auth_token_url), ("key set URL", self.key_set_url)):
            if url is not None and (urlsplit(url).scheme not in {"http", "https"} or not urlsplit(url).netloc):
                raise AdminError(f"the {label} must be an absolute http(s) URL, got {url!r}")
        if not self.key_set_url and not self.key_set_json:
            raise AdminError("give --key-set-url (or a static key set)")
        if self.key_set_json:
            try:
                if not parse_key_set(json.loads(self.key_set_json)):
                    raise AdminError("the key set holds no usable RSA signing key")
            except ValueError as exc:
                raise AdminError(f"the key set is not a JWKS: {exc}") from exc
        if self.deployment_policy not in {"hold", "accept"}:
            raise AdminError("the deployment policy is 'hold' or 'accept'")


def add_platform(session: Session, spec: PlatformSpec, deployment_ids: list[str]) -> Platform:
    """Create (or update) the registration for issuer + client_id, with its known deployments active."""
    spec.check()
    platform = session.scalars(select(Platform).where(
        Platform.issuer == spec.issuer, Platform.client_id == spec.client_id)).one_or_none()
    if platform is None:
        platform = Platform(issuer=spec.issuer, client_id=spec.client_id, status="active")
        session.add(platform)
    platform.name = (spec.name or urlsplit(spec.issuer).netloc)[:200]
    platform.auth_login_url, platform.auth_token_url = spec.auth_login_url, spec.auth_token_url
    platform.key_set_url, platform.key_set_json = spec.key_set_url, spec.key_set_json
    platform.auth_audience, platform.deployment_policy = spec.auth_audience, spec.deployment_policy
    platform.source = spec.source
    session.flush()
    for deployment_id in deployment_ids:
        activate(session, platform.id, deployment_id)
    return platform


def find_platform(session: Session, platform_id: int) -> Platform:
    platform = session.get(Platform, platform_id)
    if platform is None:
        raise AdminError(f"no platform with id {platform_id} (see `microcred platform list`)")
    return platform


def activate(session: Session, platform_id: int, deployment_id: str | None = None) -> str:
    """Activate a pending platform, or one deployment of it (recording it if new). Returns what changed."""
    platform = find_platform(session, platform_id)
    if deployment_id is None:
        platform.status = "active"
        return f"platform {platform.id} ({platform.issuer}) is active"
    deployment = session.scalars(select(Deployment).where(
        Deployment.platform_id == platform.id, Deployment.lti_deployment_id == deployment_id)).one_or_none()
    if deployment is None:
        deployment = Deployment(platform_id=platform.id, lti_deployment_id=deployment_id)
        session.add(deployment)
    deployment.status, deployment.activated_dt = "active", utcnow()
    session.flush()
    return f"deployment {deployment_id!r} of platform {platform.id} is active"


def remove_platform(session: Session, platform_id: int) -> str:
    platform = find_platform(session, platform_id)
    session.delete(platform)
    session.flush()
    return f"platform {platform_id} ({platform.issuer}, client_id {platform.client_id}) removed"


def list_platforms(session: Session) -> list[tuple[Platform, list[Deployment]]]:
    platforms = session.scalars(select(Platform).order_by(Platform.id)).all()
    deployments = session.scalars(select(Deployment).order_by(Deployment.id)).all()
    by_platform: dict[int, list[Deployment]] = {}
    for d in deployments:
        by_platform.setdefault(d.platform_id, []).append(d)
    return [(p, by_platform.get(p.id, [])) for p in platforms]


def count_platforms(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Platform)) or 0)
