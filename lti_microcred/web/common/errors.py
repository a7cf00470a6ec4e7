"""Error pages: every refusal names its reason; nothing shows a stack trace."""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from dataclasses import dataclass

from flask import Flask, g, render_template, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from lti_microcred.core.metrics import count_launch
from lti_microcred.core.storage import megabytes
from lti_microcred.lti.errors import LaunchError, PayloadTooLarge
from lti_microcred.web.common.context import services

log = logging.getLogger("lti_microcred.refusals")
# Path segments that are secrets: a launched session (/s/<token>/…, valid for hours), a supervisor's link
# (/attest/<token>) and a registration invitation (/lti/register/<invite>).
SECRET_SEGMENT = re.compile(r"^(/+(?:s|attest|lti/+register)/+)([^/]+)")
# A refusal on these is a refused launch (metrics): the login, the launch and its storage confirmation.
LAUNCH_ENDPOINTS = frozenset({"lti.login", "lti.launch", "lti.confirm"})


def redacted_path(path: str) -> str:
    """The path fit for a log: a secret segment becomes ~ and the first 8 hex digits of its SHA-256, which is
    also the start of a session's stored token_hash (`/s/~3fa9c1d2/me`)."""
    def digest(match: re.Match[str]) -> str:
        return match.group(1) + "~" + hashlib.sha256(match.group(2).encode("utf-8", "replace")).hexdigest()[:8]
    return SECRET_SEGMENT.sub(digest, path, count=1)


@dataclass(frozen=True)
class ErrorPage:
    code: str
    title: str
    detail: str
    hint: str


def register_error_pages(app: Flask) -> None:
    app.register_error_handler(LaunchError, _refusal)
    app.register_error_handler(RequestEntityTooLarge, _too_large)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)


def _render(page: ErrorPage, status: int, reference: str | None) -> tuple[str, int]:
    return render_template("error.html", error=page, reference=reference), status


def _refusal(error: LaunchError) -> tuple[str, int]:
    reference = secrets.token_hex(4)
    log.warning("refused %s %s: %s: %s (issuer=%s client_id=%s ref=%s)", request.method,
                redacted_path(request.path), error.code, error.detail, error.issuer, error.client_id, reference)
    g.refused_issuer = error.issuer  # the page may be framed by that LMS if it is registered, even if not active
    if request.endpoint in LAUNCH_ENDPOINTS:
        count_launch("refused", error.code)
    return _render(ErrorPage(error.code, error.title, error.detail, error.hint), error.status, reference)


def _too_large(error: RequestEntityTooLarge) -> tuple[str, int]:
    """A launch that is too large is a refused launch; anything else is a form or file over the limit."""
    if request.path.startswith("/lti/"):
        return _refusal(PayloadTooLarge(str(error.description)))
    sent = f"{request.content_length / (1024 * 1024):.1f} MB" if request.content_length else "What was sent"
    limit = megabytes(services().settings.upload_max_bytes)
    page = ErrorPage("too_large", "That is too large", f"{sent} is larger than the tool accepts: files up to {limit}.",
                     "Go back and send a smaller file, or split it into several.")
    return _render(page, 413, None)


def _http_error(error: HTTPException) -> tuple[str, int]:
    status = error.code or 500
    page = ErrorPage(f"http_{status}", error.name, error.description or error.name,
                     "Check the address, or go back and try again.")
    return _render(page, status, None)


def _unexpected(error: Exception) -> tuple[str, int]:
    reference = secrets.token_hex(4)
    log.exception("unexpected error on %s %s (ref=%s)", request.method, redacted_path(request.path), reference)
    if request.endpoint in LAUNCH_ENDPOINTS:
        count_launch("failed", "internal_error")
    page = ErrorPage("internal_error", "The tool ran into a problem", "Something went wrong on our side.",
                     "Try again in a moment. If it keeps happening, send the reference below to the administrator.")
    return _render(page, 500, reference)
