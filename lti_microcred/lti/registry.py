"""Platforms and deployments in the database, behind pylti1p3's ToolConfAbstract.

Lookups run on every login and launch, so active registrations are cached per process for
registry_cache_seconds; misses always go to the database, so a new registration works at once.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from pylti1p3.deployment import Deployment as LibDeployment
from pylti1p3.registration import Registration
from pylti1p3.tool_config import ToolConfAbstract
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from lti_microcred.core.db import dialect_insert, utcnow
from lti_microcred.lti.errors import (
    AmbiguousClient,
    DeploymentDisabled,
    DeploymentHeld,
    PlatformNotActive,
    UnknownClient,
    UnknownIssuer,
)
from lti_microcred.lti.models import Deployment, Platform


@dataclass(frozen=True)
class PlatformInfo:
    """An immutable snapshot of a platform row, safe to share between threads."""

    id: int
    name: str
    issuer: str
    client_id: str
    auth_login_url: str
    auth_token_url: str
    auth_audience: str | None
    key_set_url: str | None
    key_set_json: str | None
    status: str
    deployment_policy: str
    product_family_code: str | None

    @classmethod
    def of(cls, row: Platform) -> PlatformInfo:
        return cls(
            id=row.id, name=row.name, issuer=row.issuer, client_id=row.client_id,
            auth_login_url=row.auth_login_url, auth_token_url=row.auth_token_url,
            auth_audience=row.auth_audience, key_set_url=row.key_set_url, key_set_json=row.key_set_json,
            status=row.status, deployment_policy=row.deployment_policy,
            product_family_code=row.product_family_code,
        )

    def registration(self) -> PlatformRegistration:
        return PlatformRegistration(self)


class PlatformRegistration(Registration):
    """pylti1p3's view of one of our platforms."""

    def __init__(self, platform: PlatformInfo) -> None:
        self.platform = platform
        self.set_issuer(platform.issuer).set_client_id(platform.client_id)
        self.set_auth_login_url(platform.auth_login_url).set_auth_token_url(platform.auth_token_url)
        self.set_key_set_url(platform.key_set_url)
        if platform.auth_audience:
            self.set_auth_audience(platform.auth_audience)


@dataclass(frozen=True)
class DeploymentInfo:
    id: int
    platform_id: int
    lti_deployment_id: str
    status: str


