"""Fast seeding: realistic shares written before any server runs.

The rows land in exactly the app's schema and indexes, made by ``init-db``: on SQLite by
SQLAlchemy Core executemany into the reflected table, its triggers keeping the list totals'
tallies as they go; on PostgreSQL by COPY, the tallies counted once at the end. Values are
spread the way a live desk would have them: ~36 source types, profiles with several shares each,
half with codes, creation over two years, expiries from the past into the future, some
exhausted, some cloneable with unlimited claims.
"""

from __future__ import annotations

import base64
import random
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from psycopg.types.json import Json

from webapp.db import tallies
from webapp.enums import SourceType

CHUNK = 20_000
SOURCE_TYPES = [member.value for member in SourceType]
ZONES = [
    ("Australia/Melbourne", 30),
    ("Australia/Sydney", 25),
    ("Australia/Brisbane", 8),
    ("Australia/Perth", 6),
    ("Pacific/Auckland", 8),
    ("UTC", 10),
    ("Europe/London", 5),
    ("America/New_York", 4),
    ("Asia/Singapore", 4),
]
ZONE_NAMES = [name for name, _ in ZONES]
ZONE_WEIGHTS = [weight for _, weight in ZONES]
# (period type, period range, days per unit) for relative types; absolute ones use None.
PERIODS = [
    ("days", (1, 90), 1, 25),
    ("weeks", (1, 12), 7, 20),
    ("months", (1, 12), 30, 20),
    ("years", (1, 2), 365, 5),
    ("absolute_date", None, None, 8),
    ("absolute_week", None, None, 5),
    ("absolute_month", None, None, 5),
    (None, None, None, 12),  # never expires
]
PERIOD_WEIGHTS = [p[3] for p in PERIODS]
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def rows(count: int, seed: int = 20261129):
    """``count`` share rows in id order, created over the two years up to now."""
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0, tzinfo=None)
    start = now - timedelta(days=730)
    step = timedelta(days=730) / count
    profiles = max(50, count // 6)
    for index in range(count):
        created = start + step * index + timedelta(seconds=rng.randrange(60))
        created = min(created, now)
        kind, span, unit, _ = rng.choices(PERIODS, PERIOD_WEIGHTS)[0]
        period = absolute = expires = None
        if span is not None:
            period = rng.randint(*span)
            expires = created + timedelta(days=period * unit)
        elif kind == "absolute_date":
            expires = created + timedelta(days=rng.randint(1, 400))
            absolute = expires.strftime("%Y-%m-%d")
        elif kind == "absolute_week":
            absolute = str(rng.randint(1, 7))
            expires = created + timedelta(days=rng.randint(1, 7))
        elif kind == "absolute_month":
            absolute = str(rng.randint(1, 28))
            expires = created + timedelta(days=rng.randint(1, 31))
        if expires is not None:
            expires = expires.replace(hour=13, minute=59, second=59)
        cloneable = rng.random() < 0.2
        if cloneable:
            remaining = None if rng.random() < 0.5 else rng.choice([0, 0, 1, 2, 5, 10, 50])
        else:
            remaining = 0 if rng.random() < 0.15 else 1
        updated = created
        if remaining == 0:
            updated = min(now, created + timedelta(hours=rng.randint(1, 500)))
        has_code = rng.random() < 0.5
        yield {
            # A few busy profiles, a long tail of occasional ones.
            "profile_id": f"cust-{1 + int(profiles * rng.random() ** 1.5)}",
            "source_type": rng.choice(SOURCE_TYPES),
            "source_id": rng.randint(1, 2_000_000),
            "handle": base64.urlsafe_b64encode(rng.randbytes(16)).rstrip(b"=").decode(),
            "code": "".join(rng.choices(CODE_ALPHABET, k=10)) if has_code else None,
            "timezone": rng.choices(ZONE_NAMES, ZONE_WEIGHTS)[0],
            "period": period,
            "period_type": kind,
            "absolute_expiry": absolute,
            "expires_at": expires,
            "quantity": 1,
            "remaining_quantity": remaining,
            "meta": ["campaign:spring", "channel:store"] if rng.random() < 0.2 else None,
            "is_cloneable": cloneable,
            "created_at": created,
            "updated_at": updated,
        }


def extras(index: int, share: dict) -> tuple[dict | None, dict | None]:
    """The claim and the create event (each for every 10th share) that go with share number
    ``index`` (its id is ``index + 1``: the table starts empty), so the claims list, the customer
    pages and the events feed have rows in proportion to the shares."""
    share_id = index + 1
    claim = event = None
    if index % 10 == 0:
        at = min(share["created_at"] + timedelta(hours=1 + index % 48), share["updated_at"])
        at = max(at, share["created_at"])
        claim = {
            "share_id": share_id,
            "share_handle": share["handle"],
            "share_profile_id": share["profile_id"],
            "profile_id": f"claimer-{1 + (index * 7919) % max(50, index // 3 + 1)}",
            "claimed_at": at,
            "created_source_type": share["source_type"],
            "created_source_id": share["source_id"],
            "is_cloned": share["is_cloneable"],
            "meta": None,
            "created_at": at,
            "updated_at": at,
        }
    if index % 10 == 5:
        event = {
            "at": share["created_at"],
            "actor": "bench",
            "action": "create",
            "changes": {"handle": [None, share["handle"]]},
            "share_id": share_id,
            "share_handle": share["handle"],
            "claim_id": None,
        }
    return claim, event


def seed(database: str, count: int) -> None:
    """Insert ``count`` shares into the database at URL ``database`` (made by ``init-db``)."""
    engine = sa.create_engine(database)
    try:
        if engine.dialect.name == "postgresql":
            _seed_postgres(engine, count)
        else:
            _seed_sqlite(engine, count)
    finally:
        engine.dispose()


def _seed_sqlite(engine: sa.Engine, count: int) -> None:
    """In chunks of executemany, the triggers keeping the tallies as they go; then checkpoint."""

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.execute("PRAGMA cache_size=-1000000")  # 1 GB: the random-key indexes stay hot
        cursor.close()

    metadata = sa.MetaData()
    inserts = [
        sa.insert(sa.Table(name, metadata, autoload_with=engine))
        for name in ("shares", "share_claims", "audit_events")
    ]
    chunks: list[list[dict]] = [[], [], []]

    def flush(connection):
        for insert, chunk in zip(inserts, chunks, strict=True):
            if chunk:
                connection.execute(insert, chunk)
                chunk.clear()
        connection.commit()

    with engine.connect() as connection:
        for index, row in enumerate(rows(count)):
            claim, event = extras(index, row)
            chunks[0].append(row)
            if claim:
                chunks[1].append(claim)
            if event:
                chunks[2].append(event)
            if len(chunks[0]) == CHUNK:
                flush(connection)
        flush(connection)
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def _seed_postgres(engine: sa.Engine, count: int) -> None:
    """COPY with the tallies' trigger off, then the tallies recounted once (as ``check-tallies
    --repair`` would after a restore), and VACUUM ANALYZE: the statistics and visibility map
    that autovacuum keeps on a live server."""
    columns = list(next(rows(1)))
    claims, events = [], []
    # The tallies' triggers are the only ones these tables have (USER: not the foreign keys').
    tables = ("shares", "share_claims")
    with engine.connect() as connection:
        for table in tables:
            connection.exec_driver_sql(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        cursor = connection.connection.driver_connection.cursor()
        with cursor.copy(f"COPY shares ({', '.join(columns)}) FROM STDIN") as copy:
            for index, row in enumerate(rows(count)):
                claim, event = extras(index, row)
                if claim:
                    claims.append(claim)
                if event:
                    event["changes"] = Json(event["changes"])
                    events.append(event)
                meta = row["meta"]
                row["meta"] = None if meta is None else Json(meta)
                copy.write_row([row[name] for name in columns])
        for table, written in (("share_claims", claims), ("audit_events", events)):
            if written:
                names = list(written[0])
                with cursor.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy:
                    for item in written:
                        copy.write_row([item[name] for name in names])
        tallies.recount(connection)
        for table in tables:
            connection.exec_driver_sql(f"ALTER TABLE {table} ENABLE TRIGGER USER")
        connection.commit()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM ANALYZE")


def sample(database: str) -> dict[str, str]:
    """Filter values taken from a share in the middle of the table: present at every size."""
    engine = sa.create_engine(database)
    with engine.connect() as connection:
        count = connection.exec_driver_sql("SELECT count(*) FROM shares").scalar()
        share_id, profile_id, source_id, handle = connection.execute(
            sa.text(
                "SELECT id, profile_id, source_id, handle FROM shares WHERE id >= :id "
                "ORDER BY id LIMIT 1"
            ),
            {"id": count // 2},
        ).one()
        claimer = connection.execute(
            sa.text("SELECT profile_id FROM share_claims WHERE id >= :id ORDER BY id LIMIT 1"),
            {"id": count // 20},
        ).scalar()
        events_after = connection.execute(
            sa.text("SELECT id FROM audit_events WHERE id >= :id ORDER BY id LIMIT 1"),
            {"id": count // 20},
        ).scalar()
        code = connection.execute(
            sa.text(
                "SELECT code FROM shares WHERE id >= :id AND code IS NOT NULL ORDER BY id LIMIT 1"
            ),
            {"id": count // 2 + 10},
        ).scalar()
    engine.dispose()
    return {
        "share_id": str(share_id),
        "profile_id": profile_id,
        "source_type": "reward",
        "source_id": str(source_id),
        "handle": handle,
        "code": code,
        "period_type": "weeks",
        "is_cloneable": "true",
        "timezone": "Australia/Melbourne",
        # What staff type into the search box: a code, seen on a customer's screen.
        "search": code,
        # A customer who claimed, and an event id in the middle of the feed.
        "claimer": claimer,
        "events_after": str(events_after),
    }
