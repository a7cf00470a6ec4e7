"""The course roster from NRPS: every member, including people who never launched the tool, kept in sync
(new enrolments appear; members the LMS no longer lists, or lists as Deleted, are marked withdrawn)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from lti_microcred.core.db import dialect_insert, transaction, utcnow
from lti_microcred.lms.course import endpoints
from lti_microcred.lms.errors import NotReady, ServiceError
from lti_microcred.lms.models import CourseServices, RosterEntry
from lti_microcred.lms.nrps import memberships
from lti_microcred.lti.models import Membership, User
from lti_microcred.lti.roles import map_roles

if TYPE_CHECKING:
    from lti_microcred.lms.connection import LmsConnection

STATUSES = {"Active": "active", "Inactive": "inactive", "Deleted": "withdrawn"}
CHUNK = 500


@dataclass(frozen=True)
class RosterReport:
    members: int
    added: int
    withdrawn: int
    pages: int


def sync_roster(lms: LmsConnection, context_id: int, rlid: str | None = None) -> RosterReport:
    """Read the whole membership (or one link's, with `rlid`) and store it; errors are kept for the page."""
    with lms.read_sessions() as session:
        course = endpoints(session, context_id)
    if course is None or not course.memberships_url:
        raise NotReady("the LMS has not given this course's roster address yet (it comes with a launch)", 600)
    try:
        found = memberships(lms.client, course.platform_id, course.memberships_url, rlid=rlid)
    except ServiceError as exc:
        _note(lms, context_id, error=str(exc))
        raise
    with transaction(lms.sessions) as session:
        added, withdrawn = apply_members(session, course.platform_id, context_id, found.members, full=rlid is None)
    _note(lms, context_id, count=len(found.members))
    return RosterReport(len(found.members), added, withdrawn, found.pages)


def _note(lms: LmsConnection, context_id: int, count: int | None = None, error: str | None = None) -> None:
    values: dict[str, Any] = {"roster_error": error[:2000] if error else None}
    if error is None:
        values.update(roster_synced_dt=utcnow(), roster_count=count)
    with transaction(lms.sessions) as session:
        session.execute(update(CourseServices).where(CourseServices.context_id == context_id).values(**values))


def _user_ids(session: Session, platform_id: int, subs: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for i in range(0, len(subs), CHUNK):
        part = subs[i:i + CHUNK]
        found.update(session.execute(select(User.sub, User.id).where(User.platform_id == platform_id,
                                                                     User.sub.in_(part))).all())
    return found


def _profile(member: dict[str, Any]) -> dict[str, Any]:
    limits = {"name": 255, "given_name": 255, "family_name": 255, "email": 320}
    return {k: str(member[k])[:n] for k, n in limits.items() if member.get(k)}


def apply_members(session: Session, platform_id: int, context_id: int, members: list[dict[str, Any]],
                  full: bool) -> tuple[int, int]:
    """Upsert users, roster entries and memberships; returns (new roster entries, newly withdrawn)."""
    now = utcnow()
    by_sub = {str(m["user_id"])[:255]: m for m in members}
    ids = _upsert_users(session, platform_id, by_sub, now)
    before = {r.user_id: r.status for r in session.execute(
        select(RosterEntry.user_id, RosterEntry.status).where(RosterEntry.context_id == context_id))}
    rows = _roster_rows(context_id, by_sub, ids, now)
    withdrawn = sum(1 for r in rows if r["status"] == "withdrawn" and before.get(r["user_id"]) != "withdrawn")
    if rows:
        _store_roster_rows(session, context_id, rows, now)
    if full:  # whoever the LMS no longer lists has left the course
        withdrawn += _withdraw_unlisted(session, context_id, before, set(ids.values()), now)
    return sum(1 for r in rows if r["user_id"] not in before), withdrawn


def _upsert_users(session: Session, platform_id: int, by_sub: dict[str, dict[str, Any]],
                  now: dt.datetime) -> dict[str, int]:
    """Create the members never seen and update the others' profiles; every member's user id by LTI sub."""
    ids = _user_ids(session, platform_id, list(by_sub))
    blank = dict.fromkeys(("name", "given_name", "family_name", "email"))
    new_users = [{"platform_id": platform_id, "sub": sub, "created_dt": now, "updated_dt": now, **blank,
                  **_profile(m)} for sub, m in by_sub.items() if sub not in ids]
    if new_users:
        session.execute(dialect_insert(session, User.__table__).on_conflict_do_nothing(
            index_elements=["platform_id", "sub"]), new_users)
        ids = _user_ids(session, platform_id, list(by_sub))
    for sub, member in by_sub.items():  # names and e-mails the LMS now shares
        profile = _profile(member)
        if profile and sub in ids and sub not in {u["sub"] for u in new_users}:
            session.execute(update(User).where(User.id == ids[sub]).values(**profile, updated_dt=now))
    return ids


def _roster_rows(context_id: int, by_sub: dict[str, dict[str, Any]], ids: dict[str, int],
                 now: dt.datetime) -> list[dict[str, Any]]:
    """One roster entry per listed member, with the roles and status the LMS gives."""
    rows = []
    for sub, member in by_sub.items():
        roles = [r for r in member.get("roles", []) if isinstance(r, str)][:50]
        status = STATUSES.get(str(member.get("status") or "Active"), "active")
        rows.append({"context_id": context_id, "user_id": ids[sub], "status": status, "role": map_roles(roles),
                     "lti_roles": json.dumps(roles), "first_seen_dt": now, "last_seen_dt": now,
                     "withdrawn_dt": now if status == "withdrawn" else None})
    return rows


def _store_roster_rows(session: Session, context_id: int, rows: list[dict[str, Any]], now: dt.datetime) -> None:
    """Upsert the roster entries, and add a membership for each member not withdrawn."""
    table = RosterEntry.__table__
    stmt = dialect_insert(session, table)
    session.execute(stmt.on_conflict_do_update(index_elements=["context_id", "user_id"], set_={
        "status": stmt.excluded.status, "role": stmt.excluded.role, "lti_roles": stmt.excluded.lti_roles,
        "last_seen_dt": stmt.excluded.last_seen_dt,
        "withdrawn_dt": case((stmt.excluded.status == "withdrawn",  # keep the first withdrawal date
                              func.coalesce(table.c.withdrawn_dt, stmt.excluded.withdrawn_dt)), else_=None)}), rows)
    session.execute(dialect_insert(session, Membership.__table__).on_conflict_do_nothing(
        index_elements=["context_id", "user_id"]),
        [{"context_id": context_id, "user_id": r["user_id"], "role": r["role"], "lti_roles": r["lti_roles"],
          "created_dt": now, "updated_dt": now} for r in rows if r["status"] != "withdrawn"])


def _withdraw_unlisted(session: Session, context_id: int, before: dict[int, str], listed: set[int],
                       now: dt.datetime) -> int:
    """Mark withdrawn the entries the LMS no longer lists; how many were."""
    gone = [uid for uid, status in before.items() if status != "withdrawn" and uid not in listed]
    for i in range(0, len(gone), CHUNK):
        session.execute(update(RosterEntry).where(RosterEntry.context_id == context_id,
                                                  RosterEntry.user_id.in_(gone[i:i + CHUNK]))
                        .values(status="withdrawn", withdrawn_dt=now))
    return len(gone)


def is_withdrawn(session: Session, context_id: int, learner_id: int) -> bool:
    """Whether the LMS roster, as last read, no longer lists the learner in the course (or lists them deleted)."""
    return session.execute(select(RosterEntry.status).where(
        RosterEntry.context_id == context_id, RosterEntry.user_id == learner_id)).scalar() == "withdrawn"
