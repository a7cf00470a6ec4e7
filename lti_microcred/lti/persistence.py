"""Turn a validated launch into rows: user, course, resource link, membership, and the launch session.

Everything is upserted by its natural key inside the platform/deployment it belongs to, in the caller's
transaction with the session row; the session's unique nonce makes a replayed launch fail as a whole.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..db import dialect_insert, utcnow
from . import claims as c
from .errors import NonceReused, Replayed
from .launch import ToolMessageLaunch
from .models import Context, LaunchSession, Membership, ResourceLink, User
from .roles import map_roles

MODULE_PARAM = "microcred_module"


def _text(value: Any, limit: int = 255) -> str | None:
    if value is None or value == "":
        return None
    return str(value)[:limit]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def state_hash(raw_state: str) -> str:
    return hashlib.sha256(raw_state.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class RecordedLaunch:
    session_id: int
    token: str
    role: str
    message_type: str


def _upsert(session: Session, model: Any, keys: dict[str, Any], values: dict[str, Any]) -> int:
    """INSERT .. ON CONFLICT (keys) DO UPDATE SET values RETURNING id: one round trip either way."""
    now = utcnow()
    stmt = dialect_insert(session, model.__table__).values(**keys, **values, created_dt=now, updated_dt=now)
    stmt = stmt.on_conflict_do_update(index_elements=list(keys), set_={**values, "updated_dt": now})
    return int(session.execute(stmt.returning(model.__table__.c.id)).scalar_one())


def record_launch(session: Session, launch: ToolMessageLaunch, status: str, ttl_seconds: int) -> RecordedLaunch:
    """Persist the launch; raises Replayed / NonceReused when its nonce was already used."""
    assert launch.platform is not None and launch.deployment is not None and launch.login_state is not None
    body = launch.claims
    platform_id, deployment_id = launch.platform.id, launch.deployment.id
    lti_roles = [r for r in body.get(c.ROLES, []) if isinstance(r, str)][:50]
    role = map_roles(lti_roles)
    try:
        user_id = _upsert(session, User, {"platform_id": platform_id, "sub": _text(body["sub"])}, {
            "name": _text(body.get("name")), "given_name": _text(body.get("given_name")),
            "family_name": _text(body.get("family_name")), "email": _text(body.get("email"), 320),
        })
        context_id = _record_context(session, body, platform_id, deployment_id)
        link_id = _record_resource_link(session, body, platform_id, deployment_id, context_id)
        if context_id is not None:
            _upsert(session, Membership, {"context_id": context_id, "user_id": user_id},
                    {"role": role, "lti_roles": json.dumps(lti_roles)})
        token = secrets.token_urlsafe(32)
        row = LaunchSession(
            token_hash=token_hash(token), nonce=launch.nonce, id_token_hash=launch.id_token_hash,
            state_hash=state_hash(launch.login_state.raw), status=status, platform_id=platform_id,
            deployment_id=deployment_id, user_id=user_id, context_id=context_id, resource_link_id=link_id,
            role=role, message_type=body[c.MESSAGE_TYPE],
            claims_json=json.dumps({k: body[k] for k in c.KEPT_AFTER_LAUNCH if k in body}),
            created_dt=utcnow(), expires_dt=utcnow() + dt.timedelta(seconds=ttl_seconds),
        )
        session.add(row)
        session.flush()
    except IntegrityError as exc:
        # The whole launch is void; the caller's transaction holds nothing else.
        session.rollback()
        raise _replay_error(session, launch) from exc
    return RecordedLaunch(row.id, token, role, row.message_type)


def _record_context(session: Session, body: dict[str, Any], platform_id: int, deployment_id: int) -> int | None:
    context = body.get(c.CONTEXT)
    if not isinstance(context, dict) or not context.get("id"):
        return None
    return _upsert(session, Context, {"deployment_id": deployment_id, "lti_context_id": _text(context["id"])}, {
        "platform_id": platform_id, "title": _text(context.get("title")), "label": _text(context.get("label")),
    })


def _record_resource_link(session: Session, body: dict[str, Any], platform_id: int, deployment_id: int,
                          context_id: int | None) -> int | None:
    link = body.get(c.RESOURCE_LINK)
    if not isinstance(link, dict) or not link.get("id"):
        return None
    custom = body.get(c.CUSTOM) if isinstance(body.get(c.CUSTOM), dict) else {}
    ags = body.get(c.AGS_ENDPOINT) if isinstance(body.get(c.AGS_ENDPOINT), dict) else {}
    return _upsert(session, ResourceLink, {"deployment_id": deployment_id, "lti_resource_link_id": _text(link["id"])}, {
        "platform_id": platform_id, "context_id": context_id, "title": _text(link.get("title")),
        "module_key": _text(custom.get(MODULE_PARAM), 64),
        "lineitem_url": _text(ags.get("lineitem"), 2048), "lineitems_url": _text(ags.get("lineitems"), 2048),
    })


def _replay_error(session: Session, launch: ToolMessageLaunch) -> Exception:
    """Name the replay precisely: the very same id_token again, or a new token reusing a spent nonce."""
    previous = session.execute(
        select(LaunchSession.id_token_hash).where(LaunchSession.nonce == launch.nonce)
    ).scalar_one_or_none()
    if previous is None:
        raise RuntimeError("integrity error while recording a launch, but its nonce is unused")
    if previous == launch.id_token_hash:
        return Replayed("this id_token was already used for a launch")
    return NonceReused("another id_token already used this nonce")
