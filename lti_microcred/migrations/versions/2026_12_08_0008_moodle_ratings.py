"""Competency ratings in Moodle: the web-service settings of a registration (Moodle's address, the sealed token,
on or off, the last problem an administrator must fix). What each rating became is kept in lms_deliveries.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08 12:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lti_microcred.core.db import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "moodle_rating_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("base_url", sa.String(length=2048), nullable=False),
        sa.Column("token_enc", sa.LargeBinary(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_dt", UTCDateTime(), nullable=True),
        sa.Column("checked_dt", UTCDateTime(), nullable=True),
        sa.Column("created_dt", UTCDateTime(), nullable=False),
        sa.Column("updated_dt", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["platform_id"], ["platforms.id"],
                                name=op.f("fk_moodle_rating_settings_platform_id_platforms"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moodle_rating_settings")),
        sa.UniqueConstraint("platform_id", name=op.f("uq_moodle_rating_settings_platform_id")),
    )


def downgrade() -> None:
    op.drop_table("moodle_rating_settings")
