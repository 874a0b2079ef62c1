"""Share tallies, list indexes and shared rate-limit counters.

- ``share_tallies`` holds exact counts per filter value and per expiry day, kept by triggers on
  ``shares`` (``webapp/db/tallies.py`` writes the same SQL for new databases), and filled here
  from the shares already stored. The SQL is written out below as it ran: a migration is
  history, and must not change when the app's code does.
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


# revision identifiers, used by Alembic.
revision = '5f2757a3df70'
down_revision = 'cd9a5d734424'
branch_labels = None
depends_on = None

SQLITE_TRIGGERS = [
    (
        'CREATE TRIGGER IF NOT EXISTS share_tallies_insert AFTER INSERT ON shares FOR EACH ROW'
        ' BEGIN INSERT INTO share_tallies (dimension, value, shares) SELECT dimension, value, sum(delta)'
        " FROM (SELECT 'all' AS dimension, '' AS value, 1 AS delta"
        " UNION ALL SELECT 'source_type' AS dimension, NEW.source_type AS value, 1 AS delta"
        " UNION ALL SELECT 'period_type' AS dimension, NEW.period_type AS value, 1 AS delta"
        " UNION ALL SELECT 'is_cloneable' AS dimension, CASE WHEN NEW.is_cloneable THEN 'true' ELSE 'false' END AS value, 1 AS delta"
        " UNION ALL SELECT 'timezone' AS dimension, NEW.timezone AS value, 1 AS delta"
        " UNION ALL SELECT 'exhausted' AS dimension, CASE WHEN NEW.remaining_quantity = 0 THEN '' END AS value, 1 AS delta"
        " UNION ALL SELECT 'expires_on' AS dimension, substr(NEW.expires_at, 1, 10) AS value, 1 AS delta"
        " UNION ALL SELECT 'exhausted_expires_on' AS dimension, CASE WHEN NEW.remaining_quantity = 0 THEN substr(NEW.expires_at, 1, 10) END AS value, 1 AS delta"
        ') AS changes WHERE value IS NOT NULL GROUP BY dimension, value HAVING sum(delta) <> 0 ORDER BY dimension, value'
        ' ON CONFLICT (dimension, value) DO UPDATE SET shares = share_tallies.shares + excluded.shares; END'
    ),
    (
        'CREATE TRIGGER IF NOT EXISTS share_tallies_update AFTER UPDATE ON shares FOR EACH ROW'
        ' BEGIN INSERT INTO share_tallies (dimension, value, shares) SELECT dimension, value, sum(delta)'
        " FROM (SELECT 'all' AS dimension, '' AS value, -1 AS delta"
        " UNION ALL SELECT 'source_type' AS dimension, OLD.source_type AS value, -1 AS delta"
        " UNION ALL SELECT 'period_type' AS dimension, OLD.period_type AS value, -1 AS delta"
        " UNION ALL SELECT 'is_cloneable' AS dimension, CASE WHEN OLD.is_cloneable THEN 'true' ELSE 'false' END AS value, -1 AS delta"
        " UNION ALL SELECT 'timezone' AS dimension, OLD.timezone AS value, -1 AS delta"
        " UNION ALL SELECT 'exhausted' AS dimension, CASE WHEN OLD.remaining_quantity = 0 THEN '' END AS value, -1 AS delta"
        " UNION ALL SELECT 'expires_on' AS dimension, substr(OLD.expires_at, 1, 10) AS value, -1 AS delta"
        " UNION ALL SELECT 'exhausted_expires_on' AS dimension, CASE WHEN OLD.remaining_quantity = 0 THEN substr(OLD.expires_at, 1, 10) END AS value, -1 AS delta"
        " UNION ALL SELECT 'all' AS dimension, '' AS value, 1 AS delta"
        " UNION ALL SELECT 'source_type' AS dimension, NEW.source_type AS value, 1 AS delta"
        " UNION ALL SELECT 'period_type' AS dimension, NEW.period_type AS value, 1 AS delta"
        " UNION ALL SELECT 'is_cloneable' AS dimension, CASE WHEN NEW.is_cloneable THEN 'true' ELSE 'false' END AS value, 1 AS delta"
        " UNION ALL SELECT 'timezone' AS dimension, NEW.timezone AS value, 1 AS delta"
        " UNION ALL SELECT 'exhausted' AS dimension, CASE WHEN NEW.remaining_quantity = 0 THEN '' END AS value, 1 AS delta"
        " UNION ALL SELECT 'expires_on' AS dimension, substr(NEW.expires_at, 1, 10) AS value, 1 AS delta"
        " UNION ALL SELECT 'exhausted_expires_on' AS dimension, CASE WHEN NEW.remaining_quantity = 0 THEN substr(NEW.expires_at, 1, 10) END AS value, 1 AS delta"
        ') AS changes WHERE value IS NOT NULL GROUP BY dimension, value HAVING sum(delta) <> 0 ORDER BY dimension, value'
        ' ON CONFLICT (dimension, value) DO UPDATE SET shares = share_tallies.shares + excluded.shares; END'
    ),
    (
        'CREATE TRIGGER IF NOT EXISTS share_tallies_delete AFTER DELETE ON shares FOR EACH ROW'
        ' BEGIN INSERT INTO share_tallies (dimension, value, shares) SELECT dimension, value, sum(delta)'
        " FROM (SELECT 'all' AS dimension, '' AS value, -1 AS delta"
        " UNION ALL SELECT 'source_type' AS dimension, OLD.source_type AS value, -1 AS delta"
        " UNION ALL SELECT 'period_type' AS dimension, OLD.period_type AS value, -1 AS delta"
        " UNION ALL SELECT 'is_cloneable' AS dimension, CASE WHEN OLD.is_cloneable THEN 'true' ELSE 'false' END AS value, -1 AS delta"
        " UNION ALL SELECT 'timezone' AS dimension, OLD.timezone AS value, -1 AS delta"
        " UNION ALL SELECT 'exhausted' AS dimension, CASE WHEN OLD.remaining_quantity = 0 THEN '' END AS value, -1 AS delta"
        " UNION ALL SELECT 'expires_on' AS dimension, substr(OLD.expires_at, 1, 10) AS value, -1 AS delta"
        " UNION ALL SELECT 'exhausted_expires_on' AS dimension, CASE WHEN OLD.remaining_quantity = 0 THEN substr(OLD.expires_at, 1, 10) END AS value, -1 AS delta"
        ') AS changes WHERE value IS NOT NULL GROUP BY dimension, value HAVING sum(delta) <> 0 ORDER BY dimension, value'
        ' ON CONFLICT (dimension, value) DO UPDATE SET shares = share_tallies.shares + excluded.shares; END'
    ),
]
SQLITE_COUNTS = (
    "SELECT 'all' AS dimension, '' AS value, 1 AS delta FROM shares AS s"
    " UNION ALL SELECT 'source_type' AS dimension, s.source_type AS value, 1 AS delta FROM shares AS s"
    " UNION ALL SELECT 'period_type' AS dimension, s.period_type AS value, 1 AS delta FROM shares AS s"
    " UNION ALL SELECT 'is_cloneable' AS dimension, CASE WHEN s.is_cloneable THEN 'true' ELSE 'false' END AS value, 1 AS delta FROM shares AS s"
    " UNION ALL SELECT 'timezone' AS dimension, s.timezone AS value, 1 AS delta FROM shares AS s"
    " UNION ALL SELECT 'exhausted' AS dimension, CASE WHEN s.remaining_quantity = 0 THEN '' END AS value, 1 AS delta FROM shares AS s"
    " UNION ALL SELECT 'expires_on' AS dimension, substr(s.expires_at, 1, 10) AS value, 1 AS delta FROM shares AS s"
    " UNION ALL SELECT 'exhausted_expires_on' AS dimension, CASE WHEN s.remaining_quantity = 0 THEN substr(s.expires_at, 1, 10) END AS value, 1 AS delta FROM shares AS s"
)
POSTGRESQL_TRIGGERS = [
    (
        "CREATE OR REPLACE FUNCTION share_tallies_follow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF TG_OP = 'INSERT'"
        ' THEN INSERT INTO share_tallies (dimension, value, shares) SELECT dimension, value, sum(delta)'
        " FROM (SELECT 'all' AS dimension, '' AS value, 1 AS delta"
        " UNION ALL SELECT 'source_type' AS dimension, NEW.source_type AS value, 1 AS delta"
        " UNION ALL SELECT 'period_type' AS dimension, NEW.period_type AS value, 1 AS delta"
        " UNION ALL SELECT 'is_cloneable' AS dimension, CASE WHEN NEW.is_cloneable THEN 'true' ELSE 'false' END AS value, 1 AS delta"
        " UNION ALL SELECT 'timezone' AS dimension, NEW.timezone AS value, 1 AS delta"
        " UNION ALL SELECT 'exhausted' AS dimension, CASE WHEN NEW.remaining_quantity = 0 THEN '' END AS value, 1 AS delta"
        " UNION ALL SELECT 'expires_on' AS dimension, to_char(NEW.expires_at, 'YYYY-MM-DD') AS value, 1 AS delta"
        " UNION ALL SELECT 'exhausted_expires_on' AS dimension, CASE WHEN NEW.remaining_quantity = 0 THEN to_char(NEW.expires_at, 'YYYY-MM-DD') END AS value, 1 AS delta"
        ') AS changes WHERE value IS NOT NULL GROUP BY dimension, value HAVING sum(delta) <> 0 ORDER BY dimension, value'
        ' ON CONFLICT (dimension, value) DO UPDATE SET shares = share_tallies.shares + excluded.shares;'
        " ELSIF TG_OP = 'UPDATE'"
        ' THEN INSERT INTO share_tallies (dimension, value, shares) SELECT dimension, value, sum(delta)'
        " FROM (SELECT 'all' AS dimension, '' AS value, -1 AS delta"
        " UNION ALL SELECT 'source_type' AS dimension, OLD.source_type AS value, -1 AS delta"
        " UNION ALL SELECT 'period_type' AS dimension, OLD.period_type AS value, -1 AS delta"
        " UNION ALL SELECT 'is_cloneable' AS dimension, CASE WHEN OLD.is_cloneable THEN 'true' ELSE 'false' END AS value, -1 AS delta"
        " UNION ALL SELECT 'timezone' AS dimension, OLD.timezone AS value, -1 AS delta"
        " UNION ALL SELECT 'exhausted' AS dimension, CASE WHEN OLD.remaining_quantity = 0 THEN '' END AS value, -1 AS delta"
        " UNION ALL SELECT 'expires_on' AS dimension, to_char(OLD.expires_at, 'YYYY-MM-DD') AS value, -1 AS delta"
        " UNION ALL SELECT 'exhausted_expires_on' AS dimension, CASE WHEN OLD.remaining_quantity = 0 THEN to_char(OLD.expires_at, 'YYYY-MM-DD') END AS value, -1 AS delta"
        " UNION ALL SELECT 'all' AS dimension, '' AS value, 1 AS delta"
        " UNION ALL SELECT 'source_type' AS dimension, NEW.source_type AS value, 1 AS delta"
        " UNION ALL SELECT 'period_type' AS dimension, NEW.period_type AS value, 1 AS delta"
        " UNION ALL SELECT 'is_cloneable' AS dimension, CASE WHEN NEW.is_cloneable THEN 'true' ELSE 'false' END AS value, 1 AS delta"
        " UNION ALL SELECT 'timezone' AS dimension, NEW.timezone AS value, 1 AS delta"
        " UNION ALL SELECT 'exhausted' AS dimension, CASE WHEN NEW.remaining_quantity = 0 THEN '' END AS value, 1 AS delta"
        " UNION ALL SELECT 'expires_on' AS dimension, to_char(NEW.expires_at, 'YYYY-MM-DD') AS value, 1 AS delta"
        " UNION ALL SELECT 'exhausted_expires_on' AS dimension, CASE WHEN NEW.remaining_quantity = 0 THEN to_char(NEW.expires_at, 'YYYY-MM-DD') END AS value, 1 AS delta"
        ') AS changes WHERE value IS NOT NULL GROUP BY dimension, value HAVING sum(delta) <> 0 ORDER BY dimension, value'
        ' ON CONFLICT (dimension, value) DO UPDATE SET shares = share_tallies.shares + excluded.shares;'
        " ELSIF TG_OP = 'DELETE'"
        ' THEN INSERT INTO share_tallies (dimension, value, shares) SELECT dimension, value, sum(delta)'
        " FROM (SELECT 'all' AS dimension, '' AS value, -1 AS delta"
        " UNION ALL SELECT 'source_type' AS dimension, OLD.source_type AS value, -1 AS delta"
        " UNION ALL SELECT 'period_type' AS dimension, OLD.period_type AS value, -1 AS delta"
        " UNION ALL SELECT 'is_cloneable' AS dimension, CASE WHEN OLD.is_cloneable THEN 'true' ELSE 'false' END AS value, -1 AS delta"
        " UNION ALL SELECT 'timezone' AS dimension, OLD.timezone AS value, -1 AS delta"
        " UNION ALL SELECT 'exhausted' AS dimension, CASE WHEN OLD.remaining_quantity = 0 THEN '' END AS value, -1 AS delta"
        " UNION ALL SELECT 'expires_on' AS dimension, to_char(OLD.expires_at, 'YYYY-MM-DD') AS value, -1 AS delta"
        " UNION ALL SELECT 'exhausted_expires_on' AS dimension, CASE WHEN OLD.remaining_quantity = 0 THEN to_char(OLD.expires_at, 'YYYY-MM-DD') END AS value, -1 AS delta"
        ') AS changes WHERE value IS NOT NULL GROUP BY dimension, value HAVING sum(delta) <> 0 ORDER BY dimension, value'
        ' ON CONFLICT (dimension, value) DO UPDATE SET shares = share_tallies.shares + excluded.shares;'
        ' END IF; RETURN NULL; END $$'
    ),
    (
        'CREATE OR REPLACE TRIGGER share_tallies_follow AFTER INSERT OR UPDATE OR DELETE ON shares FOR EACH ROW EXECUTE FUNCTION share_tallies_follow()'
    ),
]
POSTGRESQL_COUNTS = (
    "SELECT 'all' AS dimension, '' AS value, 1 AS delta FROM shares AS s"
    " UNION ALL SELECT 'source_type' AS dimension, s.source_type AS value, 1 AS delta FROM shares AS s"
    " UNION ALL SELECT 'period_type' AS dimension, s.period_type AS value, 1 AS delta FROM shares AS s"
    " UNION ALL SELECT 'is_cloneable' AS dimension, CASE WHEN s.is_cloneable THEN 'true' ELSE 'false' END AS value, 1 AS delta FROM shares AS s"
    " UNION ALL SELECT 'timezone' AS dimension, s.timezone AS value, 1 AS delta FROM shares AS s"
    " UNION ALL SELECT 'exhausted' AS dimension, CASE WHEN s.remaining_quantity = 0 THEN '' END AS value, 1 AS delta FROM shares AS s"
    " UNION ALL SELECT 'expires_on' AS dimension, to_char(s.expires_at, 'YYYY-MM-DD') AS value, 1 AS delta FROM shares AS s"
    " UNION ALL SELECT 'exhausted_expires_on' AS dimension, CASE WHEN s.remaining_quantity = 0 THEN to_char(s.expires_at, 'YYYY-MM-DD') END AS value, 1 AS delta FROM shares AS s"
)

RECOUNT = (
    "INSERT INTO share_tallies (dimension, value, shares) SELECT dimension, value, sum(delta) FROM ({counts}) AS rows"
    " WHERE value IS NOT NULL GROUP BY dimension, value"
)
DROP_TRIGGERS = {
    'sqlite': [
        'DROP TRIGGER IF EXISTS share_tallies_insert',
        'DROP TRIGGER IF EXISTS share_tallies_update',
        'DROP TRIGGER IF EXISTS share_tallies_delete',
    ],
    'postgresql': [
        'DROP TRIGGER IF EXISTS share_tallies_follow ON shares',
        'DROP FUNCTION IF EXISTS share_tallies_follow()',
    ],
}


def install_tallies(connection):
    """The triggers, then every tally counted from the shares already stored."""
    postgres = connection.dialect.name == 'postgresql'
    for statement in POSTGRESQL_TRIGGERS if postgres else SQLITE_TRIGGERS:
        connection.exec_driver_sql(statement)
    connection.exec_driver_sql('DELETE FROM share_tallies')
    counts = POSTGRESQL_COUNTS if postgres else SQLITE_COUNTS
    connection.exec_driver_sql(RECOUNT.format(counts=counts))


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
    install_tallies(op.get_bind())


def downgrade():
    connection = op.get_bind()
    for statement in DROP_TRIGGERS[connection.dialect.name]:
        connection.exec_driver_sql(statement)
    with op.batch_alter_table('shares', schema=None) as batch_op:
        batch_op.drop_index('ix_shares_expires_at_id')
        batch_op.drop_index(batch_op.f('ix_shares_source_id'))
        for column in reversed(LIST_INDEXES):
            batch_op.drop_index(f'ix_shares_{column}_id')
        batch_op.create_index(batch_op.f('ix_shares_source_type'), ['source_type'], unique=False)
        batch_op.create_index(batch_op.f('ix_shares_expires_at'), ['expires_at'], unique=False)

    op.drop_table('share_tallies')
    op.drop_table('rate_limit_counters')
