"""Bulk actions on the list: expire now (agents) or delete (admins) the ticked shares or every share
matching the list's filters, after a confirmation that names the count and the filters; then the
job's progress, polled by htmx, which anyone may leave and come back to (``jobs``)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from . import clock, jobs, once
from .auth import can, requires
from .enums import AuditAction, JobState, Role
from .extensions import db
from .forms.bulk import BulkForm
from .models import BulkJob, Share

bp = Blueprint("bulk", __name__)

#: How many ticked shares the confirmation lists by handle.
SHOWN = 25


@dataclass(frozen=True)
class Action:
    """How a bulk action reads, and the least role that may do it."""

    title: str  # "Expire now"
    verb: str  # "Expire"
    done: str  # "expired"
    unchanged: str  # why shares taken were left as they were ("{were}": was or were)
    role: Role


ACTIONS = {
    AuditAction.EXPIRE: Action(
        "Expire now", "Expire", "expired", "had expired already or {were} deleted", Role.AGENT
    ),
    AuditAction.DELETE: Action("Delete", "Delete", "deleted", "{were} deleted already", Role.ADMIN),
}


def summary(job: BulkJob) -> str:
    """Where a job stands, in a sentence: what it did, and what it has not done yet."""
    words = ACTIONS[job.action]
    left = job.done - job.changed
    unchanged = ""
    if left:
        one = left == 1
        why = words.unchanged.format(were="was" if one else "were")
        unchanged = f"; {left:,} {why} and {'is' if one else 'are'} unchanged"
    if job.state is JobState.DONE:
        return f"Done: {job.changed:,} of {job.total:,} shares {words.done}{unchanged}."
    if job.state is JobState.FAILED:
        rest = job.total - job.done
        return (
            f"Stopped after {job.done:,} of {job.total:,} shares: {job.error}. "
            f"{job.changed:,} {words.done}{unchanged}; the other {rest:,} "
            + (
                "is not done yet: resume to finish it."
                if rest == 1
                else "are not done yet: resume to finish them."
            )
        )
    return f"{job.done:,} of {job.total:,} shares done: {job.changed:,} {words.done}{unchanged}."


def _flash_outcome(job: BulkJob) -> None:
    """What a start or resume did, for the job page it leads to: how it ended, or that it goes
    on (not how far it got: the page's progress says that, and a count here would go stale)."""
    if job.state is JobState.RUNNING:
        flash(
            f"Bulk {job.action.value} of {job.total:,} shares under way: see its progress.", "info"
        )
    else:
        flash(summary(job), "error" if job.state is JobState.FAILED else "success")


@bp.route("/shares/bulk/expire", methods=["GET", "POST"])
@requires(Role.AGENT)
def expire():
    """Expire the selected shares now: ask first, then run the job on the confirmation's post."""
    return _ask_or_start(AuditAction.EXPIRE)


@bp.route("/shares/bulk/delete", methods=["GET", "POST"])
@requires(Role.ADMIN)
def delete():
    """Delete the selected shares: ask first, then run the job on the confirmation's post."""
    return _ask_or_start(AuditAction.DELETE)


def _ask_or_start(action: AuditAction):
    if request.method == "POST" and (answer := once.replay()) is not None:
        return answer
    form = BulkForm(request.form if request.method == "POST" else request.args)
    if not form.validate():
        if set(form.param_errors()) == {"id"} and not form.ids.raw_data:
            flash(form.ids.errors[0], "error")
            return redirect(url_for("shares.list_shares", **form.filter_args()))
        return _confirmation(action, form, 0), 422
    now = clock.now()
    count = jobs.selected_count(form, form.selected_ids(), now)
    if request.method == "GET":
        return _confirmation(action, form, count)
    runner = jobs.new_runner()
    job = jobs.start(action, form, form.selected_ids(), now, runner)
    if job.total != form.count.data:
        db.session.rollback()
        changed = f"It is {count:,} now; you confirmed {form.count.data or 0:,}."
        return _confirmation(action, form, count, changed), 409
    location = url_for("bulk.show_job", job_id=job.id)
    message = f"{ACTIONS[action].title}: {job.total:,} shares selected."
    if (answer := once.commit(location, message)) is not None:
        return answer
    # A small selection is done within this request; a larger one goes on in the background.
    if job.state is JobState.RUNNING and jobs.step(job.id, runner):
        jobs.run_in_background(job.id, runner)
    db.session.refresh(job)
    _flash_outcome(job)
    return redirect(location)


def _confirmation(action: AuditAction, form: BulkForm, count: int, changed: str | None = None):
    ids = form.selected_ids()
    ticked = []
    if ids:
        ticked = db.session.scalars(
            sa.select(Share).where(Share.id.in_(ids)).order_by(Share.id).limit(SHOWN)
        ).all()
    return render_template(
        "bulk/confirm.html",
        action=ACTIONS[action],
        endpoint=request.endpoint,
        form=form,
        count=count,
        ticked=ticked,
        changed=changed,
    )


def _job(job_id: int) -> BulkJob:
    """The job, picked up again first when its runner is gone (its process died)."""
    job = db.get_or_404(BulkJob, job_id)
    if job.state is JobState.RUNNING and (runner := jobs.take_over(job.id)):
        jobs.run_in_background(job.id, runner)
        db.session.refresh(job)
    return job


@bp.get("/shares/bulk/jobs/<int:job_id>")
@requires(Role.AGENT)
def show_job(job_id: int):
    """A bulk job: what it takes, who asked, and how far it got (polled while it runs)."""
    job = _job(job_id)
    return render_template("bulk/job.html", job=job, action=ACTIONS[job.action], summary=summary)


@bp.get("/shares/bulk/jobs/<int:job_id>/progress")
@requires(Role.AGENT)
def job_progress(job_id: int):
    """htmx fragment: the job's progress bar and sentence; it stops polling once the job ends."""
    job = _job(job_id)
    return render_template(
        "bulk/_progress.html", job=job, action=ACTIONS[job.action], summary=summary
    )


@bp.post("/shares/bulk/jobs/<int:job_id>/resume")
@requires(Role.AGENT)
def resume_job(job_id: int):
    """Go on with a failed job from where it stopped: the shares done stay done."""
    job = db.get_or_404(BulkJob, job_id)
    if not can(ACTIONS[job.action].role):
        abort(403)
    runner = jobs.resume(job.id)
    if runner is not None and jobs.step(job.id, runner):
        jobs.run_in_background(job.id, runner)
    db.session.refresh(job)
    _flash_outcome(job)
    return redirect(url_for("bulk.show_job", job_id=job.id))
