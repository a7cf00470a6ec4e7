"""Server-rendered views: the public pages and everything a launched session can see."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask, Response

from lti_microcred.competencies.definitions import PARTICIPATION_FORMS
from lti_microcred.web import (
    attest,
    course_credentials,
    course_roster,
    credential_structure,
    credentials_public,
    deep_link,
    files,
    frameworks,
    gradebook,
    home,
    instructor_credentials,
    issuer_admin,
    learner,
    learner_detail,
    matrix,
    my_credentials,
    public,
    review,
)
from lti_microcred.web.errors import register_error_pages
from lti_microcred.web.guards import template_globals

# Tokens travel in URLs inside the LMS iframe, so no referrer leaves our origin.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'",
}
UPLOAD_ACCEPT = ".pdf,.png,.jpg,.jpeg,.gif,.webp,.txt,.csv,.md,.docx,.xlsx,.pptx,.odt,.mp4"
BLUEPRINTS = (public, home, deep_link, frameworks, learner, files, attest, instructor_credentials,
              credential_structure, review, matrix, learner_detail, credentials_public, my_credentials, issuer_admin,
              course_credentials, gradebook, course_roster)


def register_web(app: Flask) -> None:
    for module in BLUEPRINTS:
        app.register_blueprint(module.bp)
    register_error_pages(app)
    app.context_processor(template_globals)
    app.context_processor(_view_globals)
    app.add_template_filter(json.loads, "from_json")

    @app.after_request
    def _security_headers(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response


def _view_globals() -> dict[str, Any]:
    """Constants the micro-credential templates share (labels of the domain's choices, upload types)."""
    return {"participation_forms": PARTICIPATION_FORMS, "upload_accept": UPLOAD_ACCEPT}
