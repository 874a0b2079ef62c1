"""Pages about customers: every claim (who claimed what, when), and one profile's whole story."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Response, render_template, request, url_for

from . import clock
from .auth import requires
from .db.types import storable
from .enums import Role
from .extensions import db
from .forms.filters import ClaimFilterForm, quick_ranges
from .listing import existing_share_ids, fetch_claims
from .models import Share, ShareClaim
from .templating import display_zone

bp = Blueprint("people", __name__)

LIST_PAGE_SIZE = 25
#: How many of a profile's shares and claims its page shows (the lists have the rest).
PROFILE_ROWS = 50


def _claims_form() -> ClaimFilterForm:
    """The claims list's filters from the query string; 25 a page unless the URL says."""
    form = ClaimFilterForm(request.args)
    if not form.page_size.raw_data:
        form.page_size.data = LIST_PAGE_SIZE
    form.validate()
    return form


def _claims_context(form: ClaimFilterForm) -> dict:
    page = fetch_claims(form) if not form.param_errors() else None
    existing = _existing(page.items) if page is not None else set()
    return {
        "filters": form,
        "page": page,
        "args": form.active_args(),
        "existing": existing,
        "quick": quick_ranges(clock.now(), display_zone()),
    }


@bp.get("/claims")
@requires(Role.VIEWER)
def list_claims():
    """Every claim, newest first; find one by claimer, owner, share handle or date."""
    form = _claims_form()
    status = 422 if form.param_errors() else 200
    return render_template("claims/list.html", **_claims_context(form)), status


@bp.get("/claims/results")
@requires(Role.VIEWER)
def claims_results():
    """htmx fragment: the claims table for the current filters."""
    form = _claims_form()
    response = Response(render_template("claims/_results.html", **_claims_context(form)))
    response.headers["HX-Push-Url"] = url_for("people.list_claims", **form.active_args())
    return response


@bp.get("/profiles/<path:profile_id>")
@requires(Role.VIEWER)
def profile(profile_id: str):
    """One customer: the shares they own and the claims they made."""
    return _profile(profile_id)


@bp.get("/profiles")
@requires(Role.VIEWER)
def profile_by_query():
    """The same page for an id that cannot stand in a path (``..``, an empty segment); without
    one, a box to type a profile id into."""
    profile_id = request.args.get("id", "").strip()
    if not profile_id:
        return render_template("profiles/find.html")
    return _profile(profile_id)


def _profile(profile_id: str):
    # An id no column can hold names nobody: an empty page, not an error.
    findable = len(profile_id) <= 255 and storable(profile_id)
    owned = _newest(Share, profile_id) if findable else []
    claimed = _newest(ShareClaim, profile_id) if findable else []
    return render_template(
        "profiles/show.html",
        profile_id=profile_id,
        owned=owned[:PROFILE_ROWS],
        more_owned=len(owned) > PROFILE_ROWS,
        claimed=claimed[:PROFILE_ROWS],
        more_claimed=len(claimed) > PROFILE_ROWS,
        existing=_existing(claimed),
        now=clock.now(),
    )


def _existing(claims: list[ShareClaim]) -> set[int]:
    """Which of these claims' shares still exist (a claim outlives its share)."""
    return existing_share_ids(claim.share_id for claim in claims)


#: A profile's newest rows of each model, one more than the page shows (to know whether there
#: are more): built once, as each page asks the same (building one took longer than running it).
_NEWEST = {
    model: sa.select(model)
    .where(model.profile_id == sa.bindparam("profile_id"))
    .order_by(model.id.desc())
    .limit(PROFILE_ROWS + 1)
    for model in (Share, ShareClaim)
}


def _newest(model, profile_id: str) -> list:
    """The profile's newest rows of ``model`` (shares it owns, claims it made)."""
    return db.session.scalars(_NEWEST[model], {"profile_id": profile_id}).all()
