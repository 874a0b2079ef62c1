"""A database server's pooled connections, checked before use once they have sat idle.

A server drops connections (a restart, an idle timeout), and a request handed a dead one would
fail: SQLAlchemy's ``pool_pre_ping`` checks every connection at every checkout. That is a round
trip, and under load each API create checks out twice (its token's count, then its own
transaction), each time a connection that was in use a moment before: the two checks cost a
create 0.5 ms of the app's CPU in one process and about 1 ms under load (docs/design.md). Here a
connection is checked only when it has been back in the pool for ``IDLE_SECONDS`` or more: the
connections a busy server uses are never idle that long, and one that waited out a restart is
checked before anyone uses it. What a restart costs: the requests using the database as it went
down, and one that takes a connection returned less than a second before it. That one answers
503 (as the others do), and its failure has SQLAlchemy replace every older connection.
"""

from __future__ import annotations

import time

import sqlalchemy as sa

#: How long a pooled connection may sit unused and still be trusted without a check.
IDLE_SECONDS = 1.0
_RETURNED = "share_desk_returned"


def check_idle_connections(engine: sa.Engine) -> None:
    """Check ``engine``'s pooled connections before use once idle; replace a dead one."""
    dialect = engine.dialect

    @sa.event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection, record):
        # The record's ``info`` is emptied when its connection is replaced: a new one has no time.
        record.info[_RETURNED] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def _taken(dbapi_connection, record, _proxy):
        returned = record.info.get(_RETURNED)
        if returned is None or time.monotonic() - returned < IDLE_SECONDS:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            # The pool closes this connection and checks out a new one in its place.
            raise sa.exc.DisconnectionError(f"idle connection failed its check: {error}") from error
