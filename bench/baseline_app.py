"""The create benchmark's baseline: a minimal Flask app that stores the same share row.

It writes into the same ``shares`` table (the database is made by ``init-db``) through
SQLAlchemy Core, with the same SQLite settings as the app (WAL, 30 s busy timeout,
synchronous=NORMAL), but with no validation, no authentication, no rate limit and no audit row.
Served by gunicorn exactly like the app: ``gunicorn 'bench.baseline_app:create_app()'``.
"""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import Flask, request

WEEK = timedelta(weeks=1)


def create_app() -> Flask:
    app = Flask(__name__)
    engine = sa.create_engine(os.environ["BENCH_DATABASE_URL"])

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    shares = sa.Table("shares", sa.MetaData(), autoload_with=engine)

    @app.get("/healthz")
    def healthz():
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        return {"status": "ok"}

    @app.post("/api/v3/shares")
    def create_share():
        body = request.get_json()
        now = datetime.now(UTC).replace(microsecond=0, tzinfo=None)
        period = body.get("period")
        row = {
            "profile_id": body["profile_id"],
            "source_type": body["source_type"],
            "source_id": body["source_id"],
            "handle": secrets.token_urlsafe(16),
            "code": body.get("code"),
            "timezone": body.get("timezone", "UTC"),
            "period": period,
            "period_type": body.get("period_type"),
            "absolute_expiry": None,
            "expires_at": now + period * WEEK if period else None,
            "quantity": 1,
            "remaining_quantity": 1,
            "meta": None,
            "is_cloneable": False,
            "created_at": now,
            "updated_at": now,
        }
        with engine.begin() as connection:
            share_id = connection.execute(sa.insert(shares).values(row)).inserted_primary_key[0]
        data = {"id": share_id, **row}
        for name in ("expires_at", "created_at", "updated_at"):
            if data[name] is not None:
                data[name] = data[name].isoformat() + "Z"
        return {"data": data}, 201

    return app
