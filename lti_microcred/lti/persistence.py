"""Turn a validated launch into rows: user, course, resource link, membership, and the launch session.

Everything is upserted by its natural key inside the platform/deployment it belongs to, in the caller's
transaction with the session row; the session's unique nonce makes a replayed launch fail as a whole.
Launches repeat: a per-process memo of what was last written skips upserts whose values did not change,
so a returning user's launch writes one row.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
import threading
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, insert, literal, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lti_microcred.core import request_ids
from lti_microcred.core.db import dialect_insert, utcnow
from lti_microcred.lti import claims as c
from lti_microcred.lti.errors import NonceReused, Replayed
from lti_microcred.lti.launch import ToolMessageLaunch
from lti_microcred.lti.models import Context, LaunchSession, Membership, ResourceLink, User
from lti_microcred.lti.roles import map_roles

MODULE_PARAM = "microcred_module"


def _text(value: Any, limit: int = 255) -> str | None:
    if value is None or value == "":
        return None
    return str(value)[:limit]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def state_hash(raw_state: str) -> str:
    return hashlib.sha256(raw_state.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class RecordedLaunch:
    session_id: int
    token: str
    role: str
    message_type: str


class KnownRows:
    """Per-process memo: (table, natural key) -> (row id, the values last written). Cleared when unsure."""

    def __init__(self, max_entries: int = 100_000) -> None:
        self._rows: dict[tuple[Any, ...], tuple[int, tuple[Any, ...]]] = {}
        self._max = max_entries
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...], values: tuple[Any, ...]) -> int | None:
        known = self._rows.get(key)
        return known[0] if known is not None and known[1] == values else None

    def put(self, key: tuple[Any, ...], row_id: int, values: tuple[Any, ...]) -> None:
        with self._lock:
            if len(self._rows) >= self._max:
                self._rows.clear()
            self._rows[key] = (row_id, values)

    def clear(self) -> None:
        with self._lock:
            self._rows.clear()


_STATEMENTS: dict[tuple[str, str], Any] = {}


def _upsert_statement(session: Session, table: Table, keys: tuple[str, ...], values: tuple[str, ...]) -> Any:
    """INSERT .. ON CONFLICT (keys) DO UPDATE .. RETURNING id, built once per backend and table."""
    dialect = session.get_bind().dialect.name
    cached = _STATEMENTS.get((dialect, table.name))
    if cached is None:
        columns: dict[str, Any] = {n: bindparam(n) for n in (*keys, *values)}
        stmt = dialect_insert(session, table).values(**columns, created_dt=bindparam("now"),
                                                       updated_dt=bindparam("now"))
        changes = {n: stmt.excluded[n] for n in (*values, "updated_dt")}
        cached = stmt.on_conflict_do_update(index_elements=list(keys), set_=changes).returning(table.c.id)
        _STATEMENTS[(dialect, table.name)] = cached
    return cached


def _upsert(session: Session, known: KnownRows, model: Any, keys: dict[str, Any], values: dict[str, Any]) -> int:
    table = model.__table__
    memo_key = (table.name, *keys.values())
    memo_values = tuple(values.values())
    row_id = known.get(memo_key, memo_values)
    if row_id is None:
        stmt = _upsert_statement(session, table, tuple(keys), tuple(values))
        row_id = int(session.connection().execute(stmt, {**keys, **values, "now": utcnow()}).scalar_one())
        known.put(memo_key, row_id, memo_values)
    return row_id


def _lookup_statement() -> Any:
    """One SELECT for the user, course, link and membership a launch names (each may be missing)."""
    one = select(literal(1).label("one")).subquery()
    u, ctx, link, m = User.__table__, Context.__table__, ResourceLink.__table__, Membership.__table__
    return (
        select(u.c.id.label("user_id"), u.c.name, u.c.given_name, u.c.family_name, u.c.email,
               ctx.c.id.label("context_id"), ctx.c.platform_id.label("context_platform_id"), ctx.c.title,
               ctx.c.label, link.c.id.label("link_id"), link.c.platform_id.label("link_platform_id"),
               link.c.context_id.label("link_context_id"), link.c.title.label("link_title"), link.c.module_key,
               link.c.lineitem_url, link.c.lineitems_url, m.c.id.label("membership_id"), m.c.role, m.c.lti_roles)
        .select_from(one)
        .outerjoin(u, and_(u.c.platform_id == bindparam("platform_id"), u.c.sub == bindparam("sub")))
        .outerjoin(ctx, and_(ctx.c.deployment_id == bindparam("deployment_id"),
                             ctx.c.lti_context_id == bindparam("lti_context_id")))
        .outerjoin(link, and_(link.c.deployment_id == bindparam("deployment_id"),
                              link.c.lti_resource_link_id == bindparam("lti_resource_link_id")))
        .outerjoin(m, and_(m.c.context_id == ctx.c.id, m.c.user_id == u.c.id))
    )


_LOOKUP = _lookup_statement()


def _prime(session: Session, known: KnownRows, keys: dict[str, Any]) -> None:
    """Learn what is stored for this launch's rows, so only rows that differ get written."""
    row = session.connection().execute(_LOOKUP, keys).one()
    if row.user_id is not None:
        known.put(("users", keys["platform_id"], keys["sub"]), row.user_id,
                  (row.name, row.given_name, row.family_name, row.email))
    if row.context_id is not None:
        known.put(("contexts", keys["deployment_id"], keys["lti_context_id"]), row.context_id,
                  (row.context_platform_id, row.title, row.label))
    if row.link_id is not None:
        known.put(("resource_links", keys["deployment_id"], keys["lti_resource_link_id"]), row.link_id,
                  (row.link_platform_id, row.link_context_id, row.link_title, row.module_key, row.lineitem_url,
                   row.lineitems_url))
    if row.membership_id is not None:
        known.put(("memberships", row.context_id, row.user_id), row.membership_id, (row.role, row.lti_roles))


