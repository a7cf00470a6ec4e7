"""AGS and NRPS of the loopback LMS, built on lti1p3platform's AssignmentsGradesService and
NamesRoleProvisioningService, shaped like Moodle or Canvas, with switches to make them misbehave.

Moodle shape: `…/mod/lti/services.php/<course>/lineitems/<id>/lineitem?type_id=1`, scores rescaled to
the line item's maximum, 400 for a user not enrolled, older timestamps ignored. Canvas shape:
`…/api/lti/courses/<course>/line_items/<id>`, 400 for a timestamp older than the last one and for
scoreGiven without scoreMaximum, a line item without resourceLinkId counted as a new assignment.
Both paginate with `Link: <…>; rel="next"`. Faults: 500, 503/429 with Retry-After, 401 (the tokens in use
expire), 400, hang (answer late), drop (close the connection unanswered), scripted or at random.
"""

from __future__ import annotations

import datetime as dt
import random
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import jwt
from flask import Flask, Response, jsonify, request
from lti1p3platform.exceptions import LtiException, LtiServiceException
from lti1p3platform.request import Request, TRequest

from lti_microcred.devplatform.service_classes import DevAgs, DevNrps

if TYPE_CHECKING:
    from lti_microcred.devplatform.platform import DevPlatform

MOODLE_TYPE = "type_id=1"
FAULT_KINDS = ("500", "503", "429", "401", "400", "hang", "drop")


def lineitems_url(platform: DevPlatform) -> str:
    course = platform.setup.course_id
    if platform.setup.flavour == "canvas":
        return platform.url(f"/api/lti/courses/{course}/line_items")
    return platform.url(f"/mod/lti/services.php/{course}/lineitems?{MOODLE_TYPE}")


def lineitem_url(platform: DevPlatform, item_id: str) -> str:
    course = platform.setup.course_id
    if platform.setup.flavour == "canvas":
        return platform.url(f"/api/lti/courses/{course}/line_items/{item_id}")
    return platform.url(f"/mod/lti/services.php/{course}/lineitems/{item_id}/lineitem?{MOODLE_TYPE}")


def memberships_url(platform: DevPlatform) -> str:
    course = platform.setup.course_id
    if platform.setup.flavour == "canvas":
        return platform.url(f"/api/lti/courses/{course}/names_and_roles")
    return platform.url(f"/mod/lti/services.php/CourseSection/{course}/bindings/1/memberships")


@dataclass
class Fault:
    kind: str
    times: int = 1
    match: str = ""  # only requests whose path contains this
    retry_after: int = 1
    seconds: float = 2.0  # how long a hang lasts


