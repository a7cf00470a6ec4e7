"""Badge art: a micro-credential's own uploaded badge image (badge_images), and the issuer's brand colour for the
generated design (issuer_profiles.brand_color, nullable). Additive only.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08 15:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lti_microcred.core.db import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "badge_images",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("micro_credential_id", sa.Integer(), nullable=False),
        sa.Column("media_type", sa.String(length=32), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("png_copy", sa.LargeBinary(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_dt", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["micro_credential_id"], ["micro_credentials.id"],
                                name=op.f("fk_badge_images_micro_credential_id_micro_credentials"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["uploaded_by_id"], ["users.id"], name=op.f("fk_badge_images_uploaded_by_id_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_badge_images")),
        sa.UniqueConstraint("micro_credential_id", name=op.f("uq_badge_images_micro_credential_id")),
    )
    op.add_column("issuer_profiles", sa.Column("brand_color", sa.String(length=7), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("issuer_profiles") as batch:
        batch.drop_column("brand_color")
    op.drop_table("badge_images")
