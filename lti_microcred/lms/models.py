"""Tables of the LMS services: shared access tokens, each course's service URLs and sync status, gradebook
columns, the delivery state per (column, learner) that instructors see, the NRPS roster, outbox leases."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Float, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lti_microcred.core.db import Base, UTCDateTime, utcnow

URL = String(2048)


class AccessTokenRow(Base):
    """A platform access token shared by every process until it expires (encrypted like our keys)."""

    __tablename__ = "lms_access_tokens"
    __table_args__ = (UniqueConstraint("platform_id", "scope_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"))
    scope_key: Mapped[str] = mapped_column(String(64))
    token_enc: Mapped[bytes] = mapped_column(LargeBinary)
    granted_scope: Mapped[str] = mapped_column(Text, default="")
    expires_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    refresh_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class CourseServices(Base):
    """What launches told us about a course's services, and when its roster and grades were last read."""

    __tablename__ = "lms_course_services"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"), index=True)
    context_id: Mapped[int] = mapped_column(ForeignKey("contexts.id", ondelete="CASCADE"), unique=True)
    lineitems_url: Mapped[str | None] = mapped_column(URL)
    memberships_url: Mapped[str | None] = mapped_column(URL)
    ags_scopes: Mapped[str] = mapped_column(Text, default="")  # the AGS claim's scope list, space-separated
    product_family_code: Mapped[str | None] = mapped_column(String(64))
    last_launch_id: Mapped[int] = mapped_column(Integer, default=0)
    next_roster_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    roster_synced_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    roster_count: Mapped[int | None] = mapped_column(Integer)
    roster_error: Mapped[str | None] = mapped_column(Text)
    next_readback_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    readback_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    readback_error: Mapped[str | None] = mapped_column(Text)
    readback_report: Mapped[str | None] = mapped_column(Text)  # JSON: per module, what the last read-back read
    updated_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class GradebookColumn(Base):
    """The LMS line item of a module or a micro-credential in one course.

    A row without lineitem_url is a reservation: one worker is finding or creating the column, so two
    workers never create two columns for the same thing.
    """

    __tablename__ = "lms_columns"
    __table_args__ = (UniqueConstraint("context_id", "subject_kind", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"), index=True)
    context_id: Mapped[int] = mapped_column(ForeignKey("contexts.id", ondelete="CASCADE"))
    subject_kind: Mapped[str] = mapped_column(String(16))  # module | credential
    subject_id: Mapped[int] = mapped_column(Integer)
    lineitem_url: Mapped[str | None] = mapped_column(URL)
    label: Mapped[str] = mapped_column(String(255), default="")
    score_maximum: Mapped[float] = mapped_column(Float, default=100.0)
    tag: Mapped[str] = mapped_column(String(64), default="")
    resource_id: Mapped[str] = mapped_column(String(64), default="")
    lti_resource_link_id: Mapped[str | None] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(16), default="reserved")  # deep_link | found | created | reserved
    reserved_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Delivery(Base):
    """Per ordering key (one column and learner): what the LMS last accepted, and why not if it failed."""

    __tablename__ = "lms_deliveries"
    __table_args__ = (Index("ix_lms_deliveries_context_learner", "context_id", "learner_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ordering_key: Mapped[str] = mapped_column(String(200), unique=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"))
    context_id: Mapped[int] = mapped_column(ForeignKey("contexts.id", ondelete="CASCADE"))
    subject_kind: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[int] = mapped_column(Integer)
    learner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # sent | retrying | waiting | failed | lms_newer
    state: Mapped[str] = mapped_column(String(16))
    score_given: Mapped[float | None] = mapped_column(Float)
    score_maximum: Mapped[float | None] = mapped_column(Float)
    score_timestamp: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)  # of the last score the LMS took
    sent_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_message_id: Mapped[int | None] = mapped_column(Integer)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    http_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    updated_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class RosterEntry(Base):
    """A member of a course as NRPS lists it, including people who never launched the tool."""

    __tablename__ = "lms_roster"
    __table_args__ = (UniqueConstraint("context_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    context_id: Mapped[int] = mapped_column(ForeignKey("contexts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | inactive | withdrawn
    role: Mapped[str] = mapped_column(String(16), default="learner")
    lti_roles: Mapped[str] = mapped_column(Text, default="[]")
    first_seen_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class OutboxLease(Base):
    """A worker's claim on an outbox row until claimed_until; an expired lease (crashed worker) is free."""

    __tablename__ = "outbox_leases"

    message_id: Mapped[int] = mapped_column(ForeignKey("outbox.id", ondelete="CASCADE"), primary_key=True)
    worker: Mapped[str] = mapped_column(String(64))
    claimed_until: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


class WorkerHeartbeat(Base):
    """A delivery loop's last sign of life, written every few rounds: operators and the metrics endpoint see
    which workers run, where, and since when they have been silent."""

    __tablename__ = "worker_heartbeats"

    worker: Mapped[str] = mapped_column(String(64), primary_key=True)
    started_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    seen_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    delivered: Mapped[int] = mapped_column(Integer, default=0)
