"""Work in bulk (issue 16, item 5): a CSV import of 10,000 rows and a bulk expire of 100,000
shares through a real gunicorn worker, each against a bare executemany of the same rows on a copy
of the same database in the same run, with the worker's peak memory growth meanwhile; and the
import's row checks, one form refilled for every row (``forms.json_checker``) against a form
built per row, in process."""

from __future__ import annotations

import csv
import os
import re
import secrets
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from webapp import create_app
from webapp.forms import ShareForm, form_from_json, json_checker
from webapp.forms.imports import check
from webapp.models import new_handle

from . import seed as seeding
from .harness import Client, Workspace, median, proc_status_kb
from .scenarios import Row, log, verdict

QUICK = os.environ.get("BENCH_QUICK") == "1"
IMPORT_ROWS = 2_000 if QUICK else 10_000
IMPORT_ROUNDS = 1 if QUICK else 3
EXPIRE_SHARES = 20_000 if QUICK else 100_000
CHECK_ROWS = 500 if QUICK else 2_000
MEMORY_MB = 64
ZONES = ("Australia/Melbourne", "Australia/Sydney", "Pacific/Auckland", "UTC")
PERIODS = (("2", "weeks"), ("30", "days"), ("3", "months"), ("", "absolute_month"), ("", ""))


class PeakRss:
    """The highest resident size of a process while the block runs, polled every ~2 ms."""

    def __init__(self, pid: int):
        self.pid = pid
        self.before = self.peak = proc_status_kb(pid, "VmRSS")
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        while not self._done.is_set():
            self.peak = max(self.peak, proc_status_kb(self.pid, "VmRSS"))
            time.sleep(0.002)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._done.set()
        self._thread.join()
        self.peak = max(self.peak, proc_status_kb(self.pid, "VmRSS"))

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.before) / 1024

    def row(self, section: str, case: str, notes: str, ok: bool = True) -> Row:
        return Row(
            section,
            case,
            f"RSS {self.before / 1024:.0f} MB before",
            f"peak {self.peak / 1024:.0f} MB",
            f"{self.peak / self.before:.2f}x",
            f"growth < {MEMORY_MB} MB",
            verdict(self.growth_mb < MEMORY_MB and ok),
            f"growth {self.growth_mb:.1f} MB (VmRSS polled every ~2 ms); {notes}",
        )


def _bare_engine(database: str) -> sa.Engine:
    """A plain SQLAlchemy engine on the database at URL ``database`` (on SQLite with the app's
    WAL and synchronous settings), and none of the app's code: the bare executemany's side."""
    engine = sa.create_engine(database, poolclass=sa.NullPool)
    if engine.dialect.name == "sqlite":

        @sa.event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, _record):
            dbapi_connection.execute("PRAGMA journal_mode=WAL")
            dbapi_connection.execute("PRAGMA synchronous=NORMAL")

    return engine


def _scalar(database: str, sql: str):
    engine = _bare_engine(database)
    try:
        with engine.connect() as connection:
            return connection.exec_driver_sql(sql).scalar()
    finally:
        engine.dispose()


# --- 6. import -----------------------------------------------------------------------------


def csv_rows(count: int, tag: str) -> bytes:
    """A CSV file of ``count`` valid shares, varied as marketing's files are: zones, periods,
    codes, meta and a few cloneable ones."""
    lines = ["profile_id,source_id,source_type,code,timezone,period,period_type,meta,is_cloneable"]
    for n in range(count):
        period, period_type = PERIODS[n % len(PERIODS)]
        code = f"VIP-{tag}-{n}" if n % 2 else ""
        meta = '"[""vip"",""spring""]"' if n % 3 == 0 else ""
        lines.append(
            f"cust-{tag}-{n},{1000 + n},reward,{code},{ZONES[n % len(ZONES)]},{period},"
            f"{period_type},{meta},{'true' if n % 10 == 0 else 'false'}"
        )
    return ("\r\n".join(lines) + "\r\n").encode()


def _multipart(data: bytes, name: str, csrf: str) -> tuple[bytes, str]:
    boundary = secrets.token_hex(16)
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{csrf}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode()
    return body + data + f"\r\n--{boundary}--\r\n".encode(), boundary


