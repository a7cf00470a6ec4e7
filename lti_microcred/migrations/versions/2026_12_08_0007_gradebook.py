"""Gradebook: whether a micro-credential has a credential column in the LMS gradebook (on by default, as
before), and what the last grade read-back of a course read, per module.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08 00:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("micro_credentials", schema=None) as batch_op:
        batch_op.add_column(sa.Column("gradebook_column", sa.Boolean(), server_default=sa.true(), nullable=False))
    with op.batch_alter_table("lms_course_services", schema=None) as batch_op:
        batch_op.add_column(sa.Column("readback_report", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("lms_course_services", schema=None) as batch_op:
        batch_op.drop_column("readback_report")
    with op.batch_alter_table("micro_credentials", schema=None) as batch_op:
        batch_op.drop_column("gradebook_column")
