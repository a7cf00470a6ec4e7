"""Credential issuing: issuer profile and keys, issued credentials with their exact signed bytes, status lists.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 19:14:48.127952
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lti_microcred.core.db import UTCDateTime

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('issuer_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('algorithm', sa.String(length=16), nullable=False),
    sa.Column('fragment', sa.String(length=100), nullable=False),
    sa.Column('public_key', sa.Text(), nullable=False),
    sa.Column('private_key_enc', sa.LargeBinary(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_dt', UTCDateTime(), nullable=False),
    sa.Column('retired_dt', UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_issuer_keys')),
    sa.UniqueConstraint('fragment', name=op.f('uq_issuer_keys_fragment'))
    )
    op.create_table('issuer_profiles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('url', sa.String(length=2048), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('street_address', sa.String(length=300), nullable=False),
    sa.Column('locality', sa.String(length=120), nullable=False),
    sa.Column('postal_code', sa.String(length=40), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('image_url', sa.String(length=2048), nullable=False),
    sa.Column('created_dt', UTCDateTime(), nullable=False),
    sa.Column('updated_dt', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_issuer_profiles'))
    )
    op.create_table('status_lists',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=40), nullable=False),
    sa.Column('purpose', sa.String(length=16), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('bits', sa.LargeBinary(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_dt', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_status_lists')),
    sa.UniqueConstraint('public_id', name=op.f('uq_status_lists_public_id'))
    )
    op.create_table('issued_credentials',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=40), nullable=False),
    sa.Column('award_id', sa.Integer(), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('learner_id', sa.Integer(), nullable=False),
    sa.Column('micro_credential_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('signed_json', sa.Text(), nullable=False),
    sa.Column('signed_jwt', sa.Text(), nullable=True),
    sa.Column('issued_dt', UTCDateTime(), nullable=False),
    sa.Column('valid_until', UTCDateTime(), nullable=True),
    sa.Column('superseded_dt', UTCDateTime(), nullable=True),
    sa.Column('status_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['award_id'], ['awards.id'], name=op.f('fk_issued_credentials_award_id_awards'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['learner_id'], ['users.id'], name=op.f('fk_issued_credentials_learner_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['micro_credential_id'], ['micro_credentials.id'], name=op.f('fk_issued_credentials_micro_credential_id_micro_credentials'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['platform_id'], ['platforms.id'], name=op.f('fk_issued_credentials_platform_id_platforms'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_issued_credentials')),
    sa.UniqueConstraint('public_id', name=op.f('uq_issued_credentials_public_id'))
    )
    with op.batch_alter_table('issued_credentials', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_issued_credentials_award_id'), ['award_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_issued_credentials_learner_id'), ['learner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_issued_credentials_platform_id'), ['platform_id'], unique=False)
        batch_op.create_index('uq_issued_credentials_current', ['award_id'], unique=True, sqlite_where=sa.text('superseded_dt IS NULL'), postgresql_where=sa.text('superseded_dt IS NULL'))

    op.create_table('status_slots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('status_list_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('issued_credential_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['issued_credential_id'], ['issued_credentials.id'], name=op.f('fk_status_slots_issued_credential_id_issued_credentials'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['status_list_id'], ['status_lists.id'], name=op.f('fk_status_slots_status_list_id_status_lists'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_status_slots')),
    sa.UniqueConstraint('status_list_id', 'position', name=op.f('uq_status_slots_status_list_id_position'))
    )
    with op.batch_alter_table('status_slots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_status_slots_issued_credential_id'), ['issued_credential_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('status_slots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_status_slots_issued_credential_id'))

    op.drop_table('status_slots')
    with op.batch_alter_table('issued_credentials', schema=None) as batch_op:
        batch_op.drop_index('uq_issued_credentials_current', sqlite_where=sa.text('superseded_dt IS NULL'), postgresql_where=sa.text('superseded_dt IS NULL'))
        batch_op.drop_index(batch_op.f('ix_issued_credentials_platform_id'))
        batch_op.drop_index(batch_op.f('ix_issued_credentials_learner_id'))
        batch_op.drop_index(batch_op.f('ix_issued_credentials_award_id'))

    op.drop_table('issued_credentials')
    op.drop_table('status_lists')
    op.drop_table('issuer_profiles')
    op.drop_table('issuer_keys')
