"""The share list's first pages and totals are read through indexes, checked on SQLite's plans.

How fast the list is, with many shares, is measured by ``make bench``; that takes minutes and a
lost index shows there only as a slower number. These checks catch a lost index (or a query
SQLite can no longer serve from one) at once, without timing anything: ``EXPLAIN QUERY PLAN`` of
the SQL the app sends must search or walk an index, never scan or sort the whole table. The
database is a fresh one with no ``ANALYZE`` statistics, as the app's own databases are.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from tests import factories
from tests.conftest import make_app
from webapp import totals
from webapp.enums import PeriodType, SourceType
from webapp.extensions import db
from webapp.forms.filters import SORT_FIELDS, ShareFilterForm
from webapp.listing import share_query
from webapp.telemetry import metrics

NOW = datetime(2026, 11, 29, 14, 30, tzinfo=UTC)
PAGE = 15
SORTS = [f"{sign}{field}" for field in SORT_FIELDS for sign in ("", "-")]
TALLIED = {
    "source_type": "reward",
    "period_type": "weeks",
    "is_cloneable": "true",
    "timezone": "UTC",
}
SELECTIVE = {"profile_id": "x", "source_id": "5", "handle": "h", "code": "c"}
STATUSES = ["active", "expired", "exhausted"]
SEARCHED = ("handle", "code", "profile_id")


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """One SQLite database for the module (also when the suite runs on PostgreSQL)."""
    path = tmp_path_factory.mktemp("plans") / "plans.sqlite3"
    app = make_app(path.parent, DATABASE_URL=f"sqlite:///{path}")
    factories.shares(
        app,
        *(
            {
                "profile_id": f"profile-{n % 7}",
                "source_type": list(SourceType)[n % 5],
                "source_id": n % 9 + 1,
                "code": f"CODE{n}" if n % 3 else None,
                "timezone": ("UTC", "Australia/Melbourne")[n % 2],
                "period_type": PeriodType.WEEKS if n % 4 else None,
                "expires_at": NOW + timedelta(hours=n - 24) if n % 5 else None,
                "remaining_quantity": n % 4 if n % 6 else None,
                "is_cloneable": bool(n % 2),
                "created_at": NOW - timedelta(days=n),
                "updated_at": NOW - timedelta(hours=n),
            }
            for n in range(40)
        ),
    )
    with app.app_context():
        yield app
        db.engine.dispose()


def form(app, args: dict[str, str]) -> ShareFilterForm:
    with app.test_request_context():
        built = ShareFilterForm(MultiDict(args))
        assert built.validate(), built.param_errors()
    return built


def plan(statement) -> list[str]:
    """SQLite's plan for ``statement`` as the app runs it: the SQL and parameters it sends."""
    sent = []

    def record(_connection, _cursor, sql, parameters, _context, _executemany):
        sent.append((sql, parameters))

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        db.session.execute(statement).all()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    ((sql, parameters),) = sent
    rows = db.session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", parameters)
    # SQLite before 3.36 wrote "SCAN TABLE shares".
    return [re.sub(r"^(SCAN|SEARCH) TABLE ", r"\1 ", row[3]) for row in rows]


def shown(lines: list[str]) -> str:
    return "plan:\n  " + "\n  ".join(lines)


def sorts_rows(lines: list[str]) -> bool:
    return any("USE TEMP B-TREE" in line for line in lines)


def scans_shares(lines: list[str]) -> bool:
    return any(line.startswith("SCAN shares") for line in lines)


@pytest.mark.parametrize("sort", SORTS)
def test_each_sort_reads_its_first_page_in_index_order(app, sort):
    lines = plan(share_query(form(app, {"sort": sort}), NOW).limit(PAGE))
    assert not sorts_rows(lines), shown(lines)
    if sort.removeprefix("-") == "id":
        # The id is the table's rowid: the table itself is the b-tree in id order, walked from
        # one end without a sort, so SQLite names no index.
        assert lines == ["SCAN shares"], shown(lines)
    else:
        assert "SCAN shares" not in lines, shown(lines)


@pytest.mark.parametrize(
    ("name", "value"), [*TALLIED.items(), *SELECTIVE.items()], ids=[*TALLIED, *SELECTIVE]
)
def test_each_filter_searches_an_index_in_id_order(app, name, value):
    lines = plan(share_query(form(app, {f"filter[{name}]": value}), NOW).limit(PAGE))
    searched = r"SEARCH shares USING (COVERING INDEX|INDEX|INTEGER PRIMARY KEY|PRIMARY KEY)"
    assert any(re.match(searched, line) for line in lines), shown(lines)
    assert not sorts_rows(lines), shown(lines)


def test_search_looks_up_its_three_prefix_ranges(app):
    lines = plan(share_query(form(app, {"filter[search]": "ABC"}), NOW).limit(PAGE))
    for column in SEARCHED:
        searched = rf"SEARCH shares USING (COVERING )?INDEX \S+ \({column}>\? AND {column}<\?\)"
        assert any(re.fullmatch(searched, line) for line in lines), f"{column}\n{shown(lines)}"
    # Sorting the few matches is expected; walking the whole id order looking for them is not.
    assert not scans_shares(lines), shown(lines)


@pytest.mark.parametrize("sort", ["expires_at", "-expires_at"])
@pytest.mark.parametrize("status", ["active", "exhausted"])
def test_a_live_status_in_expiry_order_merges_two_index_ranges(app, status, sort):
    """Not a walk of the expires_at index from its start, through every expired share."""
    args = {"filter[status]": status, "sort": sort}
    lines = plan(share_query(form(app, args), NOW).limit(PAGE))
    assert "MERGE (UNION ALL)" in lines, shown(lines)
    ranges = [
        r"SEARCH shares USING (COVERING )?INDEX ix_shares_expires_at_id \(expires_at>\?\)",
        r"SEARCH shares USING (COVERING )?INDEX ix_shares_expires_at_id \(expires_at=\?\)",
    ]
    for searched in ranges:
        assert any(re.fullmatch(searched, line) for line in lines), shown(lines)
    assert not sorts_rows(lines) and not scans_shares(lines), shown(lines)


@pytest.mark.parametrize(
    "args",
    [
        {},
        *({f"filter[{name}]": value} for name, value in TALLIED.items()),
        *({"filter[status]": status} for status in STATUSES),
    ],
    ids=["no filter", *TALLIED, *(f"status {status}" for status in STATUSES)],
)
def test_totals_come_from_the_tallies_and_index_lookups(app, args):
    total = totals.total(form(app, args).filters(), NOW)
    assert total is not None
    lines = plan(sa.select(total))
    assert not scans_shares(lines), shown(lines)
    assert not any(line.startswith("SCAN share_tallies") for line in lines), shown(lines)
    # Shares are counted only for today's expiries, through the expires_at range: never, say,
    # through every exhausted share's remaining_quantity.
    today = r"SEARCH shares USING (COVERING )?INDEX ix_shares_expires_at_id \(expires_at>\? AND"
    searches = [line for line in lines if line.startswith("SEARCH shares")]
    assert all(re.match(today, line) for line in searches), shown(lines)


def test_the_metrics_figures_come_from_the_tallies_and_index_lookups(app):
    """/metrics reads them at every scrape: shares by status, and the last day's claims."""
    lines = plan(metrics.figures(NOW))
    assert not scans_shares(lines), shown(lines)
    assert not any(line.startswith("SCAN share_") for line in lines), shown(lines)
    claims = r"SEARCH share_claims USING (COVERING )?INDEX ix_share_claims_claimed_at_id "
    assert any(re.match(claims, line) for line in lines), shown(lines)
