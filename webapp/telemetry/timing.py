"""Each request's id and clock: ``X-Request-ID`` and ``Server-Timing`` on every response.

A WSGI middleware around the whole app starts the clock before Flask sees the request and
stops it when the response's headers go out, so ``Server-Timing: app;dur=...`` is everything the
app did for it (routing, session, sign-in check, queries, templates, the session cookie). The
database's share (``db;dur=...``) is the time spent in the driver's ``execute`` and ``commit``
calls (a SQLite writer's wait for its turn included); reading rows already fetched is the app's.
A streamed body (the CSV export) is sent after the headers: its time shows in the request's log
line and metrics, which are written when the body is done, not in ``Server-Timing``.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass

import sqlalchemy as sa
from flask import Flask, g, request
from werkzeug.wsgi import ClosingIterator

#: What a trusted proxy's ``X-Request-ID`` may hold: visible ASCII, at most 200 characters.
#: Anything else is replaced by an id of our own rather than copied into every log line.
REQUEST_ID = re.compile(r"[\x21-\x7e]{1,200}")
#: The response headers this module writes; a view's own copies are replaced.
HEADERS = ("server-timing", "x-request-id")


@dataclass
class RequestRecord:
    """One request as the logs and the metrics see it."""

    id: str
    method: str
    path: str
    started: float
    db_seconds: float = 0.0
    queries: int = 0
    #: Until the headers go out, then the time it took to get there.
    app_seconds: float | None = None
    #: Until the body is sent, then the whole request's time.
    seconds: float | None = None
    status: int | None = None
    #: The Flask endpoint, the client's address and who asked, known once the app has answered.
    endpoint: str | None = None
    remote_addr: str | None = None
    actor: str | None = None

    @property
    def counted_queries(self) -> str:
        return f"{self.queries} quer{'y' if self.queries == 1 else 'ies'}"

    def server_timing(self) -> str:
        return (
            f"app;dur={self.app_seconds * 1000:.3f}, "
            f'db;dur={self.db_seconds * 1000:.3f};desc="{self.counted_queries}"'
        )


_current: ContextVar[RequestRecord | None] = ContextVar("request_record", default=None)


def current() -> RequestRecord | None:
    """The request this thread is serving, if any (also while its body streams)."""
    return _current.get()


class RequestClock:
    """The WSGI middleware: an id and a clock for each request, ``on_end`` once it is sent."""

    def __init__(
        self,
        app,
        trust_request_id: bool,
        on_end: Iterable[Callable[[RequestRecord], None]] = (),
    ):
        self.app = app
        self.trust_request_id = trust_request_id
        self.on_end = tuple(on_end)

    def _request_id(self, environ) -> str:
        given = environ.get("HTTP_X_REQUEST_ID", "") if self.trust_request_id else ""
        return given if REQUEST_ID.fullmatch(given) else secrets.token_hex(16)

    def __call__(self, environ, start_response):
        record = RequestRecord(
            id=self._request_id(environ),
            method=environ.get("REQUEST_METHOD", ""),
            path=environ.get("PATH_INFO", ""),
            started=time.perf_counter(),
        )
        _current.set(record)

        def start(status: str, headers: list, exc_info=None):
            record.app_seconds = time.perf_counter() - record.started
            record.status = int(status.split(" ", 1)[0])
            headers = [(k, v) for k, v in headers if k.lower() not in HEADERS]
            headers += [("Server-Timing", record.server_timing()), ("X-Request-ID", record.id)]
            return start_response(status, headers, exc_info)

        try:
            body = self.app(environ, start)
        except BaseException:
            _current.set(None)
            raise
        return ClosingIterator(body, lambda: self._end(record))

    def _end(self, record: RequestRecord) -> None:
        record.seconds = time.perf_counter() - record.started
        try:
            for callback in self.on_end:
                callback(record)
        finally:
            _current.set(None)


def note_answer(response):
    """After a view: what only Flask knows (the endpoint, the client, who asked)."""
    record = _current.get()
    if record is not None:
        record.endpoint = request.endpoint
        record.remote_addr = request.remote_addr
        record.actor = g.get("actor")
    return response


# --- the database's share ------------------------------------------------------------------


# The start is kept on the statement's execution context, which a failed statement discards.
def _before_execute(_conn, _cursor, _statement, _parameters, context, _executemany):
    if context is not None:
        context.telemetry_started = time.perf_counter()


def _after_execute(_conn, _cursor, _statement, _parameters, context, _executemany):
    began = getattr(context, "telemetry_started", None)
    if began is not None:
        _count(time.perf_counter() - began, queries=1)


def _count(seconds: float, queries: int = 0) -> None:
    record = _current.get()
    if record is not None:
        record.db_seconds += seconds
        record.queries += queries


def _timed_commits(dialect) -> None:
    """SQLAlchemy has an event before a commit but none after it, so the dialect's commit is
    wrapped: on PostgreSQL a commit waits for the server to make the transaction durable."""
    commit = dialect.do_commit

    def do_commit(dbapi_connection):
        began = time.perf_counter()
        try:
            commit(dbapi_connection)
        finally:
            _count(time.perf_counter() - began)

    dialect.do_commit = do_commit


def time_database(engine: sa.Engine) -> None:
    """Count ``engine``'s statements and commits into the current request's ``db`` time."""
    sa.event.listen(engine, "before_cursor_execute", _before_execute)
    sa.event.listen(engine, "after_cursor_execute", _after_execute)
    _timed_commits(engine.dialect)


def init_app(
    app: Flask, engine: sa.Engine, on_end: Iterable[Callable[[RequestRecord], None]] = ()
) -> None:
    """Wrap the app (outermost, so the clock sees everything) and time its database."""
    time_database(engine)
    app.after_request(note_answer)
    trust = bool(app.config["TRUSTED_PROXIES"])
    app.wsgi_app = RequestClock(app.wsgi_app, trust_request_id=trust, on_end=on_end)
