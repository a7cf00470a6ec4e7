"""LMS services: shared access tokens, course service URLs and sync status, gradebook columns, delivery state
per column and learner, the NRPS roster, outbox leases (and an index for ordered delivery).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 20:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lti_microcred.core.db import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lms_access_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("scope_key", sa.String(length=64), nullable=False),
        sa.Column("token_enc", sa.LargeBinary(), nullable=False),
        sa.Column("granted_scope", sa.Text(), nullable=False),
        sa.Column("expires_dt", UTCDateTime(), nullable=False),
        sa.Column("refresh_dt", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["platforms.id"],
            name=op.f("fk_lms_access_tokens_platform_id_platforms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lms_access_tokens")),
        sa.UniqueConstraint("platform_id", "scope_key", name=op.f("uq_lms_access_tokens_platform_id_scope_key")),
    )
    op.create_table(
        "outbox_leases",
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(length=64), nullable=False),
        sa.Column("claimed_until", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"], ["outbox.id"], name=op.f("fk_outbox_leases_message_id_outbox"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_outbox_leases")),
    )
    op.create_index(op.f("ix_outbox_leases_claimed_until"), "outbox_leases", ["claimed_until"], unique=False)
    op.create_table(
        "lms_columns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("context_id", sa.Integer(), nullable=False),
        sa.Column("subject_kind", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("lineitem_url", sa.String(length=2048), nullable=True),
        sa.Column("label", sa.String(length=255), nullable=False),
        sa.Column("score_maximum", sa.Float(), nullable=False),
        sa.Column("tag", sa.String(length=64), nullable=False),
        sa.Column("resource_id", sa.String(length=64), nullable=False),
        sa.Column("lti_resource_link_id", sa.String(length=255), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("reserved_until", UTCDateTime(), nullable=True),
        sa.Column("created_dt", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["context_id"], ["contexts.id"], name=op.f("fk_lms_columns_context_id_contexts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["platforms.id"], name=op.f("fk_lms_columns_platform_id_platforms"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lms_columns")),
        sa.UniqueConstraint(
            "context_id", "subject_kind", "subject_id", name=op.f("uq_lms_columns_context_id_subject_kind_subject_id")
        ),
    )
    op.create_index(op.f("ix_lms_columns_platform_id"), "lms_columns", ["platform_id"], unique=False)
    op.create_table(
        "lms_course_services",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("context_id", sa.Integer(), nullable=False),
        sa.Column("lineitems_url", sa.String(length=2048), nullable=True),
        sa.Column("memberships_url", sa.String(length=2048), nullable=True),
        sa.Column("ags_scopes", sa.Text(), nullable=False),
        sa.Column("product_family_code", sa.String(length=64), nullable=True),
        sa.Column("last_launch_id", sa.Integer(), nullable=False),
        sa.Column("next_roster_dt", UTCDateTime(), nullable=True),
        sa.Column("roster_synced_dt", UTCDateTime(), nullable=True),
        sa.Column("roster_count", sa.Integer(), nullable=True),
        sa.Column("roster_error", sa.Text(), nullable=True),
        sa.Column("next_readback_dt", UTCDateTime(), nullable=True),
        sa.Column("readback_dt", UTCDateTime(), nullable=True),
        sa.Column("readback_error", sa.Text(), nullable=True),
        sa.Column("updated_dt", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["context_id"], ["contexts.id"], name=op.f("fk_lms_course_services_context_id_contexts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["platforms.id"],
            name=op.f("fk_lms_course_services_platform_id_platforms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lms_course_services")),
        sa.UniqueConstraint("context_id", name=op.f("uq_lms_course_services_context_id")),
    )
    op.create_index(
        op.f("ix_lms_course_services_next_readback_dt"), "lms_course_services", ["next_readback_dt"], unique=False
    )
    op.create_index(
        op.f("ix_lms_course_services_next_roster_dt"), "lms_course_services", ["next_roster_dt"], unique=False
    )
    op.create_index(op.f("ix_lms_course_services_platform_id"), "lms_course_services", ["platform_id"], unique=False)
    op.create_table(
        "lms_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ordering_key", sa.String(length=200), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("context_id", sa.Integer(), nullable=False),
        sa.Column("subject_kind", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("score_given", sa.Float(), nullable=True),
        sa.Column("score_maximum", sa.Float(), nullable=True),
        sa.Column("score_timestamp", UTCDateTime(), nullable=True),
        sa.Column("sent_dt", UTCDateTime(), nullable=True),
        sa.Column("last_message_id", sa.Integer(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("updated_dt", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["context_id"], ["contexts.id"], name=op.f("fk_lms_deliveries_context_id_contexts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["learner_id"], ["users.id"], name=op.f("fk_lms_deliveries_learner_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["platforms.id"], name=op.f("fk_lms_deliveries_platform_id_platforms"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lms_deliveries")),
        sa.UniqueConstraint("ordering_key", name=op.f("uq_lms_deliveries_ordering_key")),
    )
    op.create_index("ix_lms_deliveries_context_learner", "lms_deliveries", ["context_id", "learner_id"], unique=False)
    op.create_table(
        "lms_roster",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("context_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("lti_roles", sa.Text(), nullable=False),
        sa.Column("first_seen_dt", UTCDateTime(), nullable=False),
        sa.Column("last_seen_dt", UTCDateTime(), nullable=False),
        sa.Column("withdrawn_dt", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["context_id"], ["contexts.id"], name=op.f("fk_lms_roster_context_id_contexts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_lms_roster_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lms_roster")),
        sa.UniqueConstraint("context_id", "user_id", name=op.f("uq_lms_roster_context_id_user_id")),
    )
    op.create_index(op.f("ix_lms_roster_user_id"), "lms_roster", ["user_id"], unique=False)
    op.create_index("ix_outbox_ordering_key_status_id", "outbox", ["ordering_key", "status", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_outbox_ordering_key_status_id", table_name="outbox")
    op.drop_index(op.f("ix_lms_roster_user_id"), table_name="lms_roster")
    op.drop_table("lms_roster")
    op.drop_index("ix_lms_deliveries_context_learner", table_name="lms_deliveries")
    op.drop_table("lms_deliveries")
    op.drop_index(op.f("ix_lms_course_services_platform_id"), table_name="lms_course_services")
    op.drop_index(op.f("ix_lms_course_services_next_roster_dt"), table_name="lms_course_services")
    op.drop_index(op.f("ix_lms_course_services_next_readback_dt"), table_name="lms_course_services")
    op.drop_table("lms_course_services")
    op.drop_index(op.f("ix_lms_columns_platform_id"), table_name="lms_columns")
    op.drop_table("lms_columns")
    op.drop_index(op.f("ix_outbox_leases_claimed_until"), table_name="outbox_leases")
    op.drop_table("outbox_leases")
    op.drop_table("lms_access_tokens")
