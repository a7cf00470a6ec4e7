"""Operations: a request id on launch sessions and outbox rows (one id follows a launch into its deliveries),
and worker heartbeats (which delivery loops are alive).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-08 00:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lti_microcred.core.db import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "worker_heartbeats",
        sa.Column("worker", sa.String(length=64), nullable=False),
        sa.Column("started_dt", UTCDateTime(), nullable=False),
        sa.Column("seen_dt", UTCDateTime(), nullable=False),
        sa.Column("delivered", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("worker", name=op.f("pk_worker_heartbeats")),
    )
    with op.batch_alter_table("worker_heartbeats", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_worker_heartbeats_seen_dt"), ["seen_dt"], unique=False)
    for table in ("outbox", "launch_sessions"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("request_id", sa.String(length=32), nullable=True))


def downgrade() -> None:
    for table in ("launch_sessions", "outbox"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("request_id")
    with op.batch_alter_table("worker_heartbeats", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_worker_heartbeats_seen_dt"))
    op.drop_table("worker_heartbeats")
