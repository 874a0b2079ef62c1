"""A page's form that makes something (a share, a claim, a token, a staff account) is acted on
once, however often the browser sends it.

Each such form carries a one-time form id (``form_id``, a hidden input that ``new_form_id``
fills when the page is drawn). Its first success is kept as a first answer (``idempotency``:
where it went and what it said) under that id and the fields sent; the same form sent again,
by a double click or a browser's resend, gets that answer instead of a second change. A
disabled button alone would not do: browsers resend. The same form sent with other values
(back, change a field, send) is a new request.
"""

from __future__ import annotations

import secrets

from flask import flash, g, redirect, request
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from . import idempotency
from .db.types import storable
from .extensions import db

FIELD = "form_id"


def new_form_id() -> str:
    """A fresh one-time form id for a form about to be drawn."""
    return secrets.token_urlsafe(16)


def _key() -> tuple[str, str] | None:
    """(key, fingerprint) of the posted form: its id and the values it carries."""
    form_id = request.form.get(FIELD, "")
    if not 8 <= len(form_id) <= 64 or not storable(form_id):
        return None
    values = sorted(
        (name, value)
        for name, values in request.form.lists()
        if name not in (FIELD, "csrf_token")
        for value in values
    )
    fingerprint = idempotency.fingerprint(values)
    return f"{form_id}:{fingerprint}", fingerprint


def _scope() -> str:
    return f"staff:{g.staff.id}"


def replay() -> Response | None:
    """What the first sending of this form did, again (its message and where it went); None
    when it has not been done."""
    found = _key()
    if found is None:
        return None
    with db.engine.connect() as connection:
        first = idempotency.find(connection, _scope(), request.endpoint, found[0])
    if first is None:
        return None
    flash(first.response["flash"], "success")
    return redirect(first.location)


def remember(location: str, message: str) -> None:
    """Keep this form's success (in the change's transaction; the caller commits)."""
    found = _key()
    if found is None:
        return
    key, fingerprint = found
    idempotency.record(
        db.session.connection(),
        scope=_scope(),
        route=request.endpoint,
        key=key,
        fingerprint=fingerprint,
        status=303,
        response={"flash": message},
        location=location,
    )


def commit(location: str, message: str) -> Response | None:
    """Keep this form's success and commit it with the change; None when that went through, or
    the first sending's answer when the same form committed first meanwhile.

    The conflict shows when this form's first answer is written (the same key, committed by the
    other sending while this one waited for its turn to write) or at the commit: both are caught.
    """
    try:
        remember(location, message)
        db.session.commit()
    except IntegrityError as error:
        return after_conflict(error)
    return None


def done(location: str, message: str) -> Response:
    """Commit this form's change with its first answer, say what was done, and go on to
    ``location`` (post/redirect/get); if the same form committed first meanwhile, its answer."""
    if (answer := commit(location, message)) is not None:
        return answer
    flash(message, "success")
    return redirect(location)


def after_conflict(error: Exception) -> Response:
    """The same form was sent twice at once and the other one committed first: its answer."""
    db.session.rollback()
    answer = replay()
    if answer is None:
        raise error
    return answer
