"""The JSON API under /api/v3, following the Omneo v3 Shares contract."""

from __future__ import annotations

from flask import Blueprint, current_app, g, request, url_for
from werkzeug.exceptions import BadRequest

from .errors import ApiError, validation_error
from .extensions import csrf, db
from .forms import ShareForm, field_errors, form_from_json
from .models import ApiToken, Share, utcnow

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
    except BadRequest:
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
