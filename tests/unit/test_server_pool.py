"""A database server's pooled connections (webapp/db/server_pool.py): checked before use once they
sat idle, never when used a moment ago; a dead one is replaced before a request gets it."""

from __future__ import annotations

import sqlalchemy as sa

from tests import database
from webapp.db import server_pool
from webapp.extensions import db


def _pinged(monkeypatch, engine: sa.Engine) -> list:
    """The connections ``engine``'s dialect checks, as they are checked."""
    checked = []
    ping = engine.dialect.do_ping

    def counted(dbapi_connection):
        checked.append(dbapi_connection)
        return ping(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    return checked


def _engine(tmp_path) -> sa.Engine:
    """One pooled connection: the one every checkout gets back."""
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'pool.sqlite3'}", pool_size=1)
    server_pool.check_idle_connections(engine)
    return engine


def _dbapi_connection(engine: sa.Engine):
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT 1")).scalar() == 1
        return connection.connection.dbapi_connection


def test_a_connection_used_a_moment_ago_is_not_checked(tmp_path, monkeypatch):
    engine = _engine(tmp_path)
    checked = _pinged(monkeypatch, engine)
    monkeypatch.setattr(server_pool, "IDLE_SECONDS", 3600)
    first = _dbapi_connection(engine)  # a new connection: nothing to check
    assert _dbapi_connection(engine) is first
    assert _dbapi_connection(engine) is first
    assert checked == []
    engine.dispose()


def test_an_idle_connection_is_checked_and_a_dead_one_replaced(tmp_path, monkeypatch):
    engine = _engine(tmp_path)
    checked = _pinged(monkeypatch, engine)
    first = _dbapi_connection(engine)
    monkeypatch.setattr(server_pool, "IDLE_SECONDS", 0)

    # Alive: checked, and kept.
    assert _dbapi_connection(engine) is first
    assert checked == [first]

    # Dropped while it sat in the pool (as a server restart drops it): the check fails, and the
    # statement runs on a new connection instead of failing.
    first.close()
    second = _dbapi_connection(engine)
    assert second is not first
    # The new connection was not checked: it was made a moment ago.
    assert checked == [first, first]
    engine.dispose()


def _served_then_dropped(engine: sa.Engine, api) -> None:
    """A request, served; then the server ends every process that request used, as a restart
    of the database server would (PostgreSQL only)."""
    backends = set()

    def seen(dbapi_connection, _record, _proxy):
        backends.add(dbapi_connection.info.backend_pid)

    sa.event.listen(engine, "checkout", seen)
    assert api.get("/api/v3/shares").status_code == 200
    sa.event.remove(engine, "checkout", seen)
    assert database.end_backends(backends) == len(backends) > 0


def test_the_app_replaces_a_connection_its_server_dropped(app, api, monkeypatch):
    """On PostgreSQL, every connection the server ended is replaced before a request uses it;
    SQLite has no server to drop one, and its connections are never checked."""
    with app.app_context():
        engine = db.engine
    checked = _pinged(monkeypatch, engine)
    monkeypatch.setattr(server_pool, "IDLE_SECONDS", 0)
    if not database.on_postgres():
        assert api.get("/api/v3/shares").status_code == 200
        assert api.get("/api/v3/shares").status_code == 200
        assert checked == []
        return
    _served_then_dropped(engine, api)
    checked.clear()
    answer = api.get("/api/v3/shares")
    assert answer.status_code == 200, answer.text
    assert answer.json["meta"]["total"] == 0
    assert checked

    # The price of checking only idle connections, as the module says: a request that takes one
    # the server dropped less than a second after its last use answers 503, and every older
    # connection is replaced, so the next request is served.
    monkeypatch.setattr(server_pool, "IDLE_SECONDS", 3600)
    _served_then_dropped(engine, api)
    dropped = api.get("/api/v3/shares")
    assert dropped.status_code == 503, dropped.text
    assert dropped.json["message"].startswith("The database is busy or out of reach.")
    assert api.get("/api/v3/shares").status_code == 200
