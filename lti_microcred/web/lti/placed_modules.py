"""Where the modules of a course are placed already: the LMS links launched with a module (resource links) and
the tool's own Deep Linking responses (recorded in the audit trail as they are sent). A second placement makes
a second gradebook column the tool never writes, so the picker shows both and asks before placing again."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lti_microcred.competencies import audit
from lti_microcred.competencies.audit import Actor
from lti_microcred.competencies.models import AuditEntry, Module
from lti_microcred.lti.models import ResourceLink

PLACED = "module.placed"


@dataclass(frozen=True)
class Placement:
    first_dt: dt.datetime
    count: int

    @property
    def words(self) -> str:
        first = f"{self.first_dt.day} {self.first_dt:%B %Y}"
        return f"placed {first}" if self.count == 1 else f"placed {self.count} times, first on {first}"


def placements(session: Session, context_id: int) -> dict[str, Placement]:
    """Per module key: when it was first placed in the course and how many placements are known."""
    links = session.execute(select(ResourceLink.module_key, func.min(ResourceLink.created_dt), func.count())
                            .where(ResourceLink.context_id == context_id, ResourceLink.module_key.is_not(None))
                            .group_by(ResourceLink.module_key)).all()
    sent = session.execute(select(AuditEntry.subject, func.min(AuditEntry.created_dt), func.count())
                           .where(AuditEntry.context_id == context_id, AuditEntry.action == PLACED)
                           .group_by(AuditEntry.subject)).all()
    found: dict[str, Placement] = {}
    for key, first, count in [*links, *((s.removeprefix("module:"), f, n) for s, f, n in sent)]:
        known = found.get(key or "")
        found[key or ""] = Placement(min(first, known.first_dt), max(count, known.count)) if known else Placement(
            first, count)
    return found


def record_placements(session: Session, actor: Actor, modules: Iterable[Module]) -> None:
    """One audit entry per module sent to the LMS in a Deep Linking response."""
    for module in modules:
        audit.record(session, actor, PLACED, f"module:{module.key}", title=module.title)
