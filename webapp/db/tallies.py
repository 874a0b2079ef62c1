"""The triggers behind exact list totals: SQL that keeps ``share_tallies`` in step with ``shares``.

The list's ``meta.total`` must be exact, and counting the rows that match a broad filter (every
share, all cloneable ones, all active ones) takes time in proportion to them. So the database
keeps counts in ``share_tallies``, one row per ``(dimension, value)``, updated by triggers on
``shares`` in the writing statement's own transaction: whatever writes a share (a page, the API,
a claim's conditional UPDATE, raw SQL) keeps the counts true, and a rollback takes its counts back.
Triggers on ``share_claims`` keep every claim (``('claims', '')``) and the claims of each UTC day.
Status depends on the clock, so it is tallied by expiry day (UTC); ``webapp.totals`` turns the
tallies into totals. The shares made and the claims made on each UTC day (``created_on``,
``claimed_on``) feed the home page's charts (``webapp.dashboard``). docs/design.md has the story
and the figures.

Migrations carry the SQL these functions wrote when they ran; tests' databases get it from here.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

SHARES = "shares"
CLAIMS = "share_claims"
TALLIES = "share_tallies"

#: Filters with one tally row per value; the others (profile id, handle, code, source id) are
#: narrow enough for their indexes to count.
TALLIED_FILTERS = ("source_type", "period_type", "is_cloneable", "timezone")


def _day(dialect: str, column: str) -> str:
    """SQL for the UTC day (``YYYY-MM-DD``) of a stored instant."""
    if dialect == "postgresql":
        return f"to_char({column}, 'YYYY-MM-DD')"
    # SQLite stores the instant as text: "2026-11-29 12:59:59.000000".
    return f"substr({column}, 1, 10)"


def _keys(dialect: str, row: str) -> list[tuple[str, str]]:
    """(dimension, SQL value) of each tally a share counts in; a NULL value counts in none."""
    exhausted = f"{row}.remaining_quantity = 0"
    day = _day(dialect, f"{row}.expires_at")
    return [
        ("all", "''"),
        ("source_type", f"{row}.source_type"),
        ("period_type", f"{row}.period_type"),
        ("is_cloneable", f"CASE WHEN {row}.is_cloneable THEN 'true' ELSE 'false' END"),
        ("timezone", f"{row}.timezone"),
        ("exhausted", f"CASE WHEN {exhausted} THEN '' END"),
        ("expires_on", day),
        ("exhausted_expires_on", f"CASE WHEN {exhausted} THEN {day} END"),
        ("created_on", _day(dialect, f"{row}.created_at")),
    ]


def _claim_keys(dialect: str, row: str) -> list[tuple[str, str]]:
    """(dimension, SQL value) of each tally a claim counts in."""
    return [("claims", "''"), ("claimed_on", _day(dialect, f"{row}.claimed_at"))]


def _changes(
    dialect: str, rows: list[tuple[str, int]], table: str | None = None, keys=_keys
) -> str:
    """A SELECT of (dimension, value, delta) for each row alias with its sign."""
    source = f" FROM {table} AS {rows[0][0]}" if table else ""
    return " UNION ALL ".join(
        f"SELECT '{dimension}' AS dimension, {value} AS value, {sign} AS delta{source}"
        for row, sign in rows
        for dimension, value in keys(dialect, row)
    )


def _upsert(changes: str, tallies: str) -> str:
    """One upsert of the net change a SELECT of (dimension, value, delta) describes: rows that
    cancel out (most claims) write nothing.

    Rows are written in key order, so two transactions never wait on each other's tallies in
    opposite orders (a deadlock on PostgreSQL).
    """
    return (
        f"INSERT INTO {tallies} (dimension, value, shares) "
        "SELECT dimension, value, sum(delta) "
        f"FROM ({changes}) AS changes "
        "WHERE value IS NOT NULL GROUP BY dimension, value HAVING sum(delta) <> 0 "
        "ORDER BY dimension, value "
        f"ON CONFLICT (dimension, value) DO UPDATE SET shares = {tallies}.shares + excluded.shares"
    )


def _apply(dialect: str, rows: list[tuple[str, int]], tallies: str, keys=_keys) -> str:
    """The upsert of a row trigger: ``rows`` are NEW and OLD with their signs."""
    return _upsert(_changes(dialect, rows, keys=keys), tallies)


#: PostgreSQL's statement triggers see the statement's rows as these transition tables.
TRANSITION = {"NEW": "new_rows", "OLD": "old_rows"}


def _apply_statement(rows: list[tuple[str, int]], tallies: str, keys=_keys) -> str:
    """The upsert of a statement trigger: every row of the statement, added up, at once."""
    changes = " UNION ALL ".join(
        _changes("postgresql", [(TRANSITION[row], sign)], TRANSITION[row], keys)
        for row, sign in rows
    )
    return _upsert(changes, tallies)


def _counting(dialect: str, prefix: str) -> str:
    """A SELECT of (dimension, value, delta) for every tally, counted from the rows themselves."""
    shares = _changes(dialect, [("s", 1)], f"{prefix}{SHARES}")
    claims = _changes(dialect, [("c", 1)], f"{prefix}{CLAIMS}", keys=_claim_keys)
    return f"{shares} UNION ALL {claims}"


def _names(connection: Connection) -> tuple[str, str, str]:
    """(shares, share_tallies, schema prefix) as this connection must name them.

    The tests' PostgreSQL schemas are chosen by ``schema_translate_map``, which raw DDL does not
    go through.
    """
    translate = connection.get_execution_options().get("schema_translate_map") or {}
    schema = translate.get(None)
    prefix = f"{connection.dialect.identifier_preparer.quote_schema(schema)}." if schema else ""
    return f"{prefix}{SHARES}", f"{prefix}{TALLIES}", prefix


OPERATIONS = {"INSERT": [("NEW", 1)], "UPDATE": [("OLD", -1), ("NEW", 1)], "DELETE": [("OLD", -1)]}
#: A claim is made and may be deleted, never changed.
CLAIM_OPERATIONS = {"INSERT": [("NEW", 1)], "DELETE": [("OLD", -1)]}


def install_statements(connection: Connection) -> list[str]:
    """The DDL that creates the triggers on this connection's database."""
    dialect = connection.dialect.name
    shares, tallies, prefix = _names(connection)
    if dialect == "postgresql":
        return _postgres_triggers(shares, tallies, prefix)
    # SQLite reads "INSERT ... SELECT ... ON CONFLICT" only with a WHERE in the SELECT: it is.
    return [
        f"CREATE TRIGGER IF NOT EXISTS {prefix}share_tallies_{op.lower()} "
        f"AFTER {op} ON {SHARES} "
        f"FOR EACH ROW BEGIN {_apply(dialect, rows, TALLIES)}; END"
        for op, rows in OPERATIONS.items()
    ] + [
        f"CREATE TRIGGER IF NOT EXISTS {prefix}share_claim_tallies_{op.lower()} "
        f"AFTER {op} ON {CLAIMS} "
        f"FOR EACH ROW BEGIN {_apply(dialect, rows, TALLIES, _claim_keys)}; END"
        for op, rows in CLAIM_OPERATIONS.items()
    ]


