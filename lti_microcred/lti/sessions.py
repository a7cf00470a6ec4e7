"""The tool's own session after a launch: a random token carried in the URL, looked up by its hash.

No third-party cookie is involved, so the session survives inside an LMS iframe in any browser.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import logging
import re
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, bindparam, delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from lti_microcred.core.db import UTCDateTime, transaction, utcnow
from lti_microcred.core.signing import Signer
from lti_microcred.lti.errors import SessionExpired, StateMismatch
from lti_microcred.lti.models import Context, Deployment, LaunchSession, Platform, ResourceLink, User
from lti_microcred.lti.persistence import state_hash, token_hash
from lti_microcred.lti.roles import ROLE_LABELS, STAFF_ROLES

log = logging.getLogger(__name__)
CSRF_PURPOSE = "csrf"
MAX_TOKEN_LENGTH = 64
_TOKEN_SHAPE = re.compile(f"[A-Za-z0-9_-]{{1,{MAX_TOKEN_LENGTH}}}")  # what secrets.token_urlsafe makes
PURGE_INTERVAL_SECONDS = 300.0  # each process deletes ended sessions at most this often
PURGE_BATCH = 1000  # rows per delete transaction (short write locks on SQLite)
PURGE_MAX_BATCHES = 100


@dataclass(frozen=True)
class ToolSession:
    """Who launched, from where, as what: everything a view needs to authorise and scope a request."""

    id: int
    token: str
    role: str
    message_type: str
    platform_id: int
    platform_name: str
    issuer: str
    deployment_id: int
    lti_deployment_id: str
    user_id: int
    user_sub: str
    user_name: str
    user_email: str | None
    context_id: int | None
    context_title: str | None
    context_label: str | None
    resource_link_id: int | None
    resource_link_title: str | None
    module_key: str | None
    claims: dict[str, Any]
    launch_id: str | None = None  # the launch request's id (core/request_ids.py), for the logs of every page

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES


_SESSION_QUERY = (
    select(
        LaunchSession.id, LaunchSession.role, LaunchSession.message_type, LaunchSession.claims_json,
        LaunchSession.platform_id, Platform.name.label("platform_name"), Platform.issuer,
        LaunchSession.deployment_id, Deployment.lti_deployment_id,
        LaunchSession.user_id, User.sub, User.name, User.given_name, User.family_name, User.email,
        LaunchSession.context_id, Context.title.label("context_title"), Context.label.label("context_label"),
        LaunchSession.resource_link_id, ResourceLink.title.label("link_title"), ResourceLink.module_key,
        LaunchSession.request_id,
    )
    .join(Platform, Platform.id == LaunchSession.platform_id)
    .join(Deployment, Deployment.id == LaunchSession.deployment_id)
    .join(User, User.id == LaunchSession.user_id)
    .outerjoin(Context, Context.id == LaunchSession.context_id)
    .outerjoin(ResourceLink, ResourceLink.id == LaunchSession.resource_link_id)
    .where(
        LaunchSession.token_hash == bindparam("token_hash"),
        LaunchSession.status == "active",
        LaunchSession.expires_dt > bindparam("now", type_=UTCDateTime),
        Platform.status == "active",
        Deployment.status == "active",
    )
)


def load_session(db: Session, token: str) -> ToolSession:
    """The active, unexpired session for token; SessionExpired otherwise."""
    _check_shape(token)
    row = db.connection().execute(_SESSION_QUERY, {"token_hash": token_hash(token), "now": utcnow()}).one_or_none()
    if row is None:
        raise SessionExpired("the session token is unknown, expired, or its registration was disabled")
    full = " ".join(p for p in (row.given_name, row.family_name) if p)
    return ToolSession(
        id=row.id, token=token, role=row.role, message_type=row.message_type,
        platform_id=row.platform_id, platform_name=row.platform_name, issuer=row.issuer,
        deployment_id=row.deployment_id, lti_deployment_id=row.lti_deployment_id,
        user_id=row.user_id, user_sub=row.sub, user_name=row.name or full or row.email or f"User {row.sub}",
        user_email=row.email, context_id=row.context_id, context_title=row.context_title,
        context_label=row.context_label, resource_link_id=row.resource_link_id,
        resource_link_title=row.link_title, module_key=row.module_key, claims=json.loads(row.claims_json),
        launch_id=row.request_id,
    )


def _check_shape(token: str) -> None:
    """A token we could not have made (empty, too long, not URL-safe ASCII) is unknown, without a lookup."""
    if not token:
        raise SessionExpired("no session token")
    if not _TOKEN_SHAPE.fullmatch(token):
        raise SessionExpired("the session token is unknown, expired, or its registration was disabled")


def confirm_pending(db: Session, token: str, stored_state: str, pending_ttl_seconds: int) -> str | None:
    """Activate a launch whose state the platform's storage gave back (returns the launch's request id);
    refuses anything else."""
    _check_shape(token)
    row = db.execute(
        select(LaunchSession.id, LaunchSession.state_hash, LaunchSession.created_dt, LaunchSession.request_id)
        .where(LaunchSession.token_hash == token_hash(token), LaunchSession.status == "pending")
    ).one_or_none()
    if row is None:
        raise SessionExpired("no launch is waiting for confirmation with this token")
    if (utcnow() - row.created_dt).total_seconds() > pending_ttl_seconds:
        raise SessionExpired("the launch waited too long for the browser's confirmation")
    if not stored_state or not hmac.compare_digest(state_hash(stored_state), row.state_hash):
        raise StateMismatch("the state kept by the LMS in this browser is not this launch's state")
    db.execute(update(LaunchSession).where(LaunchSession.id == row.id).values(status="active"))
    return row.request_id


def csrf_token(signer: Signer, session_token: str) -> str:
    return signer.mac(CSRF_PURPOSE, token_hash(session_token), 24)


def check_csrf(signer: Signer, session_token: str, submitted: str | None) -> bool:
    return bool(submitted) and hmac.compare_digest(str(submitted), csrf_token(signer, session_token))


def replay_window_seconds(iat_max_age_seconds: int, clock_skew_seconds: int) -> int:
    """How long after a launch its id_token could still be accepted: iat may be skew ahead, then max_age + skew old."""
    return iat_max_age_seconds + 2 * clock_skew_seconds


def _purgeable(window_seconds: int) -> Select[Any]:
    """Ended sessions whose id_token can no longer be accepted (their nonce guards nothing), oldest first.

    The newest row always stays: SQLite gives a new row the highest id + 1, and the delivery scheduler reads
    launches by increasing id, so an emptied table would hand out ids it has already passed."""
    now = utcnow()
    newest = select(func.max(LaunchSession.id)).scalar_subquery()
    return (select(LaunchSession.id)
            .where(LaunchSession.expires_dt < now,
                   LaunchSession.created_dt < now - dt.timedelta(seconds=window_seconds),
                   LaunchSession.id < newest)
            .order_by(LaunchSession.id))


def purge_expired(db: Session, window_seconds: int, batch: int = PURGE_BATCH) -> int:
    """Delete up to `batch` ended sessions that no longer guard a replay; returns how many."""
    doomed = _purgeable(window_seconds).limit(batch)
    result = db.execute(delete(LaunchSession).where(LaunchSession.id.in_(doomed))
                        .execution_options(synchronize_session=False))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


class SessionPurge:
    """Keeps launch_sessions from growing forever: run from the delivery loop's tick, it purges at most once
    every `interval_seconds` per process, and reads before it takes a write transaction."""

    def __init__(self, sessions: sessionmaker[Session], read_sessions: sessionmaker[Session], window_seconds: int,
                 interval_seconds: float = PURGE_INTERVAL_SECONDS) -> None:
        self._sessions = sessions
        self._read_sessions = read_sessions
        self.window_seconds = window_seconds
        self.interval_seconds = interval_seconds
        self._next = 0.0

    def __call__(self) -> int:
        """Rows deleted now (0 between runs)."""
        if time.monotonic() < self._next:
            return 0
        self._next = time.monotonic() + self.interval_seconds
        with self._read_sessions() as db:
            if db.execute(_purgeable(self.window_seconds).limit(1)).first() is None:
                return 0
        deleted = 0
        for _ in range(PURGE_MAX_BATCHES):  # bounded, so one run never holds up deliveries for long
            with transaction(self._sessions) as db:
                count = purge_expired(db, self.window_seconds)
            deleted += count
            if count < PURGE_BATCH:
                break
        log.info("deleted %d ended launch sessions", deleted)
        return deleted
