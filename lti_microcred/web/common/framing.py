"""Who may frame the tool: `frame-ancestors 'self'` plus the origins of the registered, active LMSs (their
issuer's and login URL's), so the tool opens inside its LMSs and nobody else's pages."""

from __future__ import annotations

import base64
import json
import math
import re
import threading
import time
from urllib.parse import urlsplit

from flask import current_app, g, request
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from lti_microcred.lti.models import Platform
from lti_microcred.services import Services
from lti_microcred.web.common.context import services

# Hosted Canvas (one issuer for every institution) frames the tool from each customer's own host.
HOSTED_CANVAS = frozenset({"https://canvas.instructure.com", "https://canvas.beta.instructure.com",
                           "https://canvas.test.instructure.com"})
DEFAULT_PORTS = {"http": 80, "https": 443}
HOST = re.compile(r"^([a-z0-9-]+(\.[a-z0-9-]+)*|\[[0-9a-f:.]+\])$")


class FrameAncestors:
    """`frame-ancestors 'self' <origins>`: the origins of every active platform's issuer and login URL, so only
    the registered LMSs may frame the tool. Read when the app is built, then again while answering a request
    that was not refused once `registry_cache_seconds` have passed, or at once when a request names an active
    platform missing from the list (registered a moment ago, perhaps in another process); the registry, cached
    per process itself, says whether it is one. Refused requests use the list as it is, without the database."""

    def __init__(self, services: Services) -> None:
        self.services, self.ttl = services, services.settings.registry_cache_seconds
        self._lock = threading.Lock()
        self._state: tuple[float, frozenset[str], str] = (-math.inf, frozenset(), "frame-ancestors 'self'")
        self.directive(None)

    def forget(self) -> None:
        self._state = (-math.inf, frozenset(), self._state[2])

    def directive(self, issuer: str | None, refused: bool = False) -> str:
        loaded, issuers, directive = self._state
        try:
            expired = time.monotonic() - loaded > self.ttl and (not refused or loaded == -math.inf)
            if expired or (issuer and issuer not in issuers and self._is_active(issuer)):
                with self._lock:
                    self._state = self._load()
                return self._state[2]
        except SQLAlchemyError:
            pass  # the database is away (or not migrated yet): keep the last list and try again later
        return directive

    def registered_origins(self, issuer: str) -> set[str]:
        """The origins of the registrations of `issuer`, whatever their status (none for an unknown issuer)."""
        return {o for p in self.services.registry.platforms_for_issuer(issuer)
                for o in _platform_origins(p.issuer, p.auth_login_url)}

    def _is_active(self, issuer: str) -> bool:
        return any(p.status == "active" for p in self.services.registry.platforms_for_issuer(issuer))

    def _load(self) -> tuple[float, frozenset[str], str]:
        with self.services.read_sessions() as session:
            rows = session.execute(select(Platform.issuer, Platform.auth_login_url)
                                   .where(Platform.status == "active")).all()
        origins: list[str] = []
        for platform_issuer, login_url in rows:
            origins += [o for o in _platform_origins(platform_issuer, login_url) if o not in origins]
        return time.monotonic(), frozenset(r.issuer for r in rows), " ".join(["frame-ancestors 'self'", *origins])


def frame_ancestors(status: int) -> str:
    framing: FrameAncestors = current_app.extensions["microcred_frame_ancestors"]
    directive = framing.directive(_named_issuer(), refused=status >= 400)
    refused = g.get("refused_issuer")  # a refusal may be shown inside the LMS it names, even one not active yet
    if refused and _origin(refused):
        try:
            extra = framing.registered_origins(refused) - set(directive.split())
        except SQLAlchemyError:
            extra = set()
        directive = " ".join([directive, *sorted(extra)])
    return directive


def _platform_origins(issuer: str, login_url: str) -> list[str]:
    """Where an LMS's pages come from: its issuer's and login URL's origins; hosted Canvas also frames the tool
    from each customer's own *.instructure.com host."""
    hosted = ["https://*.instructure.com"] if _origin(issuer) in HOSTED_CANVAS else []
    return [o for o in (_origin(issuer), _origin(login_url), *hosted) if o]


def _origin(url: str) -> str | None:
    """scheme://host[:port] of an http(s) URL; None for anything a CSP source could not carry."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port
    except ValueError:
        return None
    host = f"[{host}]" if ":" in host else host
    if parts.scheme not in DEFAULT_PORTS or not HOST.match(host):
        return None
    return f"{parts.scheme}://{host}" + (f":{port}" if port not in (None, DEFAULT_PORTS[parts.scheme]) else "")


def _named_issuer() -> str | None:
    """The platform a request names: its launched session's, a login's `iss`, a launch's id_token `iss` (unverified:
    only a hint to read the list again, which counts registered, active platforms only). Anything that is not an
    http(s) URL names none, so hostile input never reaches the database from here."""
    tool_session = g.get("tool_session")
    if tool_session is not None:
        return str(tool_session.issuer)
    if not request.path.startswith("/lti/") or (request.content_length or 0) > services().settings.launch_max_bytes:
        return None  # a body refused as too large is never read
    named = request.values.get("iss")
    if not named:
        try:
            payload = request.form.get("id_token", "").split(".")[1]
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            named = claims.get("iss") if isinstance(claims, dict) else None
        except (IndexError, ValueError, TypeError, RecursionError):  # hostile tokens are refused elsewhere
            return None
    return named if isinstance(named, str) and len(named) <= 2048 and _origin(named) else None
