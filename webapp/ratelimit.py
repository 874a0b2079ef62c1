"""The API rate limit: a fixed window of hits per token, counted on the token's own row.

Every API request counts itself in one statement, an UPDATE ... RETURNING on its live token's
row, committed at once. Every worker and every app server behind a load balancer counts in that
one row, and concurrent requests can neither lose a hit nor both take the last one. A request with
an unknown or revoked token writes nothing:

- on SQLite an UPDATE takes the file's one write lock even when it matches no row, so the token is
  looked up first (a read) and only a live one is counted: junk sent with any bearer token never
  queues behind the real writes (``db.writer_queue``);
- on PostgreSQL an UPDATE that matches no row locks nothing, so the count is the lookup: one
  statement on a connection in autocommit, one round trip where a transaction would take four
  (BEGIN, SELECT, UPDATE, COMMIT), on the API's every request.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Flask, current_app, g
from sqlalchemy.engine import Row

from .clock import utcnow
from .db.types import UTCDateTime
from .errors import ApiError
from .extensions import db
from .models import ApiToken

_RATE = re.compile(r"\s*(\d+)\s*(?:per|/)\s*(\d+)?\s*(second|minute|hour|day)s?\s*", re.IGNORECASE)
_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True)
class Rate:
    """``hits`` requests per ``seconds``, read from text such as ``1200 per minute``."""

    hits: int
    seconds: int

    @classmethod
    def parse(cls, text) -> Rate:
        found = _RATE.fullmatch(str(text))
        every = int(found[2] or 1) if found else 0
        if not found or int(found[1]) < 1 or every < 1:
            raise ValueError(
                f"API_RATE_LIMIT {text!r} is not a rate such as '1200 per minute' or "
                "'100 per 10 seconds' (set WEBAPP_API_RATE_LIMIT)."
            )
        return cls(int(found[1]), every * _SECONDS[found[3].lower()])


_TOKENS = ApiToken.__table__
_NOW = sa.bindparam("now", type_=UTCDateTime())
_ENDED = sa.or_(_TOKENS.c.window_ends_at.is_(None), _TOKENS.c.window_ends_at <= _NOW)
_LIVE = _TOKENS.c.revoked_at.is_(None)
_BY_HASH = _TOKENS.c.token_hash == sa.bindparam("hash")


def _hit(which) -> sa.Update:
    """Count a hit on the live token ``which`` finds; SET reads the row as it was, on every
    database."""
    return (
        sa.update(_TOKENS)
        .where(which, _LIVE)
        .values(
            window_hits=sa.case((_ENDED, 1), else_=_TOKENS.c.window_hits + 1),
            window_ends_at=sa.case(
                (_ENDED, sa.bindparam("ends", type_=UTCDateTime())), else_=_TOKENS.c.window_ends_at
            ),
            last_used_at=_NOW,
        )
        .returning(
            _TOKENS.c.id,
            _TOKENS.c.name,
            _TOKENS.c.role,
            _TOKENS.c.window_hits,
            _TOKENS.c.window_ends_at,
        )
    )


#: Built once, as every API request runs them. On SQLite: the lookup, then the count of a live
#: token (one revoked since the lookup matches nothing); on PostgreSQL, the count by its hash.
_FIND = sa.select(_TOKENS.c.id).where(_BY_HASH, _LIVE)
_HIT = _hit(_TOKENS.c.id == sa.bindparam("token_id"))
_HIT_BY_HASH = _hit(_BY_HASH)


def init_app(app: Flask) -> None:
    """Read the configured rate once (create_app refused a wrong one), not at each request."""
    app.extensions["api_rate"] = Rate.parse(app.config["API_RATE_LIMIT"])


def count_hit(plain_token: str) -> Row | None:
    """Count this request against the live token with this value; None when there is none
    (and then nothing was written).

    Returns the token's ``id, name, role, window_hits, window_ends_at`` after the count. Its own
    short transaction, on a connection that is back in the pool before the view takes one.
    """
    if not plain_token:
        return None
    hashed, now = ApiToken.hash(plain_token), utcnow()
    values = {
        "now": now,
        "ends": now + timedelta(seconds=current_app.extensions["api_rate"].seconds),
    }
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT")
            return connection.execute(_HIT_BY_HASH, {"hash": hashed, **values}).first()
    with db.engine.begin() as connection:
        token_id = connection.execute(_FIND, {"hash": hashed}).scalar()
        if token_id is None:
            return None
        return connection.execute(_HIT, {"token_id": token_id, **values}).first()


def enforce(token: Row) -> None:
    """The contract's 429, with Retry-After, once the token has used up its window."""
    rate: Rate = current_app.extensions["api_rate"]
    g.rate_limit = (rate, token.window_hits, token.window_ends_at)
    if token.window_hits > rate.hits:
        raise ApiError(429, headers={"Retry-After": str(_seconds_until(token.window_ends_at))})


def _seconds_until(moment: datetime) -> int:
    return max(1, math.ceil((moment - utcnow()).total_seconds()))


#: The headers of every API response that counted, and what they say (the OpenAPI document
#: declares them from here).
HEADERS = {
    "X-RateLimit-Limit": "Requests allowed per window.",
    "X-RateLimit-Remaining": "Requests left in this window.",
    "X-RateLimit-Reset": "When this window ends (epoch seconds).",
}


def headers(response):
    """What a script needs to pace itself, on every API response that counted."""
    counted = g.get("rate_limit")
    if counted is not None:
        rate, hits, ends = counted
        values = (rate.hits, max(0, rate.hits - hits), math.ceil(ends.timestamp()))
        for name, value in zip(HEADERS, values, strict=True):
            response.headers.add(name, str(value))
    return response
