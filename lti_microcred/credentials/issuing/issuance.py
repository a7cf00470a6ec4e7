"""From an award to a signed OpenBadgeCredential, stored with its exact bytes.

Issuing runs from the award's outbox row and is idempotent: one current credential per award (a unique
index), so a repeated delivery returns the credential already issued. Validity runs from the award:
validFrom is the award date and a validity in months ends that long after it. A re-issue (after a change to
the micro-credential or the issuer) keeps awardedDate and so the same validity (a re-issue after it ended is
expired), gets a new id, keeps a suspension, and revokes the copy it supersedes. The achievement a credential
states is built in `achievement_data`; revocation and suspension are in `credential_status`.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from lti_microcred.competencies.models import Award, Competency, Evidence, MicroCredential
from lti_microcred.core.db import utcnow
from lti_microcred.core.metrics import count_credential_after_commit
from lti_microcred.credentials.documents import data as m
from lti_microcred.credentials.documents.openbadge import build_open_badge_credential
from lti_microcred.credentials.issuing.achievement_data import achievement
from lti_microcred.credentials.issuing.credential_status import IssuanceError, change_status, current_credential
from lti_microcred.credentials.issuing.issuer_state import IssuerState
from lti_microcred.credentials.issuing.urls import Urls
from lti_microcred.credentials.models import IssuedCredential
from lti_microcred.credentials.proofs.dataintegrity import sign
from lti_microcred.credentials.proofs.vcjwt import encode as encode_vc_jwt
from lti_microcred.credentials.status.bitstring import PURPOSES
from lti_microcred.credentials.status.store import (
    Choice,
    ListOpener,
    OpenList,
    choose,
    claim,
    open_list,
    status_list_url,
)
from lti_microcred.lti.models import Platform, User

Sessions = sessionmaker[Session]
SLOT_ATTEMPTS = 3  # sign again over new status slots when another worker claimed ours meanwhile


class StatusSlotsBusy(Exception):
    """Other workers kept claiming the status slots chosen for a credential: not an IssuanceError, so the
    outbox job fails and is retried later instead of being dropped."""


def issue(session: Session, issuer: IssuerState, urls: Urls, award_id: int, *,
          reissue: bool = False) -> IssuedCredential:
    """Sign and store the award's credential (or return the one already issued), all in one transaction."""
    award = _active_award(session, award_id)
    existing = current_credential(session, award_id)
    if existing is not None and not reissue:
        return existing
    suspension = _suspension_of(existing)
    if existing is not None:
        existing.superseded_dt = utcnow()
        change_status(session, existing, "revocation", True, "Superseded by a newer credential for the same award.")
    row = _stored(session, issuer, urls, award)
    if suspension is not None and row.status == "active":  # a re-issue is no way around a suspension
        change_status(session, row, "suspension", True, suspension)
    return row


def issue_signing_outside_the_writer(read_sessions: Sessions, write_sessions: Sessions, issuer: IssuerState,
                                     urls: Urls, award_id: int) -> IssuedCredential:
    """What the outbox worker does: build and sign while only reading, then store in a short write transaction.
    Signing is nearly all the cost, so several worker processes sign at once instead of queueing behind the one
    writer SQLite allows (and holding PostgreSQL row locks no longer than the insert)."""
    open_list = _list_opener(write_sessions)
    for _ in range(SLOT_ATTEMPTS):
        with read_sessions() as session:
            award = _active_award(session, award_id)
            existing = current_credential(session, award_id)
            if existing is not None:
                return existing
            row, choices = _signed(session, issuer, urls, award, open_list)
        try:
            with write_sessions.begin() as session:  # the whole short transaction is the unit: no savepoint
                _active_award(session, award_id)  # revoked meanwhile: nothing to store
                _add_with_slots(session, row, choices)
            return row
        except IntegrityError:
            continue  # another worker stored this award's credential (found above) or took one of our slots
    raise _slots_busy()


def _active_award(session: Session, award_id: int) -> Award:
    award = session.get(Award, award_id)
    if award is None or award.status != "active":
        raise IssuanceError("Only an active award can be issued.")
    return award


def _list_opener(write_sessions: Sessions) -> ListOpener:
    """Status lists are created (rarely: the first, then one per crowded list) in a transaction of their own."""

    def open_in_own_transaction(institution_id: int, purpose: str, after: int) -> OpenList:
        with write_sessions.begin() as session:
            return open_list(session, institution_id, purpose, after)

    return open_in_own_transaction


def _suspension_of(existing: IssuedCredential | None) -> str | None:
    """Why a credential about to be superseded is suspended: its successor stays suspended for the same reason."""
    if existing is None or existing.status != "suspended":
        return None
    return existing.status_reason or "Suspended."


