"""Pooled PostgreSQL connections: pinged only after sitting idle, and a dead one is replaced unseen."""

from __future__ import annotations

import os
import time

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from lti_microcred.core.db import make_engine

pytestmark = pytest.mark.postgres_only


def backend_pid(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def kill(pid: int) -> None:
    """What a database restart or an idle-session timeout does to a pooled connection."""
    admin = make_engine(os.environ["LTI_MICROCRED_TEST_DATABASE_URL"], isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()
    admin.dispose()
    time.sleep(0.2)  # the backend is gone once the signal is handled


def test_a_connection_killed_while_idle_is_replaced_before_use() -> None:
    engine = make_engine(os.environ["LTI_MICROCRED_TEST_DATABASE_URL"], idle_ping_seconds=0.1, pool_size=1)
    first = backend_pid(engine)
    kill(first)
    assert backend_pid(engine) != first  # no error reached the caller: the pool reconnected
    engine.dispose()


def test_a_connection_back_moments_ago_is_used_without_a_ping() -> None:
    engine = make_engine(os.environ["LTI_MICROCRED_TEST_DATABASE_URL"], idle_ping_seconds=60, pool_size=1)
    first = backend_pid(engine)
    kill(first)
    with pytest.raises(DBAPIError):  # within the interval nothing pings it: the caller meets the dead connection
        backend_pid(engine)
    assert backend_pid(engine) != first  # and the pool has let the dead connection go
    engine.dispose()
