"""Flask endpoints of the loopback LMS's AGS and NRPS (Moodle's and Canvas's addresses both), wired to
lti1p3platform's services over DevServices, with the injected faults applied on the way in.

lti1p3platform's responses become Flask ones here: errors as JSON, the next page as a `Link` header.
"""

from __future__ import annotations

import socket
import time
from typing import Any

import jwt
from flask import Flask, Response, jsonify, request
from lti1p3platform.exceptions import LtiException, LtiServiceException
from lti1p3platform.request import Request, TRequest

from lti_microcred.devplatform.canvas_rules import canvas_rate_limit_exceeded
from lti_microcred.devplatform.platform import DevPlatform
from lti_microcred.devplatform.service_classes import DevAgs, DevNrps
from lti_microcred.devplatform.services import DevServices, dev_services
from lti_microcred.devplatform.urls import lineitem_url, lineitems_url


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
    _register_token_counter(app, services)
    _register_service_routes(app, services)
    return services


def _register_token_counter(app: Flask, services: DevServices) -> None:
    """Count the token requests, refuse a scope outside `allowed_scopes` (as Canvas does)."""
    platform = services.platform

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


def _register_service_routes(app: Flask, services: DevServices) -> None:
    moodle = "/mod/lti/services.php/<course>/lineitems"
    canvas = "/api/lti/courses/<course>/line_items"
    for base in (moodle, canvas):
        app.add_url_rule(base, view_func=_service_view(app, services, "lineitems"), methods=["GET", "POST"])
        item = base + "/<item>" + ("/lineitem" if base == moodle else "")
        app.add_url_rule(item, view_func=_service_view(app, services, "lineitem"), methods=["GET", "PUT", "DELETE"])
        app.add_url_rule(item + "/scores", view_func=_service_view(app, services, "scores"), methods=["POST"])
        app.add_url_rule(item + "/results", view_func=_service_view(app, services, "results"), methods=["GET"])
    app.add_url_rule("/mod/lti/services.php/CourseSection/<course>/bindings/<binding>/memberships",
                     view_func=_service_view(app, services, "memberships"), methods=["GET"])
    app.add_url_rule("/api/lti/courses/<course>/names_and_roles",
                     view_func=_service_view(app, services, "memberships"), methods=["GET"])


def _service_view(app: Flask, services: DevServices, operation: str) -> Any:
    """One endpoint's view: the injected fault if any, the slow LMS's delay, then lti1p3platform's answer."""
    def view(course: str, item: str | None = None, binding: str | None = None) -> Any:
        faulted = _apply_fault(services)
        if faulted is not None:
            return faulted
        if services.delay_seconds:
            time.sleep(services.delay_seconds)
        response = _dispatch(services, operation, item)
        if services.rate_limit_remaining is not None:
            response.headers["X-Rate-Limit-Remaining"] = str(services.rate_limit_remaining)
        return response
    view.__name__ = f"svc_{operation}_{len(app.view_functions)}"
    return view


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
    if fault.kind == "canvas-throttle":
        return canvas_rate_limit_exceeded()
    response = jsonify(error=f"injected {fault.kind}")
    response.status_code = int(fault.kind.removesuffix("-bare"))
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
