"""Access tokens: one request per expiry period, shared between processes (database or Redis)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

import pytest
import requests

from lti_microcred.lms.access import AGS_SCOPES
from lti_microcred.lms.runtime import LmsRuntime
from lti_microcred.lms.token import TokenCache, scope_key
from lti_microcred.lms.token_store import RedisTokenStore
from lti_microcred.services import Services, lms_runtime
from tests.support.driver import LmsHandle


class _TokenEndpoint:
    """A token endpoint that counts requests and issues short-lived tokens."""

    def __init__(self, lifetime: int) -> None:
        self.lifetime, self.calls = lifetime, 0
        self._lock = threading.Lock()

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        with self._lock:
            self.calls += 1
            n = self.calls
        time.sleep(0.05)  # slow enough for concurrent callers to pile up
        response = requests.Response()
        response.status_code = 200
        response._content = json.dumps({"access_token": f"t{n}", "expires_in": self.lifetime,
                                        "scope": kwargs["data"]["scope"]}).encode()
        return response

    def json_of(self, response: requests.Response, url: str) -> Any:
        return response.json()


def test_one_request_per_expiry_period_even_under_concurrency(moodle: LmsHandle, services: Services) -> None:
    endpoint = _TokenEndpoint(lifetime=2)
    cache = TokenCache(endpoint, services.tool_keys)  # type: ignore[arg-type]
    platform = services.registry.platform(moodle.platform_id)
    assert platform is not None
    got: list[str] = []
    threads = [threading.Thread(target=lambda: got.append(cache.get(platform, AGS_SCOPES).value)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert endpoint.calls == 1 and set(got) == {"t1"}
    assert cache.get(platform, AGS_SCOPES).value == "t1"
    time.sleep(1.9)  # refreshed a little before it expires (10 % of a short lifetime)
    assert cache.get(platform, AGS_SCOPES).value == "t2" and endpoint.calls == 2


def test_processes_share_the_token_through_the_database(moodle: LmsHandle, services: Services,
                                                        runtime: LmsRuntime) -> None:
    platform = services.registry.platform(moodle.platform_id)
    assert platform is not None
    first = runtime.tokens.get(platform, AGS_SCOPES)
    other_process = lms_runtime(services)  # its own memory, the same database
    assert other_process.tokens.get(platform, AGS_SCOPES).value == first.value
    assert runtime.tokens.requests_made + other_process.tokens.requests_made == 1
    other_process.tokens.invalidate(platform.id, AGS_SCOPES, first.value)  # refused with 401 somewhere
    fresh = lms_runtime(services)
    assert fresh.tokens.get(platform, AGS_SCOPES).value
    assert fresh.tokens.requests_made == 1  # the shared token was dropped: a new one is fetched, not the old


def _redis() -> Any:
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url("redis://127.0.0.1:6379/14", socket_connect_timeout=0.5)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    return client


def test_processes_share_the_token_through_redis(moodle: LmsHandle, services: Services) -> None:
    client = _redis()
    platform = services.registry.platform(moodle.platform_id)
    assert platform is not None
    prefix = uuid.uuid4().hex
    stores = [RedisTokenStore("", services.box, client=client) for _ in range(2)]
    for store in stores:
        store._name = lambda p, k, prefix=prefix: f"test:{prefix}:{p}:{k}"  # type: ignore[method-assign]
    a, b = (lms_runtime(services, token_store=store) for store in stores)
    try:
        assert a.tokens.get(platform, AGS_SCOPES) == b.tokens.get(platform, AGS_SCOPES)
        assert a.tokens.requests_made + b.tokens.requests_made == 1
        assert client.ttl(f"test:{prefix}:{platform.id}:{scope_key(AGS_SCOPES)}") > 3000  # expires with the token
    finally:
        for key in client.scan_iter(f"test:{prefix}:*"):
            client.delete(key)
