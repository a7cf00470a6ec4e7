"""Fixtures: one migrated database per run (SQLite by default; on PostgreSQL when
LTI_MICROCRED_TEST_DATABASE_URL names a server, a database of the run's own, created and dropped by it: see
tests/support/databases.py), the tool served over real loopback HTTP, and two loopback LMSs (Moodle-shaped
and Canvas-shaped) built on lti1p3platform.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import Session

from lti_microcred import create_app
from lti_microcred.core.config import load_settings
from lti_microcred.core.db import Base, transaction
from lti_microcred.core.migrate import upgrade
from lti_microcred.credentials.issuing.issuer import ensure_issuer
from lti_microcred.credentials.models import IssuerKey, IssuerProfile
from lti_microcred.devplatform.app import create_platform_app
from lti_microcred.devplatform.data import DevPlatformSetup
from lti_microcred.devplatform.demo import register_dev_platform, start_in_thread
from lti_microcred.devplatform.platform import DevPlatform
from lti_microcred.lti.keys import ensure_keys
from lti_microcred.lti.models import Institution, ToolKey
from lti_microcred.services import Services
from tests.support.databases import create_test_database, drop_test_database, server_url
from tests.support.driver import Browser, LmsHandle

TEST_SECRET = "test-secret-key-that-is-long-enough-for-production-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def on_postgres() -> bool:
    return server_url() is not None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """`postgres_only` tests prove what only a concurrent server can show; SQLite serialises its writers.
    `browser` and `sqlite_leg` tests check pages and packaging, which no database changes: they run once, on
    the SQLite leg, to keep the two-database run short."""
    if on_postgres():
        once = pytest.mark.skip(reason="runs on the SQLite leg only (pages and packaging, not the database)")
        for item in items:
            if item.get_closest_marker("browser") or item.get_closest_marker("sqlite_leg"):
                item.add_marker(once)
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set LTI_MICROCRED_TEST_DATABASE_URL)")
    for item in items:
        if item.get_closest_marker("postgres_only"):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def test_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The run's own empty database: a new SQLite file, or a new PostgreSQL database dropped at the end (failed
    tests included). Subprocesses (uWSGI, `microcred worker`) get it as LTI_MICROCRED_DATABASE_URL from
    `services.settings.resolved_database_url`."""
    server = server_url()
    if server is None:
        yield f"sqlite:///{tmp_path_factory.mktemp('database') / 'test.sqlite3'}"
        return
    url = create_test_database(server)
    try:
        yield url
    finally:
        drop_test_database(server, url)


@pytest.fixture(scope="session")
def tool_port() -> int:
    return free_port()


@pytest.fixture(scope="session")
def tool_url(tool_port: int) -> str:
    return f"http://127.0.0.1:{tool_port}"


@pytest.fixture(scope="session")
def settings_overrides(tmp_path_factory: pytest.TempPathFactory, tool_url: str,
                       test_database_url: str) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("instance")
    return {
        "env": "test", "base_url": tool_url, "instance_path": str(tmp), "database_url": test_database_url,
        "secret_key": TEST_SECRET, "registry_cache_seconds": 30.0, "jwks_min_refetch_seconds": 0.0,
    }


@pytest.fixture(scope="session")
def services(settings_overrides: dict[str, Any]) -> Iterator[Services]:
    s = Services.from_settings(load_settings(settings_overrides, environ={}))
    upgrade(s.engine)  # the database is new and empty: the real Alembic scripts build it
    with transaction(s.sessions) as session:
        ensure_keys(session, s.box)
        ensure_issuer(session, s.box, "Example University")
    yield s
    s.engine.dispose()


@pytest.fixture(scope="session")
def app(services: Services) -> Any:
    application = create_app(services=services)
    application.config["TESTING"] = True
    return application


@pytest.fixture(scope="session")
def live_tool(app: Any, tool_port: int) -> Iterator[str]:
    server = start_in_thread(app, "127.0.0.1", tool_port)
    yield f"http://127.0.0.1:{tool_port}"
    server.shutdown()
    server.server_close()


def _start_lms(flavour: str, tool_url: str) -> tuple[DevPlatform, Any]:
    port = free_port()
    host = "localhost" if flavour == "canvas" else "127.0.0.2"
    platform = DevPlatform(DevPlatformSetup(base_url=f"http://{host}:{port}", tool_base_url=tool_url,
                                            flavour=flavour, client_id=f"{flavour}-client"))
    bind = "127.0.0.1" if host == "localhost" else host
    return platform, start_in_thread(create_platform_app(platform), bind, port)


@pytest.fixture(scope="session")
def lms_servers(live_tool: str) -> Iterator[dict[str, DevPlatform]]:
    started = {flavour: _start_lms(flavour, live_tool) for flavour in ("moodle", "canvas")}
    yield {flavour: platform for flavour, (platform, _) in started.items()}
    for _, server in started.values():
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def clean_database(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test starts with no registrations, courses or launches (tool keys are kept: they are slow to make)."""
    yield
    if "services" not in request.fixturenames:
        return
    s: Services = request.getfixturevalue("services")
    keep = {ToolKey.__tablename__, IssuerKey.__tablename__, IssuerProfile.__tablename__, Institution.__tablename__}
    with s.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name not in keep:
                conn.execute(table.delete())
        conn.execute(delete(Institution).where(Institution.at_host_root.is_(False)))  # their issuers go with them
    s.reset_caches()


def _registered(services: Services, lms_servers: dict[str, DevPlatform], flavour: str) -> LmsHandle:
    platform = lms_servers[flavour]
    platform.links.clear()
    platform.extra_claims.clear()
    platform.drop_claims.clear()
    platform_id = register_dev_platform(services, platform)
    return LmsHandle(platform, platform_id, services.settings.base_url)


@pytest.fixture
def moodle(services: Services, lms_servers: dict[str, DevPlatform]) -> LmsHandle:
    return _registered(services, lms_servers, "moodle")


@pytest.fixture
def canvas(services: Services, lms_servers: dict[str, DevPlatform]) -> LmsHandle:
    return _registered(services, lms_servers, "canvas")


@pytest.fixture
def browser(live_tool: str) -> Iterator[Browser]:
    b = Browser(live_tool)
    yield b
    b.close()


@pytest.fixture
def session(services: Services) -> Iterator[Session]:
    """A database session whose work is rolled back after the test (domain tests without HTTP)."""
    with services.sessions() as s:
        yield s
        s.rollback()


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


@pytest.fixture
def db_session(services: Services) -> Iterator[Any]:
    with services.read_sessions() as session:
        yield session
