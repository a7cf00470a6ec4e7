"""Evidence verbs: record, assess, claim prior learning, workplace attestation, correct, override.

Every verb appends (never edits), writes its audit entry, and re-evaluates the learner's credentials that
the change touches, in the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from lti_microcred.competencies import audit
from lti_microcred.competencies.audit import Actor
from lti_microcred.competencies.awarding import lock_learner, reevaluate
from lti_microcred.competencies.definitions import require_own
from lti_microcred.competencies.errors import DomainError
from lti_microcred.competencies.models import Assessment, AttestationRequest, Evidence, MicroCredential, Module
from lti_microcred.competencies.requirements import competency_in_scope
from lti_microcred.competencies.rule_inputs import affected_specs
from lti_microcred.competencies.rules import RUBRIC_LEVELS
from lti_microcred.core.db import utcnow

LEARNER_KINDS = frozenset({"submission", "prior_learning", "workplace"})
STAFF_KINDS = frozenset({"rubric", "override"})
MAX_TEXT = 20_000
LINK_USED = "This link has already been used: the answer was recorded."
LINK_EXPIRED = "This link has expired. Ask the learner to send a new request."


class EvidenceError(DomainError):
    """Evidence the rules refuse, with a message for the person who submitted it."""


class AttestationLinkError(EvidenceError):
    """A supervisor's link that cannot be answered (any more)."""


class LinkInvalid(AttestationLinkError):
    """No such link: mistyped, or never issued."""


class LinkUsed(AttestationLinkError):
    """The link was answered already (perhaps a moment ago, by another request)."""


class LinkExpired(AttestationLinkError):
    """The link outlived its validity without an answer."""


@dataclass(frozen=True)
class Attachment:
    """A file already stored (see the storage module); the domain keeps only its reference."""

    key: str
    name: str
    content_type: str
    size: int


def _check_scope(session: Session, actor: Actor, module_id: int | None, competency_id: int | None) -> None:
    """Modules must belong to the actor's course and competencies to its institution's frameworks."""
    if module_id is not None:
        module = session.get(Module, module_id)
        if module is None or module.context_id != actor.context_id:
            raise EvidenceError("That module is not part of this course.")
    if competency_id is not None:
        try:
            competency_in_scope(session, actor, competency_id)
        except DomainError as exc:
            raise EvidenceError(str(exc)) from exc


def record_evidence(session: Session, actor: Actor, learner_id: int, kind: str, *, module_id: int | None = None,
                    competency_id: int | None = None, title: str = "", text: str = "", url: str = "",
                    attachment: Attachment | None = None, supervisor_name: str = "", supervisor_email: str = "",
                    rubric_level: int | None = None, achieved: bool | None = None,
                    score: tuple[float, float] | None = None, supersedes: Evidence | None = None,
                    micro_credential_id: int | None = None) -> Evidence:
    """Append one piece of evidence about `learner_id` in the actor's course and re-evaluate."""
    if actor.context_id is None:
        raise EvidenceError("Evidence is recorded within a course.")
    _check_scope(session, actor, module_id, competency_id)
    _check_content(kind, title, text, url, attachment, rubric_level, supervisor_name, supervisor_email)
    if supersedes is not None and (supersedes.learner_id != learner_id or supersedes.context_id != actor.context_id):
        raise EvidenceError("A correction must concern the same learner and course.")
    lock_learner(session, learner_id)
    evidence = Evidence(
        key=secrets.token_hex(12), platform_id=actor.platform_id, context_id=actor.context_id,
        learner_id=learner_id, kind=kind, module_id=module_id, competency_id=competency_id,
        micro_credential_id=micro_credential_id, rubric_level=rubric_level, achieved=achieved,
        score_given=score[0] if score else None, score_maximum=score[1] if score else None,
        source="lms" if kind == "lms_score" else "tool",
        title=title.strip()[:200] or None, text=text.strip()[:MAX_TEXT] or None, url=url.strip() or None,
        file_key=attachment.key if attachment else None, file_name=attachment.name[:255] if attachment else None,
        file_type=attachment.content_type if attachment else None, file_size=attachment.size if attachment else None,
        supervisor_name=supervisor_name.strip()[:200] or None, supervisor_email=supervisor_email.strip()[:320] or None,
        supersedes_id=supersedes.id if supersedes else None, created_by_id=actor.user_id, created_dt=utcnow(),
    )
    session.add(evidence)
    session.flush()
    audit.record(session, actor, "evidence.corrected" if supersedes else "evidence.recorded",
                 f"evidence:{evidence.key}", learner_id, kind=kind, module_id=module_id, competency_id=competency_id,
                 supersedes=supersedes.key if supersedes else None)
    _reevaluate_for(session, actor, evidence)
    return evidence