def _stored(session: Session, issuer: IssuerState, urls: Urls, award: Award) -> IssuedCredential:
    """The award's credential signed and stored with its status slots, or the one another worker just stored."""
    for _ in range(SLOT_ATTEMPTS):
        row, choices = _signed(session, issuer, urls, award)
        stored = _claimed(session, award.id, row, choices)
        if stored is not None:
            return stored
    raise _slots_busy()


def _claimed(session: Session, award_id: int, row: IssuedCredential, choices: list[Choice]) -> IssuedCredential | None:
    """Store the signed row with its status slots; the credential another worker stored for the award meanwhile;
    or None when another worker claimed one of our slots (choose again, sign again)."""
    try:
        with session.begin_nested():
            _add_with_slots(session, row, choices)
    except IntegrityError:
        return current_credential(session, award_id)
    return row


def _add_with_slots(session: Session, row: IssuedCredential, choices: list[Choice]) -> None:
    session.add(row)
    session.flush()
    for choice in choices:
        claim(session, choice, row.id)
    session.flush()
    count_credential_after_commit(session, "issued")


def _slots_busy() -> StatusSlotsBusy:
    return StatusSlotsBusy(f"Status slots were taken by other workers {SLOT_ATTEMPTS} times in a row; "
                           "the credential will be issued on the next attempt.")


def _signed(session: Session, issuer: IssuerState, urls: Urls, award: Award, open_list: ListOpener | None = None
            ) -> tuple[IssuedCredential, list[Choice]]:
    """A new credential row for the award, signed over freshly chosen status slots (not yet claimed)."""
    credential = session.get(MicroCredential, award.micro_credential_id)
    learner = session.get(User, award.learner_id)
    assert credential is not None and learner is not None
    if session.scalar(select(Platform.institution_id).where(Platform.id == award.platform_id)) != issuer.institution_id:
        raise IssuanceError("A credential is issued in the name of the institution whose course awarded it.")
    public_id = secrets.token_hex(12)
    choices = [choose(session, issuer.institution_id, purpose, open_list) for purpose in PURPOSES]
    valid_until = _valid_until(award.awarded_dt, credential.validity_months)
    data = m.Award(
        credential_id=urls.credential(public_id), awarded=award.awarded_dt, valid_from=award.awarded_dt,
        valid_until=valid_until, identity=hashed_identity(learner), name=credential.title,
        results=(m.Result(result_description=urls.achievement(credential.key) + "#result", status="Completed"),),
        evidence=_evidence(session, award), credits_earned=credential.ects_credits,
        status=tuple(m.StatusEntry(status_list_url(urls.base_url, c.list_public_id), c.position, c.purpose)
                     for c in choices),
    )
    unsigned = build_open_badge_credential(issuer.profile, achievement(session, issuer, urls, credential), data,
                                           urls.extension_context)
    signed = sign(unsigned, issuer.di_signer)
    row = IssuedCredential(public_id=public_id, award_id=award.id, platform_id=award.platform_id,
                           learner_id=award.learner_id, micro_credential_id=credential.id, status="active",
                           signed_json=json.dumps(signed, ensure_ascii=False, separators=(",", ":")),
                           signed_jwt=encode_vc_jwt(unsigned, issuer.jwt_key, issuer.jwt_kid),  # the same, as VC-JWT
                           issued_dt=utcnow(), valid_until=valid_until)
    return row, choices


def hashed_identity(learner: User) -> m.HashedIdentity:
    """A salted hash of the learner's e-mail (their LTI user id when the LMS shares no e-mail)."""
    if learner.email:
        return m.HashedIdentity.of(learner.email)
    return m.HashedIdentity.of(learner.sub, identity_type="ltiUserId")


def _evidence(session: Session, award: Award) -> tuple[m.Evidence, ...]:
    """What the award rests on, described without exposing the learner's private work."""
    ids = json.loads(award.evidence_ids).get("evidence", []) if award.evidence_ids else []
    rows = session.execute(select(Evidence, Competency.short_name).outerjoin(
        Competency, Competency.id == Evidence.competency_id).where(Evidence.id.in_(ids)).order_by(Evidence.id)).all()
    names = {"lms_score": "Assessed work graded in the course", "rubric": "Assessor's rubric judgement",
             "submission": "Submitted work accepted by an assessor", "prior_learning": "Recognised prior learning",
             "workplace": "Workplace activity confirmed by a supervisor", "override": "Assessor's decision"}
    return tuple(m.Evidence(name=names.get(e.kind, "Evidence"), narrative=f"For the competency {c}." if c else None,
                            id=e.url if e.kind == "submission" and e.url and e.url.startswith("https://") else None)
                 for e, c in rows)


def _valid_until(awarded: dt.datetime, months: int | None) -> dt.datetime | None:
    if not months:
        return None
    return awarded + dt.timedelta(days=round(months * 30.4375))
