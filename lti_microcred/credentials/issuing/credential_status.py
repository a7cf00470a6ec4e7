"""Issued credentials after signing: finding them, revoking, suspending, reinstating (with their status bits)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_microcred.competencies.models import Award, MicroCredential
from lti_microcred.core.metrics import count_credential_after_commit
from lti_microcred.credentials.models import IssuedCredential
from lti_microcred.credentials.status.store import set_bit


class IssuanceError(Exception):
    """The award cannot be issued (revoked, or the issuer is not set up), with the reason."""


def current_credential(session: Session, award_id: int) -> IssuedCredential | None:
    return session.scalars(select(IssuedCredential).where(IssuedCredential.award_id == award_id,
                                                          IssuedCredential.superseded_dt.is_(None))).one_or_none()


def change_status(session: Session, row: IssuedCredential, purpose: str, value: bool, reason: str) -> bool:
    """Revoke (for good) or suspend/reinstate; the status list changes in the same transaction."""
    if purpose == "revocation" and not value:
        raise IssuanceError("A revocation cannot be undone; issue a new credential instead.")
    changed = set_bit(session, row.id, purpose, value)
    if purpose == "revocation":
        row.status = "revoked"
    elif row.status != "revoked":
        row.status = "suspended" if value else "active"
    row.status_reason = reason[:5000] if value else None
    session.flush()
    if changed:
        count_credential_after_commit(session, _change_name(row, purpose, value))
    return changed


def _change_name(row: IssuedCredential, purpose: str, value: bool) -> str:
    if purpose == "revocation":
        return "superseded" if row.superseded_dt is not None else "revoked"
    return "suspended" if value else "reinstated"


def revoke_award_credential(session: Session, award_id: int) -> IssuedCredential | None:
    """The outbox's revoke_credential job: the award was revoked, so is its credential."""
    row = current_credential(session, award_id)
    award = session.get(Award, award_id)
    if row is None or award is None:
        return None
    change_status(session, row, "revocation", True, award.revoke_reason or "The award was revoked.")
    return row


def learner_credentials(session: Session, platform_id: int, learner_id: int) -> list[tuple[IssuedCredential, Any]]:
    """The learner's current credentials from this institution, with their micro-credential."""
    return list(session.execute(
        select(IssuedCredential, MicroCredential).join(MicroCredential,
                                                      MicroCredential.id == IssuedCredential.micro_credential_id)
        .where(IssuedCredential.platform_id == platform_id, IssuedCredential.learner_id == learner_id,
               IssuedCredential.superseded_dt.is_(None)).order_by(IssuedCredential.issued_dt.desc())
    ).all())
