"""The first five benchmarks (the sixth, pages against a floor page, is in ``pages``). Each
returns table rows; every figure is set against a baseline measured in the same run, on the same
machine, a moment apart (or interleaved with it)."""

from __future__ import annotations

import contextlib
import csv
import http.client
import io
import random
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass

from . import seed as seeding
from .harness import (
    Client,
    Response,
    Server,
    Workspace,
    median,
    proc_status_kb,
    query,
)
from .load import LoadResult, run_load

CREATE_BODY = {
    "source_type": "reward",
    "source_id": 42,
    "period": 2,
    "period_type": "weeks",
    "timezone": "Australia/Melbourne",
}
PREVIEW_FORM = {
    "profile_id": "",
    "source_type": "",
    "source_id": "",
    "timezone": "Australia/Melbourne",
    "period": "2",
    "period_type": "weeks",
    "absolute_expiry": "",
    "expires_at": "",
    "code": "",
    "remaining_quantity": "",
    "meta": "",
}
LIST_SORTS = [
    f"{sign}{name}"
    for name in ("id", "created_at", "updated_at", "expires_at", "remaining_quantity")
    for sign in ("", "-")
]
FILTERS = [
    "profile_id",
    "source_type",
    "source_id",
    "handle",
    "code",
    "period_type",
    "is_cloneable",
    "timezone",
]


@dataclass
class Row:
    section: str
    case: str
    baseline: str
    measured: str
    ratio: str = "-"
    target: str = "-"
    result: str = "info"
    notes: str = ""


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- 1. create throughput ------------------------------------------------------------------


def create_throughput(
    ws: Workspace, clients: int, seconds: float, warmup: float, turns: int
) -> list[Row]:
    """POST /api/v3/shares: the app against the minimal baseline app, same gunicorn settings.

    Both servers run side by side and take ``turns`` alternating turns of ``seconds / turns``
    each, so that a slow patch of a shared machine weighs on both alike rather than on
    whichever happened to run then.
    """

    def step(client: Client, number: int, iteration: int):
        body = {**CREATE_BODY, "profile_id": f"bench-{number}-{iteration}"}
        answer = client.api("POST", "/api/v3/shares", body)
        return "create", answer, answer.status == 201

    databases = {name: ws.database(f"create-{name}") for name in ("baseline", "app")}
    starts = {"baseline": ws.baseline_server, "app": ws.app_server}
    runs: dict[str, list[LoadResult]] = {name: [] for name in databases}
    with contextlib.ExitStack() as stack:
        servers = {
            name: stack.enter_context(starts[name](f"create-{name}", database))
            for name, database in databases.items()
        }
        for name, server in servers.items():
            log(f"create throughput: {name} warms up, {clients} clients, {warmup:.0f} s")
            run_load([Client(server.port, token=ws.token) for _ in range(clients)], warmup, step)
        log(f"create throughput: {turns} alternating turns of {seconds / turns:.1f} s each")
        for _turn in range(turns):
            for name, server in servers.items():
                make = [Client(server.port, token=ws.token) for _ in range(clients)]
                runs[name].append(run_load(make, seconds / turns, step))
        results = {name: LoadResult.combined(parts) for name, parts in runs.items()}
        for name, server in servers.items():
            results[name].samples += server.log_errors()[:3]
    for database in databases.values():
        ws.drop(database)
    base, app = results["baseline"], results["app"]
    ratio = app.rate / base.rate if base.rate else float("nan")
    per_turn = [
        a.rate / b.rate for a, b in zip(runs["app"], runs["baseline"], strict=True) if b.rate
    ]
    errors = base.error_count + app.error_count
    notes = (
        f"{clients} clients, {turns} turns of {seconds / turns:.0f} s each; "
        f"requests {base.requests}/{app.requests}; "
        f"turns {min(per_turn, default=0):.2f}x to {max(per_turn, default=0):.2f}x"
    )
    if errors:
        samples = (base.samples + app.samples)[:2]
        notes += f"; ERRORS {dict(base.errors)}/{dict(app.errors)} {samples}"
    return [
        Row(
            "1 create",
            "POST /api/v3/shares throughput",
            f"{base.rate:.0f} req/s",
            f"{app.rate:.0f} req/s",
            f"{ratio:.2f}x",
            ">= 0.6x",
            verdict(ratio >= 0.6 and not errors),
            notes,
        ),
        Row(
            "1 create",
            "POST /api/v3/shares p99 latency",
            f"{base.p99_ms():.0f} ms",
            f"{app.p99_ms():.0f} ms",
            f"{app.p99_ms() / base.p99_ms():.2f}x",
            notes="under the same load",
        ),
    ]


