"""Outbox jobs of credential issuing: sign the award's credential; flip its status bit on revocation."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ..outbox import OutboxMessage
from .issuance import IssuanceError, issue, revoke_award_credential


def issue_credential_job(services: Any, session: Session, message: OutboxMessage) -> None:
    """Idempotent: a second delivery finds the credential already issued; a revoked award is skipped."""
    try:
        issue(session, services.issuer.state(), services.credential_urls, int(message.data["award_id"]))
    except IssuanceError:
        return  # revoked before issuing, or issued concurrently by another worker: nothing left to do


def revoke_credential_job(services: Any, session: Session, message: OutboxMessage) -> None:
    revoke_award_credential(session, int(message.data["award_id"]))
