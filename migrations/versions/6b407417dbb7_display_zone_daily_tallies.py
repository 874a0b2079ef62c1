"""Each staff member's display zone; shares made and claims made per UTC day, tallied.

- ``staff.timezone``: the zone a person's pages show times in (null: not chosen yet, shown in
  UTC until their browser's zone is detected).
- The tallies gain ``created_on`` (shares made on each UTC day, kept by the triggers on
  ``shares``) and ``claimed_on`` (claims made on each UTC day, kept by the triggers on
  ``share_claims``), so the home page's charts cost the same at any size. The triggers are
  replaced, and the new tallies counted from the rows already stored.

The SQL is written out here as it ran (built from the key lists below, which are part of this
revision): a migration is history, and must not change when the app's code does.

Revision ID: 6b407417dbb7
Revises: 09e832706d3b
Create Date: 2026-12-01

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '6b407417dbb7'
down_revision = '09e832706d3b'
branch_labels = None
depends_on = None


def _day(dialect, column):
    if dialect == 'postgresql':
        return f"to_char({column}, 'YYYY-MM-DD')"
    return f'substr({column}, 1, 10)'


def _share_keys(dialect, row, daily):
    """(dimension, SQL value) of the tallies a share counts in; ``daily`` adds created_on."""
    exhausted = f'{row}.remaining_quantity = 0'
    day = _day(dialect, f'{row}.expires_at')
    keys = [
        ('all', "''"),
        ('source_type', f'{row}.source_type'),
        ('period_type', f'{row}.period_type'),
        ('is_cloneable', f"CASE WHEN {row}.is_cloneable THEN 'true' ELSE 'false' END"),
        ('timezone', f'{row}.timezone'),
        ('exhausted', f"CASE WHEN {exhausted} THEN '' END"),
        ('expires_on', day),
        ('exhausted_expires_on', f'CASE WHEN {exhausted} THEN {day} END'),
    ]
    if daily:
        keys.append(('created_on', _day(dialect, f'{row}.created_at')))
    return keys


def _claim_keys(dialect, row, daily):
    keys = [('claims', "''")]
    if daily:
        keys.append(('claimed_on', _day(dialect, f'{row}.claimed_at')))
    return keys


def _upsert(dialect, rows, keys, daily):
    changes = ' UNION ALL '.join(
        f"SELECT '{dimension}' AS dimension, {value} AS value, {sign} AS delta"
        for row, sign in rows
        for dimension, value in keys(dialect, row, daily)
    )
    return (
        'INSERT INTO share_tallies (dimension, value, shares) SELECT dimension, value, sum(delta)'
        f' FROM ({changes}) AS changes WHERE value IS NOT NULL GROUP BY dimension, value'
        ' HAVING sum(delta) <> 0 ORDER BY dimension, value ON CONFLICT (dimension, value)'
        ' DO UPDATE SET shares = share_tallies.shares + excluded.shares'
    )


SHARE_OPERATIONS = {
    'INSERT': [('NEW', 1)], 'UPDATE': [('OLD', -1), ('NEW', 1)], 'DELETE': [('OLD', -1)],
}
CLAIM_OPERATIONS = {'INSERT': [('NEW', 1)], 'DELETE': [('OLD', -1)]}
#: The claims tally before this revision (99add1d2e074), for a downgrade.
OLD_CLAIM_TALLY = (
    "INSERT INTO share_tallies (dimension, value, shares) VALUES ('claims', '', {sign})"
    ' ON CONFLICT (dimension, value) DO UPDATE SET shares = share_tallies.shares + excluded.shares'
)
SQLITE_TRIGGER_NAMES = [
    'share_tallies_insert', 'share_tallies_update', 'share_tallies_delete',
    'share_claim_tallies_insert', 'share_claim_tallies_delete',
]


def _sqlite_triggers(daily):
    shares = [
        f'CREATE TRIGGER IF NOT EXISTS share_tallies_{op_name.lower()} AFTER {op_name} ON shares'
        f' FOR EACH ROW BEGIN {_upsert("sqlite", rows, _share_keys, daily)}; END'
        for op_name, rows in SHARE_OPERATIONS.items()
    ]
    if daily:
        claims = [
            f'CREATE TRIGGER IF NOT EXISTS share_claim_tallies_{op_name.lower()}'
            f' AFTER {op_name} ON share_claims'
            f' FOR EACH ROW BEGIN {_upsert("sqlite", rows, _claim_keys, daily)}; END'
            for op_name, rows in CLAIM_OPERATIONS.items()
        ]
    else:
        claims = [
            'CREATE TRIGGER IF NOT EXISTS share_claim_tallies_insert AFTER INSERT ON share_claims'
            ' FOR EACH ROW BEGIN ' + OLD_CLAIM_TALLY.format(sign=1) + '; END',
            'CREATE TRIGGER IF NOT EXISTS share_claim_tallies_delete AFTER DELETE ON share_claims'
            ' FOR EACH ROW BEGIN ' + OLD_CLAIM_TALLY.format(sign=-1) + '; END',
        ]
    return shares + claims


def _postgresql_functions(daily):
    """The two trigger functions (their triggers stay as they are)."""
    shares = ' '.join(
        f"{'IF' if n == 0 else 'ELSIF'} TG_OP = '{op_name}'"
        f' THEN {_upsert("postgresql", rows, _share_keys, daily)};'
        for n, (op_name, rows) in enumerate(SHARE_OPERATIONS.items())
    )
    if daily:
        claims = ' '.join(
            f"{'IF' if n == 0 else 'ELSIF'} TG_OP = '{op_name}'"
            f' THEN {_upsert("postgresql", rows, _claim_keys, daily)};'
            for n, (op_name, rows) in enumerate(CLAIM_OPERATIONS.items())
        )
    else:
        claims = (
            "IF TG_OP = 'INSERT' THEN " + OLD_CLAIM_TALLY.format(sign=1) + ';'
            " ELSIF TG_OP = 'DELETE' THEN " + OLD_CLAIM_TALLY.format(sign=-1) + ';'
        )
    return [
        'CREATE OR REPLACE FUNCTION share_tallies_follow() RETURNS trigger LANGUAGE plpgsql'
        f' AS $$ BEGIN {shares} END IF; RETURN NULL; END $$',
        'CREATE OR REPLACE FUNCTION share_claim_tallies_follow() RETURNS trigger'
        f' LANGUAGE plpgsql AS $$ BEGIN {claims} END IF; RETURN NULL; END $$',
    ]


def _replace_triggers(connection, daily):
    if connection.dialect.name == 'postgresql':
        statements = _postgresql_functions(daily)
    else:
        statements = [f'DROP TRIGGER IF EXISTS {name}' for name in SQLITE_TRIGGER_NAMES]
        statements += _sqlite_triggers(daily)
    for statement in statements:
        connection.exec_driver_sql(statement)


def upgrade():
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('timezone', sa.String(length=64), nullable=True))

    connection = op.get_bind()
    _replace_triggers(connection, daily=True)
    dialect = connection.dialect.name
    for dimension, column, table in (
        ('created_on', 'created_at', 'shares'),
        ('claimed_on', 'claimed_at', 'share_claims'),
    ):
        day = _day(dialect, column)
        connection.exec_driver_sql(
            'INSERT INTO share_tallies (dimension, value, shares)'
            f" SELECT '{dimension}', {day}, count(*) FROM {table} GROUP BY {day}"
        )


def downgrade():
    connection = op.get_bind()
    _replace_triggers(connection, daily=False)
    connection.exec_driver_sql(
        "DELETE FROM share_tallies WHERE dimension IN ('created_on', 'claimed_on')"
    )

    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_column('timezone')
