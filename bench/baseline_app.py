"""The baselines: a minimal Flask app that stores the same share row, and renders a page.

``POST /api/v3/shares`` (the create benchmark's baseline) writes into the same ``shares`` table
(the database is made by ``init-db``) through SQLAlchemy Core, with the same database settings
as the app (on SQLite: WAL, 30 s busy timeout, synchronous=NORMAL), but with no validation, no
authentication, no rate limit and no audit row.

``GET /page`` (the HTML pages' baseline, the floor any page of the app stands on) renders the
app's own ``base.html``, as a signed-in admin sees it (navigation, CSRF token), around a 15-row
table from a plain Python list with plain Jinja: no database, no forms, no formatting.

Both answer through the app's own request clock, so their ``Server-Timing`` is measured exactly
as the app's. Served by gunicorn exactly like the app:
``gunicorn 'bench.baseline_app:create_app()'``.
"""

from __future__ import annotations

import os
import re
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import jinja2
import sqlalchemy as sa
from flask import Flask, g, render_template, request
from flask_wtf.csrf import generate_csrf
from werkzeug.routing import Rule

from webapp.telemetry.timing import RequestClock, time_database

WEEK = timedelta(weeks=1)
ROOT = Path(__file__).resolve().parent.parent
#: The endpoints base.html links to, as the app names them, read from base.html itself so that
#: a link added there is here too (they only need to build a URL).
LINKED = sorted(
    set(
        re.findall(
            r"url_for\('([a-z_]+\.[a-z_]+)'\)", (ROOT / "templates" / "base.html").read_text()
        )
    )
)
#: What base.html shows of the signed-in staff member.
STAFF = SimpleNamespace(
    email="bench@example.com", role=SimpleNamespace(label="Admin"), timezone="UTC"
)
#: The table's rows, as text already: the floor does no formatting.
ROWS = [
    {
        "id": 1_000_000 - n,
        "handle": secrets.token_urlsafe(16),
        "profile_id": f"cust-{4000 + n}",
        "source": f"Reward #{100_000 + n}",
        "code": "K7QW2M9XHD",
        "expires": "2026-12-13 23:59:59 AEDT",
        "left": "1",
        "status": "Active",
        "created": "3 days ago",
    }
    for n in range(15)
]


def create_app() -> Flask:
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.jinja_loader = jinja2.ChoiceLoader(
        [jinja2.FileSystemLoader(Path(__file__).parent / "templates"), app.jinja_loader]
    )
    app.secret_key = secrets.token_hex(32)
    app.jinja_env.globals.update(
        csrf_token=generate_csrf, can=lambda _role: True, display_zone=lambda: "UTC"
    )
    for endpoint in LINKED:
        app.url_map.add(Rule(f"/{endpoint.replace('.', '/')}", endpoint=endpoint))
    engine = sa.create_engine(os.environ["BENCH_DATABASE_URL"])
    time_database(engine)
    app.wsgi_app = RequestClock(app.wsgi_app, trust_request_id=False)

    if engine.dialect.name == "sqlite":

        @sa.event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

    shares = sa.Table("shares", sa.MetaData(), autoload_with=engine)

    @app.get("/page")
    def page():
        g.staff = STAFF
        return render_template("baseline_page.html", rows=ROWS)

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
