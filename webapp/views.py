"""HTML pages and htmx fragments for support staff."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from .extensions import db
from .forms import ShareForm
from .models import Share

bp = Blueprint("shares", __name__)

PER_PAGE = 25


@bp.get("/")
def index():
    """The list is the home page."""
    return redirect(url_for("shares.list_shares"))


@bp.get("/shares")
def list_shares():
    """All shares, newest first, paginated."""
    page = db.paginate(
        db.select(Share).order_by(Share.id.desc()), per_page=PER_PAGE, error_out=False
    )
    return render_template("shares/list.html", page=page)


@bp.route("/shares/new", methods=["GET", "POST"])
def new_share():
    """The create form; post/redirect/get on success, the form again with 422 otherwise."""
    form = ShareForm()
    if form.validate_on_submit():
        share = Share(**form.share_values())
        db.session.add(share)
        db.session.commit()
        flash(f"Share {share.handle} created for profile {share.profile_id}.", "success")
        return redirect(url_for("shares.show_share", share_id=share.id))
    status = 422 if form.is_submitted() else 200
    return render_template("shares/new.html", form=form), status


@bp.post("/shares/preview")
def preview_expiry():
    """htmx fragment: the expiry the create form would give, computed without saving."""
    form = ShareForm()
    return render_template("shares/_preview.html", preview=form.preview())


@bp.get("/shares/<int:share_id>")
def show_share(share_id: int):
    """Every field of one share."""
    share = db.get_or_404(Share, share_id)
    return render_template("shares/detail.html", share=share)
