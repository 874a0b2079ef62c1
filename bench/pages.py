"""6. HTML pages against the floor: each page's own server time, set against the baseline app's
``/page`` (the app's ``base.html`` and a 15-row table from a plain list, plain Jinja) in turns.

Both times are the servers' own, read from ``Server-Timing: app;dur=...``, so the client's time
on a busy machine does not blur the ratio. The pages are those of the large list database, as a
signed-in admin sees them; a new page is one line in ``PAGES``.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass

from .harness import Client, Server, Workspace, median
from .scenarios import Row, interleaved_medians, log, verdict

TARGET = 2.0
SERVER_TIMING = re.compile(r"app;dur=([0-9.]+), db;dur=([0-9.]+)")


@dataclass(frozen=True)
class Page:
    label: str
    #: The path, with ``{name}`` for a value sampled from the database (``seed.sample``):
    #: share_id, profile_id, handle, code, search, ...
    path: str


PAGES = [
    Page("GET /shares (first page)", "/shares"),
    Page("GET /shares?page[number]=1000", "/shares?page%5Bnumber%5D=1000"),
    Page("GET /shares?filter[search]=<code>", "/shares?filter%5Bsearch%5D={search}"),
    Page("GET /shares/<id>", "/shares/{share_id}"),
    Page("GET /shares/new", "/shares/new"),
    Page("GET / (home page)", "/"),
    Page("GET /claims", "/claims"),
    Page("GET /profiles/<claimer>", "/profiles/{claimer}"),
]


def server_time(client: Client, path: str, seen: list[float] | None = None) -> float:
    """GET ``path``; the server's own time for it in seconds (its database share into ``seen``)."""
    answer = client.get(path)
    if answer.status != 200:
        raise RuntimeError(f"GET {path} answered {answer.status}: {answer.text[:200]}")
    found = SERVER_TIMING.match(answer.headers.get("Server-Timing", ""))
    if not found:
        raise RuntimeError(f"GET {path}: no Server-Timing in {dict(answer.headers)}")
    if seen is not None:
        seen.append(float(found[2]) / 1000)
    return float(found[1]) / 1000


def pages(
    ws: Workspace, server: Server, values: dict[str, str], rounds: int, budget: float
) -> list[Row]:
    """Each page of ``PAGES`` on ``server`` against the baseline page, interleaved."""
    database = ws.database("pages-baseline")
    rows = []
    with ws.baseline_server("pages-baseline", database) as baseline:
        app, floor = Client(server.port).sign_in(), Client(baseline.port)
        for page in PAGES:
            path = page.path.format(**values)
            database_share: list[float] = []
            page_times, floor_times = interleaved_medians(
                [
                    lambda path=path, seen=database_share: server_time(app, path, seen),
                    lambda: server_time(floor, "/page"),
                ],
                warmup=10,
                min_n=rounds,
                max_n=rounds * 4,
                budget=budget,
            )
            a, b = median(floor_times), median(page_times)
            ratio = b / a
            spread = statistics.quantiles(page_times, n=10)
            rows.append(
                Row(
                    "6 pages",
                    page.label,
                    f"floor {a * 1000:.2f} ms",
                    f"{b * 1000:.2f} ms",
                    f"{ratio:.2f}x",
                    f"<= {TARGET:g}x",
                    verdict(ratio <= TARGET),
                    f"server time (Server-Timing), median of {len(page_times)} each, interleaved;"
                    f" db {median(database_share[-len(page_times) :]) * 1000:.2f} ms;"
                    f" p10-p90 {spread[0] * 1000:.2f}-{spread[-1] * 1000:.2f} ms",
                )
            )
            log(f"pages: {page.label}: {b * 1000:.2f} ms against {a * 1000:.2f} ({ratio:.2f}x)")
        app.close()
        floor.close()
    ws.drop(database)
    return rows
