"""Fixtures for operations tests: the tool scaled out on one machine, as real processes behind nginx.

nginx and Redis are system services: missing, the test is skipped, except where REQUIRE_POSTGRES=1 (CI),
where it fails, so that it can never silently not run there.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lti_microcred.lms.token_store import RedisTokenStore
from lti_microcred.services import Services
from tests.ops.cluster import Cluster, scale_out
from tests.ops.proxy import nginx_binary

REDIS_URL = "redis://127.0.0.1:6379/13"  # a database of its own: the token store's keys name only platform ids
LEARNERS = 60


def missing(what: str) -> None:
    if os.environ.get("REQUIRE_POSTGRES") == "1":
        pytest.fail(f"{what} (REQUIRE_POSTGRES=1: this test must run here)")
    pytest.skip(what)


@pytest.fixture
def nginx() -> str:
    binary = nginx_binary()
    if binary is None:
        missing("nginx is not installed (apt-get install nginx)")
    assert binary is not None
    return binary


@pytest.fixture
def redis_client() -> Iterator[Any]:
    try:
        import redis
    except ImportError:
        missing("the redis package is not installed (pip install -e '.[test]')")
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1.0)
    try:
        client.ping()
    except redis.RedisError:
        missing(f"no Redis answers at {REDIS_URL}")
    yield client
    client.close()


@pytest.fixture
def cluster(services: Services, test_database_url: str, nginx: str, redis_client: Any,
            tmp_path: Path) -> Iterator[Cluster]:
    """The scaled-out tool on this run's database; afterwards, the Redis keys of its LMS are removed."""
    with scale_out(services, test_database_url, REDIS_URL, nginx, LEARNERS, tmp_path) as running:
        try:
            yield running
        finally:
            forget_tokens(services, redis_client, running)


def forget_tokens(services: Services, client: Any, running: Cluster) -> None:
    """Remove the cached access tokens this run's LMS issued, and nothing else (another run's LMS may have
    the same platform id in its own database)."""
    store = RedisTokenStore(REDIS_URL, services.box, client)
    prefix = f"microcred:lms-token:{running.lms.platform_id}:"
    for name in client.scan_iter(prefix + "*"):
        scope_key = name.decode()[len(prefix):]
        token = store.get(running.lms.platform_id, scope_key)
        if token is not None and token.value in running.dev.seen_tokens:
            client.delete(name)
