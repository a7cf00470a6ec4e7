"""The Moodle web-service settings of one LMS registration: where Moodle is, the token (sealed), on or off."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lti_microcred.core.db import Base, TimestampMixin, UTCDateTime

SUBJECT = "moodle_rating"  # the subject kind of a rating's delivery row (lms_deliveries)


class MoodleRatingSettings(TimestampMixin, Base):
    """Competency ratings for one registration. The token is a bearer secret: stored sealed (SecretBox), never
    shown; a problem with it (refused, missing a function or a capability) is kept here for the admin."""

    __tablename__ = "moodle_rating_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"), unique=True)
    base_url: Mapped[str] = mapped_column(String(2048))  # Moodle's wwwroot (the issuer, unless told otherwise)
    token_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    checked_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)  # last check that the token works
