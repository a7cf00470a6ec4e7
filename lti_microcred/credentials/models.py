"""Tables of credential issuing: each institution's issuer profile and signing keys, the signed credentials
exactly as issued, and each institution's status lists that revoke or suspend them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from lti_microcred.core.db import Base, TimestampMixin, UTCDateTime, utcnow

INSTITUTION_FK = "institutions.id"


class IssuerProfile(TimestampMixin, Base):
    """The institution as credential issuer: the OB 3.0 Profile embedded in every credential."""

    __tablename__ = "issuer_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey(INSTITUTION_FK, ondelete="CASCADE"), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(String(2048), default="")
    email: Mapped[str] = mapped_column(String(320), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    street_address: Mapped[str] = mapped_column(String(300), default="")
    locality: Mapped[str] = mapped_column(String(120), default="")
    postal_code: Mapped[str] = mapped_column(String(40), default="")
    country: Mapped[str] = mapped_column(String(2), default="")
    image_url: Mapped[str] = mapped_column(String(2048), default="")
    linkedin_organization_id: Mapped[str] = mapped_column(String(20), default="")  # LinkedIn's numeric company id
    brand_color: Mapped[str | None] = mapped_column(String(7))  # "#RRGGBB": the generated badge art's colour


class IssuerKey(Base):
    """A signing key of the issuer. Retired keys stay published so credentials they signed keep verifying."""

    __tablename__ = "issuer_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey(INSTITUTION_FK, ondelete="CASCADE"), index=True)
    # Ed25519 signs Data Integrity proofs; P-256 (ES256) or RSA (RS256) signs VC-JWTs.
    algorithm: Mapped[str] = mapped_column(String(16))  # Ed25519 | ES256 | RS256
    fragment: Mapped[str] = mapped_column(String(100), unique=True)  # the #id within the DID document
    public_key: Mapped[str] = mapped_column(Text)  # publicKeyMultibase (Ed25519) or a public JWK (JSON)
    private_key_enc: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16), default="current")  # current | retired | revoked
    created_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class StatusList(Base):
    """A BitstringStatusList (revocation or suspension) of at least 131,072 entries, for herd privacy."""

    __tablename__ = "status_lists"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey(INSTITUTION_FK, ondelete="CASCADE"), index=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    purpose: Mapped[str] = mapped_column(String(16))  # revocation | suspension
    size: Mapped[int] = mapped_column(Integer)
    bits: Mapped[bytes] = mapped_column(LargeBinary)
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class StatusSlot(Base):
    """An index taken in a status list (chosen at random), and the credential that owns it."""

    __tablename__ = "status_slots"
    __table_args__ = (UniqueConstraint("status_list_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    status_list_id: Mapped[int] = mapped_column(ForeignKey("status_lists.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    issued_credential_id: Mapped[int] = mapped_column(ForeignKey("issued_credentials.id", ondelete="CASCADE"),
                                                      index=True)


class IssuedCredential(Base):
    """One signed OpenBadgeCredential, stored with the exact bytes that were signed. One current per award:
    a re-issue (after a change) supersedes the previous one, keeps awardedDate, and gets a new id."""

    __tablename__ = "issued_credentials"
    __table_args__ = (
        Index("uq_issued_credentials_current", "award_id", unique=True,
              sqlite_where=text("superseded_dt IS NULL"), postgresql_where=text("superseded_dt IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id", ondelete="CASCADE"), index=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"), index=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    micro_credential_id: Mapped[int] = mapped_column(ForeignKey("micro_credentials.id", ondelete="CASCADE"))
    # active | revoked | suspended (the status lists say the same; this is the quick answer for our pages)
    status: Mapped[str] = mapped_column(String(16), default="active")
    signed_json: Mapped[str] = mapped_column(Text)  # byte-exact JSON as signed (UTF-8)
    signed_jwt: Mapped[str | None] = mapped_column(Text)
    issued_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    valid_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    superseded_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    status_reason: Mapped[str | None] = mapped_column(Text)


class BadgeArt(Base):
    """A micro-credential's own badge image, uploaded by its staff: a re-encoded PNG or a sanitised SVG (with, for
    an SVG, an optional PNG of the same picture for the PNG badge). Without a row, the generated design is used."""

    __tablename__ = "badge_images"

    id: Mapped[int] = mapped_column(primary_key=True)
    micro_credential_id: Mapped[int] = mapped_column(ForeignKey("micro_credentials.id", ondelete="CASCADE"),
                                                     unique=True)
    media_type: Mapped[str] = mapped_column(String(32))  # image/png | image/svg+xml
    content: Mapped[bytes] = mapped_column(LargeBinary)
    png_copy: Mapped[bytes | None] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))  # of `content`: the picture's version, for caches
    filename: Mapped[str] = mapped_column(String(255), default="")
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
