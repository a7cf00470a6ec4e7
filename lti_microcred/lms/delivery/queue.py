"""Claiming and settling outbox rows, safely under any number of workers.

Eligible: pending, due, of a kind with a handler, the oldest pending row of its ordering key, and not under
a live lease. A claim writes a lease (an upsert that only replaces an expired lease, so two workers can
never both win); on PostgreSQL the candidate rows are also locked `FOR UPDATE SKIP LOCKED` so concurrent
claimers pass each other instead of waiting. SQLite serialises writers (BEGIN IMMEDIATE), which makes the
same statements atomic on one machine. Settling requires still holding the lease.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from dataclasses import replace
from typing import Any

from sqlalchemy import Table, and_, bindparam, delete, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from lti_microcred.core.db import dialect_insert, transaction, utcnow
from lti_microcred.core.metrics import count_delivery
from lti_microcred.core.outbox import OutboxMessage
from lti_microcred.lms.delivery.jobs import (
    DONE,
    FAILED,
    LMS_NEWER,
    RECORD_STATES,
    RETRY,
    SUPERSEDED,
    Claimed,
    DeliveryRecord,
    Outcome,
)
from lti_microcred.lms.models import Delivery, OutboxLease

OUTBOX: Table = OutboxMessage.__table__  # type: ignore[assignment]
LEASES: Table = OutboxLease.__table__  # type: ignore[assignment]
DELIVERIES: Table = Delivery.__table__  # type: ignore[assignment]


def _eligible(kinds: Collection[str], now: dt.datetime, due_only: bool = True) -> Any:
    older = OUTBOX.alias("older")
    has_older = select(older.c.id).where(older.c.ordering_key == OUTBOX.c.ordering_key, older.c.status == "pending",
                                         older.c.id < OUTBOX.c.id).exists()
    leased = select(LEASES.c.message_id).where(LEASES.c.message_id == OUTBOX.c.id,
                                               LEASES.c.claimed_until > now).exists()
    clauses = [OUTBOX.c.status == "pending", OUTBOX.c.kind.in_(list(kinds)),
               or_(OUTBOX.c.ordering_key == "", ~has_older), ~leased]
    if due_only:
        clauses.append(OUTBOX.c.available_dt <= now)
    return and_(*clauses)


class Queue:
    def __init__(self, sessions: sessionmaker[Session], worker_id: str, lease_seconds: float) -> None:
        self._sessions = sessions
        self.worker_id = worker_id
        self.lease = dt.timedelta(seconds=lease_seconds)

    def claim(self, kinds: Collection[str], coalescing: Collection[str], limit: int,
              skip_platforms: Collection[int] = ()) -> list[Claimed]:
        """Lease up to `limit` eligible rows (at most one per ordering key) and gather their followers."""
        if not kinds:
            return []
        now = utcnow()
        with transaction(self._sessions) as session:
            c = OUTBOX.c
            query = select(c.id, c.kind, c.platform_id, c.ordering_key, c.payload, c.attempts, c.created_dt,
                           c.request_id).where(_eligible(kinds, now)).order_by(c.id).limit(limit)
            if skip_platforms:  # they asked us to wait (429): leave their rows for later
                query = query.where(c.platform_id.not_in(list(skip_platforms)))
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(of=OUTBOX, skip_locked=True)
            rows = session.execute(query).all()
            if not rows:
                return []
            won = self._lease(session, [r.id for r in rows], now)
            claimed = [Claimed(r.id, r.kind, r.platform_id, r.ordering_key, r.payload, r.attempts, r.created_dt,
                               request_id=r.request_id) for r in rows if r.id in won]
            _attach_followers(session, [c for c in claimed if c.kind in coalescing and c.ordering_key])
            _attach_last_sent(session, claimed)
            return claimed

    def _lease(self, session: Session, ids: list[int], now: dt.datetime) -> set[int]:
        """Insert our leases; an existing lease is replaced only if it has expired. Returns the ids we won."""
        until = now + self.lease
        rows = [{"mid": i, "who": self.worker_id, "until": until, "now": now} for i in ids]
        return set(session.connection().execute(_lease_statement(session), rows).scalars())

    def settle(self, results: Iterable[tuple[Claimed, Outcome]], max_attempts: int) -> int:
        """Record outcomes of rows whose lease we still hold; returns how many were settled."""
        results = list(results)
        if not results:
            return 0
        now = utcnow()
        with transaction(self._sessions) as session:
            ours = set(session.execute(delete(LEASES).where(
                LEASES.c.message_id.in_([c.id for c, _ in results]), LEASES.c.worker == self.worker_id)
                .returning(LEASES.c.message_id)).scalars())
            mine = [(c, _escalated(c, o, max_attempts)) for c, o in results if c.id in ours]
            _write_rows(session, mine, now)
            _write_records(session, [(c, o) for c, o in mine if o.record is not None], now)
        for claimed, outcome in mine:  # committed: now they count
            count_delivery(claimed.platform_id, claimed.kind, outcome.status)
        return len(mine)

    def next_due(self, kinds: Collection[str]) -> dt.datetime | None:
        """When the next row that could be claimed becomes due (None: nothing left to do)."""
        if not kinds:
            return None
        with self._sessions() as session:
            return session.execute(select(func.min(OUTBOX.c.available_dt)).where(
                _eligible(kinds, utcnow(), due_only=False))).scalar()


_LEASE_STATEMENTS: dict[str, Any] = {}


def _lease_statement(session: Session) -> Any:
    """Built once per backend and run as one executemany (a 200-row VALUES compiled afresh cost ~20 ms)."""
    dialect = session.get_bind().dialect.name
    cached = _LEASE_STATEMENTS.get(dialect)
    if cached is None:
        stmt = dialect_insert(session, LEASES).values(message_id=bindparam("mid"), worker=bindparam("who"),
                                                      claimed_until=bindparam("until"))
        cached = _LEASE_STATEMENTS[dialect] = stmt.on_conflict_do_update(
            index_elements=["message_id"], set_={"worker": stmt.excluded.worker,
                                                 "claimed_until": stmt.excluded.claimed_until},
            where=LEASES.c.claimed_until <= bindparam("now")).returning(LEASES.c.message_id)
    return cached


def _attach_followers(session: Session, claimed: list[Claimed]) -> None:
    """Newer pending rows of the same key, as long as they are of the same kind (kinds never reorder)."""
    if not claimed:
        return
    by_key = {c.ordering_key: c for c in claimed}
    rows = session.execute(select(OUTBOX.c.id, OUTBOX.c.kind, OUTBOX.c.ordering_key, OUTBOX.c.payload,
                                  OUTBOX.c.request_id).where(
        OUTBOX.c.ordering_key.in_(list(by_key)), OUTBOX.c.status == "pending").order_by(OUTBOX.c.id)).all()
    stopped: set[str] = set()
    for row in rows:
        head = by_key[row.ordering_key]
        if row.id <= head.id or row.ordering_key in stopped:
            continue
        if row.kind != head.kind:
            stopped.add(row.ordering_key)
            continue
        head.followers.append((row.id, row.payload))
        head.request_id = row.request_id  # its value is the one sent


def _attach_last_sent(session: Session, claimed: list[Claimed]) -> None:
    keyed = {c.ordering_key: c for c in claimed if c.ordering_key}
    if keyed:
        for key, when, given, maximum in session.execute(select(
                DELIVERIES.c.ordering_key, DELIVERIES.c.score_timestamp, DELIVERIES.c.score_given,
                DELIVERIES.c.score_maximum).where(DELIVERIES.c.ordering_key.in_(list(keyed)))):
            keyed[key].last_sent = when
            keyed[key].last_grade = (given, maximum) if given is not None and maximum is not None else None


def _escalated(claimed: Claimed, outcome: Outcome, max_attempts: int) -> Outcome:
    """A retry that used the last attempt is a failure: on the row, and on the instructor's cell, which then
    offers "Send again"."""
    if outcome.status != RETRY or claimed.attempts + 1 < max_attempts:
        return outcome
    error = f"gave up after {max_attempts} attempts: {outcome.error}"
    record = outcome.record and replace(outcome.record, state=RECORD_STATES[FAILED], error=error)
    return Outcome(FAILED, error, http_status=outcome.http_status, record=record)


def _write_rows(session: Session, mine: list[tuple[Claimed, Outcome]], now: dt.datetime) -> None:
    finals: list[dict[str, Any]] = []
    waits: list[dict[str, Any]] = []
    for claimed, outcome in mine:
        status = outcome.status
        if status in (DONE, FAILED, SUPERSEDED, LMS_NEWER):
            for row_id in claimed.ids[:-1]:  # stood in for by the newest row of the run
                finals.append({"mid": row_id, "st": SUPERSEDED, "err": None, "inc": 1 if row_id == claimed.id else 0})
            finals.append({"mid": claimed.ids[-1], "st": SUPERSEDED if status == LMS_NEWER else status,
                           "err": outcome.error,
                           "inc": 1 if claimed.ids[-1] == claimed.id else 0})
        else:
            delay = dt.timedelta(seconds=max(0.0, outcome.delay or 0.0))
            waits.append({"mid": claimed.id, "due": now + delay, "err": outcome.error,
                          "inc": 1 if status == RETRY else 0})
    row = update(OUTBOX).where(OUTBOX.c.id == bindparam("mid"), OUTBOX.c.status == "pending")
    if finals:
        session.connection().execute(row.values(
            status=bindparam("st"), last_error=bindparam("err"), completed_dt=now,
            attempts=OUTBOX.c.attempts + bindparam("inc")), finals)
    if waits:
        session.connection().execute(row.values(
            available_dt=bindparam("due"), last_error=bindparam("err"), attempts=OUTBOX.c.attempts + bindparam("inc")),
            waits)


_SCORE_COLUMNS = ("score_given", "score_maximum", "score_timestamp", "sent_dt")
_STATE_COLUMNS = ("state", "last_message_id", "http_status", "last_error", "updated_dt", "attempts")
_KEY_COLUMNS = ("ordering_key", "platform_id", "context_id", "subject_kind", "subject_id", "learner_id")
_UPSERTS: dict[tuple[str, bool], Any] = {}


def _upsert(session: Session, with_score: bool) -> Any:
    """INSERT .. ON CONFLICT (ordering_key) DO UPDATE, built once per backend: settling runs it per batch."""
    dialect = session.get_bind().dialect.name
    cached = _UPSERTS.get((dialect, with_score))
    if cached is None:
        columns = _KEY_COLUMNS + _STATE_COLUMNS + _SCORE_COLUMNS
        stmt = dialect_insert(session, DELIVERIES).values({c: bindparam(c) for c in columns})
        changed = _STATE_COLUMNS + (_SCORE_COLUMNS if with_score else ())
        cached = _UPSERTS[(dialect, with_score)] = stmt.on_conflict_do_update(
            index_elements=["ordering_key"], set_={c: stmt.excluded[c] for c in changed})
    return cached


def _write_records(session: Session, mine: list[tuple[Claimed, Outcome]], now: dt.datetime) -> None:
    """Upsert the instructor-visible state; a sent score keeps its value until a newer one is sent."""
    rows: dict[bool, list[dict[str, Any]]] = {True: [], False: []}
    for claimed, outcome in mine:
        record: DeliveryRecord = outcome.record  # type: ignore[assignment]
        sent = record.state == RECORD_STATES[DONE]
        attempts = claimed.attempts + (outcome.status in (RETRY, FAILED))
        rows[sent].append({
            "ordering_key": record.ordering_key, "platform_id": record.platform_id, "context_id": record.context_id,
            "subject_kind": record.subject_kind, "subject_id": record.subject_id, "learner_id": record.learner_id,
            "state": record.state, "last_message_id": claimed.newest_id, "http_status": record.http_status,
            "last_error": record.error, "updated_dt": now,
            "attempts": 0 if outcome.status in (DONE, SUPERSEDED, LMS_NEWER) else attempts,
            "score_given": record.score_given if sent else None,
            "score_maximum": record.score_maximum if sent else None,
            "score_timestamp": record.score_timestamp if sent else None, "sent_dt": now if sent else None})
    for with_score, batch in rows.items():
        if batch:
            session.connection().execute(_upsert(session, with_score), batch)
