"""Server-rendered views, by audience: `public/` (anyone), `learner/`, `staff/`, `lti/` (the endpoints the LMS
calls and the Deep Linking picker) and `common/` (what they share). Templates follow the same folders."""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Flask, Response, request

from lti_microcred.competencies.credential_fields import PARTICIPATION_FORMS
from lti_microcred.web import home, metrics, request_metrics
from lti_microcred.web.common import files
from lti_microcred.web.common.errors import register_error_pages
from lti_microcred.web.common.framing import FrameAncestors, frame_ancestors
from lti_microcred.web.common.guards import template_globals
from lti_microcred.web.common.next_try import next_try
from lti_microcred.web.learner import credentials as learner_credentials
from lti_microcred.web.learner import dashboard as learner_dashboard
from lti_microcred.web.lti import deep_link, views
from lti_microcred.web.public import attest, badge_art, pages
from lti_microcred.web.public import credentials as public_credentials
from lti_microcred.web.staff import (
    badge_image,
    frameworks,
    gradebook,
    issued_credentials,
    issuer,
    learner,
    matrix,
    microcredential_structure,
    microcredentials,
    review,
    roster,
)

# Tokens travel in URLs inside the LMS iframe, so no referrer leaves our origin.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
CONTENT_SECURITY_POLICY = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'"
# Responses that carry a session token, a login's state or a secret link are never kept by a browser or proxy.
NO_STORE_PATHS = re.compile(r"^/+(s|attest)/|^/+lti/+(login|launch|register)")
UPLOAD_ACCEPT = ".pdf,.png,.jpg,.jpeg,.gif,.webp,.txt,.csv,.md,.docx,.xlsx,.pptx,.odt,.mp4"
BLUEPRINTS = (
    pages, public_credentials, attest, badge_art,  # anyone
    home, files,  # every launched role
    learner_dashboard, learner_credentials,  # learners
    microcredentials, microcredential_structure, review, matrix, learner, frameworks, issuer, issued_credentials,
    gradebook, roster, badge_image,  # staff
    deep_link,  # the Deep Linking picker
)


def register_web(app: Flask) -> None:
    app.register_blueprint(views.bp)  # /lti/…: what the LMS calls
    app.register_blueprint(views.well_known)
    for module in BLUEPRINTS:
        app.register_blueprint(module.bp)
    app.register_blueprint(metrics.bp)  # /metrics: 404 unless metrics_token is set
    request_metrics.install(app)  # latency per page group, once every blueprint is known
    register_error_pages(app)
    app.context_processor(template_globals)
    app.context_processor(_view_globals)
    app.add_template_filter(json.loads, "from_json")
    app.add_template_filter(next_try, "next_try")
    app.extensions["microcred_frame_ancestors"] = FrameAncestors(app.extensions["microcred"])

    @app.after_request
    def _security_headers(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        policy = response.headers.get("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        if "frame-ancestors" not in policy:  # the same framing rule everywhere, downloads' own policy included
            response.headers["Content-Security-Policy"] = f"{policy}; {frame_ancestors(response.status_code)}"
        if NO_STORE_PATHS.match(request.path) and "no-store" not in response.headers.get("Cache-Control", ""):
            response.headers["Cache-Control"] = "no-store"
        return response


def _view_globals() -> dict[str, Any]:
    """Constants the micro-credential templates share (labels of the domain's choices, upload types)."""
    return {"participation_forms": PARTICIPATION_FORMS, "upload_accept": UPLOAD_ACCEPT}
