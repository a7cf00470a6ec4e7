"""The suite never changes a database it did not create: LTI_MICROCRED_TEST_DATABASE_URL names a server; the run
creates lti_microcred_test_<random> there and drops it at the end."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, make_url, text

from lti_microcred.core.migrate import is_current, upgrade
from lti_microcred.services import Services
from tests.support.databases import PREFIX, create_test_database, drop_test_database, server_url

pytestmark = pytest.mark.postgres_only


def _exists(server: str, name: str) -> bool:
    engine = create_engine(make_url(server).set(database="postgres"))
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first() is not None
    finally:
        engine.dispose()


@pytest.fixture
def scratch() -> Iterator[str]:
    """Someone's own database on the same server (what `test` was for a newcomer), with a table in `public`."""
    server = server_url()
    assert server is not None
    name = f"lti_microcred_scratch_{secrets.token_hex(4)}"
    admin = create_engine(make_url(server).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE public.sentinel (value text)"))
        conn.execute(text("INSERT INTO public.sentinel VALUES ('still here')"))
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def sentinel(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text("SELECT value FROM public.sentinel")).scalars())
    finally:
        engine.dispose()


def test_set_up_and_tear_down_leave_the_named_database_alone(scratch: str) -> None:
    """Even when the URL names a database in use (here the scratch one), the run only connects to it."""
    created = create_test_database(scratch)
    name = make_url(created).database
    assert name and name.startswith(PREFIX) and name != make_url(scratch).database
    engine = create_engine(created)
    upgrade(engine)  # what the session fixture does
    assert is_current(engine)
    engine.dispose()
    assert sentinel(scratch) == ["still here"]
    drop_test_database(scratch, created)
    assert not _exists(scratch, name)
    assert sentinel(scratch) == ["still here"]


def test_tear_down_refuses_a_database_the_suite_did_not_create(scratch: str) -> None:
    with pytest.raises(ValueError, match="did not create"):
        drop_test_database(scratch, scratch)
    assert sentinel(scratch) == ["still here"]


def test_this_run_uses_a_database_of_its_own(services: Services) -> None:
    server = server_url()
    assert server is not None
    used = make_url(services.settings.resolved_database_url)
    assert used.database and used.database.startswith(PREFIX)
    assert used.database != make_url(server).database and _exists(server, used.database)
