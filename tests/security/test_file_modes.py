"""What the app writes to disk that others could read: the SQLite database (with its -wal,
-shm and -lock files) and the generated secret key are made owner-only."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
from contextlib import contextmanager

import sqlalchemy as sa

from tests import factories
from tests.conftest import TEST_SECRET
from webapp import create_app
from webapp.extensions import db


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@contextmanager
def usual_umask():
    """The umask most systems start with, under which SQLite made its files 0644."""
    before = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(before)


def test_a_new_sqlite_database_and_its_files_are_owner_only(tmp_path, monkeypatch):
    path = tmp_path / "new.sqlite3"
    monkeypatch.setenv("WEBAPP_INSTANCE_PATH", str(tmp_path / "instance"))
    with usual_umask():
        app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{path}"})
        result = app.test_cli_runner().invoke(args=["init-db"])
        assert result.exit_code == 0, result.output
        assert "Other users of this machine can read the database" not in result.output
        factories.staff(app, "first@example.com", "admin")  # a write: the queue's -lock file
        with app.app_context(), db.engine.connect() as connection:
            # While a connection is open, the WAL's files are there to be checked.
            assert connection.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
            files = [path, f"{path}-wal", f"{path}-shm", f"{path}-lock"]
            assert {str(file): mode(file) for file in files} == dict.fromkeys(
                map(str, files), 0o600
            )
        assert mode(tmp_path / "instance" / "secret_key") == 0o600
    with app.app_context():
        db.engine.dispose()


def test_init_db_says_when_an_existing_database_is_readable_by_others(tmp_path):
    path = tmp_path / "old.sqlite3"
    path.touch(mode=0o644)
    os.chmod(path, 0o644)
    app = create_app(
        {"TESTING": True, "SECRET_KEY": TEST_SECRET, "DATABASE_URL": f"sqlite:///{path}"}
    )
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert "Other users of this machine can read the database" in result.output
    assert f"chmod go= {path}" in result.output
    assert mode(path) == 0o644  # told, not changed behind the operator's back
    with app.app_context():
        db.engine.dispose()


def test_init_db_names_only_the_files_that_stay_and_its_chmod_works(tmp_path):
    """SQLite removes the -wal and -shm files when the last connection closes, as the command
    ends: the advice names them only while another process keeps them (a running server)."""
    path = tmp_path / "old.sqlite3"
    path.touch()
    os.chmod(path, 0o644)
    app = create_app(
        {"TESTING": True, "SECRET_KEY": TEST_SECRET, "DATABASE_URL": f"sqlite:///{path}"}
    )

    def advice() -> list[str]:
        """The files ``init-db`` says to chmod (the -lock file took the database's mode)."""
        result = app.test_cli_runner().invoke(args=["init-db"])
        assert result.exit_code == 0, result.output
        [line] = [line for line in result.output.splitlines() if "chmod go=" in line]
        return line.split("chmod go= ", 1)[1].split()

    assert advice() == [str(path), f"{path}-lock"]
    server = sqlite3.connect(path)
    try:
        server.execute("SELECT count(*) FROM shares").fetchone()
        assert advice() == [str(path), f"{path}-wal", f"{path}-shm", f"{path}-lock"]
    finally:
        server.close()
    named = advice()

    assert subprocess.run(["chmod", "go=", *named]).returncode == 0
    assert {file.name: mode(file) for file in tmp_path.iterdir()} == {
        "old.sqlite3": 0o600,
        "old.sqlite3-lock": 0o600,
    }
    with app.app_context():
        db.engine.dispose()
