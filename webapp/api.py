"""The JSON API under /api/v3, following the Omneo v3 Shares contract."""

from __future__ import annotations

from flask import Blueprint, current_app, g, request, url_for
from werkzeug.exceptions import BadRequest

from .errors import ApiError, validation_error
from .extensions import csrf, db
from .forms import ClaimForm, ShareEditForm, ShareForm, field_errors, form_from_json
from .listing import ShareFilterForm, fetch_page
from .models import ApiToken, ClaimRefused, Share, claim_share, utcnow

bp = Blueprint("api", __name__, url_prefix="/api/v3")
# Scripts authenticate with a bearer token, not a session cookie, so CSRF does not apply.
csrf.exempt(bp)


@bp.before_request
def authenticate():
    """Every API route needs a live bearer token."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    found = ApiToken.find_active(token.strip()) if scheme.lower() == "bearer" else None
    if found is None:
        raise ApiError(401)
    now = utcnow()
    # Record use at most once a minute, so reads do not each turn into a write.
    if found.last_used_at is None or (now - found.last_used_at).total_seconds() >= 60:
        found.last_used_at = now
        db.session.commit()
    g.api_token = found


def json_body() -> dict:
    """The request's JSON object, or the contract's 413 / 415 / 400."""
    request.max_content_length = current_app.config["API_MAX_CONTENT_LENGTH"]
    if request.content_length is not None and request.content_length > request.max_content_length:
        raise ApiError(413)
    if not request.is_json:
        raise ApiError(415)
    try:
        payload = request.get_json()
    # A deeply nested body ([[[[...]]]]) exhausts the parser's recursion limit.
    except (BadRequest, RecursionError):
        payload = None
    if not isinstance(payload, dict):
        raise ApiError(400)
    return payload


@bp.post("/shares")
def create_share():
    """Create a share from a JSON body validated by the same form as the HTML page."""
    form, valid = form_from_json(ShareForm, json_body())
    if not valid:
        raise validation_error(field_errors(form))
    share = Share(**form.share_values())
    db.session.add(share)
    db.session.commit()
    location = url_for("api.get_share", share_id=share.id)
    return {"data": share.to_dict()}, 201, {"Location": location}


@bp.get("/shares/<int:share_id>")
def get_share(share_id: int):
    """One share."""
    share = db.get_or_404(Share, share_id)
    return {"data": share.to_dict()}


@bp.get("/shares")
def list_shares():
    """Shares, filtered, sorted and paginated as the contract says."""
    form = ShareFilterForm(request.args)
    if not form.validate():
        raise validation_error(form.param_errors())
    page = fetch_page(form, utcnow())
    args = form.active_args()

    def page_url(number: int) -> str:
        return url_for("api.list_shares", _external=True, **args, **{"page[number]": number})

    return {
        "data": [share.to_dict() for share in page.items],
        "links": {
            "first": page_url(1),
            "last": page_url(page.last_page),
            "prev": page_url(page.number - 1) if 1 < page.number <= page.last_page + 1 else None,
            "next": page_url(page.number + 1) if page.number < page.last_page else None,
        },
        "meta": {
            "current_page": page.number,
            "from": page.first_index,
            "last_page": page.last_page,
            "per_page": page.size,
            "to": page.last_index,
            "total": page.total,
            "path": url_for("api.list_shares", _external=True),
        },
    }


@bp.put("/shares/<int:share_id>")
def update_share(share_id: int):
    """Change the editable fields present in the body; absent ones keep their value."""
    share = db.get_or_404(Share, share_id)
    payload = json_body()
    form, valid = form_from_json(
        ShareEditForm,
        payload,
        data=ShareEditForm.initial_data(share, show_explicit_expiry=False),
        share=share,
    )
    if not valid:
        raise validation_error(field_errors(form))
    form.apply(present=set(payload) & set(ShareEditForm.EDITABLE))
    db.session.commit()
    return {"data": share.to_dict()}


@bp.delete("/shares/<int:share_id>")
def delete_share(share_id: int):
    """Delete a share; its claim records stay."""
    share = db.get_or_404(Share, share_id)
    db.session.delete(share)
    db.session.commit()
    return "", 204


@bp.post("/shares/<int:share_id>/claim")
def claim(share_id: int):
    """Claim a share for another profile."""
    share = db.get_or_404(Share, share_id)
    form, valid = form_from_json(ClaimForm, json_body())
    if not valid:
        raise validation_error(field_errors(form))
    try:
        record = claim_share(share, form.profile_id.data, form.code.data, form.meta_lines.data)
    except ClaimRefused as refused:
        raise validation_error(refused.errors) from None
    return {"data": record.to_dict()}, 201
