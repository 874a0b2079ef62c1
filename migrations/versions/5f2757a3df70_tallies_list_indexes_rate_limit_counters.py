"""Share tallies, list indexes and shared rate-limit counters.

- ``share_tallies`` holds exact counts per filter value and per expiry day, kept by triggers on
  ``shares`` (``webapp/tallies.py``), and filled here from the shares already stored.
- ``(column, id)`` indexes serve each tallied filter and each sort with its id tie-break;
  ``source_id`` gets an index of its own. They replace the single-column ``source_type`` and
  ``expires_at`` indexes.
- ``rate_limit_counters`` holds the API rate limit's counts, so that every worker and every app
  server counts together (``webapp/ratelimit.py``).

Revision ID: 5f2757a3df70
Revises: cd9a5d734424
Create Date: 2026-11-29

"""
from alembic import op
import sqlalchemy as sa

from webapp import tallies


# revision identifiers, used by Alembic.
revision = '5f2757a3df70'
down_revision = 'cd9a5d734424'
branch_labels = None
depends_on = None

LIST_INDEXES = (
    'source_type', 'period_type', 'is_cloneable', 'timezone',
    'created_at', 'updated_at', 'remaining_quantity',
)


def upgrade():
    op.create_table('share_tallies',
    sa.Column('dimension', sa.String(length=32).with_variant(sa.String(length=32, collation='C'), 'postgresql'), nullable=False),
    sa.Column('value', sa.String(length=64).with_variant(sa.String(length=64, collation='C'), 'postgresql'), nullable=False),
    sa.Column('shares', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('dimension', 'value', name=op.f('pk_share_tallies'))
    )
    op.create_table('rate_limit_counters',
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('hits', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_rate_limit_counters'))
    )
    with op.batch_alter_table('shares', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shares_expires_at'))
        batch_op.drop_index(batch_op.f('ix_shares_source_type'))
        for column in LIST_INDEXES:
            batch_op.create_index(f'ix_shares_{column}_id', [column, 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_shares_source_id'), ['source_id'], unique=False)
        # remaining_quantity too: the status totals count today's expiries from it alone.
        batch_op.create_index(
            'ix_shares_expires_at_id', ['expires_at', 'id', 'remaining_quantity'], unique=False
        )
    connection = op.get_bind()
    tallies.install(connection)
    tallies.recount(connection)


def downgrade():
    tallies.uninstall(op.get_bind())
    with op.batch_alter_table('shares', schema=None) as batch_op:
        batch_op.drop_index('ix_shares_expires_at_id')
        batch_op.drop_index(batch_op.f('ix_shares_source_id'))
        for column in reversed(LIST_INDEXES):
            batch_op.drop_index(f'ix_shares_{column}_id')
        batch_op.create_index(batch_op.f('ix_shares_source_type'), ['source_type'], unique=False)
        batch_op.create_index(batch_op.f('ix_shares_expires_at'), ['expires_at'], unique=False)

    op.drop_table('share_tallies')
    op.drop_table('rate_limit_counters')
