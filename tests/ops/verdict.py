"""What the scale-out run left behind, read from the tool's database and from the LMS's gradebook.

The database must hold one award per learner and one credential per award, whatever was retried; the LMS must
end with each learner's last decided value in both columns. Score POSTs may repeat after a worker is killed
(the rows it sent but had not recorded are sent again after their lease: the same score and timestamp, which
the LMS takes as the same grade); how many is counted and bounded.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from lti_microcred.competencies.models import Award, Evidence, MicroCredential
from lti_microcred.core.outbox import MODULE_RESULT, OutboxMessage
from lti_microcred.credentials.models import IssuedCredential
from lti_microcred.devplatform.services import DevServices
from lti_microcred.lms.models import Delivery, OutboxLease
from lti_microcred.lti.models import User
from lti_microcred.services import Services


def pending(services: Services) -> int:
    with services.read_sessions() as session:
        return int(session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.status == "pending")) or 0)


def wait_drained(services: Services, timeout: float) -> float:
    """Seconds until the outbox has nothing pending (the bound is an assertion)."""
    started = time.monotonic()
    while pending(services):
        if time.monotonic() - started > timeout:
            raise AssertionError(f"outbox not drained after {timeout} s: {outbox_states(services)}")
        time.sleep(0.1)
    return time.monotonic() - started


def outbox_states(services: Services) -> dict[str, int]:
    with services.read_sessions() as session:
        rows = session.execute(select(OutboxMessage.kind, OutboxMessage.status, func.count())
                               .group_by(OutboxMessage.kind, OutboxMessage.status)).all()
    return {f"{kind}/{status}": n for kind, status, n in rows}


def leases_of(services: Services, pid: int) -> int:
    """Rows a worker process held when it was killed (its id is host:pid:random)."""
    with services.read_sessions() as session:
        return int(session.scalar(select(func.count()).select_from(OutboxLease).where(
            OutboxLease.worker.like(f"%:{pid}:%"))) or 0)


def awards(services: Services) -> int:
    with services.read_sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Award)) or 0)


@dataclass(frozen=True)
class Ledger:
    """The tool's side, per learner (LMS user id)."""

    awards: dict[str, list[str]]  # sub -> statuses of their awards of the credential
    credentials: dict[str, int]  # sub -> credentials issued for their awards (superseded ones included)
    module_results: dict[str, dict[str, Any]]  # sub -> last decided module result
    delivery_states: Counter[str]
    evidence_resent: int  # pieces beyond one per learner and competency

    @classmethod
    def read(cls, services: Services, platform_id: int, credential_key: str) -> Ledger:
        with services.read_sessions() as session:
            credential_id = session.execute(select(MicroCredential.id).where(
                MicroCredential.key == credential_key)).scalar_one()
            subs = dict(session.execute(select(User.id, User.sub).where(User.platform_id == platform_id)).all())
            given: dict[str, list[str]] = {}
            for learner_id, status in session.execute(select(Award.learner_id, Award.status).where(
                    Award.micro_credential_id == credential_id)):
                given.setdefault(subs[learner_id], []).append(status)
            issued = Counter(subs[learner] for (learner,) in session.execute(select(IssuedCredential.learner_id)
                             .where(IssuedCredential.micro_credential_id == credential_id)))
            results: dict[str, dict[str, Any]] = {}
            for (payload,) in session.execute(select(OutboxMessage.payload).where(
                    OutboxMessage.kind == MODULE_RESULT).order_by(OutboxMessage.id)):
                data = json.loads(payload)
                results[data["user_sub"]] = data
            states = Counter(session.scalars(select(Delivery.state)))
            pieces = session.execute(select(func.count()).select_from(Evidence).where(
                Evidence.micro_credential_id == credential_id).group_by(Evidence.learner_id, Evidence.competency_id))
            resent = sum(n - 1 for (n,) in pieces)
        return cls(given, dict(issued), results, states, resent)


@dataclass(frozen=True)
class Gradebook:
    """The LMS's side: the columns, what each holds, and every score POST received."""

    module: dict[str, dict[str, Any]]  # sub -> result in the module's column
    credential: dict[str, dict[str, Any]]  # sub -> result in the credential's column
    credential_columns: int
    posts: int
    module_posts: int
    credential_posts: int
    duplicates: int  # POSTs repeating an (item, learner, timestamp) already received
    out_of_order: list[str]  # item/learner whose POSTs went back in time

    @classmethod
    def read(cls, dev: DevServices, module_key: str, credential_key: str) -> Gradebook:
        with dev.platform.lock:
            items = dict(dev.platform.line_items)
            log = list(dev.score_log)
            results = {item: dict(rows) for item, rows in dev.results.items()}
        [module_item] = [i for i, item in items.items() if item.get("resourceId") == module_key]
        credential_items = [i for i, item in items.items() if item.get("resourceId") == credential_key]
        sends = Counter((s["item"], s["userId"], s["timestamp"]) for s in log)
        stamps: dict[tuple[str, str], list[dt.datetime]] = {}
        for s in log:
            stamps.setdefault((s["item"], s["userId"]), []).append(dt.datetime.fromisoformat(s["timestamp"]))
        backwards = [f"{item}/{user}" for (item, user), seen in stamps.items() if seen != sorted(seen)]
        per_item = Counter(s["item"] for s in log)
        return cls(results.get(module_item, {}),
                   results.get(credential_items[0], {}) if credential_items else {}, len(credential_items),
                   len(log), per_item[module_item], sum(per_item[i] for i in credential_items),
                   sum(n - 1 for n in sends.values()), backwards)