# --- 2. list scaling -----------------------------------------------------------------------


@dataclass
class ListCase:
    label: str
    path: str  # with the query string
    target: float
    api: bool


def list_cases(values: dict[str, str]) -> list[ListCase]:
    """The cases, for the filter values sampled from one database."""
    api, page = "/api/v3/shares", "/shares"
    cases = [
        ListCase("HTML /shares first page", page, 2, False),
        ListCase("HTML /shares page[number]=1000", query(page, {"page[number]": 1000}), 3, False),
        ListCase(
            "HTML /shares filter[status]=active",
            query(page, {"filter[status]": "active"}),
            2,
            False,
        ),
        ListCase(
            "HTML /shares filter[search]=<code>",
            query(page, {"filter[search]": values["search"]}),
            2,
            False,
        ),
        # The home page: counts, the week's expiries and 30 days of charts, all from tallies.
        ListCase("HTML / (home page)", "/", 2, False),
        # A tenth as many claims as shares, and as many events (seed.extras).
        ListCase("HTML /claims first page", "/claims", 2, False),
        ListCase("HTML /profiles/<claimer>", f"/profiles/{values['claimer']}", 2, False),
        ListCase("API /claims first page", "/api/v3/claims", 2, True),
        ListCase(
            "API /claims filter[profile_id]=<claimer>",
            query("/api/v3/claims", {"filter[profile_id]": values["claimer"]}),
            2,
            True,
        ),
        ListCase(
            "API /events page[after]=<middle>",
            query("/api/v3/events", {"page[after]": values["events_after"]}),
            2,
            True,
        ),
        ListCase("API first page", api, 2, True),
        ListCase("API page[number]=1000", query(api, {"page[number]": 1000}), 3, True),
    ]
    for name in FILTERS:
        shown = values[name] if name in ("source_type", "period_type", "is_cloneable") else "<v>"
        if name == "timezone":
            shown = values[name]
        cases.append(
            ListCase(
                f"API filter[{name}]={shown}",
                query(api, {f"filter[{name}]": values[name]}),
                2,
                True,
            )
        )
    for status in ("active", "expired", "exhausted"):
        cases.append(
            ListCase(
                f"API filter[status]={status}", query(api, {"filter[status]": status}), 2, True
            )
        )
    cases.append(
        ListCase(
            "API filter[search]=<code>",
            query(api, {"filter[search]": values["search"]}),
            2,
            True,
        )
    )
    for sort in LIST_SORTS:
        cases.append(ListCase(f"API sort={sort}", query(api, {"sort": sort}), 2, True))
    return cases


