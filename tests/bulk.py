"""Helpers for the tests of work in bulk: CSV files of shares, the Import page's upload, bulk
jobs waited for by their state, and what the database holds of them."""

from __future__ import annotations

import csv
import html
import io
import re
import threading
import time

import sqlalchemy as sa

from tests.pages import csrf_in, csrf_token, form_id_in
from webapp.extensions import db
from webapp.models import AuditEvent, BulkJob, BulkJobItem, ShareImport

HEADER = ("profile_id", "source_id", "source_type", "timezone", "period", "period_type", "meta")


def csv_file(*rows: dict, header=HEADER) -> bytes:
    """A CSV file with ``header`` and a row per dict (absent keys: empty cells)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(name, "") for name in header])
    return buffer.getvalue().encode()


def vip_rows(count: int, start: int = 1) -> list[dict]:
    """``count`` valid rows: marketing's VIP reward, one customer each, two weeks in Melbourne."""
    return [
        {
            "profile_id": f"vip-{n}",
            "source_id": "42",
            "source_type": "reward",
            "timezone": "Australia/Melbourne",
            "period": "2",
            "period_type": "weeks",
            "meta": '["vip"]',
        }
        for n in range(start, start + count)
    ]


def upload(client, data: bytes, name: str = "vip.csv", token: str | None = None):
    """POST a file to the Import page, with its CSRF token, as the browser does."""
    token = token if token is not None else csrf_token(client, "/shares/import")
    return client.post(
        "/shares/import",
        data={"csrf_token": token, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def confirm_import(client, page: str):
    """Press "Create N shares" on an import's preview page."""
    action = re.search(r'<form method="post" action="(/shares/import/\d+)"', page)[1]
    return client.post(action, data={"csrf_token": csrf_in(page), "form_id": form_id_in(page)})


def visible(page: str) -> str:
    """The text a reader sees: tags dropped, entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", page)).split())


def hidden_fields(page: str) -> dict[str, list[str]]:
    """The hidden inputs of ``page`` by name (a name may repeat: ticked ids); of a whole page,
    those of its main content: what its form sends, without the header's sign-out form."""
    found: dict[str, list[str]] = {}
    hidden = r'<input type="hidden" name="([^"]+)" value="([^"]*)"[^>]*>'
    for name, value in re.findall(hidden, page.partition("<main")[2] or page):
        found.setdefault(html.unescape(name), []).append(html.unescape(value))
    return found


def imports(app) -> list[ShareImport]:
    with app.app_context():
        rows = db.session.scalars(sa.select(ShareImport).order_by(ShareImport.id)).all()
        db.session.expunge_all()
        return list(rows)


def job(app, job_id: int) -> BulkJob:
    with app.app_context():
        found = db.session.get(BulkJob, job_id)
        db.session.expunge(found)
        return found


def items(app, job_id: int) -> list[tuple[int, bool]]:
    """(share id, done) of the job's items, in share id order."""
    query = (
        sa.select(BulkJobItem.share_id, BulkJobItem.done)
        .where(BulkJobItem.job_id == job_id)
        .order_by(BulkJobItem.share_id)
    )
    return _tuples(app, query)


def _tuples(app, query) -> list[tuple]:
    with app.app_context():
        return [tuple(row) for row in db.session.execute(query)]


#: Never set: waiting on it is a pause.
_PAUSE = threading.Event()


def wait_for(app, job_id: int, states=("done", "failed"), timeout: float = 30) -> BulkJob:
    """The job once its state is one of ``states``; polled, never a fixed sleep."""
    deadline = time.monotonic() + timeout
    while True:
        found = job(app, job_id)
        if found.state.value in states:
            return found
        assert time.monotonic() < deadline, f"job {job_id} still {found.state.value}"
        # Not time.sleep: under faketime (make test-clock) its absolute monotonic deadline is
        # shifted and the call fails with EINVAL; a timed wait is not.
        _PAUSE.wait(0.02)


def events_of(app, action: str) -> list[tuple[int, str]]:
    """(share id, actor) of every audit event of ``action``, oldest first."""
    query = (
        sa.select(AuditEvent.share_id, AuditEvent.actor)
        .where(AuditEvent.action == action)
        .order_by(AuditEvent.id)
    )
    return _tuples(app, query)
