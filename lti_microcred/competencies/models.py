"""Domain tables. Courses and users are the LTI layer's rows, referenced by table name only."""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, TimestampMixin


class Module(TimestampMixin, Base):
    """A part of a course that is placed in the LMS (Deep Linking) and has a gradebook column."""

    __tablename__ = "modules"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Public, stable id sent to the LMS as the custom parameter of the placed link.
    key: Mapped[str] = mapped_column(String(32), unique=True)
    context_id: Mapped[int] = mapped_column(ForeignKey("contexts.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    score_maximum: Mapped[float] = mapped_column(Float, default=100.0)
