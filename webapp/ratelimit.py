"""Rate-limit counters kept in the app's own database (``RATELIMIT_STORAGE_URI=database://``).

Flask-Limiter's ``memory://`` store counts in each process, so two gunicorn workers (or two app
servers behind a load balancer) would each allow the whole limit. Here every worker and every
server counts in one row per token and window of the database they already share; the increment
is one upsert, so concurrent requests can neither lose a hit nor both take the last one.
A Redis or Memcached URI still works instead, with its client installed.
"""

from __future__ import annotations

import functools
import time

import sqlalchemy as sa
from flask import g, has_app_context
from limits.storage import Storage
from sqlalchemy.dialects import postgresql, sqlite

from .extensions import db
from .models import RateLimitCounter

TABLE = RateLimitCounter.__table__


def _counted() -> dict[str, tuple[int, float]]:
    """The windows this request has counted in, by key."""
    return g.setdefault("rate_limit_counts", {}) if has_app_context() else {}


@functools.cache
def _upsert(dialect: str) -> sa.Insert:
    """One hit: a new row, or a hit more in the row's window, or a new window once it ended.

    Built once per dialect, with bound parameters: requests only execute it.
    """
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(TABLE)
    insert = insert.values(
        key=sa.bindparam("key"), hits=sa.bindparam("amount"), expires_at=sa.bindparam("ends")
    )
    ended, new = TABLE.c.expires_at <= sa.bindparam("now"), insert.excluded
    return insert.on_conflict_do_update(
        index_elements=[TABLE.c.key],
        # Both read the row as it was.
        set_={
            "hits": sa.case((ended, new.hits), else_=TABLE.c.hits + new.hits),
            "expires_at": sa.case((ended, new.expires_at), else_=TABLE.c.expires_at),
        },
    ).returning(TABLE.c.hits, TABLE.c.expires_at)


class DatabaseStorage(Storage):
    """A ``limits`` storage over the ``rate_limit_counters`` table (fixed windows)."""

    STORAGE_SCHEME = ["database"]

    @property
    def base_exceptions(self) -> type[Exception]:
        return sa.exc.SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Count ``amount`` hits in the key's window, starting a new window if it has ended."""
        now = time.time()
        # On the request's own connection (a second one per request could run the pool dry),
        # committed at once: the limit is checked before the view has written anything.
        hits, expires_at = db.session.execute(
            _upsert(db.engine.dialect.name),
            {"key": key, "amount": amount, "now": now, "ends": now + expiry},
        ).one()
        db.session.commit()
        _counted()[key] = (hits, expires_at)
        return hits

    def _live(self, key: str) -> tuple[int, float] | None:
        """(hits, end) of the key's window while it lasts, else None.

        The rate-limit headers read what this request's hit returned, without another query.
        """
        now = time.time()
        found = _counted().get(key)
        if found is None:
            found = db.session.execute(
                sa.select(TABLE.c.hits, TABLE.c.expires_at).where(TABLE.c.key == key)
            ).first()
        return tuple(found) if found is not None and found[1] > now else None

    def get(self, key: str) -> int:
        found = self._live(key)
        return found[0] if found else 0

    def get_expiry(self, key: str) -> float:
        found = self._live(key)
        return found[1] if found else time.time()

    def check(self) -> bool:
        try:
            db.session.execute(sa.select(1))
        except sa.exc.SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        removed = db.session.execute(sa.delete(TABLE)).rowcount
        db.session.commit()
        _counted().clear()
        return removed

    def clear(self, key: str) -> None:
        db.session.execute(sa.delete(TABLE).where(TABLE.c.key == key))
        db.session.commit()
        _counted().pop(key, None)
