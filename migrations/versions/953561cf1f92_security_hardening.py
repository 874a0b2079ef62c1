"""Security hardening (issue 17).

- ``sign_in_gates``: one row per client address that signs in. ``webapp/lockout.py`` locks it
  while it counts an attempt from that address, before the password is checked, so that
  parallel attempts cannot check more passwords than the lock-out allows.
- ``staff.must_change_password``: set when an admin resets a password; the member chooses
  their own at their next sign-in.

Revision ID: 953561cf1f92
Revises: 8c1e4b7d2a90
Create Date: 2026-12-01

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '953561cf1f92'
down_revision = '8c1e4b7d2a90'
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


def downgrade():
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_column('must_change_password')
    op.drop_table('sign_in_gates')
