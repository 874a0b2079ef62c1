"""The API rate limit's window moves onto the token's row.

Each API request now finds its token and counts itself in one UPDATE of ``api_tokens``
(``webapp/ratelimit.py``), so ``rate_limit_counters`` goes. Its counts only lived for a window
(a minute by default): every token starts a fresh window after the upgrade.

Revision ID: 8c1e4b7d2a90
Revises: 5f2757a3df70
Create Date: 2026-11-29

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8c1e4b7d2a90'
down_revision = '5f2757a3df70'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('window_hits', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('window_ends_at', sa.DateTime(), nullable=True))
    op.drop_table('rate_limit_counters')


def downgrade():
    op.create_table('rate_limit_counters',
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('hits', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_rate_limit_counters'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_column('window_ends_at')
        batch_op.drop_column('window_hits')
