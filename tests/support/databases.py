"""The suite's own PostgreSQL database.

LTI_MICROCRED_TEST_DATABASE_URL names a SERVER and its credentials, never a database to use: the database in
the URL (`postgres` when there is none) is only connected to, to create a database of the suite's own named
lti_microcred_test_<random> and to drop it at the end. No other database, and no schema the suite did not
create, is ever changed.
"""

from __future__ import annotations

import os
import re
import secrets

from sqlalchemy import create_engine, make_url, text

SERVER_ENV = "LTI_MICROCRED_TEST_DATABASE_URL"
PREFIX = "lti_microcred_test_"
OWN_NAME = re.compile(re.escape(PREFIX) + r"[0-9a-f]{12}")


def server_url() -> str | None:
    """The PostgreSQL server the suite may create its database on (None: the suite runs on SQLite)."""
    return os.environ.get(SERVER_ENV) or None


def _admin(server: str) -> str:
    url = make_url(server)
    return url.set(database=url.database or "postgres").render_as_string(hide_password=False)


def create_test_database(server: str) -> str:
    """Create an empty database with a new unique name on the server; returns its URL."""
    name = PREFIX + secrets.token_hex(6)
    admin = create_engine(_admin(server), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return make_url(server).set(database=name).render_as_string(hide_password=False)


def drop_test_database(server: str, url: str) -> None:
    """Drop a database create_test_database made (its connections, say a uWSGI a test left, are ended)."""
    name = make_url(url).database or ""
    if not OWN_NAME.fullmatch(name):
        raise ValueError(f"refusing to drop {name!r}: the test suite did not create it")
    admin = create_engine(_admin(server), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
