"""HTML pages and htmx fragments for support staff."""

from __future__ import annotations

import csv
import io

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

from . import openapi, shares
from .auth import requires
from .clock import utcnow
from .enums import Role
from .extensions import db
from .forms import ClaimForm, ShareEditForm, ShareForm
from .forms.filters import ShareFilterForm
from .listing import fetch_page, share_query
from .models import Share

bp = Blueprint("shares", __name__)

LIST_PAGE_SIZE = 25


@bp.get("/")
@requires(Role.VIEWER)
def index():
    """The list is the home page."""
    return redirect(url_for("shares.list_shares"))


def _filter_form() -> ShareFilterForm:
    """The list's filters from the query string; the browser list shows 25 a page by default."""
    form = ShareFilterForm(request.args)
    if not form.page_size.raw_data:
        form.page_size.data = LIST_PAGE_SIZE
    form.validate()
    return form


def _results_context(form: ShareFilterForm) -> dict:
    """The results at one instant: the statuses and "3 days ago"s agree with the query's."""
    now = utcnow()
    page = fetch_page(form, now) if not form.param_errors() else None
    return {"filters": form, "page": page, "args": form.active_args(), "now": now}


@bp.get("/shares")
@requires(Role.VIEWER)
def list_shares():
    """Shares, searchable and filterable; every view has its own URL."""
    form = _filter_form()
    status = 422 if form.param_errors() else 200
    return render_template("shares/list.html", **_results_context(form)), status


@bp.get("/shares/results")
@requires(Role.VIEWER)
def list_results():
    """htmx fragment: the results table for the list's current filters."""
    form = _filter_form()
    response = Response(render_template("shares/_results.html", **_results_context(form)))
    # The address bar shows the full page's URL, so the view can be bookmarked and restored.
    response.headers["HX-Push-Url"] = url_for("shares.list_shares", **request.args)
    return response


@bp.get("/docs/api")
@requires(Role.VIEWER)
def api_docs():
    """The OpenAPI document rendered for people, from the same document scripts read."""
    doc = openapi.document()
    return render_template("docs/api.html", doc=doc, operations=openapi.operations(doc))


@bp.get("/shares/export.csv")
@requires(Role.VIEWER)
def export_csv():
    """Exactly the filtered rows as CSV, streamed in batches rather than loaded at once."""
    form = _filter_form()
    if form.param_errors():
        abort(422)
    query = share_query(form, utcnow()).execution_options(yield_per=1000)
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
        now = utcnow()
        for share in db.session.scalars(query):
            record = share.to_dict()
            record["status"] = share.status(now).value
            record["meta"] = "\n".join(share.meta or [])
            writer.writerow([_csv_cell(record[name]) for name in columns])
            if buffer.tell() > 64 * 1024:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    headers = {"Content-Disposition": 'attachment; filename="shares.csv"'}
    return Response(stream_with_context(rows()), mimetype="text/csv", headers=headers)


def _csv_cell(value):
    """A CSV cell that a spreadsheet will not run as a formula."""
    if value is None:
        return ""
    text = str(value).lower() if isinstance(value, bool) else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@bp.route("/shares/new", methods=["GET", "POST"])
@requires(Role.AGENT)
def new_share():
    """The create form; post/redirect/get on success, the form again with 422 otherwise."""
    form = ShareForm()
    if form.validate_on_submit():
        share = shares.create(form.share_values())
        db.session.commit()
        flash(f"Share {share.handle} created for profile {share.profile_id}.", "success")
        return redirect(url_for("shares.show_share", share_id=share.id))
    status = 422 if form.is_submitted() else 200
    return render_template("shares/new.html", form=form), status


@bp.post("/shares/preview")
@bp.post("/shares/<int:share_id>/preview")
@requires(Role.AGENT)
def preview_expiry(share_id: int | None = None):
    """htmx fragment: the expiry the create or edit form would give, saving nothing."""
    form = ShareForm() if share_id is None else ShareEditForm(share=db.get_or_404(Share, share_id))
    return render_template("shares/_preview.html", preview=form.preview())


def _detail(share: Share, claim_form: ClaimForm | None = None, status: int = 200):
    return render_template(
        "shares/detail.html", share=share, claim_form=claim_form or ClaimForm(formdata=None)
    ), status


@bp.get("/shares/<int:share_id>")
@requires(Role.VIEWER)
def show_share(share_id: int):
    """Every field of one share, its claims, and its actions."""
    return _detail(db.get_or_404(Share, share_id))


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
    """Claim from the detail page; errors are shown inline there."""
    share = db.get_or_404(Share, share_id)
    form = ClaimForm()
    if not form.validate_on_submit():
        return _detail(share, form, 422)
    try:
        record = shares.claim(share, form.profile_id.data, form.code.data, form.meta_lines.data)
        db.session.commit()
    except shares.ClaimRefused as refused:
        for name, messages in refused.errors.items():
            if name == "share":  # not a field's fault: shown above the form
                form.form_errors.extend(messages)
            else:
                form[name].errors = [*form[name].errors, *messages]
        return _detail(share, form, 422)
    flash(f"Share {share.handle} claimed by profile {record.profile_id}.", "success")
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
