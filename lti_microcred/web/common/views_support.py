"""Helpers every micro-credential view shares: who acts, which course, role groups, form parsing, notices."""

from __future__ import annotations

from typing import Any

from flask import current_app, redirect, request, url_for
from werkzeug.wrappers import Response

from lti_microcred.competencies.audit import Actor
from lti_microcred.core.storage import FileStorage, LocalFileStorage
from lti_microcred.lti.errors import LaunchError
from lti_microcred.lti.roles import ADMIN, ASSESSOR, INSTRUCTOR
from lti_microcred.web.common.guards import current_session

BUILDERS = (INSTRUCTOR, ADMIN)  # define, publish, award, revoke, override
REVIEWERS = (INSTRUCTOR, ADMIN, ASSESSOR)  # read the course, decide on evidence
STORAGE_EXTENSION = "microcred_storage"
MAX_ID = 2**31 - 1  # ids are 32-bit integers in PostgreSQL: larger ones would be a database error, not a 404

NOTICES = {
    "created": "The micro-credential was created as a draft.",
    "saved": "Your changes were saved.",
    "published": "The micro-credential is published: learners see it and awards happen.",
    "archived": "The micro-credential is archived.",
    "draft": "The micro-credential is back to draft.",
    "module": "The module was added.",
    "requirement": "The requirement was saved.",
    "requirement_removed": "The requirement was removed.",
    "components": "The pathway's components were saved.",
    "submitted": "Your evidence was submitted. An assessor will review it.",
    "claimed": "Your claim of prior learning was submitted. An assessor will review it.",
    "decided": "The decision was recorded.",
    "awarded": "The micro-credential was awarded.",
    "revoked": "The award was revoked.",
    "overridden": "The competency decision was recorded.",
    "suspended": "The credential is suspended. Anyone who checks it now sees it is suspended, with your reason.",
    "reinstated": "The credential is valid again.",
    "reissued": "A new credential was issued; the one it replaces is marked as replaced.",
    "revoked_credential": "The award was revoked. Its credential shows as revoked within a minute.",
}


class RecordNotFound(LaunchError):
    code, status, title = "not_found", 404, "Not found in this course"
    hint = ("It does not exist, or it belongs to another course or person. Go back to the course page and "
            "follow a link from there.")


class CourseRequired(LaunchError):
    code, status, title = "no_course", 400, "This page belongs to a course"
    hint = "Open the tool from a course of your LMS, not from an account or admin page."


def actor() -> Actor:
    """The session's person as the domain's Actor: tenant, course and role travel with every verb."""
    s = current_session()
    return Actor(s.platform_id, s.context_id, s.user_id, s.user_name, s.role)


def course_id() -> int:
    context_id = current_session().context_id
    if context_id is None:
        raise CourseRequired("the launch carried no course (context claim)")
    return context_id


def text(name: str, limit: int = 20_000) -> str:
    """A form field as text, cut at a sane length (the domain applies the real limits and messages)."""
    return str(request.form.get(name, ""))[:limit]


def decimal(raw: str | None) -> float | None:
    """'' -> None; anything else must be a finite number (ValueError otherwise). Accepts a decimal comma."""
    raw = (raw or "").strip().replace(",", ".")
    if not raw:
        return None
    value = float(raw)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(raw)
    return value


def whole(raw: str | None) -> int | None:
    """'' -> None; a whole number, or ValueError."""
    value = decimal(raw)
    if value is not None and not value.is_integer():
        raise ValueError(raw)
    return None if value is None else int(value)


def whole_or_none(raw: str | None) -> int | None:
    """A database id or small count, or None for anything else (a bad value in a filter means none)."""
    try:
        value = whole(raw)
    except ValueError:
        return None
    return value if value is not None and 0 <= value <= MAX_ID else None


def storage() -> FileStorage:
    """The app's evidence file storage (one per app, built from settings on first use)."""
    found = current_app.extensions.get(STORAGE_EXTENSION)
    if found is None:
        found = LocalFileStorage.from_settings(current_app.extensions["microcred"].settings)
        current_app.extensions[STORAGE_EXTENSION] = found
    return found


def see_other(endpoint: str, notice: str | None = None, anchor: str | None = None, **values: Any) -> Response:
    """Post/redirect/get: a refresh never re-posts; the notice code says what happened."""
    if notice:
        values["notice"] = notice
    return redirect(url_for(endpoint, _anchor=anchor, **values), code=303)


def notice() -> str | None:
    return NOTICES.get(request.args.get("notice", ""))
