"""The schema under Flask-Migrate: migrations match the models, and ``init-db`` applies them."""

from __future__ import annotations

import json
import subprocess
import sys

import flask_migrate
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app

from tests import database, factories
from tests.conftest import TEST_SECRET, table_names
from tests.contract import bearer
from tests.unit.test_settings import operator_env
from webapp import ROOT, create_app
from webapp.cli import migrations
from webapp.db import tallies
from webapp.extensions import db
from webapp.models import ApiToken, AuditEvent, IdempotencyKey, Share, Staff, create_tables

MODEL_TABLES = frozenset(db.metadata.tables)
#: The revision that brought the share tallies and their triggers.
TALLIES = "5f2757a3df70"
#: The revision that recorded who made each token.
TOKEN_MAKERS = "953561cf1f92"


def run(app, *args: str):
    """Invoke a CLI command the way ``flask --app webapp ...`` would."""
    return app.test_cli_runner().invoke(args=list(args))


def head_revision(app) -> str:
    with app.app_context():
        config = migrations(current_app).migrate.get_config()
        return ScriptDirectory.from_config(config).get_current_head()


def current_revision(app) -> str | None:
    with app.app_context(), db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def drift(app) -> list:
    """What autogenerate would put in a new migration: empty when the database fits the models."""
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def collation_drift(app) -> list[tuple[str, str, str | None, str | None]]:
    """(table, column, model, database) for each column whose collation differs.

    Autogenerate does not compare collations, and prefix search depends on them
    (``models.binary_string``).
    """
    found = []
    with app.app_context():
        inspector = sa.inspect(db.engine)
        for table in db.metadata.sorted_tables:
            stored = {c["name"]: c["type"] for c in inspector.get_columns(table.name)}
            for column in table.columns:
                model = getattr(column.type.dialect_impl(db.engine.dialect), "collation", None)
                actual = getattr(stored[column.name], "collation", None)
                if model != actual:
                    found.append((table.name, column.name, model, actual))
    return found


def test_one_line_of_history(bare_app):
    with bare_app.app_context():
        config = migrations(current_app).migrate.get_config()
        script = ScriptDirectory.from_config(config)
        assert len(script.get_heads()) == 1, "merge the migration branches"
        assert len(script.get_bases()) == 1


#: Makes the app as a server worker does, says which of Alembic and Flask-Migrate that loaded,
#: then runs ``flask --app webapp db heads``.
SERVER_THEN_FLASK_DB = """
import sys
import webapp
webapp.create_app()
print(sorted({name.split(".")[0] for name in sys.modules} & {"alembic", "flask_migrate"}))
sys.argv = ["flask", "--app", "webapp", "db", "heads"]
from flask.cli import main
main()
"""


def test_a_server_does_not_load_alembic_and_flask_db_still_does(tmp_path):
    """Alembic is a fifth of a worker's start-up, and only the commands use it."""
    done = subprocess.run(
        [sys.executable, "-c", SERVER_THEN_FLASK_DB],
        cwd=ROOT,
        env=operator_env(tmp_path),
        capture_output=True,
        text=True,
        # No timeout: under faketime (make test-clock) the wait's sleep may fail.
    )
    assert done.returncode == 0, done.stderr
    loaded, heads = done.stdout.splitlines()
    assert loaded == "[]"
    assert heads == f"{ScriptDirectory(str(ROOT / 'migrations')).get_current_head()} (head)"


def test_migrations_match_the_models(bare_app):
    """Fails when a model changes without its migration: run ``flask db migrate`` and review."""
    with bare_app.app_context():
        migrations(bare_app)
        flask_migrate.upgrade()

    assert drift(bare_app) == []
    assert collation_drift(bare_app) == []
    assert table_names(bare_app) >= MODEL_TABLES


def test_init_db_twice_leaves_the_database_at_head(bare_app):
    first = run(bare_app, "init-db")
    second = run(bare_app, "init-db")

    for result in (first, second):
        assert result.exit_code == 0, result.output
        assert "Database ready" in result.output
        assert "No staff account yet" in result.output
        assert "predates migrations" not in result.output
    assert "alembic_version" in table_names(bare_app)
    assert current_revision(bare_app) == head_revision(bare_app)


def test_downgrade_to_base_and_upgrade_again(bare_app):
    assert run(bare_app, "db", "upgrade").exit_code == 0

    down = run(bare_app, "db", "downgrade", "base")

    assert down.exit_code == 0, down.output
    assert not MODEL_TABLES & table_names(bare_app)
    assert current_revision(bare_app) is None

    up = run(bare_app, "db", "upgrade")

    assert up.exit_code == 0, up.output
    assert current_revision(bare_app) == head_revision(bare_app)
    assert drift(bare_app) == []
    assert collation_drift(bare_app) == []


