"""The audit trail: every decision, by whom, about whom. Written in the same transaction as the decision."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from lti_microcred.competencies.models import AuditEntry


@dataclass(frozen=True)
class Actor:
    """Who acts, within which tenant and course. user_id is None for people without an LMS account."""

    platform_id: int
    context_id: int | None
    user_id: int | None
    label: str
    role: str = ""


def record(session: Session, actor: Actor, action: str, subject: str, learner_id: int | None = None,
           context_id: int | None = None, **detail: Any) -> AuditEntry:
    entry = AuditEntry(platform_id=actor.platform_id, context_id=context_id or actor.context_id,
                       learner_id=learner_id, actor_id=actor.user_id, actor_label=actor.label[:255],
                       action=action, subject=subject, detail=json.dumps(detail, default=str, sort_keys=True))
    session.add(entry)
    return entry
