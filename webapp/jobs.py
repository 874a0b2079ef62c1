"""Bulk jobs: one action (expire, delete) over many shares, done in chunks that each commit whole.

A job is a row (who, what, the selection in words, how far it got) and one item per selected
share, filled by one INSERT ... SELECT from the list's own query. A chunk takes the next items
not done, in share id order, and applies the action through ``shares`` (each share by the rules
of the single action, each change with its audit event), marks them done and counts them, all
in one transaction: a failure rolls back that chunk alone, and running the job again takes the
items not done, so nothing is done twice.

Whoever runs a job holds it by a random ``runner`` id and keeps its ``heartbeat`` fresh; a job
whose heartbeat went stale (its process died) is taken over by a conditional UPDATE, so two
runners never take the same chunk. docs/design.md, "Work in bulk", tells the whole story.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app, g

from . import shares
from .clock import utcnow
from .enums import AuditAction, JobState
from .extensions import db
from .forms.filters import ShareFilterForm
from .listing import share_query
from .models import BulkJob, BulkJobItem, Share

#: What each action does to a chunk of share ids; the ids of the shares it changed.
APPLY: dict[AuditAction, Callable[[list[int], sa.Connection], list[int]]] = {
    AuditAction.EXPIRE: shares.expire_many,
    AuditAction.DELETE: shares.delete_many,
}
_JOBS = BulkJob.__table__
_ITEMS = BulkJobItem.__table__


def new_runner() -> str:
    return secrets.token_hex(8)


def _selected(filters: ShareFilterForm | None, ids: list[int] | None, now) -> sa.Select:
    """The ids of the shares ``ids`` names (those that exist), or with ``ids`` None of every
    share the list's ``filters`` find (the whole query, not a page of it)."""
    if ids is not None:
        return sa.select(Share.id).where(Share.id.in_(ids))
    matching = share_query(filters, now).order_by(None).subquery()
    return sa.select(matching.c.id)


def selected_count(filters: ShareFilterForm, ids: list[int] | None, now) -> int:
    """How many shares a job over this selection would take, now."""
    counted = sa.select(sa.func.count()).select_from(_selected(filters, ids, now).subquery())
    return db.session.scalar(counted)


def start(
    action: AuditAction, filters: ShareFilterForm | None, ids: list[int] | None, now, runner: str
) -> BulkJob:
    """A running job, held by ``runner``, over the selection (``_selected``), with one item per
    share: in the caller's transaction. A job that selects nothing is done at once."""
    words = "shares ticked in the list"
    if ids is None:
        described = filters.in_words()
        words = f"every share matching {described}" if described else "every share (no filters)"
    selected = _selected(filters, ids, now)
    job = BulkJob(
        action=action,
        actor=g.get("actor") or "system",
        selection=words,
        list_args=filters.filter_args() if filters is not None else {},
        total=0,
        state=JobState.RUNNING,
        runner=runner,
        heartbeat=utcnow(),
    )
    db.session.add(job)
    db.session.flush()
    rows = selected.add_columns(sa.literal(job.id), sa.false())
    db.session.execute(sa.insert(_ITEMS).from_select(["share_id", "job_id", "done"], rows))
    # Counted, not the INSERT's rowcount, which psycopg does not give for INSERT ... SELECT here.
    job.total = db.session.scalar(
        sa.select(sa.func.count()).select_from(_ITEMS).where(_ITEMS.c.job_id == job.id)
    )
    if job.total == 0:
        job.state, job.runner, job.finished_at = JobState.DONE, None, utcnow()
    db.session.flush()
    return job


def chunk_size() -> int:
    """Shares per chunk (``BULK_CHUNK_SIZE``): each chunk is one transaction."""
    return current_app.config["BULK_CHUNK_SIZE"]


