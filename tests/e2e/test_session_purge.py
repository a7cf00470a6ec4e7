"""Ended launch sessions are deleted by the delivery loop's tick, without reopening the door to a replay."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, update

from lti_microcred.core.db import transaction, utcnow
from lti_microcred.lti import sessions as launch_sessions
from lti_microcred.lti.models import LaunchSession
from lti_microcred.lti.sessions import SessionPurge, purge_expired, replay_window_seconds
from lti_microcred.services import Services, lms_runtime
from tests.support.driver import Browser, LmsHandle, reason_of


def session_ids(services: Services) -> list[int]:
    with services.read_sessions() as session:
        return list(session.scalars(select(LaunchSession.id).order_by(LaunchSession.id)))


def age_sessions(services: Services, created_ago: dt.timedelta, expired_ago: dt.timedelta) -> None:
    now = utcnow()
    with transaction(services.sessions) as session:
        session.execute(update(LaunchSession).values(created_dt=now - created_ago, expires_dt=now - expired_ago))


def copies_of_a_launch(services: Services, count: int) -> None:
    """Many launch rows at once (what a busy site accumulates), copied from one real launch."""
    with transaction(services.sessions) as session:
        row = session.scalars(select(LaunchSession)).first()
        assert row is not None
        copied = {c.key: getattr(row, c.key) for c in LaunchSession.__table__.columns if c.key != "id"}
        for i in range(count):
            session.add(LaunchSession(**{**copied, "token_hash": f"t{i}", "nonce": f"n{i}"}))


def purger(services: Services, interval: float = 300.0) -> SessionPurge:
    s = services.settings
    return SessionPurge(services.sessions, services.read_sessions,
                        replay_window_seconds(s.iat_max_age_seconds, s.clock_skew_seconds), interval)


def test_the_scheduler_tick_deletes_ended_sessions_and_ids_keep_growing(moodle: LmsHandle, browser: Browser,
                                                                        services: Services) -> None:
    for _ in range(3):
        assert browser.launch(moodle, "learner-1").status_code == 200
    before = session_ids(services)
    age_sessions(services, created_ago=dt.timedelta(days=1), expired_ago=dt.timedelta(hours=1))
    lms_runtime(services).scheduler.tick(force=True)
    assert session_ids(services) == before[-1:]  # the newest row stays: SQLite would hand its id out again
    assert browser.launch(moodle, "learner-1").status_code == 200
    assert session_ids(services)[-1] > before[-1]  # so the scheduler, which reads launches by id, sees it


def test_a_purged_session_never_lets_its_id_token_in_again(moodle: LmsHandle, browser: Browser,
                                                           services: Services) -> None:
    """A session may end before its id_token's iat window closes: its nonce must outlive it."""
    login = browser.start_login(moodle.login_url("learner-1"))
    action, fields = browser.authorize(login)
    assert browser.post_launch(action, fields).status_code == 303
    browser.launch(moodle, "learner-2")  # a newer row, so the first is not kept merely as the newest
    age_sessions(services, created_ago=dt.timedelta(seconds=5), expired_ago=dt.timedelta(seconds=1))
    purger(services)()
    replay = browser.post_launch(action, fields)
    assert (replay.status_code, reason_of(replay)) == (401, "replayed")


def test_purges_run_at_most_once_per_interval_in_batches(moodle: LmsHandle, browser: Browser, services: Services,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    assert browser.launch(moodle, "learner-1").status_code == 200
    copies_of_a_launch(services, 6)
    age_sessions(services, created_ago=dt.timedelta(days=1), expired_ago=dt.timedelta(hours=1))
    with transaction(services.sessions) as session:
        assert purge_expired(session, 60, batch=2) == 2
    monkeypatch.setattr(launch_sessions, "PURGE_BATCH", 2)
    purge = purger(services)
    assert purge() == 4  # three batches: 2, 2, then a short one
    copies_of_a_launch(services, 2)
    age_sessions(services, created_ago=dt.timedelta(days=1), expired_ago=dt.timedelta(hours=1))
    assert purge() == 0  # within the interval: nothing runs
    with services.read_sessions() as session:
        assert session.scalar(select(func.count()).select_from(LaunchSession)) == 3
    purge.interval_seconds = 0.0
    purge._next = 0.0
    assert purge() == 2