def _check_content(kind: str, title: str, text: str, url: str, attachment: Attachment | None,
                   rubric_level: int | None, supervisor_name: str, supervisor_email: str) -> None:
    if kind not in LEARNER_KINDS | STAFF_KINDS | {"lms_score"}:
        raise EvidenceError(f"Unknown kind of evidence: {kind}.")
    if url and not url.strip().lower().startswith(("https://", "http://")):
        raise EvidenceError("A link must start with https:// or http://.")
    if len(url) > 2048 or len(title) > 200 or len(text) > MAX_TEXT:
        raise EvidenceError("The evidence is too long (links 2,048, titles 200, text 20,000 characters).")
    if kind in ("submission", "prior_learning") and not (text.strip() or url.strip() or attachment):
        raise EvidenceError("Add a link, a text or a file.")
    if kind == "workplace" and (not supervisor_name.strip() or "@" not in supervisor_email):
        raise EvidenceError("Name your supervisor and give their e-mail address.")
    if kind == "workplace" and not text.strip():
        raise EvidenceError("Describe what you did at work.")
    if kind == "rubric" and rubric_level not in RUBRIC_LEVELS:
        raise EvidenceError("Choose a rubric level.")


def _reevaluate_for(session: Session, actor: Actor, evidence: Evidence) -> None:
    specs = affected_specs(session, evidence.context_id, evidence.module_id, evidence.competency_id)
    reevaluate(session, actor, evidence.learner_id, evidence.context_id, list(specs), specs)


def record_lms_score(session: Session, actor: Actor, learner_id: int, module_id: int, score_given: float,
                     score_maximum: float) -> Evidence | None:
    """A score for a module from the LMS gradebook (grade sync); a new value supersedes the previous one."""
    if score_maximum <= 0 or score_given < 0:
        raise EvidenceError("A score needs a positive maximum and a non-negative value.")
    previous = session.execute(
        select(Evidence).where(Evidence.learner_id == learner_id, Evidence.module_id == module_id,
                               Evidence.kind == "lms_score").order_by(Evidence.id.desc()).limit(1)
    ).scalar_one_or_none()
    if previous is not None and (previous.score_given, previous.score_maximum) == (score_given, score_maximum):
        return None  # unchanged: nothing to record
    return record_evidence(session, actor, learner_id, "lms_score", module_id=module_id,
                           score=(score_given, score_maximum), supersedes=previous)


def assess_evidence(session: Session, actor: Actor, evidence: Evidence, decision: str, comment: str = "",
                    rubric_level: int | None = None) -> Assessment:
    """Accept or reject a learner's evidence; a rejection needs a comment the learner can act on."""
    if evidence.context_id != actor.context_id or evidence.platform_id != actor.platform_id:
        raise EvidenceError("That evidence is not part of this course.")
    if evidence.kind not in LEARNER_KINDS:
        raise EvidenceError("This kind of evidence needs no decision.")
    if decision not in ("accepted", "rejected"):
        raise EvidenceError("Accept or reject.")
    if decision == "rejected" and not comment.strip():
        raise EvidenceError("Say why the evidence is rejected, so the learner can improve it.")
    if rubric_level is not None and rubric_level not in RUBRIC_LEVELS:
        raise EvidenceError("Unknown rubric level.")
    lock_learner(session, evidence.learner_id)
    assessment = Assessment(evidence_id=evidence.id, decision=decision, comment=comment.strip()[:MAX_TEXT],
                            rubric_level=rubric_level if decision == "accepted" else None,
                            assessor_id=actor.user_id, assessor_label=actor.label[:255], created_dt=utcnow())
    session.add(assessment)
    session.flush()
    audit.record(session, actor, f"evidence.{decision}", f"evidence:{evidence.key}", evidence.learner_id,
                 evidence.context_id, comment=comment.strip()[:500], rubric_level=rubric_level)
    _reevaluate_for(session, actor, evidence)
    return assessment


