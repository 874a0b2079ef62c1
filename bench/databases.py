"""Where the bench keeps its databases: SQLite files, or databases on a PostgreSQL server.

Either way, one template database is made by the app's own ``init-db`` (with an admin and an API
token), and each benchmark gets a copy of it by name: a file copy on SQLite, ``CREATE DATABASE
... TEMPLATE`` on PostgreSQL. ``make bench-postgres`` points ``BENCH_POSTGRES_URL`` at a
throw-away server (``.ci/with-postgres``); its database must be empty, and is used only as the
model for the template (its encoding and collation).
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url


class SQLiteFiles:
    """Databases as files in the bench's scratch directory."""

    kind = "SQLite"

    def __init__(self, directory: Path):
        self.directory = directory
        self.template_url = f"sqlite:///{directory / 'template.sqlite3'}"

    def version(self) -> str:
        return f"SQLite {sqlite3.sqlite_version}"

    def prepare(self) -> None:
        """Nothing to make before ``init-db`` writes the template file."""

    def finish_template(self) -> None:
        """Fold the template's write-ahead log into the file, so a copy of the file is whole."""
        with contextlib.closing(sqlite3.connect(_path(self.template_url))) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def copy(self, name: str) -> str:
        path = self.directory / f"{name}.sqlite3"
        shutil.copyfile(_path(self.template_url), path)
        return f"sqlite:///{path}"

    def drop(self, url: str) -> None:
        path = _path(url)
        for leftover in (path, *(Path(f"{path}{end}") for end in ("-wal", "-shm", "-lock"))):
            leftover.unlink(missing_ok=True)

    def close(self) -> None:
        """The scratch directory goes with the workspace."""


class PostgresDatabases:
    """Databases on one PostgreSQL server, dropped when the bench ends."""

    kind = "PostgreSQL"
    TEMPLATE = "bench_template"

    def __init__(self, server_url: str):
        self.url = make_url(server_url)
        if self.url.get_backend_name() != "postgresql":
            raise RuntimeError(f"BENCH_POSTGRES_URL must be a PostgreSQL URL, not {server_url!r}")
        # Connected to the server's own database: a database cannot be copied while in use.
        self.admin = sa.create_engine(
            self.url.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=sa.NullPool
        )
        self.template_url = self._url_of(self.TEMPLATE)
        self.made: list[str] = []

    def _url_of(self, database: str) -> str:
        return self.url.set(database=database).render_as_string(hide_password=False)

    def _execute(self, statement: str) -> None:
        with self.admin.connect() as connection:
            connection.exec_driver_sql(statement)

    def version(self) -> str:
        with self.admin.connect() as connection:
            version = connection.exec_driver_sql("SHOW server_version").scalar()
            settings = connection.exec_driver_sql(
                "SELECT string_agg(name || '=' || setting, ', ' ORDER BY name) FROM pg_settings "
                "WHERE name IN ('fsync', 'synchronous_commit', 'shared_buffers')"
            ).scalar()
        return f"PostgreSQL {version.split()[0]} ({settings})"

    def prepare(self) -> None:
        given = sa.create_engine(self.url, poolclass=sa.NullPool)
        with given.connect() as connection:
            tables = connection.exec_driver_sql(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
            ).scalar()
        given.dispose()
        if tables:
            raise RuntimeError(
                f"BENCH_POSTGRES_URL names a database with {tables} tables: give an empty one, "
                "on a server the bench may create and drop databases in (make bench-postgres)."
            )
        self._create(self.TEMPLATE, self.url.database)

    def finish_template(self) -> None:
        """Nothing to fold: the server copies a template database whole."""

    def _create(self, name: str, template: str) -> None:
        preparer = self.admin.dialect.identifier_preparer
        self._execute(f"DROP DATABASE IF EXISTS {preparer.quote(name)} WITH (FORCE)")
        self._execute(f"CREATE DATABASE {preparer.quote(name)} TEMPLATE {preparer.quote(template)}")
        self.made.append(name)

    def copy(self, name: str) -> str:
        database = f"bench_{name.replace('-', '_')}"
        self._create(database, self.TEMPLATE)
        return self._url_of(database)

    def drop(self, url: str) -> None:
        database = make_url(url).database
        quoted = self.admin.dialect.identifier_preparer.quote(database)
        self._execute(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
        with contextlib.suppress(ValueError):
            self.made.remove(database)

    def close(self) -> None:
        for database in reversed(self.made):
            with contextlib.suppress(sa.exc.SQLAlchemyError):
                self.drop(self._url_of(database))
        self.admin.dispose()


def _path(url: str) -> Path:
    return Path(make_url(url).database)
