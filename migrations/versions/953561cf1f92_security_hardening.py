"""Security hardening (issue 17).

- ``sign_in_gates``: one row per client address that signs in. ``webapp/lockout.py`` locks it
  while it counts an attempt from that address, before the password is checked, so that
  parallel attempts cannot check more passwords than the lock-out allows.
- ``staff.must_change_password``: set when an admin resets a password; the member chooses
  their own at their next sign-in.
- ``api_tokens.created_by`` (the actor, as the audit trail names it) and ``creator_id`` (the
  staff member): who made a token. For tokens made before, both are read from the token's
  create event in the audit trail, where there is one.

Revision ID: 953561cf1f92
Revises: 99add1d2e074
Create Date: 2026-12-01

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '953561cf1f92'
down_revision = '99add1d2e074'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sign_in_gates',
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('address', name=op.f('pk_sign_in_gates'))
    )
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('created_by', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('creator_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_api_tokens_creator_id'), ['creator_id'], unique=False)
    record_token_creators(op.get_bind())


# The tables as this revision knows them (a migration imports nothing of the app's).
EVENTS = sa.table(
    'audit_events',
    sa.column('id', sa.Integer),
    sa.column('actor', sa.String),
    sa.column('action', sa.String),
    sa.column('changes', sa.JSON),
)
TOKENS = sa.table(
    'api_tokens',
    sa.column('name', sa.String),
    sa.column('created_by', sa.String),
    sa.column('creator_id', sa.Integer),
)
STAFF = sa.table('staff', sa.column('id', sa.Integer), sa.column('email', sa.String))


def record_token_creators(connection):
    """Each existing token's creator: the actor of the audit event that created it (changes
    ``{"name": [null, NAME], ...}``); a staff member when the actor is a staff email."""
    events = connection.execute(
        sa.select(EVENTS.c.actor, EVENTS.c.changes)
        .where(EVENTS.c.action == 'token')
        .order_by(EVENTS.c.id)
    ).all()
    for actor, changes in events:
        name = (changes or {}).get('name')
        if not (isinstance(name, list) and len(name) == 2 and name[0] is None and name[1]):
            continue  # a revocation, not a creation
        creator_id = connection.execute(
            sa.select(STAFF.c.id).where(STAFF.c.email == actor)
        ).scalar()
        connection.execute(
            TOKENS.update()
            .where(TOKENS.c.name == name[1], TOKENS.c.created_by.is_(None))
            .values(created_by=actor, creator_id=creator_id)
        )


def downgrade():
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_creator_id'))
        batch_op.drop_column('creator_id')
        batch_op.drop_column('created_by')
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_column('must_change_password')
    op.drop_table('sign_in_gates')
