"""The gradebook and roster behind the loopback LMS's AGS and NRPS, with their fault switches.

DevServices is the memory the endpoints work on: results by line item, every score received, extra
members, Canvas's new assignments, the tokens seen and revoked. The lti1p3platform services that read
and write it are in `service_classes`, the Flask endpoints in `routing`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from lti_microcred.devplatform.canvas_gradebook import CanvasGradebook
from lti_microcred.devplatform.faults import Faults
from lti_microcred.devplatform.platform import DevPlatform


@dataclass
class DevServices:
    """The gradebook and roster of the loopback LMS's one course."""

    platform: DevPlatform
    results: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # item id -> user -> result
    score_log: list[dict[str, Any]] = field(default_factory=list)  # every score received, applied or not
    members: dict[str, dict[str, Any]] = field(default_factory=dict)  # NRPS members besides platform.users
    new_assignments: list[str] = field(default_factory=list)  # Canvas: items created without resourceLinkId
    faults: Faults = field(default_factory=Faults)
    delay_seconds: float = 0.0  # added to every service request (slow LMS)
    # Canvas: what is left of the client's rate budget, sent as X-Rate-Limit-Remaining on every service answer
    # (app/middleware/request_throttle.rb); None sends no header.
    rate_limit_remaining: float | None = None
    token_requests: int = 0
    allowed_scopes: set[str] | None = None  # Canvas: a token request naming another scope is refused (400)
    seen_tokens: set[str] = field(default_factory=set)
    revoked_tokens: set[str] = field(default_factory=set)
    # Canvas: assignments, submissions and which line item grades (see canvas_gradebook); unused as Moodle
    canvas_book: CanvasGradebook = field(init=False)

    def __post_init__(self) -> None:
        self.canvas_book = CanvasGradebook(self.platform.line_items, self.platform.links, self.results)

    @property
    def canvas(self) -> bool:
        return self.platform.setup.flavour == "canvas"

    def reset(self) -> None:
        with self.platform.lock:
            self.platform.line_items.clear()
            self.results.clear()
            self.score_log.clear()
            self.members.clear()
            self.new_assignments.clear()
            self.canvas_book.reset()
            self.faults.clear()
            self.delay_seconds = 0.0
            self.rate_limit_remaining = None
            self.token_requests = 0
            self.allowed_scopes = None

    def expire_tokens(self) -> None:
        """Every token handed out so far is refused from now on, as after its expiry."""
        with self.platform.lock:
            self.revoked_tokens |= self.seen_tokens

    def add_member(self, user_id: str, role: str = "Learner", status: str = "Active", **profile: Any) -> None:
        lis = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
        with self.platform.lock:
            self.members[user_id] = {"user_id": user_id, "roles": [lis + role], "status": status, **profile}

    def roster(self) -> list[dict[str, Any]]:
        lis = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
        base = [{"user_id": u.id, "roles": [lis + ("Instructor" if u.role in ("instructor", "ta") else "Learner")],
                 "status": "Active", "name": u.name, "given_name": u.given_name, "family_name": u.family_name,
                 "email": u.email} for u in self.platform.users.values() if u.role != "admin"]
        return base + [m for m in self.members.values() if m["user_id"] not in self.platform.users]

    def enrolled(self, user_id: str) -> bool:
        return any(m["user_id"] == user_id and m["status"] == "Active" for m in self.roster())

    def score_of(self, item_id: str, user_id: str) -> dict[str, Any] | None:
        """The result row the tool's last score left (Canvas: its Lti::Result), applied or not."""
        return self.results.get(item_id, {}).get(user_id)

    def grade_of(self, item_id: str, user_id: str) -> float | None:
        """The grade the LMS's gradebook shows the teacher (Canvas: the assignment's submission)."""
        with self.platform.lock:
            if self.canvas:
                return self.canvas_book.grade_of(item_id, user_id)
            row = self.results.get(item_id, {}).get(user_id)
            return row.get("resultScore") if row else None

    def teacher_grades(self, item_id: str, user_id: str, score: float | None) -> None:
        """A teacher types a grade into the LMS's gradebook. Moodle keeps it as the grade with the time of the
        edit (grade_grade.timemodified), which the results service shows; Canvas: see CanvasGradebook."""
        with self.platform.lock:
            if self.canvas:
                self.canvas_book.teacher_grades(item_id, user_id, score)
                return
            maximum = float(self.platform.line_items[item_id].get("scoreMaximum") or 1)
            self.results.setdefault(item_id, {})[user_id] = {
                "resultScore": score, "resultMaximum": maximum, "scoreGiven": score, "scoreMaximum": maximum,
                "comment": None, "timestamp": dt.datetime.now(dt.UTC), "gradingProgress": "FullyGraded",
                "activityProgress": "Completed"}


def dev_services(platform: DevPlatform) -> DevServices:
    """The services object of a loopback LMS (made on first use)."""
    with platform.lock:
        existing = getattr(platform, "_services", None)
        if existing is None:
            existing = DevServices(platform)
            platform._services = existing  # type: ignore[attr-defined]
        return existing
