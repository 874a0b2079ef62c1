"""Every command opens the database before it works on it: a database that is not set up, is
behind, or cannot be opened ends the command with one line that says why and what to do, exit 1,
no traceback, and nothing made or written."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app

from tests import database, factories
from tests.bulk import csv_file, vip_rows
from tests.conftest import TEST_SECRET, make_app, table_names
from tests.security.helpers import fingerprint
from tests.unit.test_cli import assert_clean_failure
from webapp import ROOT, create_app
from webapp.cli import migrations
from webapp.extensions import db
from webapp.models import create_tables

PASSWORD = "a long enough password\n"
INIT_DB = "run flask --app webapp init-db"
#: A command of each kind, reading and writing; each reads PASSWORD where it asks for one.
COMMANDS = [
    ("staff", "list"),
    ("staff", "create", "ann@example.com", "--role", "admin"),
    ("staff", "set-password", "ann@example.com"),
    ("tokens", "list"),
    ("tokens", "create", "nightly"),
    ("tokens", "revoke", "nightly"),
    ("check-tallies",),
    ("check-tallies", "--repair"),
    ("shares", "import", "-", "--dry-run"),
    ("shares", "import", "-"),
]


def run(app, *args: str):
    return app.test_cli_runner().invoke(args=list(args), input=PASSWORD)


def shown(app) -> str:
    """The database's URL as the messages give it: without its password."""
    with app.app_context():
        return db.engine.url.render_as_string(hide_password=True)


