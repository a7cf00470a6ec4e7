"""The domain's verbs in one place: views and commands call these, then commit.

Every verb checks that what it touches belongs to the actor's institution and course, flushes, writes its
audit entry, and leaves the commit to the caller (one user action = one transaction).
"""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from lti_microcred.competencies import audit
from lti_microcred.competencies.audit import Actor
from lti_microcred.competencies.awarding import (
    AwardError,
    grant,
    reevaluate,
    reevaluate_pathways,
    revoke,
)
from lti_microcred.competencies.credential_fields import CredentialFields, DefinitionError
from lti_microcred.competencies.credential_reevaluation import reevaluate_everyone, reevaluate_in_batches
from lti_microcred.competencies.definitions import (
    create_micro_credential,
    require_own,
    set_pathway_components,
    set_status,
    update_micro_credential,
)
from lti_microcred.competencies.errors import DomainError
from lti_microcred.competencies.evidence import (
    Attachment,
    EvidenceError,
    LinkExpired,
    LinkInvalid,
    LinkUsed,
    assess_evidence,
    attest,
    attestation_for,
    override_competency,
    record_evidence,
    record_lms_score,
    request_attestation,
)
from lti_microcred.competencies.importers import ImportReport, import_framework
from lti_microcred.competencies.models import Award, MicroCredential, Module
from lti_microcred.competencies.requirements import (
    add_competency,
    attach_module,
    create_module,
    remove_requirement,
    set_requirement,
)

__all__ = [
    "Actor",
    "Attachment",
    "AwardError",
    "CredentialFields",
    "DefinitionError",
    "DomainError",
    "EvidenceError",
    "LinkExpired",
    "LinkInvalid",
    "LinkUsed",
    "add_competency",
    "assess_evidence",
    "attach_module",
    "attest",
    "attestation_for",
    "award_manually",
    "claim_prior_learning",
    "create_micro_credential",
    "create_module",
    "grant",
    "import_competency_framework",
    "module_by_key",
    "modules_of_context",
    "override_competency",
    "record_evidence",
    "record_lms_score",
    "reevaluate",
    "reevaluate_everyone",
    "reevaluate_in_batches",
    "remove_requirement",
    "request_attestation",
    "revoke",
    "set_pathway_components",
    "set_requirement",
    "set_status",
    "submit_evidence",
    "update_micro_credential",
]


def submit_evidence(session: Session, actor: Actor, competency_id: int, title: str = "", text: str = "",
                    url: str = "", attachment: Attachment | None = None,
                    credential: MicroCredential | None = None) -> object:
    """A learner's own evidence for a competency (a link, a reflection, a file), waiting for an assessor."""
    assert actor.user_id is not None
    return record_evidence(session, actor, actor.user_id, "submission", competency_id=competency_id, title=title,
                           text=text, url=url, attachment=attachment,
                           micro_credential_id=credential.id if credential else None)


def claim_prior_learning(session: Session, actor: Actor, competency_id: int, description: str,
                         attachment: Attachment | None = None, url: str = "") -> object:
    """Recognition of prior learning: the learner describes the experience; an assessor decides."""
    assert actor.user_id is not None
    if len(description.strip()) < 20:
        raise EvidenceError("Describe the experience in a few sentences (what, where, when, how long).")
    return record_evidence(session, actor, actor.user_id, "prior_learning", competency_id=competency_id,
                           text=description, url=url, attachment=attachment)


def award_manually(session: Session, actor: Actor, credential: MicroCredential, learner_id: int,
                   reason: str) -> Award:
    """An instructor's award regardless of the rules; the reason is mandatory and audited."""
    require_own(actor, credential)
    if not reason.strip():
        raise AwardError("A manual award needs a reason.")
    award = grant(session, actor, credential.id, learner_id, "manual", reason.strip()[:5000], ())
    if award is None:
        raise AwardError("This learner already holds this micro-credential.")
    reevaluate_pathways(session, actor, learner_id, credential.id)  # a manual award stacks like any other
    return award


def import_competency_framework(session: Session, actor: Actor, data: bytes, filename: str | None = None,
                                fmt: str | None = None) -> ImportReport:
    """Import a framework for the actor's institution, recording who imported which framework and what changed
    (the file is checked whole first: a refused file writes nothing, not even the audit entry)."""
    report = import_framework(session, actor.platform_id, data, filename, fmt)
    framework = report.framework
    audit.record(session, actor, "framework.imported", f"framework:{framework.identifier}"[:80],
                 framework_id=framework.id, title=framework.title, file=filename, source=report.source,
                 framework_created=report.framework_created, created=report.created, updated=report.updated,
                 unchanged=report.unchanged, retained=len(report.retained))
    return report


def modules_of_context(session: Session, context_id: int) -> list[Module]:
    return list(session.scalars(select(Module).where(Module.context_id == context_id).order_by(Module.position,
                                                                                                Module.id)))


_MODULE_BY_KEY = select(Module).where(Module.context_id == bindparam("context_id"), Module.key == bindparam("key"))


def module_by_key(session: Session, context_id: int, key: str) -> Module | None:
    """A module of this course only: keys from another course are invisible here. (Built once: it runs on
    every landing page.)"""
    return session.scalars(_MODULE_BY_KEY, {"context_id": context_id, "key": key}).one_or_none()