def test_a_database_of_the_previous_revision_keeps_its_data_when_upgraded(bare_app):
    """A database the previous release (one revision back) made, with a share in it."""
    with bare_app.app_context():
        script = ScriptDirectory.from_config(migrations(current_app).migrate.get_config())
        previous = script.get_revision(script.get_current_head()).down_revision
    assert run(bare_app, "db", "upgrade", previous).exit_code == 0
    with bare_app.app_context():
        db.session.execute(
            sa.text(
                "INSERT INTO shares (profile_id, source_type, source_id, handle, code, timezone,"
                " quantity, remaining_quantity, is_cloneable, created_at, updated_at)"
                " VALUES ('Cust-1', 'reward', 42, 'handle-of-the-old-release', 'OLD', 'UTC',"
                " 1, 1, false, '2026-11-28 23:00:00', '2026-11-28 23:00:00')"
            )
        )
        row, token = ApiToken.issue("old-script")
        db.session.execute(
            sa.text(
                "INSERT INTO api_tokens (name, role, token_hash, created_at)"
                " VALUES ('old-script', 'agent', :hash, '2026-11-28 23:00:00')"
            ),
            {"hash": row.token_hash},
        )
        db.session.commit()

    result = run(bare_app, "init-db")

    assert result.exit_code == 0, result.output
    assert current_revision(bare_app) == head_revision(bare_app)
    assert drift(bare_app) == [] and collation_drift(bare_app) == []
    with bare_app.app_context():
        share = db.session.scalar(sa.select(Share))
        assert (share.profile_id, share.handle, share.code) == (
            "Cust-1",
            "handle-of-the-old-release",
            "OLD",
        )
        # The upgraded columns search case-sensitively, as the contract asks.
        found = db.session.scalars(sa.select(Share.id).where(Share.profile_id >= "Cust")).all()
        assert found == [share.id]
        assert not db.session.scalars(sa.select(Share.id).where(Share.profile_id == "cust-1")).all()
        # The tallies count the old share, and the triggers count new ones once each.
        factories.share(bare_app, profile_id="Cust-2", source_type="list", source_id=1)
        with db.engine.connect() as connection:
            stored = tallies.stored(connection)
            assert stored == tallies.counted(connection)
        assert stored[("all", "")] == 2 and stored[("source_type", "reward")] == 1
    # The old release's token works, and starts counting its rate limit from nothing.
    response = bare_app.test_client().get("/api/v3/shares", headers=bearer(token))
    assert response.status_code == 200
    limit = bare_app.extensions["api_rate"].hits
    assert response.headers["X-RateLimit-Remaining"] == str(limit - 1)
    with bare_app.app_context():
        stored_token = db.session.scalar(sa.select(ApiToken))
        assert stored_token.window_hits == 1 and stored_token.last_used_at is not None


def test_tokens_made_before_their_creators_were_recorded_get_them_from_the_audit_trail(
    bare_app,
):
    """Upgrading a database of a release before tokens' creators were kept: each token's creator
    is read from the audit event that created it; a token with no such event stays 'not
    recorded'."""
    with bare_app.app_context():
        script = ScriptDirectory.from_config(migrations(current_app).migrate.get_config())
        previous = script.get_revision(TOKEN_MAKERS).down_revision
    assert run(bare_app, "db", "upgrade", previous).exit_code == 0
    at = "'2026-11-28 23:00:00'"
    events = [
        ("boss@example.com", {"name": [None, "web-made"], "role": [None, "agent"]}),
        ("cli:root", {"name": [None, "cli-made"]}),
        # A revocation by someone else names the token too: it is no creation.
        ("other@example.com", {"name": ["web-made"] * 2, "revoked_at": [None, "2026-11-29"]}),
    ]
    with bare_app.app_context():
        db.session.execute(
            sa.text(
                "INSERT INTO staff (email, password_hash, role, is_active, session_epoch,"
                f" created_at) VALUES ('boss@example.com', 'x', 'admin', true, 0, {at})"
            )
        )
        for name in ("web-made", "cli-made", "older"):
            db.session.execute(
                sa.text(
                    "INSERT INTO api_tokens (name, role, token_hash, created_at)"
                    f" VALUES ('{name}', 'agent', '{name}-hash', {at})"
                )
            )
        for actor, changes in events:
            db.session.execute(
                sa.text(
                    "INSERT INTO audit_events (at, actor, action, changes)"
                    f" VALUES ({at}, '{actor}', 'token', '{json.dumps(changes)}')"
                )
            )
        db.session.commit()

    assert run(bare_app, "init-db").exit_code == 0

    with bare_app.app_context():
        boss = db.session.scalar(sa.select(Staff.id).where(Staff.email == "boss@example.com"))
        made = {
            row.name: (row.created_by, row.creator_id)
            for row in db.session.scalars(sa.select(ApiToken))
        }
    assert made == {
        "web-made": ("boss@example.com", boss),
        "cli-made": ("cli:root", None),
        "older": (None, None),
    }