def files(directory: Path) -> dict[str, bytes]:
    """Every file under ``directory`` with its bytes, to prove that nothing was written."""
    return {
        str(path.relative_to(directory)): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def revisions(app) -> tuple[str, str]:
    """This version's latest migration, and the one before it."""
    with app.app_context():
        config = migrations(current_app).migrate.get_config()
        head = ScriptDirectory.from_config(config).get_revision("head")
    return head.revision, head.down_revision


def current_revision(app) -> str | None:
    with app.app_context(), db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


# --- not set up, or behind -----------------------------------------------------------------


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_a_command_before_init_db_says_to_run_it_and_makes_no_database(bare_app, command):
    result = run(bare_app, *command)

    assert_clean_failure(result, f"Error: The database at {shown(bare_app)} has no tables yet:")
    assert f"{INIT_DB}." in result.output
    path = database.sqlite_path(bare_app.config["DATABASE_URL"])
    if path is None:
        assert table_names(bare_app) == set()
    else:  # Not even an empty file (nor its -wal, -shm or -lock) is left behind.
        assert list(path.parent.glob(f"{path.name}*")) == []


def test_an_empty_database_file_is_not_set_up_and_stays_empty(tmp_path):
    """A SQLite file, on either test database."""
    path = tmp_path / "empty.sqlite3"
    path.touch()
    app = create_app(
        {"TESTING": True, "SECRET_KEY": TEST_SECRET, "DATABASE_URL": f"sqlite:///{path}"}
    )

    result = run(app, "tokens", "create", "nightly")

    assert_clean_failure(result, f"has no tables yet: {INIT_DB}.")
    assert files(path.parent) == {path.name: b""}


def test_a_database_behind_this_version_says_to_upgrade_it_and_is_left_as_it_is(bare_app):
    head, previous = revisions(bare_app)
    assert run(bare_app, "db", "upgrade", previous).exit_code == 0

    for command in COMMANDS:
        result = run(bare_app, *command)
        assert_clean_failure(
            result,
            f"Error: The database at {shown(bare_app)} is behind this version of Share Desk "
            f"(at migration {previous}, not {head}): {INIT_DB} to upgrade it.",
        )
    assert current_revision(bare_app) == previous
    with bare_app.app_context():
        for table in ("staff", "api_tokens", "share_imports", "audit_events"):
            assert db.session.scalar(sa.text(f"SELECT count(*) FROM {table}")) == 0, table

    assert run(bare_app, "init-db").exit_code == 0
    assert run(bare_app, "staff", "list").output.startswith("No staff accounts.")


def test_a_database_of_a_newer_version_is_refused(bare_app):
    assert run(bare_app, "init-db").exit_code == 0
    head, _ = revisions(bare_app)
    with bare_app.app_context():
        db.session.execute(sa.text("UPDATE alembic_version SET version_num = 'fffffffffff0'"))
        db.session.commit()

    result = run(bare_app, "tokens", "create", "nightly")

    assert_clean_failure(
        result,
        f"Error: The database at {shown(bare_app)} was made by a newer version of Share Desk "
        f"(migration fffffffffff0 is unknown here; this version's latest is {head}).",
    )
    with bare_app.app_context():
        assert db.session.scalar(sa.text("SELECT count(*) FROM api_tokens")) == 0


def test_a_scratch_database_needs_every_table(bare_app):
    """``models.create_tables`` makes no version table: every table is what counts there."""
    with bare_app.app_context(), db.engine.begin() as connection:
        create_tables(connection)
        connection.execute(sa.text("DROP TABLE share_imports"))

    result = run(bare_app, "shares", "import", "-", "--dry-run")

    assert_clean_failure(result, "lacks tables this version needs (share_imports).")


# --- cannot be opened ----------------------------------------------------------------------


def unreachable(tmp_path: Path) -> list[tuple[str, str]]:
    """(URL, the driver's reason) of databases that cannot be opened."""
    text = tmp_path / "notes.txt"
    text.write_text("not a database, but a file somebody wrote\n" * 100)
    found = [
        (f"sqlite:///{tmp_path / 'missing' / 'db.sqlite3'}", "unable to open database file"),
        (f"sqlite:///{tmp_path}", "unable to open database file"),  # a directory
        (f"sqlite:///{text}", "file is not a database"),
        (f"sqlite:///{text}/db.sqlite3", "unable to open database file"),  # under a file
        # Nothing listens on port 1: refused at once.
        ("postgresql+psycopg://nobody:secret@127.0.0.1:1/x", "Connection refused"),
    ]
    if database.on_postgres():
        found.append((database.unreachable_url(tmp_path), "does not exist"))
    return found


def test_a_database_that_cannot_be_opened_says_where_and_why_and_nothing_is_written(tmp_path):
    for url, reason in unreachable(tmp_path):
        app = create_app({"TESTING": True, "SECRET_KEY": TEST_SECRET, "DATABASE_URL": url})
        before = files(tmp_path)
        for command in [("init-db",), *COMMANDS]:
            result = run(app, *command)

            assert_clean_failure(result, f"Error: The database at {shown(app)} could not be opened")
            assert reason in result.output, (url, command)
            assert len(result.output.strip().splitlines()) == 1, result.output
            assert "secret" not in result.output
        assert files(tmp_path) == before, url
        assert not (tmp_path / "missing").exists()


def test_a_database_in_a_read_only_directory_says_why(tmp_path):
    """In a process of its own, as root without the power to override permissions (util-linux's
    setpriv, part of every Debian)."""
    directory = tmp_path / "read-only"
    directory.mkdir()
    url = f"sqlite:///{directory / 'db.sqlite3'}"
    env = {**os.environ, "WEBAPP_DATABASE_URL": url, "WEBAPP_SECRET_KEY": TEST_SECRET}
    flask = [sys.executable, "-m", "flask", "--app", "webapp"]
    if os.geteuid() == 0:
        drop = "-dac_override,-dac_read_search"
        flask = ["setpriv", f"--inh-caps={drop}", f"--bounding-set={drop}", *flask]

    def run_flask(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            # No timeout: its wait sleeps, and under faketime (make test-clock) a sleep may fail.
            [*flask, *args],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
        )

    directory.chmod(0o555)
    try:
        refused = run_flask("init-db")
        assert refused.returncode == 1, refused.stderr
        assert refused.stderr == (
            f"Error: The database at {url} could not be opened: unable to open database file.\n"
        )
        assert list(directory.iterdir()) == []
        directory.chmod(0o755)
        assert run_flask("init-db").returncode == 0
        directory.chmod(0o555)
        before = files(directory)

        refused = run_flask("tokens", "create", "nightly")

        assert refused.returncode == 1, refused.stderr
        assert refused.stderr.startswith(f"Error: The database at {url} could not be opened: ")
        assert len(refused.stderr.splitlines()) == 1 and "Traceback" not in refused.stderr
        assert files(directory) == before
    finally:
        directory.chmod(0o755)


# --- busy ----------------------------------------------------------------------------------

#: Each command that writes, with what it reads from standard input.
WRITING = [
    (("staff", "create", "new@example.com", "--role", "admin"), PASSWORD),
    (("staff", "set-password", "ann@example.com"), PASSWORD),
    (("tokens", "create", "second"), ""),
    (("tokens", "revoke", "nightly"), ""),
    (("check-tallies", "--repair"), ""),
    (("shares", "import", "-"), csv_file(*vip_rows(3)).decode()),
]


@pytest.mark.parametrize(("command", "stdin"), WRITING, ids=[" ".join(c) for c, _ in WRITING])
def test_a_database_locked_past_its_busy_timeout_ends_a_write_with_one_line(
    tmp_path, command, stdin
):
    """Another process holds SQLite's write lock (a long import, a backup) for longer than the
    busy timeout (0 here: at once). It was a traceback."""
    path = tmp_path / "busy.sqlite3"
    app = make_app(tmp_path, DATABASE_URL=f"sqlite:///{path}", SQLITE_BUSY_TIMEOUT_MS=0)
    factories.staff(app, "ann@example.com", "admin")
    factories.token(app, "nightly", "agent")
    factories.share(app)
    with app.app_context():
        # Off, so that --repair has something to write.
        db.session.execute(sa.text("UPDATE share_tallies SET shares = shares + 2"))
        db.session.commit()
    before = fingerprint(app)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        result = app.test_cli_runner().invoke(args=list(command), input=stdin)
    finally:
        holder.close()

    message = (
        f"Error: The database at {shown(app)} stopped the command: database is locked. "
        "Nothing of it was saved; run it again.\n"
    )
    assert_clean_failure(result, message)
    assert result.output.endswith(message)  # after what it had found (an import's rows)
    assert fingerprint(app) == before
