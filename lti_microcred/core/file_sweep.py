"""The orphan sweep of evidence files: a file is stored before the transaction that names it commits (so a
refused upload costs no database write), and a process killed in between leaves a file no row refers to."""

from __future__ import annotations

import time
from collections.abc import Callable

from lti_microcred.core.storage import FileStorage

# A request that writes a file commits (or rolls back) within uWSGI's 60 s harakiri; an hour is far past that.
ORPHAN_GRACE_SECONDS = 3600.0
SWEEP_INTERVAL_SECONDS = 600.0
SWEEP_BATCH = 500


class OrphanSweep:
    """Deletes stored files that no row refers to, once they are older than `grace_seconds`: a file is written
    before the transaction that names it commits, and a process killed in between leaves it behind. A younger
    file may still be claimed by a transaction in flight, so it is never touched. At most every `interval_seconds`;
    `referenced(keys)` answers which of the keys a row still names."""

    def __init__(self, storage: FileStorage, referenced: Callable[[list[str]], set[str]],
                 grace_seconds: float = ORPHAN_GRACE_SECONDS, interval_seconds: float = SWEEP_INTERVAL_SECONDS) -> None:
        self.storage, self.referenced = storage, referenced
        self.grace_seconds, self.interval_seconds = grace_seconds, interval_seconds
        self._next = 0.0

    def __call__(self) -> int:
        """Files deleted now (0 between runs)."""
        if time.monotonic() < self._next:
            return 0
        self._next = time.monotonic() + self.interval_seconds
        deleted, batch = 0, []
        for key in self.storage.stale_keys(self.grace_seconds):
            batch.append(key)
            if len(batch) >= SWEEP_BATCH:
                deleted, batch = deleted + self._sweep(batch), []
        return deleted + (self._sweep(batch) if batch else 0)

    def _sweep(self, keys: list[str]) -> int:
        orphans = set(keys) - self.referenced(keys)
        for key in orphans:
            self.storage.delete(key)
        return len(orphans)
