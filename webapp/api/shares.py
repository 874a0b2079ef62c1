"""The share routes: Omneo's add, list, get, edit and delete, and the desk's expire now."""

from __future__ import annotations

from flask import request, url_for
from sqlalchemy.exc import IntegrityError

from .. import clock, shares
from ..auth import requires
from ..enums import Role
from ..errors import validation_error
from ..extensions import db
from ..forms import ShareEditForm, ShareForm, field_errors, form_from_json
from ..forms.filters import ShareFilterForm
from ..listing import fetch_page
from ..models import Share
from .base import Once, bp, json_body, page_json


@bp.post("/shares")
@requires(Role.AGENT)
def create_share():
    """Create a share from a JSON body validated by the same form as the HTML page.

    With an ``Idempotency-Key``, a retry of the same body gets the first answer back.
    """
    payload = json_body()
    once = Once("addShare", payload)
    if (replay := once.earlier()) is not None:
        return replay
    form, valid = form_from_json(ShareForm, payload)
    if not valid:
        raise validation_error(field_errors(form))
    try:
        # The session holds no connection in an API request, so this is the request's only one.
        with db.engine.begin() as connection:
            share = shares.create(form.share_values(), connection)
            body = {"data": share.to_dict()}
            location = url_for("api.get_share", share_id=share.id)
            once.remember(connection, 201, body, location)
    except IntegrityError as error:
        return once.after_conflict(error)
    return body, 201, {"Location": location}


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
    page = fetch_page(form, clock.now())
    return page_json(page, "api.list_shares", form.active_args())


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


@bp.post("/shares/<int:share_id>/expire")
@requires(Role.AGENT)
def expire_share(share_id: int):
    """Stop a share now (any body is ignored); a share already expired stays as it was."""
    share = db.get_or_404(Share, share_id)
    shares.expire(share)
    db.session.commit()
    return {"data": share.to_dict()}
