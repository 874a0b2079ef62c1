"""HTML pages and htmx fragments for support staff."""

from __future__ import annotations

import csv
import io
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)

from . import clock, dashboard, jobs, once, security_log, sharelinks, shares, spreadsheet
from .auth import can, requires
from .enums import Role, ShareStatus
from .extensions import db
from .forms import ClaimForm, ShareEditForm, ShareForm
from .forms.filters import ShareFilterForm, quick_ranges
from .listing import fetch_page, share_query
from .models import Share
from .templating import display_zone, long_time

bp = Blueprint("shares", __name__)

LIST_PAGE_SIZE = 25


@bp.get("/")
@requires(Role.VIEWER)
def index():
    """The home page: what is happening now, at a glance, each figure linked to its list."""
    now = clock.now()
    summary = dashboard.summary(now)
    return render_template("home.html", summary=summary, quick=quick_ranges(now))


def _filter_form() -> ShareFilterForm:
    """The list's filters from the query string; the browser list shows 25 a page by default."""
    form = ShareFilterForm(request.args)
    if not form.page_size.raw_data:
        form.page_size.data = LIST_PAGE_SIZE
    form.validate()
    return form


def _results_context(form: ShareFilterForm) -> dict:
    """The results at one instant: the statuses and "3 days ago"s agree with the query's."""
    now = clock.now()
    page = fetch_page(form, now) if not form.param_errors() else None
    return {
        "filters": form,
        "page": page,
        "args": form.active_args(),
        "quick": quick_ranges(now, display_zone()),
        "now": now,
    }


@bp.get("/shares")
@requires(Role.VIEWER)
def list_shares():
    """Shares, searchable and filterable; every view has its own URL."""
    form = _filter_form()
    status = 422 if form.param_errors() else 200
    # Bulk work running or stopped: agents are pointed to its progress.
    unfinished = jobs.unfinished() if can(Role.AGENT) else []
    context = _results_context(form)
    return render_template("shares/list.html", unfinished=unfinished, **context), status


@bp.get("/shares/results")
@requires(Role.VIEWER)
def list_results():
    """htmx fragment: the results table for the list's current filters."""
    form = _filter_form()
    response = Response(render_template("shares/_results.html", **_results_context(form)))
    # The address bar shows the full page's URL, so the view can be bookmarked and restored.
    # The query as given (not through url_for, which reads keys such as _method as its own).
    query = urlencode(list(request.args.items(multi=True)))
    response.headers["HX-Push-Url"] = url_for("shares.list_shares") + (f"?{query}" if query else "")
    return response


@bp.get("/shares/export.csv")
@requires(Role.VIEWER)
def export_csv():
    """Exactly the filtered rows as CSV, streamed in batches rather than loaded at once."""
    form = _filter_form()
    if form.param_errors():
        abort(422)
    security_log.exported(form.in_words())
    db.session.commit()
    query = share_query(form, clock.now()).execution_options(yield_per=1000)
    columns = [
        "id",
        "handle",
        "profile_id",
        "source_type",
        "source_id",
        "code",
        "timezone",
        "period",
        "period_type",
        "absolute_expiry",
        "expires_at",
        "quantity",
        "remaining_quantity",
        "is_cloneable",
        "status",
        "meta",
        "created_at",
        "updated_at",
    ]

    def rows():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(columns)
        now = clock.now()
        for share in db.session.scalars(query):
            record = share.to_dict()
            record["status"] = share.status(now).value
            record["meta"] = "\n".join(share.meta or [])
            writer.writerow([_csv_cell(name, record[name]) for name in columns])
            if buffer.tell() > 64 * 1024:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    headers = {"Content-Disposition": 'attachment; filename="shares.csv"'}
    return Response(stream_with_context(rows()), mimetype="text/csv", headers=headers)


#: Written as they are: the server makes handles from letters, digits, "-" and "_", which hold
#: no separator and no function call, so a handle in the CSV is the one the API shows.
CSV_VERBATIM = frozenset({"handle"})


