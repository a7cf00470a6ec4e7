"""The long-lived objects of one process (engine, caches, keys), built once from settings.

The web app, the CLI and workers share this assembly, so each of them sees the same registry, key ring
and HTTP client configuration.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from lti_microcred.core.config import Settings
from lti_microcred.core.crypto_box import SecretBox
from lti_microcred.core.db import make_engine, make_sessionmaker
from lti_microcred.core.outbound import OutboundHTTP
from lti_microcred.core.public_http import PublicHTTP, any_address, is_public
from lti_microcred.core.signing import Signer
from lti_microcred.credentials.contexts import configure_extension_context
from lti_microcred.credentials.issuing.issuer_state import Issuer
from lti_microcred.credentials.issuing.urls import Urls
from lti_microcred.credentials.status.store import SignedLists, forget_open_lists
from lti_microcred.lms import results as module_results
from lti_microcred.lms.connection import LmsConnection
from lti_microcred.lms.runtime import LmsRuntime
from lti_microcred.lms.token import TokenStore
from lti_microcred.lms.token_store import DbTokenStore, RedisTokenStore
from lti_microcred.lti.keys import ToolKeyRing
from lti_microcred.lti.launch import LaunchPolicy
from lti_microcred.lti.persistence import KnownRows
from lti_microcred.lti.platform_keys import PlatformKeyCache
from lti_microcred.lti.registration import Registrar
from lti_microcred.lti.registry import Registry


@dataclass
class Services:
    settings: Settings
    engine: Engine

    def __post_init__(self) -> None:
        # Every process makes its sessions here (web, worker, CLI, scripts): evidence recorded through any of
        # them then also writes the module results the LMS gradebook gets.
        module_results.install()

    @classmethod
    def from_settings(cls, settings: Settings) -> Services:
        if not settings.database_url:  # the embedded default lives in the instance folder
            Path(settings.instance_path).mkdir(parents=True, exist_ok=True)
        configure_extension_context(settings.base_url)
        return cls(settings, make_engine(settings.resolved_database_url))

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        """Sessions for units of work that write (SQLite: BEGIN IMMEDIATE)."""
        return make_sessionmaker(self.engine, write=True)

    @cached_property
    def read_sessions(self) -> sessionmaker[Session]:
        """Sessions that only read: they never take SQLite's write lock."""
        return make_sessionmaker(self.engine)

    @cached_property
    def signer(self) -> Signer:
        return Signer(self.settings.resolved_secret_key)

    @cached_property
    def box(self) -> SecretBox:
        return SecretBox(self.settings.key_encryption_key or self.settings.resolved_secret_key)

    @cached_property
    def http(self) -> OutboundHTTP:
        s = self.settings
        return OutboundHTTP(s.base_url, s.http_connect_timeout, s.http_read_timeout)

    @cached_property
    def registrar(self) -> Registrar:
        s = self.settings
        permits = is_public if s.is_production else any_address  # the demo and the tests register loopback LMSs
        http = PublicHTTP(s.base_url, s.http_connect_timeout, s.http_read_timeout, permits=permits)
        return Registrar(s, http, self.signer)

    @cached_property
    def registry(self) -> Registry:
        return Registry(self.read_sessions, self.sessions, self.settings.registry_cache_seconds)

    @cached_property
    def platform_keys(self) -> PlatformKeyCache:
        s = self.settings
        return PlatformKeyCache(self.http, s.jwks_cache_seconds, s.jwks_min_refetch_seconds)

    @cached_property
    def tool_keys(self) -> ToolKeyRing:
        return ToolKeyRing(self.read_sessions, self.box, self.settings.retired_key_publish_seconds,
                           refresh_seconds=min(10.0, self.settings.registry_cache_seconds))

    @cached_property
    def known_rows(self) -> KnownRows:
        return KnownRows()

    @cached_property
    def issuer(self) -> Issuer:
        return Issuer(self.read_sessions, self.box, self.settings.base_url,
                      refresh_seconds=min(10.0, self.settings.registry_cache_seconds))

    @cached_property
    def signed_status_lists(self) -> SignedLists:
        return SignedLists()

    @cached_property
    def credential_urls(self) -> Urls:
        return Urls(self.settings.base_url)

    @cached_property
    def launch_policy(self) -> LaunchPolicy:
        s = self.settings
        return LaunchPolicy(s.base_url, s.iat_max_age_seconds, s.clock_skew_seconds, s.state_ttl_seconds)

    def reset_caches(self) -> None:
        """Forget every per-process cache (after an admin change made in this process)."""
        self.registry.invalidate()
        self.platform_keys.clear()
        self.tool_keys.invalidate()
        self.known_rows.clear()
        self.issuer.invalidate()
        forget_open_lists()


_RUNTIME = "_lms_runtime"
_runtime_lock = threading.Lock()


def lms_runtime(services: Services, outbound: OutboundHTTP | None = None,
                token_store: TokenStore | None = None) -> LmsRuntime:
    """A new LMS runtime over these services (tests make several, as separate processes would have)."""
    if token_store is None:
        token_store = (RedisTokenStore(services.settings.redis_url, services.box) if services.settings.redis_url
                       else DbTokenStore(services.sessions, services.box))
    connection = LmsConnection(services.sessions, services.read_sessions, outbound or services.http,
                               services.registry, services.tool_keys, token_store)
    return LmsRuntime(services.settings, connection)


def runtime_of(services: Services) -> LmsRuntime:
    """The process's LMS runtime (made on first use); tests may install their own with `use_runtime`."""
    runtime = services.__dict__.get(_RUNTIME)
    if runtime is None:
        with _runtime_lock:
            runtime = services.__dict__.get(_RUNTIME)
            if runtime is None:
                runtime = services.__dict__[_RUNTIME] = lms_runtime(services)
    return runtime


def use_runtime(services: Services, runtime: LmsRuntime | None) -> None:
    """Replace (or with None, forget) the LMS runtime of a Services."""
    if runtime is None:
        services.__dict__.pop(_RUNTIME, None)
    else:
        services.__dict__[_RUNTIME] = runtime
