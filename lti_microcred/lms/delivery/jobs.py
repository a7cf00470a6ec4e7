"""What a handler receives and may answer: the vocabulary between the worker and the code it runs."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lti_microcred.lms.errors import ServiceError

if TYPE_CHECKING:
    from lti_microcred.lms.connection import LmsConnection

DONE, RETRY, DEFER, FAILED = "done", "retry", "defer", "failed"
SUPERSEDED = "superseded"  # a newer value of OURS is already in the LMS: not sent, and nothing new to show
LMS_NEWER = "lms_newer"  # the LMS refused ours for a newer grade of its own (entered there): shown as such
# What the instructor's cell says after an outcome (SUPERSEDED leaves it showing our newer value as sent).
RECORD_STATES = {DONE: "sent", RETRY: "retrying", DEFER: "waiting", FAILED: "failed", LMS_NEWER: "lms_newer"}


@dataclass
class Claimed:
    """An outbox row this worker holds a lease on, plus the newer rows of its key it stands for."""

    id: int
    kind: str
    platform_id: int
    ordering_key: str
    payload: str
    attempts: int
    created_dt: dt.datetime
    last_sent: dt.datetime | None = None  # timestamp of the score the LMS last accepted for this key
    last_grade: tuple[float, float] | None = None  # that score's (given, maximum), if it was a grade
    followers: list[tuple[int, str]] = field(default_factory=list)  # (id, payload), coalesced into this one
    # What caused the value sent (the newest coalesced row's launch or request id), bound while it is delivered.
    request_id: str | None = None

    @property
    def ids(self) -> list[int]:
        return [self.id, *(f[0] for f in self.followers)]

    @property
    def newest_id(self) -> int:
        return self.followers[-1][0] if self.followers else self.id

    @property
    def data(self) -> dict[str, Any]:
        """The payload to act on: the newest coalesced row's, so a superseded value is never sent."""
        return json.loads(self.followers[-1][1] if self.followers else self.payload)


@dataclass(frozen=True)
class DeliveryRecord:
    """What the instructor sees for one column and learner after this attempt."""

    ordering_key: str
    platform_id: int
    context_id: int
    subject_kind: str
    subject_id: int
    learner_id: int
    state: str  # sent | retrying | waiting | failed | lms_newer
    score_given: float | None = None
    score_maximum: float | None = None
    score_timestamp: dt.datetime | None = None
    http_status: int | None = None
    error: str | None = None


@dataclass
class Outcome:
    status: str
    error: str | None = None
    delay: float | None = None
    http_status: int | None = None
    record: DeliveryRecord | None = None


@dataclass(frozen=True)
class Job:
    """One delivery: the claimed row and the process's connection to LMSs."""

    message: Claimed
    lms: LmsConnection
    outcome_of: Callable[[Claimed, ServiceError], Outcome]  # the worker's retry policy, for handlers that catch

    def outcome(self, exc: ServiceError) -> Outcome:
        return self.outcome_of(self.message, exc)


Handler = Callable[[Job], Outcome | None]


@dataclass(frozen=True)
class HandlerSpec:
    handler: Handler
    coalesce: bool  # a newer row of the same key and kind replaces older pending ones


class HandlerRegistry:
    """Handlers by outbox kind. A kind nobody registered stays pending (and blocks its key) until one is."""

    def __init__(self) -> None:
        self._specs: dict[str, HandlerSpec] = {}

    def register(self, kind: str, handler: Handler, coalesce: bool = False) -> None:
        self._specs[kind] = HandlerSpec(handler, coalesce)

    def get(self, kind: str) -> HandlerSpec | None:
        return self._specs.get(kind)

    @property
    def kinds(self) -> list[str]:
        return sorted(self._specs)

    @property
    def coalescing(self) -> set[str]:
        return {k for k, spec in self._specs.items() if spec.coalesce}
