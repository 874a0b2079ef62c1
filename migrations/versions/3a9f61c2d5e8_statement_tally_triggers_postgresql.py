"""PostgreSQL: the tallies follow each statement, not each row.

The row triggers upserted the same few tally rows once for every share a statement wrote: an
import of 10,000 shares in one INSERT took 6 to 7 s in them. Each operation on ``shares`` and
``share_claims`` now has a statement trigger that adds up the statement's rows (its transition
tables) and upserts each tally once. What the tallies count does not change. SQLite keeps its row
triggers (it has no statement triggers): nothing changes there.

The SQL is written out here as it ran (built from the key lists below, which are part of this
revision): a migration is history, and must not change when the app's code does.

Revision ID: 3a9f61c2d5e8
Revises: 6b407417dbb7
Create Date: 2026-12-02

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '3a9f61c2d5e8'
down_revision = '6b407417dbb7'
branch_labels = None
depends_on = None


def _day(column):
    return f"to_char({column}, 'YYYY-MM-DD')"


def _share_keys(row):
    exhausted = f'{row}.remaining_quantity = 0'
    day = _day(f'{row}.expires_at')
    return [
        ('all', "''"),
        ('source_type', f'{row}.source_type'),
        ('period_type', f'{row}.period_type'),
        ('is_cloneable', f"CASE WHEN {row}.is_cloneable THEN 'true' ELSE 'false' END"),
        ('timezone', f'{row}.timezone'),
        ('exhausted', f"CASE WHEN {exhausted} THEN '' END"),
        ('expires_on', day),
        ('exhausted_expires_on', f'CASE WHEN {exhausted} THEN {day} END'),
        ('created_on', _day(f'{row}.created_at')),
    ]


def _claim_keys(row):
    return [('claims', "''"), ('claimed_on', _day(f'{row}.claimed_at'))]


def _upsert(changes):
    return (
        'INSERT INTO share_tallies (dimension, value, shares) SELECT dimension, value, sum(delta)'
        f' FROM ({changes}) AS changes WHERE value IS NOT NULL GROUP BY dimension, value'
        ' HAVING sum(delta) <> 0 ORDER BY dimension, value ON CONFLICT (dimension, value)'
        ' DO UPDATE SET shares = share_tallies.shares + excluded.shares'
    )


def _changes(rows, keys, source):
    """(dimension, value, delta) of each row alias with its sign; ``source(row)`` is its FROM."""
    return ' UNION ALL '.join(
        f"SELECT '{dimension}' AS dimension, {value} AS value, {sign} AS delta{source(row)}"
        for row, sign in rows
        for dimension, value in keys(row)
    )


SHARE_OPERATIONS = {
    'INSERT': [('NEW', 1)], 'UPDATE': [('OLD', -1), ('NEW', 1)], 'DELETE': [('OLD', -1)],
}
CLAIM_OPERATIONS = {'INSERT': [('NEW', 1)], 'DELETE': [('OLD', -1)]}
TABLES = (
    ('shares', 'share_tallies', SHARE_OPERATIONS, _share_keys),
    ('share_claims', 'share_claim_tallies', CLAIM_OPERATIONS, _claim_keys),
)
TRANSITION = {'NEW': 'new_rows', 'OLD': 'old_rows'}


def _statement_triggers():
    statements = []
    for table, name, operations, keys in TABLES:
        for op_name, rows in operations.items():
            trigger = f'{name}_{op_name.lower()}'
            rows = [(TRANSITION[row], sign) for row, sign in rows]
            changes = _changes(rows, keys, lambda row: f' FROM {row} AS {row}')
            referencing = ' '.join(
                f'{row} TABLE AS {TRANSITION[row]}' for row, _sign in operations[op_name]
            )
            statements += [
                f'CREATE OR REPLACE FUNCTION {trigger}() RETURNS trigger LANGUAGE plpgsql'
                f' AS $$ BEGIN {_upsert(changes)}; RETURN NULL; END $$',
                f'CREATE OR REPLACE TRIGGER {trigger} AFTER {op_name} ON {table}'
                f' REFERENCING {referencing} FOR EACH STATEMENT EXECUTE FUNCTION {trigger}()',
            ]
    return statements


def _drop_statement_triggers():
    statements = []
    for table, name, operations, _keys in TABLES:
        for op_name in operations:
            trigger = f'{name}_{op_name.lower()}'
            statements += [
                f'DROP TRIGGER IF EXISTS {trigger} ON {table}',
                f'DROP FUNCTION IF EXISTS {trigger}()',
            ]
    return statements


def _row_triggers():
    """The row triggers of 6b407417dbb7, for a downgrade."""
    statements = []
    for table, name, operations, keys in TABLES:
        branches = ' '.join(
            f"{'IF' if n == 0 else 'ELSIF'} TG_OP = '{op_name}'"
            f" THEN {_upsert(_changes(rows, keys, lambda row: ''))};"
            for n, (op_name, rows) in enumerate(operations.items())
        )
        events = ' OR '.join(operations)
        statements += [
            f'CREATE OR REPLACE FUNCTION {name}_follow() RETURNS trigger LANGUAGE plpgsql'
            f' AS $$ BEGIN {branches} END IF; RETURN NULL; END $$',
            f'CREATE OR REPLACE TRIGGER {name}_follow AFTER {events} ON {table}'
            f' FOR EACH ROW EXECUTE FUNCTION {name}_follow()',
        ]
    return statements


def _drop_row_triggers():
    return [
        'DROP TRIGGER IF EXISTS share_tallies_follow ON shares',
        'DROP FUNCTION IF EXISTS share_tallies_follow()',
        'DROP TRIGGER IF EXISTS share_claim_tallies_follow ON share_claims',
        'DROP FUNCTION IF EXISTS share_claim_tallies_follow()',
    ]


def _run(statements):
    connection = op.get_bind()
    if connection.dialect.name != 'postgresql':
        return
    for statement in statements:
        connection.exec_driver_sql(statement)


def upgrade():
    # One transaction: no statement between the two sets of triggers is counted twice or never.
    _run(_drop_row_triggers() + _statement_triggers())


def downgrade():
    _run(_drop_statement_triggers() + _row_triggers())
