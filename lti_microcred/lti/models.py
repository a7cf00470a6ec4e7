"""Tables of the LTI layer: who may launch us (platforms, deployments), our keys, and what launches tell us.

Tenancy: institution -> platform (issuer + client_id) -> deployment -> context (course) -> resource link.
Users belong to a platform. Every identifier from the LMS is stored next to the row it is scoped by, so a
course id of one platform can never be confused with the same id from another.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint, case, event, insert, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from lti_microcred.core.db import Base, TimestampMixin, UTCDateTime, utcnow

URL = String(2048)
LTI_ID = String(255)
ROOT_SLUG = "default"
DEFAULT_INSTITUTION_NAME = "Default institution"
# Hosted Canvas signs for every school with one issuer: the same issuer says nothing about the institution there.
SHARED_ISSUERS = frozenset({"https://canvas.instructure.com", "https://canvas.beta.instructure.com",
                            "https://canvas.test.instructure.com"})


class Institution(TimestampMixin, Base):
    """The tenant above LMS registrations (one Moodle site; one Canvas account with several client ids): it
    issues credentials in its own name, with its own keys, did:web and status lists."""

    __tablename__ = "institutions"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)  # the path of its did:web under the tool's host
    name: Mapped[str] = mapped_column(String(200))
    # The first institution keeps did:web of the host itself, so credentials issued before there were
    # institutions keep verifying; every other one is did:web:<host>:institutions:<slug>.
    at_host_root: Mapped[bool] = mapped_column(default=False)


class Platform(TimestampMixin, Base):
    """One registration of the tool in an LMS: an issuer and the client_id it gave us."""

    __tablename__ = "platforms"
    __table_args__ = (UniqueConstraint("issuer", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # A registration without one joins the institution at the host root (see lti.institutions).
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    issuer: Mapped[str] = mapped_column(LTI_ID)
    client_id: Mapped[str] = mapped_column(LTI_ID)
    auth_login_url: Mapped[str] = mapped_column(URL)
    auth_token_url: Mapped[str] = mapped_column(URL)
    auth_audience: Mapped[str | None] = mapped_column(URL)
    key_set_url: Mapped[str | None] = mapped_column(URL)
    key_set_json: Mapped[str | None] = mapped_column(Text)
    # active | pending (registered, waiting for an admin) | disabled
    status: Mapped[str] = mapped_column(String(16), default="active")
    # What an unseen deployment id of this client gets: "hold" (admin activates) or "accept".
    deployment_policy: Mapped[str] = mapped_column(String(8), default="hold")
    product_family_code: Mapped[str | None] = mapped_column(String(64))
    # manual | dynamic | demo
    source: Mapped[str] = mapped_column(String(16), default="manual")
    granted_scopes: Mapped[str] = mapped_column(Text, default="")

    deployments: Mapped[list[Deployment]] = relationship(
        back_populates="platform", cascade="all, delete-orphan", passive_deletes=True
    )


class Deployment(Base):
    """A deployment id the platform sends in launches; held ones wait for an admin."""

    __tablename__ = "deployments"
    __table_args__ = (UniqueConstraint("platform_id", "lti_deployment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"))
    lti_deployment_id: Mapped[str] = mapped_column(LTI_ID)
    # active | held | disabled
    status: Mapped[str] = mapped_column(String(16), default="active")
    first_seen_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    activated_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    platform: Mapped[Platform] = relationship(back_populates="deployments")


class ToolKey(Base):
    """One RSA key pair of the tool; the private half is stored encrypted, never in clear."""

    __tablename__ = "tool_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    # next (published, not yet signing) | current (signing) | retired (published until it lapses)
    status: Mapped[str] = mapped_column(String(16))
    public_jwk: Mapped[str] = mapped_column(Text)
    private_key_enc: Mapped[bytes] = mapped_column(LargeBinary)
    created_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    activated_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    retired_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class User(TimestampMixin, Base):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("platform_id", "sub"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"))
    sub: Mapped[str] = mapped_column(LTI_ID)
    name: Mapped[str | None] = mapped_column(String(255))
    given_name: Mapped[str | None] = mapped_column(String(255))
    family_name: Mapped[str | None] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(320))

    @property
    def display_name(self) -> str:
        full = " ".join(p for p in (self.given_name, self.family_name) if p)
        return self.name or full or self.email or f"User {self.sub}"


class Context(TimestampMixin, Base):
    """A course (or other context) of one deployment."""

    __tablename__ = "contexts"
    __table_args__ = (UniqueConstraint("deployment_id", "lti_context_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"), index=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployments.id", ondelete="CASCADE"))
    lti_context_id: Mapped[str] = mapped_column(LTI_ID)
    title: Mapped[str | None] = mapped_column(String(255))
    label: Mapped[str | None] = mapped_column(String(255))


class ResourceLink(TimestampMixin, Base):
    """A placement of the tool in a course; custom parameters say which module it shows."""

    __tablename__ = "resource_links"
    __table_args__ = (UniqueConstraint("deployment_id", "lti_resource_link_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"), index=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployments.id", ondelete="CASCADE"))
    context_id: Mapped[int | None] = mapped_column(ForeignKey("contexts.id", ondelete="CASCADE"), index=True)
    lti_resource_link_id: Mapped[str] = mapped_column(LTI_ID)
    title: Mapped[str | None] = mapped_column(String(255))
    module_key: Mapped[str | None] = mapped_column(String(64))
    lineitem_url: Mapped[str | None] = mapped_column(URL)
    lineitems_url: Mapped[str | None] = mapped_column(URL)


class Membership(TimestampMixin, Base):
    """A user's role in a context, as the latest launch stated it."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("context_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    context_id: Mapped[int] = mapped_column(ForeignKey("contexts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    lti_roles: Mapped[str] = mapped_column(Text, default="[]")


