"""Server-rendered views: the public pages and everything a launched session can see."""

from __future__ import annotations

from flask import Flask, Response

from . import course_credentials, credentials_public, deep_link, frameworks, home, issuer_admin, my_credentials, public
from .errors import register_error_pages
from .guards import template_globals

# Tokens travel in URLs inside the LMS iframe, so no referrer leaves our origin.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'",
}


def register_web(app: Flask) -> None:
    for bp in (public.bp, home.bp, deep_link.bp, frameworks.bp, credentials_public.bp, my_credentials.bp,
               issuer_admin.bp, course_credentials.bp):
        app.register_blueprint(bp)
    register_error_pages(app)
    app.context_processor(template_globals)

    @app.after_request
    def _security_headers(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response
