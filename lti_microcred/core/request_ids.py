"""The ids that tie log lines together: the request in hand, and the launch it acts for.

A web request binds its id (an X-Request-Id a proxy sent, else a new one); a page opened with a launched session
also binds the launch's id, so one id finds the launch and every page opened with it. The outbox stores the id
with each row (`outbox.enqueue`) and the delivery worker binds it again while it delivers that row.

Context variables, not thread locals: every thread (uWSGI's, the delivery pool's) sees only its own binding.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass

# The width of launch_sessions.request_id and outbox.request_id: an id must fit whole, or grep would miss it.
MAX_LENGTH = 32
# What an incoming id may look like: long enough not to collide by chance, short enough to store, and nothing a
# log line could be forged with (no spaces, quotes or line breaks).
_SHAPE = re.compile(rf"[A-Za-z0-9._-]{{8,{MAX_LENGTH}}}")

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
_launch_id: ContextVar[str | None] = ContextVar("launch_id", default=None)


def new_id() -> str:
    """16 hex digits: 64 random bits, plenty to tell requests apart in a log."""
    return secrets.token_hex(8)


def accepted(incoming: str | None) -> str | None:
    """An incoming id if it has a sane shape (8-32 of A-Z a-z 0-9 . _ -), else None (then make a new one)."""
    return incoming if incoming and _SHAPE.fullmatch(incoming) else None


def current() -> str | None:
    return _request_id.get()


def current_launch() -> str | None:
    return _launch_id.get()


def origin() -> str | None:
    """What caused the work in hand, for a row written now: the launch when there is one, else the request."""
    return _launch_id.get() or _request_id.get()


@dataclass(frozen=True)
class Binding:
    """Both variables as they were before `bind`, for `reset`."""

    request: Token[str | None]
    launch: Token[str | None]


def bind(request_id: str | None, launch_id: str | None = None) -> Binding:
    """Start a unit of work (a request, a delivery): its id, and the launch it acts for if already known."""
    return Binding(_request_id.set(request_id), _launch_id.set(launch_id))


def bind_launch(launch_id: str | None) -> None:
    """The request turned out to act for a launch (it opened a session, or is the launch): lasts until `reset`."""
    _launch_id.set(launch_id)


def reset(binding: Binding) -> None:
    """End the unit of work: both variables go back to what they were, whatever was bound since."""
    _launch_id.reset(binding.launch)
    _request_id.reset(binding.request)


@contextmanager
def bound(request_id: str | None, launch_id: str | None = None) -> Iterator[None]:
    binding = bind(request_id, launch_id)
    try:
        yield
    finally:
        reset(binding)
