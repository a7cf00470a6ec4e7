"""Authorisation for pages after a launch: the session from the URL token, role checks, CSRF; and the one input
guard of every request: no NUL byte (which PostgreSQL refuses in text) gets past it to a view."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, g, request
from werkzeug.datastructures import MultiDict

from lti_microcred.core import request_ids
from lti_microcred.lti.errors import LaunchError, NotAllowed
from lti_microcred.lti.sessions import ToolSession, check_csrf, csrf_token, load_session
from lti_microcred.web.common.context import db, services

F = TypeVar("F", bound=Callable[..., Any])


class CsrfFailed(LaunchError):
    code, status, title = "csrf_failed", 400, "The form could not be accepted"
    hint = "The page was too old or did not come from this tool. Go back, reload the page and try again."


class NulCharacter(LaunchError):
    code, status, title = "nul_character", 400, "The request contains a NUL character"
    hint = "No address, search or form of this tool takes a NUL (zero) character. Check what was sent and try again."


class NulInAddress(NulCharacter):
    status, title = 404, "No page has this address"


def refuse_nul_in_address(_endpoint: str | None = None, _values: dict[str, Any] | None = None) -> None:
    """For every request, before any view or session lookup: a NUL in the path is no address (404), in the
    query string a bad request (400). Bodies are checked where forms are read (`refuse_nul_in_form`)."""
    if "\x00" in request.path:
        raise NulInAddress("the address contains a NUL character")
    if b"%00" in request.query_string or b"\x00" in request.query_string:  # the only ways to write a NUL there;
        raise NulCharacter("the query string contains a NUL character")  # cheaper than parsing every query


def refuse_nul_in_form() -> None:
    """For views that read a form: its fields, and the names of uploaded files."""
    if form_has_nul():
        raise NulCharacter("a form field contains a NUL character")


def form_has_nul() -> bool:
    files = request.files.values()
    return _has_nul(request.form) or any("\x00" in f"{f.filename}{f.name}" for f in files)


def _has_nul(values: MultiDict[str, Any]) -> bool:
    return any("\x00" in f"{key}{value}" for key, value in values.items(multi=True))


def session_blueprint(name: str, import_name: str, url_prefix: str = "") -> Blueprint:
    """A blueprint under /s/<token>/...: every view has g.tool_session, every POST a checked CSRF token."""
    bp = Blueprint(name, import_name, url_prefix="/s/<token>" + url_prefix)

    @bp.url_value_preprocessor
    def _load_session(_endpoint: str | None, values: dict[str, Any] | None) -> None:
        token = (values or {}).pop("token", "")
        g.tool_session = load_session(db(), token)
        request_ids.bind_launch(g.tool_session.launch_id)  # this page's lines name the launch it belongs to

    @bp.url_defaults
    def _keep_token(_endpoint: str, values: dict[str, Any]) -> None:
        if "token" not in values and "tool_session" in g:
            values["token"] = g.tool_session.token

    @bp.before_request
    def _check_csrf() -> None:
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            submitted = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token")
            if not check_csrf(services().signer, g.tool_session.token, submitted):
                raise CsrfFailed("missing or wrong CSRF token")
            refuse_nul_in_form()

    return bp


def current_session() -> ToolSession:
    session: ToolSession = g.tool_session
    return session


def requires_role(*roles: str) -> Callable[[F], F]:
    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if current_session().role not in roles:
                raise NotAllowed(f"role {current_session().role} may not use {request.endpoint}")
            return view(*args, **kwargs)
        return wrapper  # type: ignore[return-value]
    return decorate


def template_globals() -> dict[str, Any]:
    """csrf_token() for forms, tool_session for layouts; both empty outside a launched session."""
    tool_session = g.get("tool_session")
    return {
        "tool_session": tool_session,
        "csrf_token": (lambda: csrf_token(services().signer, tool_session.token)) if tool_session else (lambda: ""),
    }
