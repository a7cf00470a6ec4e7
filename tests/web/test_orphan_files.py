"""Evidence files no row refers to (a process killed between writing the file and committing its evidence) are
deleted by the delivery loop's tick once they are older than the grace period; fresh and referenced files stay."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

from sqlalchemy import select

from lti_microcred.competencies.models import Evidence
from lti_microcred.core.file_sweep import OrphanSweep
from lti_microcred.core.storage import LocalFileStorage
from lti_microcred.lms.scheduler import Scheduler
from lti_microcred.services import Services
from tests.support.driver import Browser, LmsHandle
from tests.web.support import build_credential, visit

HOURS = 3600.0


def age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def files_of(services: Services) -> LocalFileStorage:
    return LocalFileStorage.from_settings(services.settings)


def test_the_tick_deletes_old_unreferenced_files_only(moodle: LmsHandle, browser: Browser, services: Services,
                                                      competencies: list[int]) -> None:
    key = build_credential(visit(browser, services, moodle, "instructor-1"), services, competencies)
    learner = visit(browser, services, moodle, "learner-1")
    sent = learner.post("/me/evidence", {"credential": key, "competency": str(competencies[0])},
                        files={"file": ("notes.txt", b"my notes")})
    assert sent.status_code == 200
    with services.read_sessions() as session:
        referenced_key = session.scalars(select(Evidence.file_key).where(Evidence.file_key.is_not(None))).one()
    storage = files_of(services)
    referenced = storage.root / referenced_key[:2] / referenced_key
    orphan = storage.put(io.BytesIO(b"killed before the commit"), "orphan.txt")  # no row will ever name it
    fresh = storage.put(io.BytesIO(b"its request is still running"), "fresh.txt")
    half_written = storage.root / ".incoming" / "tmpkilled"
    half_written.parent.mkdir(parents=True, exist_ok=True)
    half_written.write_bytes(b"partial")
    for path in (referenced, storage.root / orphan.key[:2] / orphan.key, half_written):
        age(path, 2 * HOURS)

    Scheduler(services.sessions, services.read_sessions, services.settings).tick(force=True)

    assert referenced.exists()
    assert not (storage.root / orphan.key[:2] / orphan.key).exists()
    assert not half_written.exists()
    assert (storage.root / fresh.key[:2] / fresh.key).exists()
    with storage.open(referenced_key) as kept:
        assert kept.read() == b"my notes"
    storage.delete(fresh.key)


def test_the_sweep_runs_at_most_every_interval_and_touches_only_its_own_keys(tmp_path: Path) -> None:
    storage = LocalFileStorage(tmp_path, 1024)
    first, second = (storage.put(io.BytesIO(b"evidence"), "e.txt") for _ in range(2))
    stranger = tmp_path / first.key[:2] / "README"  # not a key: never ours to delete
    stranger.write_text("someone else's")
    for path in (tmp_path / first.key[:2] / first.key, tmp_path / second.key[:2] / second.key, stranger):
        age(path, 2 * HOURS)
    asked: list[list[str]] = []

    def referenced(keys: list[str]) -> set[str]:
        asked.append(sorted(keys))
        return {second.key}

    sweep = OrphanSweep(storage, referenced, grace_seconds=HOURS, interval_seconds=600)
    assert sweep() == 1
    assert asked == [sorted([first.key, second.key])]
    assert not (tmp_path / first.key[:2] / first.key).exists()
    assert (tmp_path / second.key[:2] / second.key).exists() and stranger.exists()
    orphan = storage.put(io.BytesIO(b"later"), "l.txt")
    age(tmp_path / orphan.key[:2] / orphan.key, 2 * HOURS)
    assert sweep() == 0 and len(asked) == 1  # not again before the interval has passed
