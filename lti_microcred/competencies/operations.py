"""Verbs that change the domain. They flush; the caller (request or command) commits."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Module

MAX_TITLE = 200


class DomainError(Exception):
    """A request the domain rules refuse, with a message for the person who made it."""


def create_module(session: Session, context_id: int, title: str, score_maximum: float = 100.0,
                  description: str = "") -> Module:
    title = title.strip()
    if not title or len(title) > MAX_TITLE:
        raise DomainError(f"A module needs a title of 1 to {MAX_TITLE} characters.")
    if not 0 < score_maximum <= 10_000:
        raise DomainError("Maximum points must be between 0 and 10,000.")
    module = Module(key=secrets.token_hex(8), context_id=context_id, title=title, score_maximum=score_maximum,
                    description=description.strip()[:5000])
    session.add(module)
    session.flush()
    return module


def modules_of_context(session: Session, context_id: int) -> list[Module]:
    return list(session.scalars(select(Module).where(Module.context_id == context_id).order_by(Module.id)))


def module_by_key(session: Session, context_id: int, key: str) -> Module | None:
    """A module of this course only: keys from another course are invisible here."""
    return session.scalars(select(Module).where(Module.context_id == context_id, Module.key == key)).one_or_none()
