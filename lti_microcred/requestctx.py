"""Per-request access to the process services and a database session owned by the request."""

from __future__ import annotations

from flask import current_app, g
from sqlalchemy.orm import Session

from .services import Services


def services() -> Services:
    return current_app.extensions["microcred"]  # type: ignore[no-any-return]


def db() -> Session:
    """The request's session; the view commits, teardown closes (and rolls back anything left)."""
    if "db" not in g:
        g.db = services().sessions()
    return g.db  # type: ignore[no-any-return]


def close_db(_exc: BaseException | None = None) -> None:
    session = g.pop("db", None)
    if session is not None:
        session.close()
