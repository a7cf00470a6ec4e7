"""Authorisation for pages after a launch: the session from the URL token, role checks, CSRF."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, g, request

from lti_microcred.lti.errors import LaunchError, NotAllowed
from lti_microcred.lti.sessions import ToolSession, check_csrf, csrf_token, load_session
from lti_microcred.web.common.context import db, services

F = TypeVar("F", bound=Callable[..., Any])


class CsrfFailed(LaunchError):
    code, status, title = "csrf_failed", 400, "The form could not be accepted"
    hint = "The page was too old or did not come from this tool. Go back, reload the page and try again."


def session_blueprint(name: str, import_name: str, url_prefix: str = "") -> Blueprint:
    """A blueprint under /s/<token>/...: every view has g.tool_session, every POST a checked CSRF token."""
    bp = Blueprint(name, import_name, url_prefix="/s/<token>" + url_prefix)

    @bp.url_value_preprocessor
    def _load_session(_endpoint: str | None, values: dict[str, Any] | None) -> None:
        token = (values or {}).pop("token", "")
        g.tool_session = load_session(db(), token)

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
