"""Initial schema: shares, claims, staff, API tokens, audit trail, idempotency keys.

Revision ID: 6b24f19ff8ba
Revises: 
Create Date: 2026-11-29

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '6b24f19ff8ba'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('role', sa.Enum('viewer', 'agent', 'admin', name='role', native_enum=False), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_used_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('name', name=op.f('uq_api_tokens_name')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor', sa.String(length=300), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('share_id', sa.Integer(), nullable=True),
    sa.Column('share_handle', sa.String(length=64), nullable=True),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_actor'), ['actor'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_share_id'), ['share_id'], unique=False)

    op.create_table('idempotency_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('response', sa.JSON(), nullable=False),
    sa.Column('location', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_keys')),
    sa.UniqueConstraint('token_id', 'key', name=op.f('uq_idempotency_keys_token_id'))
    )
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idempotency_keys_created_at'), ['created_at'], unique=False)

    op.create_table('share_claims',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('share_id', sa.Integer(), nullable=False),
    sa.Column('share_handle', sa.String(length=64), nullable=False),
    sa.Column('share_profile_id', sa.String(length=255), nullable=False),
    sa.Column('profile_id', sa.String(length=255), nullable=False),
    sa.Column('claimed_at', sa.DateTime(), nullable=False),
    sa.Column('created_source_type', sa.Enum('profile', 'product', 'transaction', 'reward', 'benefit', 'point', 'user', 'tenant', 'list', 'listItem', 'target', 'automation', 'trigger', 'aggregation', 'comms_attribute', 'appearance_attribute', 'webhook', 'identity', 'tier', 'address', 'location', 'product_variant', 'benefit_definition', 'reward_definition', 'tier_definition', 'transaction_item', 'order', 'redemption', 'tier_point', 'interaction', 'status', 'organisation', 'role_definition', 'credit_definition', 'credit', 'product_list_reservation', name='sourcetype', native_enum=False), nullable=False),
    sa.Column('created_source_id', sa.BigInteger(), nullable=False),
    sa.Column('is_cloned', sa.Boolean(), nullable=False),
    sa.Column('meta', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_share_claims'))
    )
    with op.batch_alter_table('share_claims', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_share_claims_profile_id'), ['profile_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_share_claims_share_id'), ['share_id'], unique=False)

    op.create_table('shares',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('profile_id', sa.String(length=255), nullable=False),
    sa.Column('source_type', sa.Enum('profile', 'product', 'transaction', 'reward', 'benefit', 'point', 'user', 'tenant', 'list', 'listItem', 'target', 'automation', 'trigger', 'aggregation', 'comms_attribute', 'appearance_attribute', 'webhook', 'identity', 'tier', 'address', 'location', 'product_variant', 'benefit_definition', 'reward_definition', 'tier_definition', 'transaction_item', 'order', 'redemption', 'tier_point', 'interaction', 'status', 'organisation', 'role_definition', 'credit_definition', 'credit', 'product_list_reservation', name='sourcetype', native_enum=False), nullable=False),
    sa.Column('source_id', sa.BigInteger(), nullable=False),
    sa.Column('handle', sa.String(length=64), nullable=False),
    sa.Column('code', sa.String(length=255), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('period', sa.Integer(), nullable=True),
    sa.Column('period_type', sa.Enum('days', 'weeks', 'months', 'years', 'absolute_date', 'absolute_week', 'absolute_month', name='periodtype', native_enum=False), nullable=True),
    sa.Column('absolute_expiry', sa.String(length=255), nullable=True),
    sa.Column('expires_at', sa.DateTime(), nullable=True),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('remaining_quantity', sa.Integer(), nullable=True),
    sa.Column('meta', sa.JSON(), nullable=True),
    sa.Column('is_cloneable', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shares')),
    sa.UniqueConstraint('handle', name=op.f('uq_shares_handle')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('shares', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shares_code'), ['code'], unique=False)
        batch_op.create_index(batch_op.f('ix_shares_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_shares_profile_id'), ['profile_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_shares_source_type'), ['source_type'], unique=False)

    op.create_table('sign_in_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_failures'))
    )
    with op.batch_alter_table('sign_in_failures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sign_in_failures_address'), ['address'], unique=False)
        batch_op.create_index(batch_op.f('ix_sign_in_failures_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_sign_in_failures_email'), ['email'], unique=False)

    op.create_table('staff',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.Enum('viewer', 'agent', 'admin', name='role', native_enum=False), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('session_epoch', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_sign_in_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff')),
    sa.UniqueConstraint('email', name=op.f('uq_staff_email'))
    )


def downgrade():
    op.drop_table('staff')
    with op.batch_alter_table('sign_in_failures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sign_in_failures_email'))
        batch_op.drop_index(batch_op.f('ix_sign_in_failures_at'))
        batch_op.drop_index(batch_op.f('ix_sign_in_failures_address'))

    op.drop_table('sign_in_failures')
    with op.batch_alter_table('shares', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shares_source_type'))
        batch_op.drop_index(batch_op.f('ix_shares_profile_id'))
        batch_op.drop_index(batch_op.f('ix_shares_expires_at'))
        batch_op.drop_index(batch_op.f('ix_shares_code'))

    op.drop_table('shares')
    with op.batch_alter_table('share_claims', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_share_claims_share_id'))
        batch_op.drop_index(batch_op.f('ix_share_claims_profile_id'))

    op.drop_table('share_claims')
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idempotency_keys_created_at'))

    op.drop_table('idempotency_keys')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_share_id'))
        batch_op.drop_index(batch_op.f('ix_audit_events_at'))
        batch_op.drop_index(batch_op.f('ix_audit_events_actor'))
        batch_op.drop_index(batch_op.f('ix_audit_events_action'))

    op.drop_table('audit_events')
    op.drop_table('api_tokens')
