"""An index of claims by claim time, for the metrics' count of the last day's claims.

``/metrics`` reports the claims of the last 24 hours at every scrape; through this index that
costs the day's claims, not the whole table. With ``id`` second, it also serves a list of claims
ordered by claim time, newest first, as the share list's ``(column, id)`` indexes do.

Revision ID: 2727cd5363ce
Revises: 8c1e4b7d2a90
Create Date: 2026-12-01

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '2727cd5363ce'
down_revision = '8c1e4b7d2a90'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_share_claims_claimed_at_id', 'share_claims', ['claimed_at', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_share_claims_claimed_at_id', table_name='share_claims')
