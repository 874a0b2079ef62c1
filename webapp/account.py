"""The signed-in person's own settings: the time zone their pages show times in."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, url_for

from . import accounts, clock
from .auth import requires, signed_in_member
from .enums import Role
from .extensions import db
from .forms.account import DisplayZoneForm

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.route("", methods=["GET", "POST"])
@requires(Role.VIEWER)
def settings():
    """Choose the display time zone; post/redirect/get, the form again with 422 otherwise."""
    form = DisplayZoneForm(data={"timezone": g.staff.timezone or "UTC"})
    if form.validate_on_submit():
        accounts.update_staff(signed_in_member(), timezone=form.timezone.data)
        db.session.commit()
        flash(f"Times now show in {form.timezone.data}.", "success")
        return redirect(url_for("account.settings"))
    status = 422 if form.is_submitted() else 200
    return render_template("account/settings.html", form=form, now=clock.now()), status


@bp.post("/zone/detected")
@requires(Role.VIEWER)
def detected_zone():
    """The browser's zone, sent once by static/js/app.js while the person has none: kept if it
    is a zone we know, else UTC, so it is asked only once. A chosen zone is never replaced."""
    if g.staff.timezone is None:
        form = DisplayZoneForm()
        zone = form.timezone.data if form.validate_on_submit() else "UTC"
        accounts.update_staff(signed_in_member(), timezone=zone)
        db.session.commit()
    return "", 204
