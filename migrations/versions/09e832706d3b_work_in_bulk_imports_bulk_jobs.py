"""Work in bulk: CSV imports and bulk jobs.

- ``share_imports`` keeps an uploaded CSV file of new shares between its preview and its
  confirmation (any worker of any server may take the confirmation), then the record of what it
  made; its SHA-256 is unique, so the same bytes are imported once.
- ``bulk_jobs`` is one bulk action (expire, delete) over many shares, done in chunks; each of
  its ``bulk_job_items`` is one selected share and whether the job has taken it yet, read in
  ``(job_id, done, share_id)`` order by the next chunk.

Revision ID: 09e832706d3b
Revises: 953561cf1f92
Create Date: 2026-12-01

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '09e832706d3b'
down_revision = '953561cf1f92'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('bulk_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('actor', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('selection', sa.Text(), nullable=False),
    sa.Column('list_args', sa.JSON(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('changed', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('running', 'done', 'failed', name='jobstate', native_enum=False), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('runner', sa.String(length=32), nullable=True),
    sa.Column('heartbeat', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bulk_jobs'))
    )
    with op.batch_alter_table('bulk_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bulk_jobs_state'), ['state'], unique=False)

    op.create_table('share_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=True),
    sa.Column('uploaded_by', sa.String(length=300), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(), nullable=False),
    sa.Column('imported_by', sa.String(length=300), nullable=True),
    sa.Column('imported_at', sa.DateTime(), nullable=True),
    sa.Column('share_ids', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_share_imports')),
    sa.UniqueConstraint('sha256', name=op.f('uq_share_imports_sha256'))
    )
    with op.batch_alter_table('share_imports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_share_imports_uploaded_at'), ['uploaded_at'], unique=False)

    op.create_table('bulk_job_items',
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('share_id', sa.Integer(), nullable=False),
    sa.Column('done', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['job_id'], ['bulk_jobs.id'], name=op.f('fk_bulk_job_items_job_id_bulk_jobs')),
    sa.PrimaryKeyConstraint('job_id', 'share_id', name=op.f('pk_bulk_job_items'))
    )
    with op.batch_alter_table('bulk_job_items', schema=None) as batch_op:
        batch_op.create_index('ix_bulk_job_items_job_id_done_share_id', ['job_id', 'done', 'share_id'], unique=False)


def downgrade():
    with op.batch_alter_table('bulk_job_items', schema=None) as batch_op:
        batch_op.drop_index('ix_bulk_job_items_job_id_done_share_id')

    op.drop_table('bulk_job_items')
    with op.batch_alter_table('share_imports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_share_imports_uploaded_at'))

    op.drop_table('share_imports')
    with op.batch_alter_table('bulk_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bulk_jobs_state'))

    op.drop_table('bulk_jobs')
