"""Binary collation for the searched share columns (handle, code, profile_id) on PostgreSQL.

Search is a case-sensitive "equals or starts with", run as a range over the column's index. That
needs code point order: SQLite's default (BINARY) has it, PostgreSQL's default collation follows
the database's locale, so there the columns (and with them their indexes) become COLLATE "C".
Nothing changes on SQLite.

Revision ID: cd9a5d734424
Revises: 6b24f19ff8ba
Create Date: 2026-12-01

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'cd9a5d734424'
down_revision = '6b24f19ff8ba'
branch_labels = None
depends_on = None

COLUMNS = (('handle', 64, False), ('code', 255, True), ('profile_id', 255, False))


def _set_collation(collation):
    if op.get_bind().dialect.name != 'postgresql':
        return
    with op.batch_alter_table('shares', schema=None) as batch_op:
        for name, length, nullable in COLUMNS:
            # PostgreSQL rebuilds the column's indexes (ix_shares_code, uq_shares_handle, ...).
            batch_op.alter_column(
                name,
                existing_type=sa.String(length=length),
                type_=sa.String(length=length, collation=collation),
                existing_nullable=nullable,
            )


def upgrade():
    _set_collation('C')


def downgrade():
    # None: back to the database's default collation.
    _set_collation(None)