class AnswerError(RuntimeError):
    """The server answered a benchmarked request with an unexpected status."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def _get_ok(client: Client, path: str, api: bool) -> Response:
    answer = client.get(path, headers={"Authorization": f"Bearer {client.token}"} if api else None)
    if answer.status != 200:
        raise AnswerError(answer.status, f"GET {path} answered {answer.status}: {answer.text[:80]}")
    return answer


def interleaved_medians(
    calls: list[Callable[[], object]],
    warmup: int,
    min_n: int,
    max_n: int,
    budget: float,
) -> list[list[float]]:
    """Latencies of each call, taken in turn (a, b, a, b, ...) so that noise hits all alike.

    A call that returns a number has measured itself (the server's own time, say); otherwise
    the time it took here counts. At least ``min_n`` rounds, then more up to ``max_n`` while
    within ``budget`` seconds.
    """
    for _ in range(warmup):
        for call in calls:
            call()
    samples: list[list[float]] = [[] for _ in calls]
    began = time.monotonic()
    rounds = 0
    while rounds < min_n or (rounds < max_n and time.monotonic() - began < budget):
        for index, call in enumerate(calls):
            started = time.perf_counter()
            measured = call()
            took = time.perf_counter() - started
            samples[index].append(measured if isinstance(measured, float) else took)
        rounds += 1
    return samples


@dataclass
class Side:
    """One size of the list benchmark: its server, a signed-in client, the cases, the values
    sampled from its database, and the database's URL."""

    server: Server
    client: Client
    cases: list[ListCase]
    values: dict[str, str]
    database: str


def list_scaling(
    ws: Workspace,
    small: int,
    large: int,
    budget: float,
    rounds: int,
    then: Callable[[Server, dict[str, str]], list[Row]] | None = None,
) -> tuple[list[Row], Client]:
    """The list page and API list on ``small`` and ``large`` shares, request by request.

    Both servers run at once and each case alternates between them. ``then`` may measure more on
    the large server (given it and the values sampled from its database) before it stops.
    Returns the rows, and a signed-in client of the small server for the preview benchmark (its
    server still runs).
    """
    sides: dict[int, Side] = {}
    for size in (small, large):
        database = ws.database(f"list-{size}")
        began = time.monotonic()
        seeding.seed(database, size)
        log(f"list scaling: seeded {size:,} shares in {time.monotonic() - began:.0f} s")
        values = seeding.sample(database)
        server = ws.app_server(f"list-{size}", database)
        client = Client(server.port, token=ws.token).sign_in()
        sides[size] = Side(server, client, list_cases(values), values, database)
    rows = []
    small_cases, large_cases = sides[small].cases, sides[large].cases
    for small_case, large_case in zip(small_cases, large_cases, strict=True):
        totals: dict[int, int] = {}

        def fetch(size, case, totals=totals):
            answer = _get_ok(sides[size].client, case.path, case.api)
            if case.api and "total" in answer.json()["meta"]:
                totals[size] = answer.json()["meta"]["total"]

        try:
            small_times, large_times = interleaved_medians(
                [lambda c=small_case: fetch(small, c), lambda c=large_case: fetch(large, c)],
                warmup=2,
                min_n=5,
                max_n=rounds,
                budget=budget,
            )
        except AnswerError as error:  # the app's failure, not the bench's: a FAIL row
            rows.append(
                Row(
                    "2 list",
                    small_case.label,
                    "-",
                    f"HTTP {error.status}",
                    "-",
                    f"<= {small_case.target:g}x",
                    "FAIL",
                    str(error)[:160],
                )
            )
            log(f"list scaling: {small_case.label}: {error}")
            continue
        a, b = median(small_times), median(large_times)
        ratio = b / a
        notes = f"n={len(small_times)}"
        if totals:
            notes += f"; meta.total {totals[small]:,} -> {totals[large]:,}"
        rows.append(
            Row(
                "2 list",
                small_case.label,
                f"{_size(small)}: {ms(a)}",
                f"{_size(large)}: {ms(b)}",
                f"{ratio:.2f}x",
                f"<= {small_case.target:g}x",
                verdict(ratio <= small_case.target),
                notes,
            )
        )
        log(f"list scaling: {small_case.label}: {ms(a)} -> {ms(b)} ({ratio:.1f}x)")
    for size in (small, large):
        sides[size].client.close()
    if then is not None:
        try:
            rows += then(sides[large].server, sides[large].values)
        except Exception as error:  # keep the list rows
            traceback.print_exc()
            rows.append(Row("6 pages", "could not run", "-", "-", "-", "-", "FAIL", repr(error)))
    sides[large].server.stop()
    ws.drop(sides[large].database)
    return rows, Client(sides[small].server.port, token=ws.token).sign_in()


def _size(count: int) -> str:
    if count >= 1_000_000 and count % 1_000_000 == 0:
        return f"{count // 1_000_000}M"
    if count >= 1000 and count % 1000 == 0:
        return f"{count // 1000}k"
    return str(count)


# --- 3. preview ----------------------------------------------------------------------------


def preview(client: Client, rounds: int) -> list[Row]:
    """POST /shares/preview (htmx, signed in, CSRF) against GET /healthz, interleaved."""
    headers = {"HX-Request": "true", "X-CSRFToken": client.csrf}

    def do_preview():
        answer = client.form("/shares/preview", PREVIEW_FORM, headers=headers)
        if answer.status != 200 or "Expires" not in answer.text:
            raise RuntimeError(f"preview: {answer.status} {answer.text[:300]}")

    def do_health():
        if client.get("/healthz").status != 200:
            raise RuntimeError("healthz failed")

    log(f"preview: {rounds} rounds of preview + healthz")
    preview_times, health_times = interleaved_medians(
        [do_preview, do_health], warmup=20, min_n=rounds, max_n=rounds, budget=0
    )
    client.close()
    a, b = median(health_times), median(preview_times)
    return [
        Row(
            "3 preview",
            "POST /shares/preview (2 weeks, Melbourne) vs GET /healthz",
            f"healthz {ms(a)}",
            f"preview {ms(b)}",
            f"{b / a:.2f}x",
            "<= 2x",
            verdict(b / a <= 2),
            f"median of {rounds} each, interleaved; signed-in session + CSRF header",
        )
    ]


# --- 4. export -----------------------------------------------------------------------------


def export(ws: Workspace, count: int) -> list[Row]:
    """GET /shares/export.csv of ``count`` rows from one worker; its RSS growth meanwhile."""
    database = ws.database("export")
    seeding.seed(database, count)
    values = seeding.sample(database)
    with ws.app_server("export", database, workers=1, threads=8) as server:
        (worker,) = server.worker_pids()
        client = Client(server.port, timeout=300).sign_in()
        # Warm-up: the list page and a one-profile export load the code paths (csv, templates).
        client.get("/shares")
        client.get(query("/shares/export.csv", {"filter[profile_id]": values["profile_id"]}))
        rss_before = proc_status_kb(worker, "VmRSS")
        hwm_before = proc_status_kb(worker, "VmHWM")
        peak = [rss_before]
        done = threading.Event()

        def poll():
            while not done.is_set():
                peak[0] = max(peak[0], proc_status_kb(worker, "VmRSS"))
                time.sleep(0.002)

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        log(f"export: {count:,} rows from one worker (pid {worker})")
        began = time.monotonic()
        records, newlines, size, status, header = _stream(client, "/shares/export.csv")
        took = time.monotonic() - began
        done.set()
        poller.join()
        peak[0] = max(peak[0], proc_status_kb(worker, "VmRSS"))
        hwm_after = proc_status_kb(worker, "VmHWM")
        errors = server.log_errors()
    ws.drop(database)
    growth_mb = (peak[0] - rss_before) / 1024
    hwm_growth = max(0, hwm_after - hwm_before) / 1024
    want = count + 1
    return [
        Row(
            "4 export",
            f"GET /shares/export.csv, {count:,} rows, -w 1: peak RSS growth",
            f"RSS {rss_before / 1024:.0f} MB before",
            f"peak {peak[0] / 1024:.0f} MB",
            f"{peak[0] / rss_before:.2f}x",
            "growth < 64 MB",
            verdict(growth_mb < 64 and status == 200),
            f"growth {growth_mb:.1f} MB (VmRSS polled every ~2 ms; "
            f"VmHWM {hwm_before / 1024:.0f} -> {hwm_after / 1024:.0f} MB, +{hwm_growth:.1f}); "
            f"{size / 1e6:.1f} MB in {took:.1f} s",
        ),
        Row(
            "4 export",
            "CSV lines (header + one record per share)",
            f"expected {want:,}",
            f"got {records:,}",
            f"{records / want:.3f}x",
            f"== {want:,}",
            verdict(records == want and status == 200 and header[:2] == ["id", "handle"]),
            f"HTTP {status}; records parsed with the csv module: {newlines:,} physical newlines "
            "(a multi-item meta is one quoted cell over several lines)"
            + (f"; server errors: {errors[:2]}" if errors else ""),
        ),
    ]


def _stream(client: Client, path: str) -> tuple[int, int, int, int, list[str]]:
    """Download ``path`` as it streams, parsing the CSV on the way.

    Returns (CSV records, physical newlines, characters, HTTP status, first record): a record's
    quoted cell may span lines (a share's meta has one line per item).
    """
    headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in client.cookies.items())}
    connection = http.client.HTTPConnection("127.0.0.1", client.port, timeout=300)
    counts = {"newlines": 0, "chars": 0}

    def lines(text):
        for line in text:
            counts["newlines"] += line.endswith("\n")
            counts["chars"] += len(line)
            yield line

    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        text = io.TextIOWrapper(response, encoding="utf-8", newline="")
        reader = csv.reader(lines(text))
        first = next(reader, [])
        records = 1 + sum(1 for _ in reader) if first else 0
        return records, counts["newlines"], counts["chars"], response.status, first
    finally:
        connection.close()


