"""HTTP to addresses an outsider chose (a Dynamic Registration's configuration URL and the registration endpoint
its document names): every hop, redirects included, is resolved once, every address it resolves to is checked,
and the connection goes to that very address. Neither a redirect nor a second DNS answer (rebinding) can then
reach an internal host, and no proxy from the environment stands in between.

Our own adapter rather than requests-hardened (which pins addresses the same way): its address policy and
resolver are fixed module functions, and the tests need both injectable to stand a "public" server on a loopback
alias and to rebind a name between two lookups.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import time
from collections.abc import Callable
from typing import Any, cast
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from lti_microcred.core.outbound import MAX_JSON_BYTES, OutboundError, tool_version

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]
MAX_REDIRECTS = 5
CHUNK = 64 * 1024


class AddressRefused(requests.RequestException):
    """The host resolves to an address we do not call on an outsider's behalf."""


def system_resolver(host: str, port: int) -> list[str]:
    return [str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def is_public(address: IPAddress) -> bool:
    """Globally routable unicast only: no loopback, private, link-local, CG-NAT, multicast or reserved address
    (an IPv4-mapped IPv6 address is judged as the IPv4 address it carries)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def any_address(_address: IPAddress) -> bool:
    return True


class PinnedAdapter(HTTPAdapter):
    """Resolves the request's host once, refuses it unless every address passes `permits`, then connects to the
    first address while TLS still checks the certificate against the host name."""

    def __init__(self, permits: Callable[[IPAddress], bool], resolve: Resolver) -> None:
        super().__init__(max_retries=0)
        self.permits, self.resolve = permits, resolve

    def build_connection_pool_key_attributes(self, request: requests.PreparedRequest, verify: Any,
                                             cert: Any = None) -> Any:
        host_params, typed_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        pool_kwargs = cast(dict[str, Any], typed_kwargs)
        host, port = host_params["host"], host_params["port"]
        https = host_params["scheme"] == "https"
        pinned = self._checked_address(host, port or (443 if https else 80))
        request.headers = requests.structures.CaseInsensitiveDict(request.headers or {})
        request.headers["Host"] = (f"[{host}]" if ":" in host else host) + (f":{port}" if port else "")
        if https:
            pool_kwargs["assert_hostname"] = pool_kwargs["server_hostname"] = host
        host_params["host"] = pinned
        return host_params, pool_kwargs

    def _checked_address(self, host: str, port: int) -> str:
        try:
            found = self.resolve(host, port)
        except (OSError, UnicodeError) as exc:
            raise requests.ConnectionError(f"cannot resolve {host}") from exc
        addresses = [ipaddress.ip_address(a.split("%", 1)[0]) for a in found]
        if not addresses or not all(self.permits(a) for a in addresses):
            raise AddressRefused(f"{host} resolves to an address the tool does not call (not public)")
        return str(addresses[0])


class PublicHTTP:
    """The client for outsider-chosen URLs: pinned, checked hops, bounded bodies and a deadline per request."""

    def __init__(self, base_url: str, connect_timeout: float, read_timeout: float,
                 permits: Callable[[IPAddress], bool] = is_public, resolve: Resolver = system_resolver,
                 deadline_seconds: float = 20.0) -> None:
        self.timeout = (connect_timeout, read_timeout)
        self.deadline_seconds = deadline_seconds
        self.session = requests.Session()
        self.session.trust_env = False  # an environment proxy would connect for us, to anything
        self.session.max_redirects = MAX_REDIRECTS
        self.session.headers["User-Agent"] = f"lti-microcred/{tool_version()} (+{base_url})"
        adapter = PinnedAdapter(permits, resolve)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def request_json(self, method: str, url: str, **kwargs: Any) -> Any:
        """The JSON answer of a 2xx response. Errors name the host and what went wrong, never the answer's text."""
        host = urlsplit(url).hostname or "the host"
        started = time.monotonic()
        try:
            with self.session.request(method, url, timeout=self.timeout, stream=True, **kwargs) as response:
                if not 200 <= response.status_code < 300:
                    raise OutboundError(f"{host} answered HTTP {response.status_code}", response.status_code)
                body = self._bounded_body(response, host, started)
        except AddressRefused as exc:
            raise OutboundError(str(exc)) from exc
        except requests.TooManyRedirects as exc:
            raise OutboundError(f"{host} redirected more than {MAX_REDIRECTS} times") from exc
        except requests.RequestException as exc:
            raise OutboundError(f"{host} could not be reached ({exc.__class__.__name__})") from exc
        try:
            return json.loads(body)
        except ValueError as exc:
            raise OutboundError(f"{host} did not answer JSON") from exc

    def _bounded_body(self, response: requests.Response, host: str, started: float) -> bytes:
        body = bytearray()
        while chunk := response.raw.read1(CHUNK, decode_content=True):  # whatever has arrived, not a full chunk
            body += chunk
            if len(body) > MAX_JSON_BYTES:
                raise OutboundError(f"{host} answered more than {MAX_JSON_BYTES} bytes")
            if time.monotonic() - started > self.deadline_seconds:
                raise OutboundError(f"{host} took longer than {self.deadline_seconds:g} s to answer")
        return bytes(body)
