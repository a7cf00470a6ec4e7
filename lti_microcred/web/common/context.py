"""Per-request access to the process services and a database session owned by the request."""

from __future__ import annotations

from typing import Any

from flask import current_app, g, request
from flask.sessions import SessionInterface
from sqlalchemy.orm import Session

from lti_microcred.services import Services


def services() -> Services:
    found: Services = current_app.extensions["microcred"]
    return found


def db() -> Session:
    """The request's session (a writer's for POST and the like); the view commits, teardown closes."""
    if "db" not in g:
        reads_only = request.method in ("GET", "HEAD", "OPTIONS")
        g.db = (services().read_sessions if reads_only else services().sessions)()
    session: Session = g.db
    return session


def close_db(_exc: BaseException | None = None) -> None:
    session = g.pop("db", None)
    if session is not None:
        session.close()


class NoCookieSession(SessionInterface):
    """The tool has no Flask cookie session (inside an LMS iframe a third-party cookie may never come back;
    a launched session is the token in the URL). Opening none saves building a signer on every request."""

    def open_session(self, app: Any, request: Any) -> None:
        return None  # Flask then hands views a null session, which refuses writes

    def save_session(self, app: Any, session: Any, response: Any) -> None:
        return None