def record_launch(session: Session, known: KnownRows, launch: ToolMessageLaunch, status: str,
                  ttl_seconds: int) -> RecordedLaunch:
    """Persist the launch; raises Replayed / NonceReused when its nonce was already used."""
    try:
        return _record(session, known, launch, status, ttl_seconds)
    except IntegrityError as exc:
        session.rollback()  # the whole launch is void; the caller's transaction holds nothing else
        replay = _replay_error(session, launch)
        if replay is not None:
            raise replay from exc
    # A memoised row vanished (deleted by an admin or another process): forget the memo, write again.
    known.clear()
    return _record(session, known, launch, status, ttl_seconds)


def _record(session: Session, known: KnownRows, launch: ToolMessageLaunch, status: str,
            ttl_seconds: int) -> RecordedLaunch:
    assert launch.platform is not None and launch.deployment is not None and launch.login_state is not None
    body = launch.claims
    platform_id, deployment_id = launch.platform.id, launch.deployment.id
    lti_roles = [r for r in body.get(c.ROLES, []) if isinstance(r, str)][:50]
    role = map_roles(lti_roles)
    user = ({"platform_id": platform_id, "sub": _text(body["sub"])}, {
        "name": _text(body.get("name")), "given_name": _text(body.get("given_name")),
        "family_name": _text(body.get("family_name")), "email": _text(body.get("email"), 320)})
    context = _context_row(body, platform_id, deployment_id)
    link = _link_row(body, platform_id, deployment_id)
    membership_values = {"role": role, "lti_roles": json.dumps(lti_roles)}
    if not _all_known(known, user, context, link, membership_values):
        _prime(session, known, {**user[0], "deployment_id": deployment_id,
                                "lti_context_id": context[0]["lti_context_id"] if context else None,
                                "lti_resource_link_id": link[0]["lti_resource_link_id"] if link else None})
    user_id = _upsert(session, known, User, *user)
    context_id = _upsert(session, known, Context, *context) if context else None
    link_id = None
    if link:
        link[1]["context_id"] = context_id
        link_id = _upsert(session, known, ResourceLink, link[0], _ordered(link[1], _LINK_VALUES))
    if context_id is not None:
        _upsert(session, known, Membership, {"context_id": context_id, "user_id": user_id}, membership_values)
    token = secrets.token_urlsafe(32)
    now = utcnow()
    row = {
        "token_hash": token_hash(token), "nonce": launch.nonce, "id_token_hash": launch.id_token_hash,
        "state_hash": state_hash(launch.login_state.raw), "status": status, "platform_id": platform_id,
        "deployment_id": deployment_id, "user_id": user_id, "context_id": context_id, "resource_link_id": link_id,
        "role": role, "message_type": body[c.MESSAGE_TYPE],
        "claims_json": json.dumps({k: body[k] for k in c.KEPT_AFTER_LAUNCH if k in body}),
        "created_dt": now, "expires_dt": now + dt.timedelta(seconds=ttl_seconds),
        "request_id": request_ids.current(),  # the launch's id: every page opened with the session logs it
    }
    session_id = session.connection().execute(_INSERT_SESSION, row).scalar_one()
    return RecordedLaunch(int(session_id), token, role, row["message_type"])