def test_the_tally_triggers_go_with_a_downgrade_and_come_back_once(bare_app):
    assert run(bare_app, "db", "upgrade").exit_code == 0
    assert run(bare_app, "db", "downgrade", f"{TALLIES}-1").exit_code == 0
    with bare_app.app_context():
        assert "share_tallies" not in table_names(bare_app)
        # Without its triggers, the previous schema takes shares as it did.
        db.session.execute(
            sa.text(
                "INSERT INTO shares (profile_id, source_type, source_id, handle, timezone,"
                " quantity, is_cloneable, created_at, updated_at) VALUES ('a', 'reward', 1, 'h1',"
                " 'UTC', 1, false, '2026-11-28 23:00:00', '2026-11-28 23:00:00')"
            )
        )
        db.session.commit()
    assert run(bare_app, "db", "upgrade").exit_code == 0
    with bare_app.app_context():
        factories.share(bare_app, profile_id="b", source_id=2)
        with db.engine.connect() as connection:
            assert tallies.stored(connection)[("all", "")] == 2
            assert tallies.stored(connection) == tallies.counted(connection)


#: The revision that made PostgreSQL's tally triggers statement triggers.
STATEMENT_TALLIES = "3a9f61c2d5e8"


def test_the_statement_tally_triggers_downgrade_to_row_triggers_and_back(bare_app):
    assert run(bare_app, "db", "upgrade").exit_code == 0
    with bare_app.app_context(), db.engine.connect() as connection:
        latest = triggers(connection)
    assert run(bare_app, "db", "downgrade", f"{STATEMENT_TALLIES}-1").exit_code == 0
    with bare_app.app_context(), db.engine.connect() as connection:
        before = triggers(connection)
    factories.shares(bare_app, {"profile_id": "a"}, {"profile_id": "b", "source_type": "list"})
    assert run(bare_app, "db", "upgrade").exit_code == 0
    claimed = factories.share(bare_app, profile_id="c", remaining_quantity=1)
    factories.claim(bare_app, claimed, "friend")
    with bare_app.app_context(), db.engine.connect() as connection:
        assert triggers(connection) == latest
        assert tallies.stored(connection)[("all", "")] == 3
        assert tallies.stored(connection)[("claims", "")] == 1
        assert tallies.stored(connection) == tallies.counted(connection)
        if connection.dialect.name == "postgresql":
            assert {name for name, *_ in before} == {
                "share_tallies_follow",
                "share_claim_tallies_follow",
            }
            assert all("FOR EACH ROW" in definition for _name, definition, _source in before)
            assert all("FOR EACH STATEMENT" in definition for _name, definition, _ in latest)
        else:
            assert before == latest  # SQLite keeps its row triggers


