"""Institutions: the tenant above LMS registrations, each with its own issuer profile, keys and status lists.

Everything that exists joins one institution at the host root, whose issuer stays did:web of the host, so
every credential issued before keeps its issuer and verifies as before.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 21:50:00.000000
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

from lti_microcred.core.db import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

OWNED = ("platforms", "issuer_profiles", "issuer_keys", "status_lists")
ON_DELETE = {"platforms": "RESTRICT", "issuer_profiles": "CASCADE", "issuer_keys": "CASCADE",
             "status_lists": "CASCADE"}


def upgrade() -> None:
    op.create_table(
        "institutions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("at_host_root", sa.Boolean(), nullable=False),
        sa.Column("created_dt", UTCDateTime(), nullable=False),
        sa.Column("updated_dt", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_institutions")),
        sa.UniqueConstraint("slug", name=op.f("uq_institutions_slug")),
    )
    root_id = _insert_root_institution()
    for table in OWNED:
        _add_owner(table, root_id)
    with op.batch_alter_table("issuer_profiles", schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f("uq_issuer_profiles_institution_id"), ["institution_id"])
        batch_op.add_column(sa.Column("linkedin_organization_id", sa.String(length=20), nullable=False,
                                      server_default=""))


def _insert_root_institution() -> int:
    bind = op.get_bind()
    name = bind.execute(sa.text("SELECT name FROM issuer_profiles ORDER BY id LIMIT 1")).scalar()
    now = dt.datetime.now(dt.UTC)
    institutions = sa.table("institutions", sa.column("slug"), sa.column("name"), sa.column("at_host_root"),
                            sa.column("created_dt", UTCDateTime()), sa.column("updated_dt", UTCDateTime()))
    bind.execute(institutions.insert().values(slug="default", name=name or "Default institution", at_host_root=True,
                                              created_dt=now, updated_dt=now))
    return int(bind.execute(sa.text("SELECT id FROM institutions WHERE slug = 'default'")).scalar_one())


def _add_owner(table: str, root_id: int) -> None:
    """A nullable column first, every existing row given to the root institution, then NOT NULL with its key."""
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.add_column(sa.Column("institution_id", sa.Integer(), nullable=True))
    op.execute(sa.text(f"UPDATE {table} SET institution_id = :root").bindparams(root=root_id))  # noqa: S608
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.alter_column("institution_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(batch_op.f(f"fk_{table}_institution_id_institutions"), "institutions",
                                    ["institution_id"], ["id"], ondelete=ON_DELETE[table])
        if table != "issuer_profiles":
            batch_op.create_index(batch_op.f(f"ix_{table}_institution_id"), ["institution_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("issuer_profiles", schema=None) as batch_op:
        batch_op.drop_column("linkedin_organization_id")
        batch_op.drop_constraint(batch_op.f("uq_issuer_profiles_institution_id"), type_="unique")
    for table in OWNED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            if table != "issuer_profiles":
                batch_op.drop_index(batch_op.f(f"ix_{table}_institution_id"))
            batch_op.drop_constraint(batch_op.f(f"fk_{table}_institution_id_institutions"), type_="foreignkey")
            batch_op.drop_column("institution_id")
    op.drop_table("institutions")