def run_chunk(job_id: int, runner: str) -> bool:
    """Apply the job's action to its next chunk and commit; whether more is left to do.

    False too when ``runner`` no longer holds the job (it was taken over, or it failed): then
    nothing is done. An error rolls the chunk back and propagates.
    """
    now = utcnow()
    held = db.session.execute(
        # First in the transaction: on SQLite this write takes the database's one write turn,
        # on PostgreSQL it locks the job's row, so nobody else runs a chunk of it meanwhile.
        sa.update(_JOBS)
        .where(_JOBS.c.id == job_id, _JOBS.c.runner == runner, _JOBS.c.state == JobState.RUNNING)
        .values(heartbeat=now)
        .returning(_JOBS.c.action, _JOBS.c.actor)
    ).first()
    if held is None:
        db.session.rollback()
        return False
    ids = db.session.scalars(
        sa.select(_ITEMS.c.share_id)
        .where(_ITEMS.c.job_id == job_id, _ITEMS.c.done == sa.false())
        .order_by(_ITEMS.c.share_id)
        .limit(chunk_size())
    ).all()
    # The job's events name the person who confirmed it, whoever runs the chunk.
    acting, g.actor = g.get("actor"), held.actor
    try:
        changed = APPLY[held.action](ids, db.session.connection()) if ids else []
    finally:
        g.actor = acting
    db.session.execute(
        sa.update(_ITEMS)
        .where(_ITEMS.c.job_id == job_id, _ITEMS.c.share_id.in_(ids))
        .values(done=True)
    )
    finished = len(ids) < chunk_size()
    counts = {"done": _JOBS.c.done + len(ids), "changed": _JOBS.c.changed + len(changed)}
    if finished:
        counts.update(state=JobState.DONE, runner=None, finished_at=now)
        # Its items have served: the job's row keeps the counts.
        db.session.execute(sa.delete(_ITEMS).where(_ITEMS.c.job_id == job_id))
    db.session.execute(sa.update(_JOBS).where(_JOBS.c.id == job_id).values(**counts))
    db.session.commit()
    return not finished


def step(job_id: int, runner: str) -> bool:
    """``run_chunk``, with a failure recorded on the job (state failed, the error in words)
    rather than raised; whether more is left to do."""
    try:
        return run_chunk(job_id, runner)
    except Exception as error:
        db.session.rollback()
        current_app.logger.exception("Bulk job %s failed in a chunk", job_id)
        first_line = (str(error).strip().splitlines() or [""])[0][:300]
        db.session.execute(
            sa.update(_JOBS)
            .where(_JOBS.c.id == job_id, _JOBS.c.runner == runner)
            .values(
                state=JobState.FAILED, runner=None, error=f"{type(error).__name__}: {first_line}"
            )
        )
        db.session.commit()
        return False


def run_in_background(job_id: int, runner: str) -> None:
    """Run the rest of the job in a thread of this process, with an app context of its own."""
    app = current_app._get_current_object()

    def work():
        with app.app_context():
            try:
                while step(job_id, runner):
                    pass
            finally:
                db.session.remove()

    threading.Thread(target=work, name=f"bulk-job-{job_id}", daemon=True).start()


def take_over(job_id: int) -> str | None:
    """Hold a job whose runner is gone: a running job with a stale heartbeat, taken by a
    conditional UPDATE so that one taker wins. The new runner id, or None (nothing to take)."""
    stale = utcnow() - timedelta(seconds=current_app.config["BULK_STALE_SECONDS"])
    return _hold(job_id, _JOBS.c.state == JobState.RUNNING, _JOBS.c.heartbeat < stale)


def resume(job_id: int) -> str | None:
    """Hold a failed job again to finish it; the new runner id, or None when it is not failed
    (another request resumed it first)."""
    return _hold(job_id, _JOBS.c.state == JobState.FAILED)


def _hold(job_id: int, *conditions) -> str | None:
    runner = new_runner()
    taken = db.session.execute(
        sa.update(_JOBS)
        .where(_JOBS.c.id == job_id, *conditions)
        .values(state=JobState.RUNNING, runner=runner, heartbeat=utcnow(), error=None)
    )
    db.session.commit()
    return runner if taken.rowcount == 1 else None


#: The newest jobs running or failed, for the list page to point at: built once, as the page
#: asks on every visit (a statement's cache key is made once, about 60 us a visit).
_UNFINISHED = (
    sa.select(BulkJob)
    .where(BulkJob.state.in_([JobState.RUNNING, JobState.FAILED]))
    .order_by(BulkJob.id.desc())
    .limit(3)
)


def unfinished() -> list[BulkJob]:
    """The newest jobs running or failed (three at most), for the list page to point at."""
    return db.session.scalars(_UNFINISHED).all()
