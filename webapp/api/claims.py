"""The claim routes: Omneo's claim (retried safely with an ``Idempotency-Key``), and the desk's
claim check and claims list."""

from __future__ import annotations

from flask import request
from sqlalchemy.exc import IntegrityError

from .. import clock, shares
from ..auth import requires
from ..enums import Role
from ..errors import json_body as error_body
from ..errors import validation_error
from ..extensions import db
from ..forms import ClaimForm, field_errors, form_from_json
from ..forms.filters import ClaimFilterForm
from ..listing import fetch_claims
from ..models import Share, ShareClaim
from .base import Once, bp, json_body, page_json


def _claim_form(payload: dict) -> ClaimForm:
    """The claim's body, validated as the claim page validates it; its shape errors are a 422."""
    form, valid = form_from_json(ClaimForm, payload)
    if not valid:
        raise validation_error(field_errors(form))
    return form


@bp.post("/shares/<int:share_id>/claim")
@requires(Role.AGENT)
def claim(share_id: int):
    """Claim a share for another profile.

    With an ``Idempotency-Key``, the first answer (the claim, or the rules' refusal) is kept and
    a retry of the same body to the same share gets it again, claiming nothing more, even once
    the share is gone. The same key sent to another share is another request: a 422.
    """
    payload = json_body()
    once = Once("claimShare", {"share_id": share_id, "body": payload})
    if (replay := once.earlier()) is not None:
        return replay
    share = db.get_or_404(Share, share_id)
    form = _claim_form(payload)
    try:
        record = shares.claim(share, form.profile_id.data, form.code.data, form.meta_lines.data)
        status, body = 201, {"data": record.to_dict()}
    except shares.ClaimRefused as refused:
        if once.key is None:
            raise validation_error(refused.errors) from None
        status, body = 422, error_body(validation_error(refused.errors))
    try:
        once.remember(db.session.connection(), status, body)
        db.session.commit()
    except IntegrityError as error:
        db.session.rollback()
        return once.after_conflict(error)
    return body, status


@bp.post("/shares/<int:share_id>/claim-check")
@requires(Role.VIEWER)
def claim_check(share_id: int):
    """Would this claim succeed now, and if not, why not? Nothing is stored or changed."""
    share = db.get_or_404(Share, share_id)
    form = _claim_form(json_body())
    errors = shares.claim_errors(share, form.profile_id.data, form.code.data, clock.now())
    return {"data": {"claimable": not errors, "errors": errors}}


@bp.get("/claims")
@requires(Role.VIEWER)
def list_claims():
    """Claims, filtered, sorted and paginated like the share list."""
    form = ClaimFilterForm(request.args)
    if not form.validate():
        raise validation_error(form.param_errors())
    return page_json(fetch_claims(form), "api.list_claims", form.active_args())


@bp.get("/claims/<int:claim_id>")
@requires(Role.VIEWER)
def get_claim(claim_id: int):
    """One claim (also of a share deleted since)."""
    return {"data": db.get_or_404(ShareClaim, claim_id).to_dict()}
