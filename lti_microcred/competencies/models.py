"""Domain tables. Courses (`contexts`) and people (`users`) are the LTI layer's rows, referenced by name only.

Evidence and assessments are append-only: a correction is a new evidence row that supersedes the old
one, a decision is a new assessment row. Competency progress is a materialised view that the rules
evaluator recomputes; awards are unique per (micro-credential, learner) while active.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text, true
from sqlalchemy.orm import Mapped, mapped_column

from lti_microcred.core.db import Base, TimestampMixin, UTCDateTime, utcnow

USER_FK = "users.id"
URL = String(2048)


class Framework(TimestampMixin, Base):
    """A competency framework of an institution (one LMS registration): imported from CASE or Moodle CSV."""

    __tablename__ = "frameworks"
    __table_args__ = (UniqueConstraint("platform_id", "identifier"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"))
    identifier: Mapped[str] = mapped_column(String(255))
    uri: Mapped[str | None] = mapped_column(URL)
    title: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(16), default="manual")  # case | moodle_csv | manual
    version: Mapped[str | None] = mapped_column(String(64))


class Competency(TimestampMixin, Base):
    """A named competency; CASE identifiers and URIs are kept so credentials can align to them."""

    __tablename__ = "competencies"
    __table_args__ = (UniqueConstraint("framework_id", "identifier"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    framework_id: Mapped[int] = mapped_column(ForeignKey("frameworks.id", ondelete="CASCADE"))
    identifier: Mapped[str] = mapped_column(String(255))
    uri: Mapped[str | None] = mapped_column(URL)
    code: Mapped[str | None] = mapped_column(String(100))
    short_name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("competencies.id", ondelete="SET NULL"), index=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class MicroCredential(TimestampMixin, Base):
    """A micro-credential offered in a course, with the elements of EU Council Recommendation Annex I."""

    __tablename__ = "micro_credentials"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(32), unique=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"), index=True)
    context_id: Mapped[int] = mapped_column(ForeignKey("contexts.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    learning_outcomes: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of statements
    workload_hours: Mapped[float | None] = mapped_column(Float)
    ects_credits: Mapped[float | None] = mapped_column(Float)
    eqf_level: Mapped[int | None] = mapped_column(Integer)
    national_level: Mapped[str | None] = mapped_column(String(100))
    assessment_type: Mapped[str] = mapped_column(String(200), default="")
    participation_form: Mapped[str] = mapped_column(String(32), default="online")
    quality_assurance: Mapped[str] = mapped_column(String(300), default="")
    awarding_body: Mapped[str] = mapped_column(String(200), default="")
    country: Mapped[str] = mapped_column(String(2), default="")
    prerequisites: Mapped[str] = mapped_column(Text, default="")
    supervision: Mapped[str] = mapped_column(Text, default="")
    validity_months: Mapped[int | None] = mapped_column(Integer)
    stackable: Mapped[bool] = mapped_column(Boolean, default=False)
    # Whether awards go to a credential column of the LMS gradebook (full marks; a revocation empties it).
    gradebook_column: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # standard: earned by competencies; pathway: earned by other micro-credentials
    kind: Mapped[str] = mapped_column(String(16), default="standard")
    pathway_rule: Mapped[str | None] = mapped_column(String(16))  # all | k_of_n | credits
    pathway_k: Mapped[int | None] = mapped_column(Integer)
    pathway_credits: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft | published | archived
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey(USER_FK, ondelete="SET NULL"))


class Module(TimestampMixin, Base):
    """A part of a course that is placed in the LMS (Deep Linking) and has a gradebook column."""

    __tablename__ = "modules"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Public, stable id sent to the LMS as the custom parameter of the placed link.
    key: Mapped[str] = mapped_column(String(32), unique=True)
    context_id: Mapped[int] = mapped_column(ForeignKey("contexts.id", ondelete="CASCADE"), index=True)
    micro_credential_id: Mapped[int | None] = mapped_column(
        ForeignKey("micro_credentials.id", ondelete="SET NULL"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    score_maximum: Mapped[float] = mapped_column(Float, default=100.0)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Requirement(Base):
    """What a learner must show in a module for one competency."""

    __tablename__ = "requirements"
    __table_args__ = (UniqueConstraint("module_id", "competency_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    micro_credential_id: Mapped[int] = mapped_column(ForeignKey("micro_credentials.id", ondelete="CASCADE"),
                                                     index=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("modules.id", ondelete="CASCADE"), index=True)
    competency_id: Mapped[int] = mapped_column(ForeignKey("competencies.id", ondelete="CASCADE"), index=True)
    # score: LMS score >= min_percent; rubric: assessor level >= min_level; evidence_count: accepted pieces
    kind: Mapped[str] = mapped_column(String(16))
    min_percent: Mapped[float | None] = mapped_column(Float)
    min_level: Mapped[int | None] = mapped_column(Integer)
    min_count: Mapped[int | None] = mapped_column(Integer)
    evidence_kinds: Mapped[str | None] = mapped_column(String(100))  # comma-separated, for evidence_count


class PathwayComponent(Base):
    """A micro-credential that counts towards a pathway (possibly from another course of the platform)."""

    __tablename__ = "pathway_components"
    __table_args__ = (UniqueConstraint("pathway_id", "component_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pathway_id: Mapped[int] = mapped_column(ForeignKey("micro_credentials.id", ondelete="CASCADE"))
    component_id: Mapped[int] = mapped_column(ForeignKey("micro_credentials.id", ondelete="CASCADE"), index=True)


class Evidence(Base):
    """One piece of evidence about one learner. Never updated: corrections supersede it."""

    __tablename__ = "evidence"
    __table_args__ = (Index("ix_evidence_learner_context", "learner_id", "context_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(32), unique=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"))
    context_id: Mapped[int] = mapped_column(ForeignKey("contexts.id", ondelete="CASCADE"), index=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey(USER_FK, ondelete="CASCADE"))
    # lms_score | rubric | submission | prior_learning | workplace | override
    kind: Mapped[str] = mapped_column(String(24))
    module_id: Mapped[int | None] = mapped_column(ForeignKey("modules.id", ondelete="SET NULL"), index=True)
    competency_id: Mapped[int | None] = mapped_column(ForeignKey("competencies.id", ondelete="SET NULL"),
                                                      index=True)
    micro_credential_id: Mapped[int | None] = mapped_column(ForeignKey("micro_credentials.id", ondelete="SET NULL"))
    score_given: Mapped[float | None] = mapped_column(Float)
    score_maximum: Mapped[float | None] = mapped_column(Float)
    rubric_level: Mapped[int | None] = mapped_column(Integer)
    achieved: Mapped[bool | None] = mapped_column(Boolean)  # overrides only
    title: Mapped[str | None] = mapped_column(String(200))
    text: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(URL)
    file_key: Mapped[str | None] = mapped_column(String(80))
    file_name: Mapped[str | None] = mapped_column(String(255))
    file_type: Mapped[str | None] = mapped_column(String(100))
    file_size: Mapped[int | None] = mapped_column(Integer)
    supervisor_name: Mapped[str | None] = mapped_column(String(200))
    supervisor_email: Mapped[str | None] = mapped_column(String(320))
    source: Mapped[str] = mapped_column(String(16), default="tool")  # tool | lms
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("evidence.id", ondelete="SET NULL"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey(USER_FK, ondelete="SET NULL"))
    created_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Assessment(Base):
    """A decision on a piece of evidence (accept / reject, optional rubric level). Append-only."""

    __tablename__ = "assessments"

    id: Mapped[int] = mapped_column(primary_key=True)
    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence.id", ondelete="CASCADE"), index=True)
    decision: Mapped[str] = mapped_column(String(16))  # accepted | rejected
    rubric_level: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    assessor_id: Mapped[int | None] = mapped_column(ForeignKey(USER_FK, ondelete="SET NULL"))
    assessor_label: Mapped[str] = mapped_column(String(255), default="")
    created_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class AttestationRequest(Base):
    """A single-use, expiring link for a workplace supervisor (no LMS account) to confirm or decline."""

    __tablename__ = "attestation_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence.id", ondelete="CASCADE"), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class CompetencyProgress(Base):
    """Materialised result of the rules for one learner, credential and competency (for fast views)."""

    __tablename__ = "competency_progress"
    __table_args__ = (UniqueConstraint("micro_credential_id", "learner_id", "competency_id"),
                      Index("ix_competency_progress_learner", "learner_id", "micro_credential_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    micro_credential_id: Mapped[int] = mapped_column(ForeignKey("micro_credentials.id", ondelete="CASCADE"))
    learner_id: Mapped[int] = mapped_column(ForeignKey(USER_FK, ondelete="CASCADE"))
    competency_id: Mapped[int] = mapped_column(ForeignKey("competencies.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(16))  # achieved | in_progress | not_started
    met: Mapped[int] = mapped_column(Integer, default=0)
    required: Mapped[int] = mapped_column(Integer, default=0)
    via: Mapped[str] = mapped_column(String(16), default="")  # requirements | prior_learning | override
    updated_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Award(Base):
    """A micro-credential earned by a learner; revocation keeps the row. One active award at a time."""

    __tablename__ = "awards"
    __table_args__ = (
        Index("uq_awards_active", "micro_credential_id", "learner_id", unique=True,
              sqlite_where=text("status = 'active'"), postgresql_where=text("status = 'active'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(32), unique=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"))
    micro_credential_id: Mapped[int] = mapped_column(ForeignKey("micro_credentials.id", ondelete="CASCADE"),
                                                     index=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey(USER_FK, ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | revoked
    basis: Mapped[str] = mapped_column(String(16))  # rules | manual
    reason: Mapped[str] = mapped_column(Text, default="")
    evidence_ids: Mapped[str] = mapped_column(Text, default="[]")  # JSON list: what the award rests on
    awarded_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    awarded_by_id: Mapped[int | None] = mapped_column(ForeignKey(USER_FK, ondelete="SET NULL"))
    revoked_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey(USER_FK, ondelete="SET NULL"))
    revoke_reason: Mapped[str | None] = mapped_column(Text)


class AuditEntry(Base):
    """Who decided what, when, about whom. Append-only; shown to instructors as the audit trail."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_context_learner", "context_id", "learner_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"))
    context_id: Mapped[int | None] = mapped_column(ForeignKey("contexts.id", ondelete="CASCADE"))
    learner_id: Mapped[int | None] = mapped_column(ForeignKey(USER_FK, ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey(USER_FK, ondelete="SET NULL"))
    actor_label: Mapped[str] = mapped_column(String(255), default="")
    action: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(80), default="")
    detail: Mapped[str] = mapped_column(Text, default="{}")
    created_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
