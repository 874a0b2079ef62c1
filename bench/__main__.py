"""``python -m bench``: run the benchmarks and print one table.

Exits 0 when every benchmark ran, whether or not it met its target (the table says PASS or
FAIL); 1 only when a benchmark could not run at all (its row says ERROR).
"""

from __future__ import annotations

import os
import platform
import sys
import time
import traceback
from importlib.metadata import version

from . import bulk, pages, scenarios
from .harness import Workspace
from .scenarios import Row, log

QUICK = os.environ.get("BENCH_QUICK") == "1"
CONFIG = {
    "create_clients": 16,
    "create_seconds": 4 if QUICK else 18,
    "create_warmup": 1 if QUICK else 3,
    "create_turns": 2 if QUICK else 6,
    "list_small": 10_000,
    "list_large": 100_000 if QUICK else 1_000_000,
    "list_budget": 1.0 if QUICK else 5.0,
    # Up to this many requests per case and size: a median of many shrugs off a checkpoint.
    "list_rounds": 21 if QUICK else 151,
    "preview_rounds": 30 if QUICK else 200,
    # Each page against the floor page: at least this many turns, more while within the budget.
    "pages_rounds": 30 if QUICK else 150,
    "pages_budget": 2.0 if QUICK else 10.0,
    "export_rows": 100_000,
    "mixed_clients": 50,
    "mixed_seconds": 5 if QUICK else 30,
}
COLUMNS = ("#", "benchmark", "baseline", "measured", "ratio", "target", "result", "notes")


def main() -> int:
    began = time.monotonic()
    started = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    rows: list[Row] = []
    crashed = False
    ws = Workspace()
    database = "?"
    try:
        log(f"scratch directory {ws.dir}")
        database = ws.databases.version()
        log(f"databases: {database}")
        ws.make_template()
        steps = [
            (
                "1 create",
                lambda: scenarios.create_throughput(
                    ws,
                    CONFIG["create_clients"],
                    CONFIG["create_seconds"],
                    CONFIG["create_warmup"],
                    CONFIG["create_turns"],
                ),
            ),
            ("2 list + 6 pages + 3 preview", lambda: _list_pages_and_preview(ws)),
            ("4 export", lambda: scenarios.export(ws, CONFIG["export_rows"])),
            (
                "5 mixed",
                lambda: scenarios.mixed(
                    ws, CONFIG["list_small"], CONFIG["mixed_clients"], CONFIG["mixed_seconds"]
                ),
            ),
            ("6 import", lambda: bulk.import_rows(ws)),
            ("7 bulk expire", lambda: bulk.bulk_expire(ws)),
        ]
        for name, run in steps:
            try:
                rows += run()
            except Exception as error:  # a broken benchmark must not hide the others
                crashed = True
                traceback.print_exc()
                rows.append(Row(name, "could not run", "-", "-", "-", "-", "ERROR", repr(error)))
            finally:
                for server in ws.servers:
                    server.stop()
    finally:
        ws.close()
    elapsed = time.monotonic() - began
    print(_table(rows, started, elapsed, database))
    return 1 if crashed else 0


def _list_pages_and_preview(ws: Workspace) -> list[Row]:
    """The list at both sizes; the pages on the large one, while it runs; the preview."""

    def measure_pages(server, values) -> list[Row]:
        return pages.pages(ws, server, values, CONFIG["pages_rounds"], CONFIG["pages_budget"])

    rows, client = scenarios.list_scaling(
        ws,
        CONFIG["list_small"],
        CONFIG["list_large"],
        CONFIG["list_budget"],
        CONFIG["list_rounds"],
        then=measure_pages,
    )
    try:
        return rows + scenarios.preview(client, CONFIG["preview_rounds"])
    except Exception as error:  # keep the list rows
        traceback.print_exc()
        return rows + [Row("3 preview", "could not run", "-", "-", "-", "-", "FAIL", repr(error))]


def _table(rows: list[Row], started: str, elapsed: float, database: str) -> str:
    # In the benchmarks' order, whichever step measured them.
    rows = sorted(rows, key=lambda r: int(r.section.split()[0]))
    cells = [COLUMNS] + [
        (r.section, r.case, r.baseline, r.measured, r.ratio, r.target, r.result, r.notes)
        for r in rows
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(COLUMNS) - 1)]

    def line(row) -> str:
        fixed = " | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
        return f"{fixed} | {row[-1]}".rstrip()

    rule = "-+-".join("-" * width for width in widths) + "-+-" + "-" * 20
    passed = sum(r.result == "PASS" for r in rows)
    failed = sum(r.result == "FAIL" for r in rows)
    errors = sum(r.result == "ERROR" for r in rows)
    mode = " (BENCH_QUICK: reduced sizes and durations)" if QUICK else ""
    header = [
        "",
        f"Share Desk benchmarks{mode}: os.cpu_count()={os.cpu_count()}, "
        f"Python {platform.python_version()}, {database}, "
        f"gunicorn {version('gunicorn')} (-w 2 --threads 8 unless noted), started {started}",
        "Every figure is set against a baseline measured in the same run: "
        "ratio = measured / baseline.",
        "",
        line(COLUMNS),
        rule,
    ]
    body = [line(row) for row in cells[1:]]
    footer = [
        rule,
        f"{passed} PASS, {failed} FAIL, {errors} ERROR; total run time {elapsed / 60:.1f} min "
        f"({elapsed:.0f} s)",
    ]
    return "\n".join(header + body + footer)


if __name__ == "__main__":
    sys.exit(main())