# --- 5. mixed load -------------------------------------------------------------------------


def mixed(ws: Workspace, seeded: int, clients: int, seconds: float) -> list[Row]:
    """Creates, list pages, previews and claims from ``clients`` threads at once."""
    database = ws.database("mixed")
    seeding.seed(database, seeded)
    with ws.app_server("mixed", database) as server:
        setup = Client(server.port, token=ws.token)
        unlimited, limited = [], []
        for number in range(20):
            body = {
                **CREATE_BODY,
                "profile_id": f"owner-u{number}",
                "code": f"UNLIMITED-{number}",
                "is_cloneable": True,
            }
            answer = setup.api("POST", "/api/v3/shares", body)
            assert answer.status == 201, answer.text
            unlimited.append((answer.json()["data"]["id"], body["code"]))
        for number in range(5):
            body = {
                **CREATE_BODY,
                "profile_id": f"owner-l{number}",
                "code": f"LIMITED-{number}",
                "is_cloneable": True,
                "remaining_quantity": 3,
            }
            answer = setup.api("POST", "/api/v3/shares", body)
            assert answer.status == 201, answer.text
            limited.append((answer.json()["data"]["id"], body["code"]))
        setup.close()
        sessions = [Client(server.port, token=ws.token).sign_in() for _ in range(5)]
        pool = [sessions[n % len(sessions)].copy() for n in range(clients)]
        for session in sessions:
            session.close()
        generators = [random.Random(n) for n in range(clients)]

        def step(client: Client, number: int, iteration: int):
            rng = generators[number]
            pick = rng.random()
            if pick < 0.30:
                body = {**CREATE_BODY, "profile_id": f"mixed-{number}-{iteration}"}
                answer = client.api("POST", "/api/v3/shares", body)
                return "create", answer, answer.status == 201
            if pick < 0.45:
                answer = client.get(query("/shares", {"page[number]": rng.randint(1, 5)}))
                return "list page", answer, answer.status == 200
            if pick < 0.55:
                answer = client.api("GET", query("/api/v3/shares", {"filter[status]": "active"}))
                return "api list", answer, answer.status == 200
            if pick < 0.75:
                headers = {"HX-Request": "true", "X-CSRFToken": client.csrf}
                answer = client.form("/shares/preview", PREVIEW_FORM, headers=headers)
                return "preview", answer, answer.status == 200 and "Expires" in answer.text
            claimer = {"profile_id": f"claimer-{number}-{iteration}"}
            if rng.random() < 0.85:
                share_id, code = rng.choice(unlimited)
                answer = client.api(
                    "POST", f"/api/v3/shares/{share_id}/claim", {**claimer, "code": code}
                )
                return "claim", answer, answer.status == 201
            share_id, code = rng.choice(limited)
            answer = client.api(
                "POST", f"/api/v3/shares/{share_id}/claim", {**claimer, "code": code}
            )
            if answer.status == 422 and "no claims left" in answer.text:
                return "claim (limited, 422 no claims left)", answer, True
            return "claim (limited)", answer, answer.status == 201

        log(f"mixed load: {clients} clients for {seconds:.0f} s")
        result = run_load(pool, seconds, step)
        server_errors = server.log_errors()
    ws.drop(database)
    operations = ", ".join(f"{name} {count}" for name, count in sorted(result.operations.items()))
    notes = f"{result.rate:.0f} req/s, p99 {result.p99_ms():.0f} ms; {operations}"
    if result.errors or result.unfinished:
        notes += f"; errors {dict(result.errors)}, stuck {result.unfinished}: {result.samples[:2]}"
    if server_errors:
        notes += f"; server log: {server_errors[:2]}"
    errors = result.error_count
    return [
        Row(
            "5 mixed",
            f"{clients} clients, {seconds:.0f} s: creates, lists, previews, claims",
            f"{result.requests:,} requests",
            f"{errors} errors",
            f"{errors / max(1, result.requests):.4f}",
            "0 errors",
            verdict(errors == 0 and not server_errors and result.requests > 0),
            notes,
        )
    ]