class LaunchSession(Base):
    """The tool's own session after a launch, carried as a token in the URL (no third-party cookie).

    Its unique nonce is also the replay guard: an id_token's nonce is accepted once.
    """

    __tablename__ = "launch_sessions"
    __table_args__ = (Index("ix_launch_sessions_expires_dt", "expires_dt"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    nonce: Mapped[str] = mapped_column(String(128), unique=True)
    id_token_hash: Mapped[str] = mapped_column(String(64))
    state_hash: Mapped[str] = mapped_column(String(64))
    # pending (waiting for platform-storage confirmation) | active
    status: Mapped[str] = mapped_column(String(16))
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"), index=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployments.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    context_id: Mapped[int | None] = mapped_column(ForeignKey("contexts.id", ondelete="CASCADE"), index=True)
    resource_link_id: Mapped[int | None] = mapped_column(
        ForeignKey("resource_links.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(16))
    message_type: Mapped[str] = mapped_column(String(40))
    claims_json: Mapped[str] = mapped_column(Text, default="{}")
    # The launch request's id: every page opened with this session logs it (see core/request_ids.py).
    request_id: Mapped[str | None] = mapped_column(String(32))
    created_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime)


def root_institution(session: Session) -> Institution:
    """The institution whose issuer is did:web of the host itself (made on first use)."""
    found = session.scalars(select(Institution).where(Institution.at_host_root.is_(True))).first()
    if found is None:
        found = Institution(slug=ROOT_SLUG, name=DEFAULT_INSTITUTION_NAME, at_host_root=True)
        session.add(found)
        session.flush()
    return found


def same_lms_institution(issuer: str) -> Any:
    """The institution a new registration of this issuer joins: that of the LMS's earliest active registration,
    else of its earliest one at all (a pending registration came from the public registration URL, which anyone
    can open: it never outranks one an administrator made or approved)."""
    return (select(Platform.institution_id).where(Platform.issuer == issuer)
            .order_by(case((Platform.status == "active", 0), else_=1), Platform.id).limit(1))


@event.listens_for(Platform, "before_insert")
def _default_institution(_mapper: Any, connection: Any, platform: Platform) -> None:
    """A registration stored without an institution joins the one of an earlier registration of the same LMS
    (same issuer, except on hosted Canvas), else the institution at the host root (made if there is none)."""
    if platform.institution_id is not None:
        return
    if platform.issuer not in SHARED_ISSUERS:
        platform.institution_id = connection.scalar(same_lms_institution(platform.issuer))
    if platform.institution_id is None:
        platform.institution_id = connection.scalar(select(Institution.id).where(Institution.at_host_root.is_(True))
                                                    .limit(1))
    if platform.institution_id is None:
        platform.institution_id = connection.execute(insert(Institution).values(
            slug=ROOT_SLUG, name=DEFAULT_INSTITUTION_NAME, at_host_root=True)).inserted_primary_key[0]
