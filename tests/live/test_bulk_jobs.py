"""A bulk job when its server dies mid-way (issue 16, item 3): gunicorn killed outright while the
job runs in one of its workers; every chunk committed stays whole, the chunk in flight leaves
nothing, and the first look at the job after the restart takes it over and finishes the rest,
each share exactly once. On SQLite or PostgreSQL, as the suite runs."""

from __future__ import annotations

import time

import requests
import sqlalchemy as sa

from tests import bulk, factories
from tests.conftest import make_app
from tests.factories import STAFF_PASSWORD
from tests.live.conftest import server_env
from tests.live.helpers import Gunicorn, free_port
from tests.pages import csrf_in
from webapp.extensions import db
from webapp.models import BulkJobItem

SHARES = 3000


def progress(app, job_id: int) -> tuple[int, int, int]:
    """(the job's done count, its items done, expire events so far)."""
    found = bulk.job(app, job_id)
    with app.app_context():
        items_done = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(BulkJobItem)
            .where(BulkJobItem.job_id == job_id, BulkJobItem.done == sa.true())
        )
    return found.done, items_done, len(bulk.events_of(app, "expire"))


def test_a_job_cut_off_by_a_crash_is_whole_to_its_last_chunk_and_finished_once(tmp_path):
    app = make_app(tmp_path)
    ids = factories.shares(app, *({"profile_id": f"crash-{n}"} for n in range(SHARES)))
    factories.staff(app, "bulk-agent@example.com", "agent")
    env = server_env(app, tmp_path, WEBAPP_BULK_CHUNK_SIZE="10", WEBAPP_BULK_STALE_SECONDS="2")
    server = Gunicorn(free_port(), env, tmp_path, workers=2, threads=4)
    browser = requests.Session()
    try:
        assert server.start()[0] == 200
        page = browser.get(f"{server.base}/sign-in", timeout=30)
        browser.post(
            f"{server.base}/sign-in",
            data={
                "email": "bulk-agent@example.com",
                "password": STAFF_PASSWORD,
                "csrf_token": csrf_in(page.text),
            },
            timeout=30,
        )
        asked = browser.get(f"{server.base}/shares/bulk/expire", params={"all": "1"}, timeout=30)
        fields = bulk.hidden_fields(asked.text)
        assert fields["count"] == [str(SHARES)]
        started = browser.post(
            f"{server.base}/shares/bulk/expire", data=fields, allow_redirects=False, timeout=60
        )
        job_id = int(started.headers["Location"].rsplit("/", 1)[1])
        deadline = time.monotonic() + 60
        while bulk.job(app, job_id).done < 300:
            assert time.monotonic() < deadline, "the job did not get going"
            time.sleep(0.01)

        server.kill_group()

        job = bulk.job(app, job_id)
        assert job.state.value == "running" and 300 <= job.done < SHARES
        # Whole chunks only: the job's count, its items and the events agree.
        done, items_done, events = progress(app, job_id)
        assert done == items_done == events == job.changed and done % 10 == 0

        assert server.start()[0] == 200
        deadline = time.monotonic() + 120
        while bulk.job(app, job_id).state.value == "running":
            # Looking at the job is what takes it over once its heartbeat is stale.
            browser.get(f"{server.base}/shares/bulk/jobs/{job_id}/progress", timeout=30)
            assert time.monotonic() < deadline, "the job was not taken over"
            time.sleep(0.2)
        errors = server.log_errors()
    finally:
        server.stop()

    job = bulk.job(app, job_id)
    assert (job.state.value, job.done, job.changed) == ("done", SHARES, SHARES)
    expired = [share_id for share_id, _ in bulk.events_of(app, "expire")]
    assert sorted(expired) == ids  # every share, each exactly once
    assert errors == []
    with app.app_context():
        db.engine.dispose()