def _import_through(client: Client, data: bytes, name: str) -> tuple[float, float]:
    """Upload ``data`` (the preview), then confirm it: (preview seconds, confirm seconds)."""
    body, boundary = _multipart(data, name, client.csrf)
    began = time.perf_counter()
    page = client.request(
        "POST",
        "/shares/import",
        body,
        {"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    previewed = time.perf_counter()
    if page.status != 200:
        raise RuntimeError(f"upload of {name}: {page.status} {page.text[:300]}")
    action = re.search(r'action="(/shares/import/\d+)"', page.text)[1]
    form_id = re.search(r'name="form_id" value="([^"]+)"', page.text)[1]
    fields = {"csrf_token": client.csrf, "form_id": form_id}
    began_confirm = time.perf_counter()
    answer = client.form(action, fields)
    done = time.perf_counter()
    if answer.status != 302:
        raise RuntimeError(f"confirm of {name}: {answer.status} {answer.text[:300]}")
    return previewed - began, done - began_confirm


def _checked_values(data: bytes) -> list[dict]:
    """The rows of ``data`` as the shares' column values, checked as the import checks them."""
    app = _local_app()
    with app.test_request_context():
        values = [row.values for row in check(data)]
    return [{**row, "handle": new_handle()} for row in values]


def _bare_insert(ws: Workspace, rows: list[dict], round_: int) -> float:
    """Seconds to insert ``rows`` into a copy of the empty database with one executemany."""
    database = ws.database(f"import-bare-{round_}")
    engine = _bare_engine(database)
    shares = sa.Table("shares", sa.MetaData(), autoload_with=engine)
    began = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(sa.insert(shares), rows)
    took = time.perf_counter() - began
    engine.dispose()
    ws.drop(database)
    return took


def import_rows(ws: Workspace) -> list[Row]:
    """Import ``IMPORT_ROWS`` rows through the page (upload, preview, confirm) on one worker,
    rounds alternating with a bare executemany INSERT of the same rows; medians."""
    rows_of = {n: csv_rows(IMPORT_ROWS, f"r{n}") for n in range(IMPORT_ROUNDS)}
    bare_rows = {n: _checked_values(data) for n, data in rows_of.items()}
    database = ws.database("import")
    previews, confirms, bares = [], [], []
    with ws.app_server("import", database, workers=1, threads=8) as server:
        (worker,) = server.worker_pids()
        client = Client(server.port, timeout=600).sign_in()
        _import_through(client, csv_rows(20, "warm"), "warm-up.csv")  # loads the code paths
        with PeakRss(worker) as memory:
            for n in range(IMPORT_ROUNDS):
                bares.append(_bare_insert(ws, bare_rows[n], n))
                log(f"import: round {n + 1}, {IMPORT_ROWS:,} rows (bare {bares[-1]:.2f} s)")
                preview, confirm = _import_through(client, rows_of[n], f"round-{n}.csv")
                previews.append(preview)
                confirms.append(confirm)
        errors = server.log_errors()
    made = _scalar(database, "SELECT count(*) FROM shares")
    events = _scalar(database, "SELECT count(*) FROM audit_events WHERE action = 'create'")
    ws.drop(database)
    want = 20 + IMPORT_ROUNDS * IMPORT_ROWS
    bare, confirm = median(bares), median(confirms)
    ratio = bare / confirm
    whole = made == want and events == want and not errors
    notes = (
        f"median of {IMPORT_ROUNDS}: confirm {confirm:.2f} s, bare {bare:.2f} s; "
        f"upload + preview of every row {median(previews):.2f} s; "
        f"{made:,} shares and {events:,} create events (want {want:,})"
        + (f"; server errors: {errors[:2]}" if errors else "")
    )
    return [
        Row(
            "6 import",
            f"{IMPORT_ROWS:,} CSV rows: confirm (checks, create + audit, one transaction)",
            f"bare executemany {IMPORT_ROWS / bare:,.0f} rows/s",
            f"{IMPORT_ROWS / confirm:,.0f} rows/s",
            f"{ratio:.2f}x",
            ">= 0.3x",
            verdict(ratio >= 0.3 and whole),
            notes,
        ),
        memory.row(
            "6 import",
            f"{IMPORT_ROWS:,} CSV rows, -w 1: peak RSS growth",
            f"{IMPORT_ROUNDS} uploads, previews and confirms",
            whole,
        ),
        row_checks(),
    ]


def _local_app():
    """The app in this process, on a scratch database, for in-process measurements."""
    scratch = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-local-{os.getpid()}.sqlite3"
    return create_app({"DATABASE_URL": f"sqlite:///{scratch}", "SECRET_KEY": secrets.token_hex(16)})


def row_checks() -> Row:
    """Checking the rows of a file: a ShareForm built for each row (``form_from_json``, the
    simple way) against one ShareForm refilled for each (``json_checker``), interleaved."""
    text = csv_rows(CHECK_ROWS, "check").decode().splitlines()
    columns = text[0].split(",")
    payloads = []
    for line in text[1:]:
        cells = next(csv.reader([line]))
        payload = {k: v for k, v in zip(columns, cells, strict=True) if v != ""}
        payload["is_cloneable"] = payload["is_cloneable"] == "true"
        if "meta" in payload:
            payload["meta"] = ["vip", "spring"]
        payloads.append(payload)
    created = datetime.now(UTC).replace(microsecond=0)
    app = _local_app()
    simple, reused = [], []
    with app.test_request_context():
        for _round in range(5):
            began = time.perf_counter()
            for payload in payloads:
                form_from_json(ShareForm, payload, created_at=created)[0].share_values()
            simple.append(time.perf_counter() - began)
            check = json_checker(ShareForm, created_at=created)
            began = time.perf_counter()
            for payload in payloads:
                check(payload)[0].share_values()
            reused.append(time.perf_counter() - began)
    a, b = median(simple), median(reused)
    return Row(
        "6 import",
        f"row checks, {CHECK_ROWS:,} rows: one form refilled vs a form per row",
        f"a form per row {a / CHECK_ROWS * 1e6:.0f} us/row",
        f"one form {b / CHECK_ROWS * 1e6:.0f} us/row",
        f"{a / b:.2f}x",
        notes="in process, median of 5 interleaved rounds; ratio = speed-up of json_checker",
    )


# --- 7. bulk expire -------------------------------------------------------------------------


def _live_shares(database: str, count: int) -> None:
    """``count`` seeded shares, none expired (so that every one is expired by the job)."""
    seeding.seed(database, count)
    engine = _bare_engine(database)
    with engine.connect() as connection:
        connection.exec_driver_sql("UPDATE shares SET expires_at = NULL")
        connection.commit()
        if engine.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()


def _bare_expire(database: str) -> float:
    """Seconds to expire every share of ``database`` with one executemany UPDATE by id."""
    engine = _bare_engine(database)
    with engine.connect() as connection:
        ids = list(connection.execute(sa.text("SELECT id FROM shares ORDER BY id")).scalars())
    stamp = datetime.now(UTC).replace(microsecond=0, tzinfo=None)
    rows = [{"id": share_id, "at": stamp} for share_id in ids]
    began = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE shares SET expires_at = :at, updated_at = :at WHERE id = :id"), rows
        )
    took = time.perf_counter() - began
    engine.dispose()
    return took


def _wait_for_job(database: str, timeout: float = 1800) -> tuple[str, int, int]:
    engine = _bare_engine(database)
    deadline = time.monotonic() + timeout
    try:
        while True:
            with engine.connect() as connection:
                found = connection.exec_driver_sql(
                    "SELECT state, done, changed FROM bulk_jobs ORDER BY id DESC LIMIT 1"
                ).first()
            if found and found[0] != "running":
                return tuple(found)
            if time.monotonic() > deadline:
                raise RuntimeError(f"the bulk job is still running after {timeout:.0f} s: {found}")
            time.sleep(0.05)
    finally:
        engine.dispose()


def bulk_expire(ws: Workspace) -> list[Row]:
    """Select all and expire ``EXPIRE_SHARES`` shares through the pages on one worker (the job
    runs in chunks, first in the request, then in a thread of the worker), against one bare
    executemany UPDATE of the same rows on a copy of the same database."""
    database = ws.database("expire")
    began = time.monotonic()
    _live_shares(database, EXPIRE_SHARES)
    # The same rows again (the seed is fixed) for the bare UPDATE: a copy of its own, so that
    # neither side finds the other's work done.
    copy = ws.database("expire-bare")
    _live_shares(copy, EXPIRE_SHARES)
    seconds = time.monotonic() - began
    log(f"bulk expire: seeded {EXPIRE_SHARES:,} live shares twice in {seconds:.0f} s")
    with ws.app_server("expire", database, workers=1, threads=8) as server:
        (worker,) = server.worker_pids()
        client = Client(server.port, timeout=600).sign_in()
        page = client.get("/shares/bulk/expire?all=1")
        if page.status != 200:
            raise RuntimeError(f"confirmation: {page.status} {page.text[:300]}")
        fields = dict(
            re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text)
        )
        if fields.get("count") != str(EXPIRE_SHARES):
            raise RuntimeError(f"the confirmation names {fields.get('count')} shares")
        log(f"bulk expire: {EXPIRE_SHARES:,} shares on one worker (pid {worker})")
        with PeakRss(worker) as memory:
            began = time.perf_counter()
            answer = client.form("/shares/bulk/expire", fields)
            if answer.status != 302:
                raise RuntimeError(f"bulk expire: {answer.status} {answer.text[:300]}")
            state, done, changed = _wait_for_job(database)
            took = time.perf_counter() - began
        errors = server.log_errors()
    left = _scalar(database, "SELECT count(*) FROM shares WHERE expires_at IS NULL")
    events = _scalar(database, "SELECT count(*) FROM audit_events WHERE action = 'expire'")
    ws.drop(database)
    bare = _bare_expire(copy)
    ws.drop(copy)
    whole = state == "done" and changed == EXPIRE_SHARES and left == 0 and events == changed
    notes = (
        f"job {took:.1f} s ({state}, {done:,} taken, {changed:,} expired, {events:,} events, "
        f"{left} left live), bare {bare:.2f} s; chunks of 500, each its own transaction"
        + (f"; server errors: {errors[:2]}" if errors else "")
    )
    return [
        Row(
            "7 bulk expire",
            f"{EXPIRE_SHARES:,} shares: select all, expire now (job in chunks, audited)",
            f"bare executemany {EXPIRE_SHARES / bare:,.0f} rows/s",
            f"{EXPIRE_SHARES / took:,.0f} rows/s",
            f"{bare / took:.2f}x",
            "-",
            "info" if whole and not errors else "FAIL",
            notes,
        ),
        memory.row(
            "7 bulk expire",
            f"{EXPIRE_SHARES:,} shares, -w 1: peak RSS growth",
            "the whole job",
            whole,
        ),
    ]
