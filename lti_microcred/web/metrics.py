"""GET /metrics for Prometheus: the counters of every uWSGI process, then the delivery state read from the
database. Absent (404) unless `metrics_token` is set, and then only for `Authorization: Bearer <token>`: the
counts say how busy each LMS is, which is nobody's business but the operator's."""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, abort, request

from lti_microcred.core.metrics_exposition import CONTENT_TYPE, exposition
from lti_microcred.lms.delivery.gauges import DeliveryGauges
from lti_microcred.services import runtime_of
from lti_microcred.web.common.context import services

bp = Blueprint("metrics", __name__)


@bp.route("/metrics")
def metrics() -> Response:
    token = services().settings.metrics_token
    if not token:
        abort(404)
    sent = request.headers.get("Authorization", "")
    if not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
        return Response("a bearer token is required\n", 401, mimetype="text/plain",
                        headers={"WWW-Authenticate": 'Bearer realm="metrics"', "Cache-Control": "no-store"})
    s = services()
    body = exposition([DeliveryGauges(s.read_sessions, runtime_of(s).handlers.kinds)])
    return Response(body, 200, content_type=CONTENT_TYPE, headers={"Cache-Control": "no-store"})
