"""Competency domain: frameworks, micro-credentials, requirements, evidence, assessments, progress,
awards, audit log and the outbox; modules join a micro-credential.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 18:55:18.319597
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lti_microcred.core.db import UTCDateTime

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('frameworks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('identifier', sa.String(length=255), nullable=False),
    sa.Column('uri', sa.String(length=2048), nullable=True),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('version', sa.String(length=64), nullable=True),
    sa.Column('created_dt', UTCDateTime(), nullable=False),
    sa.Column('updated_dt', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['platform_id'], ['platforms.id'], name=op.f('fk_frameworks_platform_id_platforms'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_frameworks')),
    sa.UniqueConstraint('platform_id', 'identifier', name=op.f('uq_frameworks_platform_id_identifier'))
    )
    op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('ordering_key', sa.String(length=200), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('available_dt', UTCDateTime(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_dt', UTCDateTime(), nullable=False),
    sa.Column('completed_dt', UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['platform_id'], ['platforms.id'], name=op.f('fk_outbox_platform_id_platforms'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_due', ['status', 'available_dt'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_platform_id'), ['platform_id'], unique=False)

    op.create_table('competencies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('framework_id', sa.Integer(), nullable=False),
    sa.Column('identifier', sa.String(length=255), nullable=False),
    sa.Column('uri', sa.String(length=2048), nullable=True),
    sa.Column('code', sa.String(length=100), nullable=True),
    sa.Column('short_name', sa.String(length=255), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.Column('created_dt', UTCDateTime(), nullable=False),
    sa.Column('updated_dt', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['framework_id'], ['frameworks.id'], name=op.f('fk_competencies_framework_id_frameworks'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['parent_id'], ['competencies.id'], name=op.f('fk_competencies_parent_id_competencies'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_competencies')),
    sa.UniqueConstraint('framework_id', 'identifier', name=op.f('uq_competencies_framework_id_identifier'))
    )
    with op.batch_alter_table('competencies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_competencies_parent_id'), ['parent_id'], unique=False)

    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('context_id', sa.Integer(), nullable=True),
    sa.Column('learner_id', sa.Integer(), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_label', sa.String(length=255), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('subject', sa.String(length=80), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('created_dt', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_audit_log_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['context_id'], ['contexts.id'], name=op.f('fk_audit_log_context_id_contexts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['learner_id'], ['users.id'], name=op.f('fk_audit_log_learner_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['platform_id'], ['platforms.id'], name=op.f('fk_audit_log_platform_id_platforms'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_context_learner', ['context_id', 'learner_id'], unique=False)

    op.create_table('micro_credentials',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=32), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('context_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('learning_outcomes', sa.Text(), nullable=False),
    sa.Column('workload_hours', sa.Float(), nullable=True),
    sa.Column('ects_credits', sa.Float(), nullable=True),
    sa.Column('eqf_level', sa.Integer(), nullable=True),
    sa.Column('national_level', sa.String(length=100), nullable=True),
    sa.Column('assessment_type', sa.String(length=200), nullable=False),
    sa.Column('participation_form', sa.String(length=32), nullable=False),
    sa.Column('quality_assurance', sa.String(length=300), nullable=False),
    sa.Column('awarding_body', sa.String(length=200), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('prerequisites', sa.Text(), nullable=False),
    sa.Column('supervision', sa.Text(), nullable=False),
    sa.Column('validity_months', sa.Integer(), nullable=True),
    sa.Column('stackable', sa.Boolean(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('pathway_rule', sa.String(length=16), nullable=True),
    sa.Column('pathway_k', sa.Integer(), nullable=True),
    sa.Column('pathway_credits', sa.Float(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_dt', UTCDateTime(), nullable=False),
    sa.Column('updated_dt', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['context_id'], ['contexts.id'], name=op.f('fk_micro_credentials_context_id_contexts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_micro_credentials_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['platform_id'], ['platforms.id'], name=op.f('fk_micro_credentials_platform_id_platforms'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_micro_credentials')),
    sa.UniqueConstraint('key', name=op.f('uq_micro_credentials_key'))
    )
    with op.batch_alter_table('micro_credentials', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_micro_credentials_context_id'), ['context_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_micro_credentials_platform_id'), ['platform_id'], unique=False)

    op.create_table('awards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=32), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('micro_credential_id', sa.Integer(), nullable=False),
    sa.Column('learner_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('basis', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('evidence_ids', sa.Text(), nullable=False),
    sa.Column('awarded_dt', UTCDateTime(), nullable=False),
    sa.Column('awarded_by_id', sa.Integer(), nullable=True),
    sa.Column('revoked_dt', UTCDateTime(), nullable=True),
    sa.Column('revoked_by_id', sa.Integer(), nullable=True),
    sa.Column('revoke_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['awarded_by_id'], ['users.id'], name=op.f('fk_awards_awarded_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['learner_id'], ['users.id'], name=op.f('fk_awards_learner_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['micro_credential_id'], ['micro_credentials.id'], name=op.f('fk_awards_micro_credential_id_micro_credentials'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['platform_id'], ['platforms.id'], name=op.f('fk_awards_platform_id_platforms'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['revoked_by_id'], ['users.id'], name=op.f('fk_awards_revoked_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_awards')),
    sa.UniqueConstraint('key', name=op.f('uq_awards_key'))
    )
    with op.batch_alter_table('awards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_awards_learner_id'), ['learner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_awards_micro_credential_id'), ['micro_credential_id'], unique=False)
        batch_op.create_index('uq_awards_active', ['micro_credential_id', 'learner_id'], unique=True, sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))

    op.create_table('competency_progress',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('micro_credential_id', sa.Integer(), nullable=False),
    sa.Column('learner_id', sa.Integer(), nullable=False),
    sa.Column('competency_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('met', sa.Integer(), nullable=False),
    sa.Column('required', sa.Integer(), nullable=False),
    sa.Column('via', sa.String(length=16), nullable=False),
    sa.Column('updated_dt', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['competency_id'], ['competencies.id'], name=op.f('fk_competency_progress_competency_id_competencies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['learner_id'], ['users.id'], name=op.f('fk_competency_progress_learner_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['micro_credential_id'], ['micro_credentials.id'], name=op.f('fk_competency_progress_micro_credential_id_micro_credentials'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_competency_progress')),
    sa.UniqueConstraint('micro_credential_id', 'learner_id', 'competency_id', name=op.f('uq_competency_progress_micro_credential_id_learner_id_competency_id'))
    )
    with op.batch_alter_table('competency_progress', schema=None) as batch_op:
        batch_op.create_index('ix_competency_progress_learner', ['learner_id', 'micro_credential_id'], unique=False)

    op.create_table('pathway_components',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pathway_id', sa.Integer(), nullable=False),
    sa.Column('component_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['component_id'], ['micro_credentials.id'], name=op.f('fk_pathway_components_component_id_micro_credentials'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['pathway_id'], ['micro_credentials.id'], name=op.f('fk_pathway_components_pathway_id_micro_credentials'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pathway_components')),
    sa.UniqueConstraint('pathway_id', 'component_id', name=op.f('uq_pathway_components_pathway_id_component_id'))
    )
    with op.batch_alter_table('pathway_components', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pathway_components_component_id'), ['component_id'], unique=False)

    op.create_table('evidence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=32), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('context_id', sa.Integer(), nullable=False),
    sa.Column('learner_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('module_id', sa.Integer(), nullable=True),
    sa.Column('competency_id', sa.Integer(), nullable=True),
    sa.Column('micro_credential_id', sa.Integer(), nullable=True),
    sa.Column('score_given', sa.Float(), nullable=True),
    sa.Column('score_maximum', sa.Float(), nullable=True),
    sa.Column('rubric_level', sa.Integer(), nullable=True),
    sa.Column('achieved', sa.Boolean(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=True),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('url', sa.String(length=2048), nullable=True),
    sa.Column('file_key', sa.String(length=80), nullable=True),
    sa.Column('file_name', sa.String(length=255), nullable=True),
    sa.Column('file_type', sa.String(length=100), nullable=True),
    sa.Column('file_size', sa.Integer(), nullable=True),
    sa.Column('supervisor_name', sa.String(length=200), nullable=True),
    sa.Column('supervisor_email', sa.String(length=320), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('supersedes_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_dt', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['competency_id'], ['competencies.id'], name=op.f('fk_evidence_competency_id_competencies'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['context_id'], ['contexts.id'], name=op.f('fk_evidence_context_id_contexts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_evidence_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['learner_id'], ['users.id'], name=op.f('fk_evidence_learner_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['micro_credential_id'], ['micro_credentials.id'], name=op.f('fk_evidence_micro_credential_id_micro_credentials'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['module_id'], ['modules.id'], name=op.f('fk_evidence_module_id_modules'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['platform_id'], ['platforms.id'], name=op.f('fk_evidence_platform_id_platforms'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['supersedes_id'], ['evidence.id'], name=op.f('fk_evidence_supersedes_id_evidence'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence')),
    sa.UniqueConstraint('key', name=op.f('uq_evidence_key'))
    )
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evidence_competency_id'), ['competency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_evidence_context_id'), ['context_id'], unique=False)
        batch_op.create_index('ix_evidence_learner_context', ['learner_id', 'context_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_evidence_module_id'), ['module_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_evidence_supersedes_id'), ['supersedes_id'], unique=False)

    op.create_table('requirements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('micro_credential_id', sa.Integer(), nullable=False),
    sa.Column('module_id', sa.Integer(), nullable=False),
    sa.Column('competency_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('min_percent', sa.Float(), nullable=True),
    sa.Column('min_level', sa.Integer(), nullable=True),
    sa.Column('min_count', sa.Integer(), nullable=True),
    sa.Column('evidence_kinds', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['competency_id'], ['competencies.id'], name=op.f('fk_requirements_competency_id_competencies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['micro_credential_id'], ['micro_credentials.id'], name=op.f('fk_requirements_micro_credential_id_micro_credentials'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['module_id'], ['modules.id'], name=op.f('fk_requirements_module_id_modules'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_requirements')),
    sa.UniqueConstraint('module_id', 'competency_id', 'kind', name=op.f('uq_requirements_module_id_competency_id_kind'))
    )
    with op.batch_alter_table('requirements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_requirements_competency_id'), ['competency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_requirements_micro_credential_id'), ['micro_credential_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_requirements_module_id'), ['module_id'], unique=False)

    op.create_table('assessments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('evidence_id', sa.Integer(), nullable=False),
    sa.Column('decision', sa.String(length=16), nullable=False),
    sa.Column('rubric_level', sa.Integer(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('assessor_id', sa.Integer(), nullable=True),
    sa.Column('assessor_label', sa.String(length=255), nullable=False),
    sa.Column('created_dt', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['assessor_id'], ['users.id'], name=op.f('fk_assessments_assessor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['evidence_id'], ['evidence.id'], name=op.f('fk_assessments_evidence_id_evidence'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessments'))
    )
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessments_evidence_id'), ['evidence_id'], unique=False)

    op.create_table('attestation_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('evidence_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('expires_dt', UTCDateTime(), nullable=False),
    sa.Column('used_dt', UTCDateTime(), nullable=True),
    sa.Column('created_dt', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['evidence_id'], ['evidence.id'], name=op.f('fk_attestation_requests_evidence_id_evidence'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attestation_requests')),
    sa.UniqueConstraint('evidence_id', name=op.f('uq_attestation_requests_evidence_id')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_attestation_requests_token_hash'))
    )
    with op.batch_alter_table('modules', schema=None) as batch_op:
        batch_op.add_column(sa.Column('micro_credential_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('position', sa.Integer(), nullable=False, server_default='0'))
        batch_op.create_index(batch_op.f('ix_modules_micro_credential_id'), ['micro_credential_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_modules_micro_credential_id_micro_credentials'), 'micro_credentials', ['micro_credential_id'], ['id'], ondelete='SET NULL')



def downgrade() -> None:
    with op.batch_alter_table('modules', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_modules_micro_credential_id_micro_credentials'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_modules_micro_credential_id'))
        batch_op.drop_column('position')
        batch_op.drop_column('micro_credential_id')

    op.drop_table('attestation_requests')
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assessments_evidence_id'))

    op.drop_table('assessments')
    with op.batch_alter_table('requirements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_requirements_module_id'))
        batch_op.drop_index(batch_op.f('ix_requirements_micro_credential_id'))
        batch_op.drop_index(batch_op.f('ix_requirements_competency_id'))

    op.drop_table('requirements')
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_supersedes_id'))
        batch_op.drop_index(batch_op.f('ix_evidence_module_id'))
        batch_op.drop_index('ix_evidence_learner_context')
        batch_op.drop_index(batch_op.f('ix_evidence_context_id'))
        batch_op.drop_index(batch_op.f('ix_evidence_competency_id'))

    op.drop_table('evidence')
    with op.batch_alter_table('pathway_components', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pathway_components_component_id'))

    op.drop_table('pathway_components')
    with op.batch_alter_table('competency_progress', schema=None) as batch_op:
        batch_op.drop_index('ix_competency_progress_learner')

    op.drop_table('competency_progress')
    with op.batch_alter_table('awards', schema=None) as batch_op:
        batch_op.drop_index('uq_awards_active', sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))
        batch_op.drop_index(batch_op.f('ix_awards_micro_credential_id'))
        batch_op.drop_index(batch_op.f('ix_awards_learner_id'))

    op.drop_table('awards')
    with op.batch_alter_table('micro_credentials', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_micro_credentials_platform_id'))
        batch_op.drop_index(batch_op.f('ix_micro_credentials_context_id'))

    op.drop_table('micro_credentials')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_context_learner')

    op.drop_table('audit_log')
    with op.batch_alter_table('competencies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_competencies_parent_id'))

    op.drop_table('competencies')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_platform_id'))
        batch_op.drop_index('ix_outbox_due')

    op.drop_table('outbox')
    op.drop_table('frameworks')
