"""Where test apps keep their data: a SQLite file each, or PostgreSQL with ``make test-postgres``.

With ``WEBAPP_TEST_DATABASE_URL`` set, every app shares that PostgreSQL database. Creating tables
for each test would be slow, so apps lease *schemas* whose tables exist already: a lease empties
them (``TRUNCATE ... RESTART IDENTITY``), and the app's URL puts the schema first on its search
path, so a ``flask run`` subprocess given that URL sees the same tables. A test hands its schemas
back when it ends; an app made outside a test (a session's server, a module's app made at import)
keeps its schema for the whole run. Two apps in one test get two schemas, as they would get two
SQLite files, so no test sees another's rows.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.engine import make_url

from webapp.db import writer_queue
from webapp.extensions import db
from webapp.models import create_tables

URL = os.environ.get("WEBAPP_TEST_DATABASE_URL") or None
if URL and make_url(URL).get_backend_name() != "postgresql":
    raise RuntimeError(f"WEBAPP_TEST_DATABASE_URL must be a PostgreSQL URL, not {URL!r}")
#: Schema names differ per pytest-xdist worker, should anyone run the suite in parallel.
PREFIX = "t_" + os.environ.get("PYTEST_XDIST_WORKER", "")
#: A TRUNCATE waits for the locks of open transactions: a leaked one fails the run, not hangs it.
LOCK_TIMEOUT = "30s"


def on_postgres() -> bool:
    return URL is not None


def schema_url(schema: str) -> str:
    """The test database's URL with ``schema`` alone on the search path."""
    url = make_url(URL).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


_engine: sa.Engine | None = None


def _admin() -> sa.Engine:
    """One autocommit engine for creating, emptying and dropping schemas."""
    global _engine
    if _engine is None:
        _engine = sa.create_engine(URL, isolation_level="AUTOCOMMIT", pool_size=1)
    return _engine


def _execute(*statements: str) -> None:
    with _admin().connect() as connection:
        connection.exec_driver_sql(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
        for statement in statements:
            connection.exec_driver_sql(statement)


def end_backends(pids: set[int]) -> int:
    """End these server processes, as a restart would, each gone before this returns; how
    many there were."""
    with _admin().connect() as connection:
        return connection.execute(
            sa.text(
                "SELECT count(*) FROM unnest(CAST(:pids AS integer[])) AS pid"
                " WHERE pg_terminate_backend(pid, 5000)"
            ),
            {"pids": sorted(pids)},
        ).scalar()


def _quote(name: str) -> str:
    return _admin().dialect.identifier_preparer.quote(name)


class SchemaPool:
    """Schemas holding every table, reused from test to test (see the module docstring)."""

    def __init__(self):
        self.free: list[str] = []
        self.made = 0
        #: The current test's (schema, app) leases; None between tests.
        self.leases: list[tuple[str, Flask]] | None = None

    def _new(self) -> str:
        self.made += 1
        schema = f"{PREFIX}{self.made}"
        # A schema left by an earlier run may hold an older version of the tables.
        _execute(
            f"DROP SCHEMA IF EXISTS {_quote(schema)} CASCADE", f"CREATE SCHEMA {_quote(schema)}"
        )
        with _admin().connect() as connection:
            translated = connection.execution_options(schema_translate_map={None: schema})
            create_tables(translated)
        return schema

    def empty(self, app: Flask) -> None:
        """Empty the tables of the schema that ``app`` leased."""
        self._empty(make_url(app.config["DATABASE_URL"]).query["options"].split("=", 1)[1])

    def _empty(self, schema: str) -> None:
        tables = ", ".join(
            f"{_quote(schema)}.{_quote(table.name)}" for table in db.metadata.sorted_tables
        )
        _execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")

    def lease(self, make: Callable[[str], Flask]) -> Flask:
        """``make(url)`` an app on an emptied schema, held until the current test ends."""
        schema = self.free.pop() if self.free else self._new()
        try:
            self._empty(schema)
            app = make(schema_url(schema))
        except BaseException:
            self.free.append(schema)
            raise
        if self.leases is not None:
            self.leases.append((schema, app))
        return app

    @contextlib.contextmanager
    def test(self) -> Iterator[None]:
        """Around one test: the schemas it leases come back when it ends."""
        self.leases = []
        try:
            yield
        finally:
            leases, self.leases = self.leases, None
            for schema, app in reversed(leases):
                # Close the app's pooled connections, so none outlives the test it served.
                with app.app_context():
                    db.engine.dispose()
                self.free.append(schema)


POOL = SchemaPool()


@contextlib.contextmanager
def fresh_database(tmp_path: Path, name: str = "fresh") -> Iterator[str]:
    """The URL of a database without a single table: a new SQLite file or PostgreSQL schema."""
    if not on_postgres():
        yield f"sqlite:///{tmp_path / f'{name}.sqlite3'}"
        return
    schema = f"{name}_{secrets.token_hex(4)}"
    _execute(f"CREATE SCHEMA {_quote(schema)}")
    try:
        yield schema_url(schema)
    finally:
        _execute(f"DROP SCHEMA {_quote(schema)} CASCADE")


@functools.cache
def _sqlite_template() -> Path:
    """A SQLite file holding every table (and the tallies' triggers), made once per process:
    copying it is much cheaper than creating the tables again for every test. Made through the
    app's own connections, so it is in WAL mode already, as the app leaves every database:
    switching each copy over would cost each test an fsync. Removed when the process ends."""
    directory = tempfile.mkdtemp(prefix="share-desk-template-")
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    path = Path(directory) / "template.sqlite3"
    engine = sa.create_engine(
        f"sqlite:///{path}", connect_args={"factory": writer_queue.Connection}
    )
    with engine.begin() as connection:
        create_tables(connection)
    engine.dispose()
    return path


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL; None for another database."""
    parsed = make_url(url)
    return Path(parsed.database) if parsed.get_backend_name() == "sqlite" else None


def copy_schema(path: Path) -> None:
    """Make ``path`` a database with every table and no rows (replacing what was there)."""
    for leftover in (Path(f"{path}-wal"), Path(f"{path}-shm")):
        leftover.unlink(missing_ok=True)
    shutil.copyfile(_sqlite_template(), path)


def reset(app: Flask) -> None:
    """Empty the app's database: a fresh copy of the SQLite template, or its schema truncated."""
    with app.app_context():
        db.engine.dispose()  # no pooled connection may hold the old file open
    path = sqlite_path(app.config["DATABASE_URL"])
    if path is not None:
        copy_schema(path)
    else:
        POOL.empty(app)


def unreachable_url(tmp_path: Path) -> str:
    """A database URL that cannot be opened: a file in a missing directory, a missing database."""
    if not on_postgres():
        return f"sqlite:///{tmp_path / 'missing-dir' / 'db.sqlite3'}"
    url = make_url(URL).set(database=f"missing_{secrets.token_hex(4)}")
    return url.render_as_string(hide_password=False)


def stored_bytes(app: Flask) -> bytes:
    """Everything the app's database holds, as bytes to search: the file, or each row as text."""
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            # In WAL mode, recent writes live in the -wal file beside the database.
            files = [Path(db.engine.url.database), Path(db.engine.url.database + "-wal")]
            return b"".join(path.read_bytes() for path in files if path.exists())
        with db.engine.connect() as connection:
            rows = [
                text
                for table in db.metadata.sorted_tables
                for text in connection.execute(
                    sa.text(f"SELECT CAST(t AS text) FROM {_quote(table.name)} AS t")
                ).scalars()
            ]
    return "\n".join(rows).encode()