def _postgres_triggers(shares: str, tallies: str, prefix: str) -> list[str]:
    """A statement trigger for each operation on ``shares`` and ``share_claims``.

    A trigger for each row would upsert the same few tally rows once per row: an import of
    10,000 shares in one INSERT took 6 to 7 s in them. A statement trigger adds up the whole
    statement's rows (its transition tables) and upserts each tally once.
    """
    statements = []
    for table, name, operations, keys in (
        (shares, "share_tallies", OPERATIONS, _keys),
        (f"{prefix}{CLAIMS}", "share_claim_tallies", CLAIM_OPERATIONS, _claim_keys),
    ):
        for op, rows in operations.items():
            trigger = f"{name}_{op.lower()}"
            referencing = " ".join(f"{row} TABLE AS {TRANSITION[row]}" for row, _sign in rows)
            statements += [
                f"CREATE OR REPLACE FUNCTION {prefix}{trigger}() RETURNS trigger "
                f"LANGUAGE plpgsql AS $$ BEGIN {_apply_statement(rows, tallies, keys)}; "
                "RETURN NULL; END $$",
                f"CREATE OR REPLACE TRIGGER {trigger} AFTER {op} ON {table} "
                f"REFERENCING {referencing} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {prefix}{trigger}()",
            ]
    return statements


def install(connection: Connection) -> None:
    """Create the triggers that keep ``share_tallies`` up to date (again: no harm)."""
    for statement in install_statements(connection):
        connection.exec_driver_sql(statement)


def recount(connection: Connection) -> None:
    """Set every tally from the shares themselves (after a restore that bypassed the triggers)."""
    _shares, tallies, prefix = _names(connection)
    connection.exec_driver_sql(f"DELETE FROM {tallies}")
    connection.exec_driver_sql(
        f"INSERT INTO {tallies} (dimension, value, shares) "
        f"SELECT dimension, value, sum(delta) FROM "
        f"({_counting(connection.dialect.name, prefix)}) AS rows "
        "WHERE value IS NOT NULL GROUP BY dimension, value"
    )


def differences(connection: Connection) -> list[tuple[str, str, int, int]]:
    """(dimension, value, kept, counted) for each tally that is off; empty when all are right.

    One statement, so the kept and the counted numbers come from one snapshot even while the
    app writes.
    """
    _shares, tallies, prefix = _names(connection)
    counting = _counting(connection.dialect.name, prefix)
    rows = connection.exec_driver_sql(
        "SELECT dimension, value, sum(kept), sum(counted) FROM ("
        f"SELECT dimension, value, shares AS kept, 0 AS counted FROM {tallies} "
        "UNION ALL SELECT dimension, value, 0, delta "
        f"FROM ({counting}) AS rows WHERE value IS NOT NULL"
        ") AS both_sides GROUP BY dimension, value HAVING sum(kept) <> sum(counted) "
        "ORDER BY dimension, value"
    )
    return [(dimension, value, int(kept), int(count)) for dimension, value, kept, count in rows]


def counted(connection: Connection) -> dict[tuple[str, str], int]:
    """What the tallies should hold, counted from the shares: for checks and tests."""
    _shares, _tallies, prefix = _names(connection)
    rows = connection.exec_driver_sql(
        f"SELECT dimension, value, sum(delta) FROM "
        f"({_counting(connection.dialect.name, prefix)}) AS rows "
        "WHERE value IS NOT NULL GROUP BY dimension, value"
    )
    return {(dimension, value): total for dimension, value, total in rows}


def stored(connection: Connection) -> dict[tuple[str, str], int]:
    """The tallies as kept, leaving out the zeros of values no share has any more."""
    _shares, tallies, _prefix = _names(connection)
    rows = connection.exec_driver_sql(f"SELECT dimension, value, shares FROM {tallies}")
    return {(dimension, value): total for dimension, value, total in rows if total}
