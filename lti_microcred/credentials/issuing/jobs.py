"""Outbox jobs of credential issuing: sign the award's credential; flip its status bit on revocation; the
gradebook comment that carries the verification link."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_microcred.competencies.models import Award, MicroCredential
from lti_microcred.credentials.issuing.credential_status import (
    IssuanceError,
    current_credential,
    revoke_award_credential,
)
from lti_microcred.credentials.issuing.issuance import issue_signing_outside_the_writer
from lti_microcred.credentials.issuing.urls import Urls


class Message(Protocol):
    """An outbox row as a job sees it (a stored row, or the worker's claim of one)."""

    @property
    def data(self) -> Mapping[str, Any]: ...


def issue_credential_job(services: Any, message: Message) -> None:
    """Idempotent: a second delivery finds the credential already issued; a revoked award is skipped; when other
    workers keep taking its status slots, StatusSlotsBusy fails the job, which the worker retries later. Signs
    outside any write transaction, so worker processes issue in parallel."""
    award_id = int(message.data["award_id"])
    with services.read_sessions() as session:
        award = session.get(Award, award_id)
        if award is None:
            return
        issuer = services.issuer.for_platform(session, award.platform_id)  # the awarding course's institution
    try:
        issue_signing_outside_the_writer(services.read_sessions, services.sessions, issuer,
                                         services.credential_urls, award_id)
    except IssuanceError:
        return  # revoked before issuing: nothing left to do


def revoke_credential_job(services: Any, session: Session, message: Message) -> None:
    revoke_award_credential(session, int(message.data["award_id"]))


def award_comment(urls: Urls) -> Callable[[Session, Award], str]:
    """What the LMS gradebook shows next to an award: the title and where anyone can verify it."""

    def comment(session: Session, award: Award) -> str:
        title = session.execute(select(MicroCredential.title)
                                .where(MicroCredential.id == award.micro_credential_id)).scalar_one()
        credential = current_credential(session, award.id)
        if credential is None:  # issuing failed for good: the award still shows
            return f"Micro-credential awarded: {title}"
        return f"Micro-credential awarded: {title}. Verify it at {urls.verify(credential.public_id)}"

    return comment