# --- workplace attestation --------------------------------------------------------------------------------
def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def request_attestation(session: Session, actor: Actor, learner_id: int, competency_id: int, description: str,
                        supervisor_name: str, supervisor_email: str, valid_days: int = 14) -> tuple[Evidence, str]:
    """Workplace evidence waiting for a supervisor; returns it and the single-use token for their link."""
    evidence = record_evidence(session, actor, learner_id, "workplace", competency_id=competency_id,
                               text=description, supervisor_name=supervisor_name,
                               supervisor_email=supervisor_email)
    token = secrets.token_urlsafe(32)
    session.add(AttestationRequest(evidence_id=evidence.id, token_hash=_token_hash(token),
                                   expires_dt=utcnow() + dt.timedelta(days=valid_days)))
    session.flush()
    return evidence, token


def attestation_for(session: Session, token: str) -> tuple[AttestationRequest, Evidence]:
    """The open request behind a supervisor's link, or EvidenceError saying why the link no longer works."""
    request = session.execute(
        select(AttestationRequest).where(AttestationRequest.token_hash == _token_hash(token[:100]))
    ).scalar_one_or_none()
    if request is None:
        raise LinkInvalid("This link is not valid.")
    if request.used_dt is not None:
        raise LinkUsed(LINK_USED)
    if request.expires_dt < utcnow():
        raise LinkExpired(LINK_EXPIRED)
    evidence = session.get(Evidence, request.evidence_id)
    assert evidence is not None
    return request, evidence


def attest(session: Session, token: str, confirmed: bool, comment: str = "") -> Assessment:
    """The supervisor confirms or declines; the link is spent whatever the answer."""
    request, evidence = attestation_for(session, token)
    _spend(session, request)
    supervisor = Actor(evidence.platform_id, evidence.context_id, None,
                       f"{evidence.supervisor_name} <{evidence.supervisor_email}> (workplace supervisor)")
    if not confirmed and not comment.strip():
        comment = "Declined by the workplace supervisor."
    return assess_evidence(session, supervisor, evidence, "accepted" if confirmed else "rejected", comment)


def _spend(session: Session, request: AttestationRequest) -> None:
    """Mark the link used in one conditional statement, so of two answers sent at once exactly one is recorded
    (what this request read before may already be stale)."""
    now = utcnow()
    spent = session.execute(
        update(AttestationRequest).where(AttestationRequest.id == request.id, AttestationRequest.used_dt.is_(None),
                                         AttestationRequest.expires_dt > now)
        .values(used_dt=now).execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if spent:
        set_committed_value(request, "used_dt", now)
        return
    session.refresh(request)
    raise LinkUsed(LINK_USED) if request.used_dt is not None else LinkExpired(LINK_EXPIRED)


# --- staff judgements ------------------------------------------------------------------------------------
def override_competency(session: Session, actor: Actor, credential: MicroCredential, learner_id: int,
                        competency_id: int, achieved: bool, reason: str) -> Evidence:
    """An instructor's decision that overrides the rules for one competency; the reason is mandatory."""
    if not reason.strip():
        raise EvidenceError("An override needs a reason.")
    require_own(actor, credential, EvidenceError)
    previous = session.execute(
        select(Evidence).where(Evidence.learner_id == learner_id, Evidence.context_id == actor.context_id,
                               Evidence.kind == "override", Evidence.competency_id == competency_id)
        .order_by(Evidence.id.desc()).limit(1)
    ).scalar_one_or_none()
    return record_evidence(session, actor, learner_id, "override", competency_id=competency_id, text=reason,
                           achieved=achieved, supersedes=previous, micro_credential_id=credential.id)