def schema(app) -> dict:
    """Every table's columns, keys, indexes and triggers, as the database itself reports them."""
    with app.app_context(), db.engine.connect() as connection:
        inspector = sa.inspect(connection)
        found = {}
        for table in sorted(set(inspector.get_table_names()) - {"alembic_version"}):
            found[table] = {
                # In any order: a migration adds its columns at the end of the table.
                "columns": sorted(
                    (c["name"], str(c["type"]), c["nullable"], c.get("default"))
                    for c in inspector.get_columns(table)
                ),
                "primary key": inspector.get_pk_constraint(table)["constrained_columns"],
                "indexes": sorted(
                    (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                    for i in inspector.get_indexes(table)
                ),
                "unique": sorted(
                    (u["name"], tuple(u["column_names"]))
                    for u in inspector.get_unique_constraints(table)
                ),
            }
        found["triggers"] = triggers(connection)
    return found


def triggers(connection) -> list[tuple[str, ...]]:
    """(name, what it runs) of each trigger: its SQL on SQLite; on PostgreSQL its definition
    (when, for each row or statement, its transition tables) and its function's source."""
    if connection.dialect.name == "sqlite":
        query = "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name"
    else:
        query = (
            # The definition names the table with its schema, which differs between databases.
            "SELECT t.tgname, "
            "replace(pg_get_triggerdef(t.oid), quote_ident(current_schema()) || '.', ''), p.prosrc "
            "FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid "
            "WHERE NOT t.tgisinternal AND p.pronamespace = current_schema()::regnamespace "
            "ORDER BY t.tgname"
        )
    return [tuple(row) for row in connection.exec_driver_sql(query)]


def test_init_db_an_upgrade_and_the_tests_schema_are_one_schema(tmp_path):
    """A fresh ``init-db``, an upgrade from the first migration, and the tables the tests make
    (``models.create_tables``) end with the same columns, indexes and triggers."""
    with (
        database.fresh_database(tmp_path, "fresh") as fresh_url,
        database.fresh_database(tmp_path, "upgraded") as upgraded_url,
        database.fresh_database(tmp_path, "tests") as tests_url,
    ):
        fresh, upgraded, made = (
            create_app({"TESTING": True, "SECRET_KEY": TEST_SECRET, "DATABASE_URL": url})
            for url in (fresh_url, upgraded_url, tests_url)
        )
        assert run(fresh, "init-db").exit_code == 0
        with upgraded.app_context():
            config = migrations(current_app).migrate.get_config()
            (first,) = ScriptDirectory.from_config(config).get_bases()
        assert run(upgraded, "db", "upgrade", first).exit_code == 0
        assert run(upgraded, "init-db").exit_code == 0
        with made.app_context(), db.engine.begin() as connection:
            create_tables(connection)
        try:
            expected = schema(fresh)
            assert expected["triggers"], "the tallies' triggers are part of the schema"
            assert schema(upgraded) == expected
            assert schema(made) == expected
        finally:
            for app in (fresh, upgraded, made):
                with app.app_context():
                    db.engine.dispose()


#: The revision before the events feed.
BEFORE_FEED = "8c1e4b7d2a90"
OLD_CREATE = {
    "profile_id": [None, "cust-1"], "source_id": [None, 42], "source_type": [None, "reward"],
    "handle": [None, "old-handle"], "timezone": [None, "UTC"], "quantity": [None, 1],
    "remaining_quantity": [None, 2], "is_cloneable": [None, True],
}  # fmt: skip


def test_the_feed_revision_rewrites_old_events_in_the_feeds_form_and_back(bare_app):
    """Events recorded before the feed read as the feed writes them after the upgrade, and as
    they were after a downgrade; claims are tallied and old idempotency keys keep working."""
    assert run(bare_app, "db", "upgrade", BEFORE_FEED).exit_code == 0
    with bare_app.app_context():
        for statement, values in (
            (
                "INSERT INTO share_claims (id, share_id, share_handle, share_profile_id,"
                " profile_id, claimed_at, created_source_type, created_source_id, is_cloned,"
                " created_at, updated_at) VALUES (7, 1, 'old-handle', 'cust-1', 'cust-2',"
                " '2026-11-28 23:05:00', 'reward', 42, true, '2026-11-28 23:05:00',"
                " '2026-11-28 23:05:00')",
                {},
            ),
            (
                "INSERT INTO audit_events (at, actor, action, share_id, share_handle, changes)"
                " VALUES ('2026-11-28 23:00:00', 'system', 'create', 1, 'old-handle', :create),"
                " ('2026-11-28 23:05:00', 'system', 'claim', 1, 'old-handle', :claim)",
                {
                    "create": json.dumps(OLD_CREATE),
                    "claim": json.dumps(
                        {
                            "claim_id": [None, 7],
                            "claimer_profile_id": [None, "cust-2"],
                            "remaining_quantity": [2, 1],
                        }
                    ),
                },
            ),
            (
                "INSERT INTO idempotency_keys (token_id, key, fingerprint, status, response,"
                " created_at) VALUES (3, 'k', 'f', 201, '{}', '2026-11-28 23:00:00')",
                {},
            ),
        ):
            db.session.execute(sa.text(statement), values)
        db.session.commit()

    assert run(bare_app, "init-db").exit_code == 0

    with bare_app.app_context():
        create, claim = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)).all()
        assert list(create.changes) == [
            "id", "profile_id", "source_type", "source_id", "handle", "timezone", "quantity",
            "remaining_quantity", "is_cloneable", "source", "created_at", "updated_at",
        ]  # fmt: skip
        assert create.changes["source"] == [None, {"type": "reward", "id": 42}]
        assert create.changes["created_at"] == [None, "2026-11-28T23:00:00Z"]
        assert (claim.claim_id, claim.changes) == (7, {"remaining_quantity": [2, 1]})
        with db.engine.connect() as connection:
            assert tallies.stored(connection)[("claims", "")] == 1
            assert tallies.stored(connection) == tallies.counted(connection)
        key = db.session.scalar(sa.select(IdempotencyKey))
        assert (key.scope, key.route, key.key) == ("token:3", "addShare", "k")

    assert run(bare_app, "db", "downgrade", BEFORE_FEED).exit_code == 0

    with bare_app.app_context():
        rows = db.session.execute(sa.text("SELECT changes FROM audit_events ORDER BY id")).all()
        changes = [json.loads(row[0]) if isinstance(row[0], str) else row[0] for row in rows]
        assert changes[0] == OLD_CREATE
        assert changes[1] == {
            "claim_id": [None, 7],
            "claimer_profile_id": [None, "cust-2"],
            "remaining_quantity": [2, 1],
        }
