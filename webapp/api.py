"""The JSON API under /api/v3, following the Omneo v3 Shares contract."""

from __future__ import annotations

from flask import Blueprint, current_app, g, request, url_for
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import BadRequest

from . import idempotency, openapi, shares
from .auth import requires
from .clock import utcnow
from .db.types import storable
from .enums import Role
from .errors import ApiError, validation_error
from .extensions import csrf, db
from .forms import ClaimForm, ShareEditForm, ShareForm, field_errors, form_from_json
from .forms.filters import ShareFilterForm
from .listing import fetch_page
from .models import Share

bp = Blueprint("api", __name__, url_prefix="/api/v3")
# Scripts authenticate with a bearer token (checked, and counted against its rate limit, in
# auth.check_access), not a session cookie, so CSRF does not apply.
csrf.exempt(bp)


def json_body() -> dict:
    """The request's JSON object, or the contract's 413 / 415 / 400."""
    limit = current_app.config["API_MAX_CONTENT_LENGTH"]
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(413)
    # A chunked body has no Content-Length, and Werkzeug stops reading it at the limit without
    # a word (the rest would be cut off): read one byte more, so a longer body shows itself.
    request.max_content_length = limit + 1
    if len(request.get_data()) > limit:
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


@bp.get("/openapi.json")
@requires(Role.VIEWER)
def openapi_document():
    """This API's OpenAPI 3.1 document, built from the forms and enums that validate it."""
    return openapi.document()


@bp.post("/shares")
@requires(Role.AGENT)
def create_share():
    """Create a share from a JSON body validated by the same form as the HTML page.

    With an ``Idempotency-Key``, a retry of the same body gets the first answer back.
    """
    payload = json_body()
    key = request.headers.get("Idempotency-Key")
    fingerprint = None
    if key is not None:
        fingerprint = idempotency.fingerprint(payload)
        if not 1 <= len(key) <= 255:
            raise validation_error(
                {IDEMPOTENCY: ["The Idempotency-Key header must be 1 to 255 characters."]}
            )
        if not storable(key):
            message = "The Idempotency-Key header must not contain the NUL character (U+0000)."
            raise validation_error({IDEMPOTENCY: [message]})
        if (earlier := _first_answer(key)) is not None:
            return _replay(earlier, fingerprint)
    form, valid = form_from_json(ShareForm, payload)
    if not valid:
        raise validation_error(field_errors(form))
    try:
        # The session holds no connection in an API request, so this is the request's only one.
        with db.engine.begin() as connection:
            share = shares.create(form.share_values(), connection)
            body = {"data": share.to_dict()}
            location = url_for("api.get_share", share_id=share.id)
            if key is not None:
                idempotency.record(
                    connection,
                    token_id=g.api_token.id,
                    key=key,
                    fingerprint=fingerprint,
                    status=201,
                    response=body,
                    location=location,
                )
    except IntegrityError:
        # A concurrent request with the same key committed first: answer as it did.
        earlier = _first_answer(key) if key is not None else None
        if earlier is None:
            raise
        return _replay(earlier, fingerprint)
    return body, 201, {"Location": location}


IDEMPOTENCY = "Idempotency-Key"


def _first_answer(key: str) -> Row | None:
    """The stored answer to this token's first create with ``key``, if it is still live.

    On a connection of its own, returned before the create takes one: a request never holds
    two, which under many concurrent requests could leave each waiting for the pool.
    """
    with db.engine.connect() as connection:
        return idempotency.find(connection, g.api_token.id, key)


def _replay(earlier: Row, fingerprint: str):
    """The stored first answer, or a 422 when the key came with another body."""
    if earlier.fingerprint != fingerprint:
        raise validation_error(
            {
                IDEMPOTENCY: [
                    "The Idempotency-Key header was already used with a different request body."
                ]
            }
        )
    headers = {"Idempotent-Replayed": "true"}
    if earlier.location:
        headers["Location"] = earlier.location
    return earlier.response, earlier.status, headers


@bp.get("/shares/<int:share_id>")
@requires(Role.VIEWER)
def get_share(share_id: int):
    """One share."""
    share = db.get_or_404(Share, share_id)
    return {"data": share.to_dict()}


@bp.get("/shares")
@requires(Role.VIEWER)
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
            "prev": page_url(page.number - 1) if page.number > 1 else None,
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
@requires(Role.AGENT)
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
    values, recompute = form.changes(present=set(payload) & set(ShareEditForm.EDITABLE))
    shares.edit(share, values, recompute_expiry=recompute)
    db.session.commit()
    return {"data": share.to_dict()}


@bp.delete("/shares/<int:share_id>")
@requires(Role.ADMIN)
def delete_share(share_id: int):
    """Delete a share; its claim records stay."""
    share = db.get_or_404(Share, share_id)
    shares.delete(share)
    db.session.commit()
    return "", 204


@bp.post("/shares/<int:share_id>/claim")
@requires(Role.AGENT)
def claim(share_id: int):
    """Claim a share for another profile."""
    share = db.get_or_404(Share, share_id)
    form, valid = form_from_json(ClaimForm, json_body())
    if not valid:
        raise validation_error(field_errors(form))
    try:
        record = shares.claim(share, form.profile_id.data, form.code.data, form.meta_lines.data)
    except shares.ClaimRefused as refused:
        raise validation_error(refused.errors) from None
    db.session.commit()
    return {"data": record.to_dict()}, 201