def _csv_cell(name: str, value) -> str:
    """A CSV cell that a spreadsheet will not run as a formula (``spreadsheet.inert``)."""
    if value is None:
        return ""
    text = str(value).lower() if isinstance(value, bool) else str(value)
    return text if name in CSV_VERBATIM else spreadsheet.inert(text)


@bp.route("/shares/new", methods=["GET", "POST"])
@requires(Role.AGENT)
def new_share():
    """The create form; post/redirect/get on success, the form again with 422 otherwise.

    Sent twice (a double click), it creates once: the second gets the first one's answer.
    """
    if request.method == "POST" and (answer := once.replay()) is not None:
        return answer
    form = ShareForm()
    if form.validate_on_submit():
        share = shares.create(form.share_values())
        location = url_for("shares.show_share", share_id=share.id)
        return once.done(location, f"Share {share.handle} created for profile {share.profile_id}.")
    status = 422 if form.is_submitted() else 200
    return render_template("shares/new.html", form=form), status


@bp.post("/shares/preview")
@bp.post("/shares/<int:share_id>/preview")
@requires(Role.AGENT)
def preview_expiry(share_id: int | None = None):
    """htmx fragment: the expiry the create or edit form would give, saving nothing."""
    form = ShareForm() if share_id is None else ShareEditForm(share=db.get_or_404(Share, share_id))
    return render_template("shares/_preview.html", preview=form.preview())


def _check_form(**kwargs) -> ClaimForm:
    """The claim check asks for what a claim asks for: the claim's own form, its fields named
    and labelled apart from the claim form's on the same page."""
    form = ClaimForm(prefix="check", **kwargs)
    form.profile_id.label.text = "Customer's profile ID"
    form.code.label.text = "Secret they give"
    return form


def _detail(share: Share, claim_form=None, status: int = 200, check=None, reasons=None):
    link = sharelinks.link(share.handle)
    return render_template(
        "shares/detail.html",
        share=share,
        link=link,
        qr=sharelinks.qr_svg(link) if link else None,
        claim_form=claim_form or ClaimForm(formdata=None),
        check=check or _check_form(formdata=None),
        reasons=reasons,
        extended=share.expires_at and max(share.expires_at, clock.utcnow()) + shares.EXTENSION,
    ), status


@bp.get("/shares/<int:share_id>")
@requires(Role.VIEWER)
def show_share(share_id: int):
    """Every field of one share, its claims, and its actions."""
    return _detail(db.get_or_404(Share, share_id))


@bp.get("/shares/<int:share_id>/qr.svg")
@requires(Role.VIEWER)
def share_qr(share_id: int):
    """The QR code of the share's customer link, as an SVG file to print or send; 404 while no
    WEBAPP_SHARE_LINK_TEMPLATE is set."""
    share = db.get_or_404(Share, share_id)
    link = sharelinks.link(share.handle)
    if link is None:
        abort(404)
    headers = {"Content-Disposition": f'attachment; filename="share-{share.handle}-qr.svg"'}
    return Response(sharelinks.qr_file(link), mimetype="image/svg+xml", headers=headers)


@bp.route("/shares/<int:share_id>/edit", methods=["GET", "POST"])
@requires(Role.AGENT)
def edit_share(share_id: int):
    """Edit the editable fields; immutable ones are shown read-only."""
    share = db.get_or_404(Share, share_id)
    form = ShareEditForm(share=share, data=ShareEditForm.initial_data(share))
    if form.validate_on_submit():
        values, recompute = form.changes(present=set(ShareEditForm.EDITABLE))
        shares.edit(share, values, recompute_expiry=recompute)
        db.session.commit()
        flash(f"Share {share.handle} updated.", "success")
        return redirect(url_for("shares.show_share", share_id=share.id))
    status = 422 if form.is_submitted() else 200
    return render_template("shares/edit.html", form=form, share=share), status


