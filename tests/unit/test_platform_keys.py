"""Platform JWKS: fetched once, cached as key objects, refetched once on an unknown kid, never hammered."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from lti_microcred.core.outbound import OutboundHTTP
from lti_microcred.lti.errors import KeySetUnavailable, UnknownKey, UnsupportedAlgorithm
from lti_microcred.lti.platform_keys import PlatformKeyCache
from lti_microcred.lti.registry import PlatformInfo


def jwk_of(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return {**jwk, "kid": kid, "alg": "RS256", "use": "sig"}


class KeySetServer:
    def __init__(self) -> None:
        self.keys: list[dict[str, Any]] = []
        self.hits = 0
        self.status = 200
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.hits += 1
                body = json.dumps({"keys": outer.keys}).encode()
                self.send_response(outer.status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/jwks"


@pytest.fixture
def key_server() -> Iterator[KeySetServer]:
    server = KeySetServer()
    yield server
    server.server.shutdown()
    server.server.server_close()


def platform(url: str | None = None, static: str | None = None) -> PlatformInfo:
    return PlatformInfo(1, "LMS", "https://lms.example", "client", "https://lms/auth", "https://lms/token", None,
                        url, static, "active", "hold", None)


KEY_A = rsa.generate_private_key(public_exponent=65537, key_size=2048)
KEY_B = rsa.generate_private_key(public_exponent=65537, key_size=2048)
HTTP = OutboundHTTP("http://tool", 2, 2)


def test_fetched_once_then_served_from_cache(key_server: KeySetServer) -> None:
    key_server.keys = [jwk_of(KEY_A, "a")]
    cache = PlatformKeyCache(HTTP, cache_seconds=3600, min_refetch_seconds=0)
    for _ in range(5):
        cache.key_for(platform(key_server.url), "a", "RS256")
    assert key_server.hits == 1


def test_unknown_kid_triggers_one_refetch_after_rotation(key_server: KeySetServer) -> None:
    key_server.keys = [jwk_of(KEY_A, "a")]
    cache = PlatformKeyCache(HTTP, cache_seconds=3600, min_refetch_seconds=0)
    cache.key_for(platform(key_server.url), "a", "RS256")
    key_server.keys = [jwk_of(KEY_B, "b")]  # the LMS rotated its key
    assert cache.key_for(platform(key_server.url), "b", "RS256") is not None
    assert key_server.hits == 2


def test_forged_kids_cannot_hammer_the_platform(key_server: KeySetServer) -> None:
    key_server.keys = [jwk_of(KEY_A, "a")]
    cache = PlatformKeyCache(HTTP, cache_seconds=3600, min_refetch_seconds=60)
    cache.key_for(platform(key_server.url), "a", "RS256")
    for i in range(10):
        with pytest.raises(UnknownKey):
            cache.key_for(platform(key_server.url), f"forged-{i}", "RS256")
    assert key_server.hits == 1


def test_unknown_kid_after_refetch_is_refused(key_server: KeySetServer) -> None:
    key_server.keys = [jwk_of(KEY_A, "a")]
    cache = PlatformKeyCache(HTTP, cache_seconds=3600, min_refetch_seconds=0)
    with pytest.raises(UnknownKey):
        cache.key_for(platform(key_server.url), "zzz", "RS256")


def test_platform_down_keeps_known_keys_working(key_server: KeySetServer) -> None:
    key_server.keys = [jwk_of(KEY_A, "a")]
    cache = PlatformKeyCache(HTTP, cache_seconds=0, min_refetch_seconds=0)  # always stale
    cache.key_for(platform(key_server.url), "a", "RS256")
    key_server.status = 503
    assert cache.key_for(platform(key_server.url), "a", "RS256") is not None


def test_unreachable_key_set_is_named() -> None:
    cache = PlatformKeyCache(HTTP, cache_seconds=3600, min_refetch_seconds=0)
    with pytest.raises(KeySetUnavailable):
        cache.key_for(platform("http://127.0.0.1:9/jwks"), "a", "RS256")


def test_static_key_set_and_algorithm_pinning() -> None:
    static = json.dumps({"keys": [jwk_of(KEY_A, "a")]})
    cache = PlatformKeyCache(HTTP, cache_seconds=3600, min_refetch_seconds=0)
    assert cache.key_for(platform(static=static), "a", "RS256") is not None
    with pytest.raises(UnsupportedAlgorithm):
        cache.key_for(platform(static=static), "a", "RS512")  # published for RS256 only
    with pytest.raises(UnsupportedAlgorithm):
        cache.key_for(platform(static=static), "a", "HS256")


@pytest.mark.parametrize(("kid", "alg", "error"), [(["a"], "RS256", UnknownKey), ({"k": "a"}, "RS256", UnknownKey),
                                                   ("a", ["RS256"], UnsupportedAlgorithm)])
def test_non_string_kid_or_alg_is_refused_without_a_fetch(key_server: KeySetServer, kid: Any, alg: Any,
                                                          error: type[Exception]) -> None:
    key_server.keys = [jwk_of(KEY_A, "a")]
    cache = PlatformKeyCache(HTTP, cache_seconds=3600, min_refetch_seconds=0)
    cache.key_for(platform(key_server.url), "a", "RS256")
    with pytest.raises(error):
        cache.key_for(platform(key_server.url), kid, alg)
    assert key_server.hits == 1
