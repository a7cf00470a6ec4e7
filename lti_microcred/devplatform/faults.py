"""Switches that make the loopback LMS's AGS and NRPS misbehave, for the tests of the tool's delivery.

Faults: 500, 503/429 with Retry-After, 401 (the tokens in use expire), 400, hang (answer late), drop
(close the connection unanswered), Canvas's throttle (403 "Rate Limit Exceeded", no Retry-After) and a bare
429, scripted for the next matching requests or at random. This module
only decides which request fails and how; `routing` makes the failure happen.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

FAULT_KINDS = ("500", "503", "429", "401", "400", "hang", "drop", "canvas-throttle", "429-bare")


@dataclass
class Fault:
    kind: str
    times: int = 1
    match: str = ""  # only requests whose path contains this
    retry_after: int = 1
    seconds: float = 2.0  # how long a hang lasts


class Faults:
    """Failures for the next matching requests, then (optionally) random failures at a rate."""

    def __init__(self, seed: int = 7) -> None:
        self._queue: list[Fault] = []
        self._lock = threading.Lock()
        self.rate = 0.0
        self.random_kinds: tuple[str, ...] = ("500", "503", "429", "drop")
        self.hang_seconds = 2.0
        self.rng = random.Random(seed)  # noqa: S311 - test failures, not secrets
        self.injected: dict[str, int] = {}

    def add(self, kind: str, times: int = 1, match: str = "", retry_after: int = 1, seconds: float = 2.0) -> None:
        assert kind in FAULT_KINDS, kind
        with self._lock:
            self._queue.append(Fault(kind, times, match, retry_after, seconds))

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()
            self.rate = 0.0
            self.injected.clear()  # counts start again with the next test's faults

    def next(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self._queue:
                if fault.match in path:
                    fault.times -= 1
                    if fault.times <= 0:
                        self._queue.remove(fault)
                    self.injected[fault.kind] = self.injected.get(fault.kind, 0) + 1
                    return fault
            if self.rate and self.rng.random() < self.rate:
                kind = self.rng.choice(self.random_kinds)
                self.injected[kind] = self.injected.get(kind, 0) + 1
                return Fault(kind, retry_after=0, seconds=self.hang_seconds)
        return None