@bp.post("/shares/<int:share_id>/claim")
@requires(Role.AGENT)
def claim(share_id: int):
    """Claim from the detail page; errors are shown inline there. Sent twice, it claims once."""
    share = db.get_or_404(Share, share_id)
    if (answer := once.replay()) is not None:
        return answer
    form = ClaimForm()
    if not form.validate_on_submit():
        return _detail(share, form, 422)
    try:
        record = shares.claim(share, form.profile_id.data, form.code.data, form.meta_lines.data)
    except shares.ClaimRefused as refused:
        for name, messages in refused.errors.items():
            if name == "share":  # not a field's fault: shown above the form
                form.form_errors.extend(messages)
            else:
                form[name].errors = [*form[name].errors, *messages]
        return _detail(share, form, 422)
    location = url_for("shares.show_share", share_id=share.id)
    return once.done(location, f"Share {share.handle} claimed by profile {record.profile_id}.")


@bp.post("/shares/<int:share_id>/claim-check")
@requires(Role.VIEWER)
def claim_check(share_id: int):
    """htmx fragment: whether this claim would succeed now, each reason in plain words.
    Nothing is stored or changed."""
    share = db.get_or_404(Share, share_id)
    form = _check_form()
    reasons = None
    if form.validate_on_submit():
        errors = shares.claim_errors(share, form.profile_id.data, form.code.data, clock.now())
        reasons = claim_reasons(share, errors)
    if not request.headers.get("HX-Request"):  # without script: the whole page, answered
        return _detail(share, check=form, reasons=reasons)
    return render_template("shares/_claim_check.html", check=form, share=share, reasons=reasons)


def claim_reasons(share: Share, errors: dict[str, list[str]]) -> list[str]:
    """Why a claim would be refused, in plain words (empty: it would succeed)."""
    reasons = []
    if "share" in errors:
        if share.status(clock.now()) is ShareStatus.EXPIRED:
            reasons.append(f"expired on {long_time(share.expires_at, share.timezone)}")
        else:
            reasons.append("no claims left")
    if "code" in errors:
        reasons.append("wrong code" if share.code is not None else "wrong handle (it has no code)")
    if "profile_id" in errors:
        reasons.append("the owner cannot claim their own share")
    return reasons


@bp.route("/shares/<int:share_id>/expire", methods=["GET", "POST"])
@requires(Role.AGENT)
def expire_share(share_id: int):
    """Stop a share now: say first what will happen, then do it on the confirmation's post."""
    share = db.get_or_404(Share, share_id)
    if request.method == "POST":
        # CSRFProtect has checked the token before this view ran.
        if shares.expire(share):
            db.session.commit()
            flash(f"Share {share.handle} expired: no claim succeeds from now on.", "success")
        else:
            flash(f"Share {share.handle} had expired already; it is unchanged.", "info")
        return redirect(url_for("shares.show_share", share_id=share.id))
    return render_template("shares/expire.html", share=share, now=clock.now())


@bp.post("/shares/<int:share_id>/extend")
@requires(Role.AGENT)
def extend_share(share_id: int):
    """Give a share seven more days (from now, if it has expired)."""
    share = db.get_or_404(Share, share_id)
    try:
        shares.extend(share)
    except ValueError as refused:
        flash(str(refused), "error")
        return redirect(url_for("shares.show_share", share_id=share.id))
    db.session.commit()
    local = long_time(share.expires_at, share.timezone)
    flash(f"Share {share.handle} now expires on {local}.", "success")
    return redirect(url_for("shares.show_share", share_id=share.id))


@bp.route("/shares/<int:share_id>/delete", methods=["GET", "POST"])
@requires(Role.ADMIN)
def delete_share(share_id: int):
    """Ask first (a real page, not only a dialog), then delete and say what went."""
    share = db.get_or_404(Share, share_id)
    claims = len(share.claims())
    if request.method == "POST":
        # CSRFProtect has checked the token before this view ran.
        handle, profile = share.handle, share.profile_id
        shares.delete(share)
        db.session.commit()
        message = f"Share {handle} of profile {profile} deleted."
        if claims:
            message += f" Its {claims} claim record{'s are' if claims != 1 else ' is'} kept."
        flash(message, "success")
        return redirect(url_for("shares.list_shares"))
    return render_template("shares/delete.html", share=share, claims=claims)
