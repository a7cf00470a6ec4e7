"""Dynamic Registration fetches what an outsider names (the registration URL needs no login). Every hop of those
requests must be checked against the address actually connected to: redirects, a second DNS answer and the
registration endpoint named by the fetched document included; errors must not echo what the far side said.

Loopback servers stand in for the internet: 127.0.0.2 plays a public host (the test's policy allows it and
nothing else local), 127.0.0.1 plays the internal network, and a resolver the test controls answers names."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_address
from typing import Any

import pytest
from sqlalchemy import select

from lti_microcred.core.outbound import OutboundError
from lti_microcred.core.public_http import IPAddress, PublicHTTP, is_public
from lti_microcred.lti.models import Platform
from lti_microcred.lti.platform_configuration import RegistrationError
from lti_microcred.lti.registration import Registrar, RegistrationParams
from lti_microcred.services import Services

PUBLIC, INTERNAL = "127.0.0.2", "127.0.0.1"
SECRET = "INTERNAL-ONLY-9f3c"


class Server:
    """A loopback HTTP server answering every path from a table; it counts the requests it received."""

    def __init__(self, host: str) -> None:
        self.routes: dict[str, tuple[int, dict[str, str], bytes, float]] = {}
        self.hits: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._answer()

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self._answer()

            def _answer(self) -> None:
                outer.hits.append(self.path)
                status, headers, body, drip = outer.routes.get(self.path, (404, {}, b"{}", 0.0))
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                for byte in (body if drip else [body]):  # drip: one byte every `drip` seconds
                    self.wfile.write(bytes([byte]) if drip else byte)
                    self.wfile.flush()
                    time.sleep(drip)

            def log_message(self, *args: Any) -> None:
                pass

        self.http = ThreadingHTTPServer((host, 0), Handler)
        self.port = self.http.server_port
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def route(self, path: str, body: Any = None, status: int = 200, drip: float = 0.0, **headers: str) -> None:
        raw = body if isinstance(body, bytes) else json.dumps(body if body is not None else {}).encode()
        self.routes[path] = (status, headers, raw, drip)

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()


class Resolver:
    """Names the test controls; a list of answers is used in turn (the last one stays)."""

    def __init__(self) -> None:
        self.names: dict[str, list[str]] = {}
        self.asked: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        if host not in self.names:
            return [host]  # an address literal
        answers = self.names[host]
        return [answers.pop(0) if len(answers) > 1 else answers[0]]


def allowed_in_test(address: IPAddress) -> bool:
    return is_public(address) or address == ip_address(PUBLIC)


@pytest.fixture
def public() -> Iterator[Server]:
    server = Server(PUBLIC)
    yield server
    server.close()


@pytest.fixture
def internal() -> Iterator[Server]:
    server = Server(INTERNAL)
    server.route("/secret", {"secret": SECRET})
    yield server
    server.close()


@pytest.fixture
def resolver() -> Resolver:
    found = Resolver()
    found.names["lms.example"] = [PUBLIC]
    return found


@pytest.fixture
def client(resolver: Resolver) -> PublicHTTP:
    return PublicHTTP("https://tool.example", 1.0, 1.0, permits=allowed_in_test, resolve=resolver, deadline_seconds=1.5)


def test_a_public_host_is_fetched(client: PublicHTTP, public: Server) -> None:
    public.route("/config", {"issuer": "x"})
    assert client.request_json("GET", f"http://lms.example:{public.port}/config") == {"issuer": "x"}


def test_a_redirect_to_an_internal_address_is_refused_before_connecting(client: PublicHTTP, public: Server,
                                                                         internal: Server) -> None:
    public.route("/config", status=302, Location=f"http://{INTERNAL}:{internal.port}/secret")
    with pytest.raises(OutboundError, match="not public"):
        client.request_json("GET", f"http://lms.example:{public.port}/config")
    assert internal.hits == []


def test_a_redirect_to_a_name_of_an_internal_address_is_refused(client: PublicHTTP, resolver: Resolver,
                                                                public: Server, internal: Server) -> None:
    resolver.names["metadata.example"] = ["169.254.169.254"]
    resolver.names["intranet.example"] = [INTERNAL]
    public.route("/a", status=307, Location="http://metadata.example/latest/meta-data/")
    public.route("/b", status=301, Location=f"http://intranet.example:{internal.port}/secret")
    for path in ("/a", "/b"):
        with pytest.raises(OutboundError, match="not public"):
            client.request_json("GET", f"http://lms.example:{public.port}{path}")
    assert internal.hits == []


def test_a_name_rebound_between_two_hops_is_checked_again(client: PublicHTTP, resolver: Resolver,
                                                          public: Server, internal: Server) -> None:
    """The first answer is public, the next internal: the second hop resolves anew and is refused, and no hop
    ever connects to an address other than the one it checked."""
    resolver.names["rebind.example"] = [PUBLIC, INTERNAL]
    public.route("/config", status=302, Location=f"http://rebind.example:{public.port}/next")
    with pytest.raises(OutboundError, match="not public"):
        client.request_json("GET", f"http://rebind.example:{public.port}/config")
    assert resolver.asked.count("rebind.example") == 2 and public.hits == ["/config"] and internal.hits == []


def test_a_host_with_any_internal_address_is_refused(client: PublicHTTP, resolver: Resolver, public: Server) -> None:
    resolver.names["mixed.example"] = [PUBLIC]
    client.session.get_adapter("http://").resolve = lambda host, port: [PUBLIC, INTERNAL]  # type: ignore[union-attr]
    with pytest.raises(OutboundError, match="not public"):
        client.request_json("GET", f"http://mixed.example:{public.port}/config")
    assert public.hits == []


def test_the_answer_never_reaches_the_error(client: PublicHTTP, public: Server) -> None:
    public.route("/config", {"detail": SECRET}, status=500)
    public.route("/html", b"<html>" + SECRET.encode() + b"</html>")
    for path in ("/config", "/html"):
        with pytest.raises(OutboundError) as refused:
            client.request_json("GET", f"http://lms.example:{public.port}{path}")
        assert SECRET not in str(refused.value)


def test_a_slow_answer_is_cut_at_the_deadline(client: PublicHTTP, public: Server) -> None:
    public.route("/config", {"issuer": "x" * 200}, drip=0.05)  # 10 s in all, but never 1 s without a byte
    started = time.monotonic()
    with pytest.raises(OutboundError, match="took longer than"):
        client.request_json("GET", f"http://lms.example:{public.port}/config")
    assert time.monotonic() - started < 3.0


def test_an_oversized_answer_is_refused(client: PublicHTTP, public: Server) -> None:
    public.route("/config", b"[" + b"0," * (1024 * 1024 + 1) + b"0]")
    with pytest.raises(OutboundError, match="more than"):
        client.request_json("GET", f"http://lms.example:{public.port}/config")


# --- through Dynamic Registration, in production -------------------------------------------------------
def production_registrar(services: Services, client: PublicHTTP) -> Registrar:
    settings = dataclasses.replace(services.settings, env="production", base_url="https://tool.example")
    return Registrar(settings, client, services.signer)


def configuration(base: str, **changes: str) -> dict[str, str]:
    return {"issuer": base, "authorization_endpoint": f"{base}/auth", "token_endpoint": f"{base}/token",
            "jwks_uri": f"{base}/jwks", "registration_endpoint": f"{base}/register", **changes}


def test_production_fetches_only_https_configuration_urls(services: Services, client: PublicHTTP) -> None:
    registrar = production_registrar(services, client)
    for url in ("http://lms.example/config", "file:///etc/passwd", "https://lms.example:notaport/config", "https://"):
        with pytest.raises(RegistrationError):
            registrar.fetch_configuration(RegistrationParams(url, None, ""))


def test_production_refuses_an_internal_registration_endpoint(services: Services, db_session: Any,
                                                               public: Server, internal: Server,
                                                               resolver: Resolver) -> None:
    """The configuration's own registration_endpoint is where the tool POSTs: it is checked on connect too."""
    https_client = PublicHTTP("https://tool.example", 1.0, 1.0, permits=allowed_in_test, resolve=resolver)
    registrar = production_registrar(services, https_client)
    base = "https://lms.example"
    doc = configuration(base, registration_endpoint=f"https://{INTERNAL}:{internal.port}/secret")
    from lti_microcred.lti.platform_configuration import check_endpoints, configuration_of

    check_endpoints(doc, https_only=True)
    with services.sessions() as session, pytest.raises(RegistrationError) as refused:
        registrar.register(session, RegistrationParams(f"{base}/config", None, ""), configuration_of(doc))
    assert "not public" in str(refused.value) and internal.hits == []
    assert db_session.scalars(select(Platform)).all() == []


@pytest.mark.parametrize("field", ["authorization_endpoint", "token_endpoint", "jwks_uri", "registration_endpoint"])
def test_production_refuses_a_configuration_naming_plain_http_endpoints(field: str) -> None:
    from lti_microcred.lti.platform_configuration import check_endpoints

    with pytest.raises(RegistrationError, match=field):
        check_endpoints(configuration("https://lms.example", **{field: "http://lms.example/x"}), https_only=True)


def test_the_registration_page_shows_no_content_of_a_refusing_host(services: Services, public: Server,
                                                                   client: PublicHTTP) -> None:
    registrar = Registrar(services.settings, client, services.signer)
    public.route("/config", {"error": SECRET}, status=403)
    with pytest.raises(RegistrationError) as refused:
        registrar.fetch_configuration(RegistrationParams(f"http://lms.example:{public.port}/config", None, ""))
    assert SECRET not in str(refused.value) and "HTTP 403" in str(refused.value)
