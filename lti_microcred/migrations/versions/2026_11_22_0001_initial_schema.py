"""Initial schema: platforms, deployments, tool keys, users, courses, links, launches, modules.

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 18:35:39.843763
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lti_microcred.core.db import UTCDateTime

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('platforms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('issuer', sa.String(length=255), nullable=False),
    sa.Column('client_id', sa.String(length=255), nullable=False),
    sa.Column('auth_login_url', sa.String(length=2048), nullable=False),
    sa.Column('auth_token_url', sa.String(length=2048), nullable=False),
    sa.Column('auth_audience', sa.String(length=2048), nullable=True),
    sa.Column('key_set_url', sa.String(length=2048), nullable=True),
    sa.Column('key_set_json', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('deployment_policy', sa.String(length=8), nullable=False),
    sa.Column('product_family_code', sa.String(length=64), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('granted_scopes', sa.Text(), nullable=False),
    sa.Column('created_dt', UTCDateTime(), nullable=False),
    sa.Column('updated_dt', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_platforms')),
    sa.UniqueConstraint('issuer', 'client_id', name=op.f('uq_platforms_issuer_client_id'))
    )
    op.create_table('tool_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kid', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('public_jwk', sa.Text(), nullable=False),
    sa.Column('private_key_enc', sa.LargeBinary(), nullable=False),
    sa.Column('created_dt', UTCDateTime(), nullable=False),
    sa.Column('activated_dt', UTCDateTime(), nullable=True),
    sa.Column('retired_dt', UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tool_keys')),
    sa.UniqueConstraint('kid', name=op.f('uq_tool_keys_kid'))
    )
    op.create_table('deployments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('lti_deployment_id', sa.String(length=255), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('first_seen_dt', UTCDateTime(), nullable=False),
    sa.Column('activated_dt', UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['platform_id'], ['platforms.id'], name=op.f('fk_deployments_platform_id_platforms'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deployments')),
    sa.UniqueConstraint('platform_id', 'lti_deployment_id', name=op.f('uq_deployments_platform_id_lti_deployment_id'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('sub', sa.String(length=255), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=True),
    sa.Column('given_name', sa.String(length=255), nullable=True),
    sa.Column('family_name', sa.String(length=255), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('created_dt', UTCDateTime(), nullable=False),
    sa.Column('updated_dt', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['platform_id'], ['platforms.id'], name=op.f('fk_users_platform_id_platforms'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('platform_id', 'sub', name=op.f('uq_users_platform_id_sub'))
    )
    op.create_table('contexts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('deployment_id', sa.Integer(), nullable=False),
    sa.Column('lti_context_id', sa.String(length=255), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=True),
    sa.Column('label', sa.String(length=255), nullable=True),
    sa.Column('created_dt', UTCDateTime(), nullable=False),
    sa.Column('updated_dt', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['deployment_id'], ['deployments.id'], name=op.f('fk_contexts_deployment_id_deployments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['platform_id'], ['platforms.id'], name=op.f('fk_contexts_platform_id_platforms'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contexts')),
    sa.UniqueConstraint('deployment_id', 'lti_context_id', name=op.f('uq_contexts_deployment_id_lti_context_id'))
    )
    with op.batch_alter_table('contexts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contexts_platform_id'), ['platform_id'], unique=False)

    op.create_table('memberships',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('context_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('lti_roles', sa.Text(), nullable=False),
    sa.Column('created_dt', UTCDateTime(), nullable=False),
    sa.Column('updated_dt', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['context_id'], ['contexts.id'], name=op.f('fk_memberships_context_id_contexts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_memberships_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_memberships')),
    sa.UniqueConstraint('context_id', 'user_id', name=op.f('uq_memberships_context_id_user_id'))
    )
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_memberships_user_id'), ['user_id'], unique=False)

    op.create_table('modules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=32), nullable=False),
    sa.Column('context_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('score_maximum', sa.Float(), nullable=False),
    sa.Column('created_dt', UTCDateTime(), nullable=False),
    sa.Column('updated_dt', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['context_id'], ['contexts.id'], name=op.f('fk_modules_context_id_contexts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_modules')),
    sa.UniqueConstraint('key', name=op.f('uq_modules_key'))
    )
    with op.batch_alter_table('modules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_modules_context_id'), ['context_id'], unique=False)

    op.create_table('resource_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('deployment_id', sa.Integer(), nullable=False),
    sa.Column('context_id', sa.Integer(), nullable=True),
    sa.Column('lti_resource_link_id', sa.String(length=255), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=True),
    sa.Column('module_key', sa.String(length=64), nullable=True),
    sa.Column('lineitem_url', sa.String(length=2048), nullable=True),
    sa.Column('lineitems_url', sa.String(length=2048), nullable=True),
    sa.Column('created_dt', UTCDateTime(), nullable=False),
    sa.Column('updated_dt', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['context_id'], ['contexts.id'], name=op.f('fk_resource_links_context_id_contexts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['deployment_id'], ['deployments.id'], name=op.f('fk_resource_links_deployment_id_deployments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['platform_id'], ['platforms.id'], name=op.f('fk_resource_links_platform_id_platforms'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resource_links')),
    sa.UniqueConstraint('deployment_id', 'lti_resource_link_id', name=op.f('uq_resource_links_deployment_id_lti_resource_link_id'))
    )
    with op.batch_alter_table('resource_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_resource_links_context_id'), ['context_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_resource_links_platform_id'), ['platform_id'], unique=False)

    op.create_table('launch_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('nonce', sa.String(length=128), nullable=False),
    sa.Column('id_token_hash', sa.String(length=64), nullable=False),
    sa.Column('state_hash', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('deployment_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('context_id', sa.Integer(), nullable=True),
    sa.Column('resource_link_id', sa.Integer(), nullable=True),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('message_type', sa.String(length=40), nullable=False),
    sa.Column('claims_json', sa.Text(), nullable=False),
    sa.Column('created_dt', UTCDateTime(), nullable=False),
    sa.Column('expires_dt', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['context_id'], ['contexts.id'], name=op.f('fk_launch_sessions_context_id_contexts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['deployment_id'], ['deployments.id'], name=op.f('fk_launch_sessions_deployment_id_deployments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['platform_id'], ['platforms.id'], name=op.f('fk_launch_sessions_platform_id_platforms'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resource_link_id'], ['resource_links.id'], name=op.f('fk_launch_sessions_resource_link_id_resource_links'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_launch_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_launch_sessions')),
    sa.UniqueConstraint('nonce', name=op.f('uq_launch_sessions_nonce')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_launch_sessions_token_hash'))
    )
    with op.batch_alter_table('launch_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_launch_sessions_context_id'), ['context_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_launch_sessions_deployment_id'), ['deployment_id'], unique=False)
        batch_op.create_index('ix_launch_sessions_expires_dt', ['expires_dt'], unique=False)
        batch_op.create_index(batch_op.f('ix_launch_sessions_platform_id'), ['platform_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_launch_sessions_resource_link_id'), ['resource_link_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_launch_sessions_user_id'), ['user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('launch_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_launch_sessions_user_id'))
        batch_op.drop_index(batch_op.f('ix_launch_sessions_resource_link_id'))
        batch_op.drop_index(batch_op.f('ix_launch_sessions_platform_id'))
        batch_op.drop_index('ix_launch_sessions_expires_dt')
        batch_op.drop_index(batch_op.f('ix_launch_sessions_deployment_id'))
        batch_op.drop_index(batch_op.f('ix_launch_sessions_context_id'))

    op.drop_table('launch_sessions')
    with op.batch_alter_table('resource_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_resource_links_platform_id'))
        batch_op.drop_index(batch_op.f('ix_resource_links_context_id'))

    op.drop_table('resource_links')
    with op.batch_alter_table('modules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_modules_context_id'))

    op.drop_table('modules')
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_memberships_user_id'))

    op.drop_table('memberships')
    with op.batch_alter_table('contexts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contexts_platform_id'))

    op.drop_table('contexts')
    op.drop_table('users')
    op.drop_table('deployments')
    op.drop_table('tool_keys')
    op.drop_table('platforms')