_SESSIONS_TABLE = cast(Table, LaunchSession.__table__)
_INSERT_SESSION = insert(_SESSIONS_TABLE).returning(_SESSIONS_TABLE.c.id)


_LINK_VALUES = ("platform_id", "context_id", "title", "module_key", "lineitem_url", "lineitems_url")


def _ordered(values: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {n: values[n] for n in names}


Row = tuple[dict[str, Any], dict[str, Any]]  # (natural key, values)


def _memo_id(known: KnownRows, table: str, row: Row) -> int | None:
    return known.get((table, *row[0].values()), tuple(row[1].values()))


def _all_known(known: KnownRows, user: Row, context: Row | None, link: Row | None,
               membership_values: dict[str, Any]) -> bool:
    """True when this process already wrote exactly these values: the launch then writes only its session."""
    user_id = _memo_id(known, "users", user)
    context_id = _memo_id(known, "contexts", context) if context else None
    if user_id is None or (context and context_id is None):
        return False
    if link and _memo_id(known, "resource_links", (link[0], {**link[1], "context_id": context_id})) is None:
        return False
    membership = ({"context_id": context_id, "user_id": user_id}, membership_values)
    return context_id is None or _memo_id(known, "memberships", membership) is not None


def _context_row(body: dict[str, Any], platform_id: int, deployment_id: int) -> Row | None:
    context = body.get(c.CONTEXT)
    if not isinstance(context, dict) or not context.get("id"):
        return None
    return ({"deployment_id": deployment_id, "lti_context_id": _text(context["id"])},
            {"platform_id": platform_id, "title": _text(context.get("title")), "label": _text(context.get("label"))})


def _link_row(body: dict[str, Any], platform_id: int, deployment_id: int) -> Row | None:
    link = body.get(c.RESOURCE_LINK)
    if not isinstance(link, dict) or not link.get("id"):
        return None
    custom = _mapping(body.get(c.CUSTOM))
    ags = _mapping(body.get(c.AGS_ENDPOINT))
    return ({"deployment_id": deployment_id, "lti_resource_link_id": _text(link["id"])},
            {"platform_id": platform_id, "context_id": None, "title": _text(link.get("title")),
             "module_key": _text(custom.get(MODULE_PARAM), 64), "lineitem_url": _text(ags.get("lineitem"), 2048),
             "lineitems_url": _text(ags.get("lineitems"), 2048)})


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _replay_error(session: Session, launch: ToolMessageLaunch) -> Exception | None:
    """Name the replay precisely (the same id_token again, or a new token reusing a spent nonce); None if
    the nonce is unused, i.e. the integrity error had another cause."""
    previous = session.execute(
        select(LaunchSession.id_token_hash).where(LaunchSession.nonce == launch.nonce)
    ).scalar_one_or_none()
    session.rollback()
    if previous is None:
        return None
    platform = launch.platform  # the refusal log names the LMS, like every other refusal
    who = {"issuer": platform.issuer, "client_id": platform.client_id} if platform is not None else {}
    if previous == launch.id_token_hash:
        return Replayed("this id_token was already used for a launch", **who)
    return NonceReused("another id_token already used this nonce", **who)
