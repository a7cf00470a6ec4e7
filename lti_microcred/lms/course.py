"""A course's service URLs, learned from launches: the AGS `lineitems` and NRPS `context_memberships_url`
claims, and which LMS it is (for its quirks). Launch rows expire, so what they said is kept here."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_microcred.core.db import dialect_insert, utcnow
from lti_microcred.lms.models import CourseServices
from lti_microcred.lti import claims as c
from lti_microcred.lti.models import Context, LaunchSession, ResourceLink

READBACK_MIN_GAP = dt.timedelta(seconds=60)  # launches read grades back at most this often per course
SCAN_BATCH = 500


@dataclass(frozen=True)
class CourseEndpoints:
    platform_id: int
    context_id: int
    lineitems_url: str | None
    memberships_url: str | None
    product_family_code: str | None


def _claims_endpoints(claims: dict[str, Any]) -> dict[str, Any]:
    ags, nrps, platform = (_dict(claims.get(name)) for name in (c.AGS_ENDPOINT, c.NRPS, c.TOOL_PLATFORM))
    scopes: list[Any] = ags["scope"] if isinstance(ags.get("scope"), list) else []
    family = platform.get("product_family_code") or platform.get("family_code")
    return {"lineitems_url": _url(ags.get("lineitems")), "memberships_url": _url(nrps.get("context_memberships_url")),
            "ags_scopes": " ".join(str(x) for x in scopes)[:4000], "product_family_code": _short(family)}


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _url(value: Any) -> str | None:
    ok = isinstance(value, str) and value.startswith(("https://", "http://")) and len(value) <= 2048
    return value if ok else None


def _short(value: Any) -> str | None:
    return str(value)[:64] if value else None


def endpoints(session: Session, context_id: int) -> CourseEndpoints | None:
    """What we know of the course's services; falls back to the newest launches if none were scanned yet."""
    row = session.execute(select(CourseServices).where(CourseServices.context_id == context_id)).scalar_one_or_none()
    if row is not None and (row.lineitems_url or row.memberships_url):
        return CourseEndpoints(row.platform_id, context_id, row.lineitems_url, row.memberships_url,
                               row.product_family_code)
    recent = session.execute(
        select(LaunchSession.platform_id, LaunchSession.claims_json).where(LaunchSession.context_id == context_id)
        .order_by(LaunchSession.id.desc()).limit(20)).all()
    for platform_id, raw in recent:
        found = _claims_endpoints(json.loads(raw or "{}"))
        if found["lineitems_url"] or found["memberships_url"]:
            return CourseEndpoints(platform_id, context_id, found["lineitems_url"], found["memberships_url"],
                                   found["product_family_code"])
    link = session.execute(select(ResourceLink.platform_id, ResourceLink.lineitems_url).where(
        ResourceLink.context_id == context_id, ResourceLink.lineitems_url.is_not(None)).limit(1)).first()
    if link is not None:
        return CourseEndpoints(link.platform_id, context_id, link.lineitems_url, None, None)
    return None


def product_of(session: Session, context_id: int) -> tuple[int, str | None] | None:
    """(platform id, LMS product) of a course: as stored, else as its newest launch says (before the scheduler
    noted it); the product is None when neither tells. A course without gradebook or roster services still has
    a product, and its quirks depend on it."""
    row = session.execute(select(CourseServices.platform_id, CourseServices.product_family_code)
                          .where(CourseServices.context_id == context_id)).first()
    if row is not None and row.product_family_code:
        return row.platform_id, row.product_family_code
    launch = session.execute(select(LaunchSession.platform_id, LaunchSession.claims_json)
                             .where(LaunchSession.context_id == context_id)
                             .order_by(LaunchSession.id.desc()).limit(1)).first()
    if launch is not None:
        return launch.platform_id, _claims_endpoints(json.loads(launch.claims_json or "{}"))["product_family_code"]
    platform_id = session.scalar(select(Context.platform_id).where(Context.id == context_id))
    return (platform_id, None) if platform_id is not None else None


def note_launches(session: Session, after_id: int) -> tuple[int, list[int]]:
    """Record what launches since `after_id` said about their courses; returns (new cursor, courses seen).

    A launch makes its course's grades due for read-back (at most once a minute) and, the first time, its
    roster due for a sync."""
    rows = session.execute(
        select(LaunchSession.id, LaunchSession.platform_id, LaunchSession.context_id, LaunchSession.claims_json)
        .where(LaunchSession.id > after_id, LaunchSession.context_id.is_not(None))
        .order_by(LaunchSession.id).limit(SCAN_BATCH)).all()
    latest: dict[int, Any] = {}
    for row in rows:
        latest[row.context_id] = row
    for context_id, row in latest.items():
        _note(session, row.platform_id, context_id, row.id, _claims_endpoints(json.loads(row.claims_json or "{}")))
    return (rows[-1].id if rows else after_id), sorted(latest)


def _note(session: Session, platform_id: int, context_id: int, launch_id: int, found: dict[str, Any]) -> None:
    now = utcnow()
    stmt = dialect_insert(session, CourseServices.__table__).values(
        platform_id=platform_id, context_id=context_id, last_launch_id=launch_id, next_roster_dt=now,
        next_readback_dt=now, updated_dt=now, **found)
    session.execute(stmt.on_conflict_do_nothing(index_elements=["context_id"]))
    row = session.execute(select(CourseServices).where(CourseServices.context_id == context_id)).scalar_one()
    if launch_id <= row.last_launch_id:  # seen already (scans look back a little), or just inserted
        return
    for name, value in found.items():
        if value:  # a launch without a claim (e.g. NRPS off for a link) does not erase what another said
            setattr(row, name, value)
    row.last_launch_id = launch_id
    if row.roster_synced_dt is None and row.next_roster_dt is None:
        row.next_roster_dt = now
    due = now if row.readback_dt is None else max(now, row.readback_dt + READBACK_MIN_GAP)
    if row.next_readback_dt is None or row.next_readback_dt > due:
        row.next_readback_dt = due
    session.flush()