class Faults:
    """Failures for the next matching requests, then (optionally) random failures at a rate."""

    def __init__(self, seed: int = 7) -> None:
        self._queue: list[Fault] = []
        self._lock = threading.Lock()
        self.rate = 0.0
        self.random_kinds: tuple[str, ...] = ("500", "503", "429", "drop")
        self.hang_seconds = 2.0
        self.rng = random.Random(seed)  # noqa: S311 - test failures, not secrets
        self.injected: dict[str, int] = {}

    def add(self, kind: str, times: int = 1, match: str = "", retry_after: int = 1, seconds: float = 2.0) -> None:
        assert kind in FAULT_KINDS, kind
        with self._lock:
            self._queue.append(Fault(kind, times, match, retry_after, seconds))

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()
            self.rate = 0.0

    def next(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self._queue:
                if fault.match in path:
                    fault.times -= 1
                    if fault.times <= 0:
                        self._queue.remove(fault)
                    self.injected[fault.kind] = self.injected.get(fault.kind, 0) + 1
                    return fault
            if self.rate and self.rng.random() < self.rate:
                kind = self.rng.choice(self.random_kinds)
                self.injected[kind] = self.injected.get(kind, 0) + 1
                return Fault(kind, retry_after=0, seconds=self.hang_seconds)
        return None


@dataclass
class DevServices:
    """The gradebook and roster of the loopback LMS's one course."""

    platform: DevPlatform
    results: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # item id -> user -> result
    score_log: list[dict[str, Any]] = field(default_factory=list)  # every score received, applied or not
    members: dict[str, dict[str, Any]] = field(default_factory=dict)  # NRPS members besides platform.users
    new_assignments: list[str] = field(default_factory=list)  # Canvas: items created without resourceLinkId
    faults: Faults = field(default_factory=Faults)
    delay_seconds: float = 0.0  # added to every service request (slow LMS)
    token_requests: int = 0
    allowed_scopes: set[str] | None = None  # Canvas: a token request naming another scope is refused (400)
    seen_tokens: set[str] = field(default_factory=set)
    revoked_tokens: set[str] = field(default_factory=set)

    @property
    def canvas(self) -> bool:
        return self.platform.setup.flavour == "canvas"

    def reset(self) -> None:
        with self.platform.lock:
            self.platform.line_items.clear()
            self.results.clear()
            self.score_log.clear()
            self.members.clear()
            self.new_assignments.clear()
            self.faults.clear()
            self.delay_seconds = 0.0
            self.token_requests = 0
            self.allowed_scopes = None

    def expire_tokens(self) -> None:
        """Every token handed out so far is refused from now on, as after its expiry."""
        with self.platform.lock:
            self.revoked_tokens |= self.seen_tokens

    def add_member(self, user_id: str, role: str = "Learner", status: str = "Active", **profile: Any) -> None:
        lis = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
        with self.platform.lock:
            self.members[user_id] = {"user_id": user_id, "roles": [lis + role], "status": status, **profile}

    def roster(self) -> list[dict[str, Any]]:
        lis = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
        base = [{"user_id": u.id, "roles": [lis + ("Instructor" if u.role in ("instructor", "ta") else "Learner")],
                 "status": "Active", "name": u.name, "given_name": u.given_name, "family_name": u.family_name,
                 "email": u.email} for u in self.platform.users.values() if u.role != "admin"]
        return base + [m for m in self.members.values() if m["user_id"] not in self.platform.users]

    def enrolled(self, user_id: str) -> bool:
        return any(m["user_id"] == user_id and m["status"] == "Active" for m in self.roster())

    def score_of(self, item_id: str, user_id: str) -> dict[str, Any] | None:
        return self.results.get(item_id, {}).get(user_id)


def dev_services(platform: DevPlatform) -> DevServices:
    """The services object of a loopback LMS (made on first use)."""
    with platform.lock:
        existing = getattr(platform, "_services", None)
        if existing is None:
            existing = DevServices(platform)
            platform._services = existing  # type: ignore[attr-defined]
        return existing


class _FlaskRequest(Request):
    def build_metadata(self, flask_request: Any) -> TRequest:
        args: dict[str, Any] = flask_request.args.to_dict()
        for name in ("page", "limit"):
            if name in args:
                args[name] = int(args[name])
        return {"method": flask_request.method, "form_data": {}, "get_data": args,
                "headers": dict(flask_request.headers), "content_type": flask_request.content_type,
                "path": flask_request.path, "json": flask_request.get_json(silent=True)}


def register_services(app: Flask, platform: DevPlatform) -> DevServices:
    """Add the AGS and NRPS endpoints (both shapes) and the fault switches to the loopback LMS's app."""
    services = dev_services(platform)
    moodle = "/mod/lti/services.php/<course>/lineitems"
    canvas = "/api/lti/courses/<course>/line_items"

    @app.before_request
    def _count_tokens() -> Response | None:
        if request.endpoint == "token":
            with platform.lock:
                services.token_requests += 1
            asked = set(request.form.get("scope", "").split())
            if services.allowed_scopes is not None and not asked <= services.allowed_scopes:
                return _json({"error": "invalid_scope"}, 400)
            with platform.lock:
                # lti1p3platform signs the same claims within one second into the same token string, so an
                # expired token is refused only until the tool asks for a new one.
                services.revoked_tokens.clear()
        return None

    def serve(operation: str) -> Any:
        def view(course: str, item: str | None = None, binding: str | None = None) -> Any:
            faulted = _apply_fault(services)
            if faulted is not None:
                return faulted
            if services.delay_seconds:
                time.sleep(services.delay_seconds)
            return _dispatch(services, operation, item)
        view.__name__ = f"svc_{operation}_{len(app.view_functions)}"
        return view

    for base in (moodle, canvas):
        app.add_url_rule(base, view_func=serve("lineitems"), methods=["GET", "POST"])
        item = base + "/<item>" + ("/lineitem" if base == moodle else "")
        app.add_url_rule(item, view_func=serve("lineitem"), methods=["GET", "PUT", "DELETE"])
        app.add_url_rule(item + "/scores", view_func=serve("scores"), methods=["POST"])
        app.add_url_rule(item + "/results", view_func=serve("results"), methods=["GET"])
    app.add_url_rule("/mod/lti/services.php/CourseSection/<course>/bindings/<binding>/memberships",
                     view_func=serve("memberships"), methods=["GET"])
    app.add_url_rule("/api/lti/courses/<course>/names_and_roles", view_func=serve("memberships"), methods=["GET"])
    return services


def _apply_fault(services: DevServices) -> Response | None:
    fault = services.faults.next(request.path)
    if fault is None:
        return None
    if fault.kind == "401":
        services.expire_tokens()
        return None  # the request now carries an expired token and is refused as such
    if fault.kind == "hang":
        time.sleep(fault.seconds)  # the tool has given up by now; the request still takes effect
        return None
    if fault.kind == "drop":
        sock = request.environ.get("werkzeug.socket")
        if sock is not None:
            sock.shutdown(socket.SHUT_RDWR)
        return Response(status=500)
    response = jsonify(error=f"injected {fault.kind}")
    response.status_code = int(fault.kind)
    if fault.kind in ("503", "429"):
        response.headers["Retry-After"] = str(fault.retry_after)
    return response


def _dispatch(services: DevServices, operation: str, item: str | None) -> Any:
    token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    with services.platform.lock:
        if token in services.revoked_tokens:
            return _json({"error": "access token expired"}, 401)
        services.seen_tokens.add(token)
    lti_request = _FlaskRequest(request)
    config = services.platform.config()
    config.get_registration()
    try:
        if operation == "memberships":
            nrps = DevNrps(lti_request, config, request.base_url, services=services)
            return _to_flask(nrps.handle_resp(nrps.handle_get_members), "memberships")
        ags = DevAgs(lti_request, config, lineitems_url(services.platform), lineitem_url(services.platform, item or ""),
                     services=services)
        handler = {("lineitems", "GET"): ags.handle_get_lineitems, ("lineitems", "POST"): ags.handle_create_lineitem,
                   ("lineitem", "GET"): ags.handle_get_lineitem, ("lineitem", "PUT"): ags.handle_update_lineitem,
                   ("lineitem", "DELETE"): ags.handle_delete_lineitem, ("scores", "POST"): ags.handle_update_score,
                   ("results", "GET"): ags.handle_get_results}[(operation, request.method)]
        kwargs = {} if operation == "lineitems" else {"line_item_id": item}
        return _to_flask(ags.handle_resp(handler, **kwargs), operation)
    except (LtiException, jwt.PyJWTError) as exc:  # expired or forged token
        return _json({"error": str(exc)}, 401)
    except LtiServiceException as exc:
        return _json({"error": exc.message}, exc.status_code)


def _to_flask(resp: Any, operation: str) -> Response:
    """lti1p3platform puts the next page's URL in the body; platforms send it as a Link header."""
    if resp.code >= 400:
        return _json({"error": resp.message}, resp.code)
    result = resp.result
    link = None
    if operation in ("lineitems", "results") and request.method == "GET" and isinstance(result, dict):
        link = result.get("next")
        result = result.get("content", [])
    elif operation == "memberships" and isinstance(result, dict):
        link = result.pop("next", None)
    if result is None:
        return Response(status=resp.code)
    response = _json(result, resp.code)
    response.mimetype = resp.media_type
    if link:
        response.headers["Link"] = f'<{link}>; rel="next"'
    return response


def _json(body: Any, status: int) -> Response:
    response = jsonify(body)
    response.status_code = status
    return response


def next_page_url(base: str, params: dict[str, Any]) -> str:
    """The next page keeps every filter (and Moodle's type_id), only `page` changes."""
    query = urlencode({**params, "page": int(params.get("page", 1)) + 1})
    return f"{base}{'&' if '?' in base else '?'}{query}"


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat()