class Registry(ToolConfAbstract[Any]):
    """Finds the registration a login or launch belongs to; records deployments it has not seen."""

    def __init__(self, sessions: sessionmaker[Session], write_sessions: sessionmaker[Session],
                 cache_seconds: float) -> None:
        self._sessions = sessions
        self._write_sessions = write_sessions
        self._cache_seconds = cache_seconds
        self._by_issuer: dict[str, tuple[float, list[PlatformInfo]]] = {}
        self._by_id: dict[int, tuple[float, PlatformInfo]] = {}
        self._deployments: dict[tuple[int, str], tuple[float, DeploymentInfo]] = {}
        self._lock = threading.Lock()

    def invalidate(self) -> None:
        with self._lock:
            self._by_issuer.clear()
            self._by_id.clear()
            self._deployments.clear()

    # --- platforms ---------------------------------------------------------------------------------
    def platforms_for_issuer(self, issuer: str) -> list[PlatformInfo]:
        cached = self._by_issuer.get(issuer)
        if cached and time.monotonic() - cached[0] < self._cache_seconds:
            return cached[1]
        with self._sessions() as session:
            rows = session.scalars(select(Platform).where(Platform.issuer == issuer).order_by(Platform.id)).all()
            infos = [PlatformInfo.of(r) for r in rows]
        if infos:
            self._by_issuer[issuer] = (time.monotonic(), infos)
        return infos

    def platform(self, platform_id: int) -> PlatformInfo | None:
        cached = self._by_id.get(platform_id)
        if cached and time.monotonic() - cached[0] < self._cache_seconds:
            return cached[1]
        with self._sessions() as session:
            row = session.get(Platform, platform_id)
            info = PlatformInfo.of(row) if row else None
        if info:
            self._by_id[platform_id] = (time.monotonic(), info)
        return info

    def find_platform(self, issuer: str, client_id: str | None) -> PlatformInfo:
        """The active registration for issuer (+ client_id); raises a LaunchError naming what is wrong."""
        candidates = self.platforms_for_issuer(issuer)
        if not candidates:
            raise UnknownIssuer(f"no registration for issuer {issuer!r}", issuer=issuer, client_id=client_id)
        if client_id:
            matches = [p for p in candidates if p.client_id == client_id]
            if not matches:
                # A registration added seconds ago in another process: look once more past the cache.
                self._by_issuer.pop(issuer, None)
                matches = [p for p in self.platforms_for_issuer(issuer) if p.client_id == client_id]
            if not matches:
                raise UnknownClient(f"issuer {issuer!r} has no registration with client_id {client_id!r}",
                                    issuer=issuer, client_id=client_id)
            platform = matches[0]
        elif len(candidates) == 1:
            platform = candidates[0]
        else:
            raise AmbiguousClient(f"issuer {issuer!r} has {len(candidates)} registrations and no client_id was sent",
                                  issuer=issuer)
        if platform.status != "active":
            raise PlatformNotActive(f"registration {platform.id} of {issuer!r} is {platform.status}",
                                    issuer=issuer, client_id=platform.client_id)
        return platform

    # --- deployments -------------------------------------------------------------------------------
    def resolve_deployment(self, platform: PlatformInfo, lti_deployment_id: str) -> DeploymentInfo:
        """The active deployment, recording an unseen one per the platform's policy (hold or accept)."""
        key = (platform.id, lti_deployment_id)
        cached = self._deployments.get(key)
        if cached and time.monotonic() - cached[0] < self._cache_seconds:
            return cached[1]
        info = self._load_or_record_deployment(platform, lti_deployment_id)
        where = dict(issuer=platform.issuer, client_id=platform.client_id)
        if info.status == "held":
            raise DeploymentHeld(
                f"deployment {lti_deployment_id!r} of platform {platform.id} ({platform.issuer}) is held", **where
            )
        if info.status != "active":
            raise DeploymentDisabled(f"deployment {lti_deployment_id!r} is {info.status}", **where)
        self._deployments[key] = (time.monotonic(), info)
        return info

    def _load_or_record_deployment(self, platform: PlatformInfo, lti_deployment_id: str) -> DeploymentInfo:
        """Read first (no writer's lock for a deployment already known); record an unseen one."""
        query = select(Deployment).where(Deployment.platform_id == platform.id,
                                         Deployment.lti_deployment_id == lti_deployment_id)
        with self._sessions() as session:
            existing = session.execute(query).scalar_one_or_none()
            if existing is not None:
                return DeploymentInfo(existing.id, existing.platform_id, existing.lti_deployment_id, existing.status)
        status = "active" if platform.deployment_policy == "accept" else "held"
        with self._write_sessions() as session, session.begin():
            session.execute(dialect_insert(session, Deployment.__table__).values(
                platform_id=platform.id, lti_deployment_id=lti_deployment_id, status=status,
                first_seen_dt=utcnow(), activated_dt=utcnow() if status == "active" else None,
            ).on_conflict_do_nothing(index_elements=["platform_id", "lti_deployment_id"]))
            recorded = session.execute(query).scalar_one()  # ours, or another process's a moment earlier
            return DeploymentInfo(recorded.id, recorded.platform_id, recorded.lti_deployment_id, recorded.status)

    # --- pylti1p3 ToolConfAbstract -----------------------------------------------------------------
    def check_iss_has_one_client(self, iss: str) -> bool:
        return False

    def check_iss_has_many_clients(self, iss: str) -> bool:
        return True

    def find_registration_by_issuer(self, iss: str, *args: Any, **kwargs: Any) -> Registration:
        return self.find_platform(iss, None).registration()

    def find_registration_by_params(self, iss: str, client_id: str, *args: Any, **kwargs: Any) -> Registration:
        return self.find_platform(iss, client_id).registration()

    def find_deployment(self, iss: str, deployment_id: str) -> LibDeployment | None:
        return self.find_deployment_by_params(iss, deployment_id, None)  # type: ignore[arg-type]

    def find_deployment_by_params(
        self, iss: str, deployment_id: str, client_id: str, *args: Any, **kwargs: Any
    ) -> LibDeployment | None:
        platform = self.find_platform(iss, client_id)
        info = self.resolve_deployment(platform, deployment_id)
        return LibDeployment().set_deployment_id(info.lti_deployment_id)
