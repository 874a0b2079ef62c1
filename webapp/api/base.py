"""What every API route shares: the blueprint, the JSON body, pages of a list, and first answers
kept for ``Idempotency-Key`` retries."""

from __future__ import annotations

from flask import Blueprint, current_app, g, request, url_for
from sqlalchemy.engine import Row

from .. import idempotency, openapi
from ..auth import requires
from ..db.types import storable
from ..enums import Role
from ..errors import ApiError, validation_error
from ..extensions import csrf, db
from ..forms.adapter import parse_int
from ..listing import Page

bp = Blueprint("api", __name__, url_prefix="/api/v3")
# Scripts authenticate with a bearer token (checked, and counted against its rate limit, in
# auth.check_access), not a session cookie, so CSRF does not apply.
csrf.exempt(bp)

IDEMPOTENCY = "Idempotency-Key"


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
        # An integer too long for int() is still JSON: parse_int keeps it for its field to
        # refuse (a 422), where Flask's get_json() would fail the whole body.
        payload = current_app.json.loads(request.get_data(), parse_int=parse_int)
    # Not JSON, or not UTF-8; a deeply nested body ([[[[...]]]]) exhausts the parser's
    # recursion limit.
    except (ValueError, RecursionError):
        payload = None
    if not isinstance(payload, dict):
        raise ApiError(400)
    return payload


@bp.get("/openapi.json")
@requires(Role.VIEWER)
def openapi_document():
    """This API's OpenAPI 3.1 document, built from the forms and enums that validate it."""
    return openapi.document()


def page_json(page: Page, endpoint: str, args: dict, **view_args) -> dict:
    """A page of a list as the contract writes it: ``data``, ``links`` and ``meta``."""

    def page_url(number: int) -> str:
        return url_for(endpoint, _external=True, **view_args, **args, **{"page[number]": number})

    return {
        "data": [item.to_dict() for item in page.items],
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
            "path": url_for(endpoint, _external=True, **view_args),
        },
    }


class Once:
    """A change sent with an ``Idempotency-Key``: its first answer is kept (``remember``, in
    the change's transaction) and given again to a retry with the same key and body. A key
    belongs to one token and one route (``route``: the operation's id)."""

    def __init__(self, route: str, payload):
        """``payload``: what makes the request this one (its body; a claim's share too)."""
        self.route = route
        self.key = request.headers.get(IDEMPOTENCY)
        self.fingerprint = None
        if self.key is None:
            return
        if not 1 <= len(self.key) <= 255:
            raise validation_error(
                {IDEMPOTENCY: ["The Idempotency-Key header must be 1 to 255 characters."]}
            )
        if not storable(self.key):
            message = "The Idempotency-Key header must not contain the NUL character (U+0000)."
            raise validation_error({IDEMPOTENCY: [message]})
        self.fingerprint = idempotency.fingerprint(payload)

    @property
    def scope(self) -> str:
        return f"token:{g.api_token.id}"

    def earlier(self):
        """The first answer, replayed, when this key has one; else None."""
        if self.key is None:
            return None
        # On a connection of its own, returned before the change takes one: a request never
        # holds two, which under many concurrent requests could leave each waiting for the pool.
        with db.engine.connect() as connection:
            found = idempotency.find(connection, self.scope, self.route, self.key)
        return None if found is None else self._replay(found)

    def remember(self, connection, status: int, body: dict, location: str | None = None):
        """Keep the answer on ``connection``, in the change's transaction (with a key)."""
        if self.key is not None:
            idempotency.record(
                connection,
                scope=self.scope,
                route=self.route,
                key=self.key,
                fingerprint=self.fingerprint,
                status=status,
                response=body,
                location=location,
            )

    def after_conflict(self, error: Exception):
        """A concurrent request with the same key committed first: answer as it did."""
        replay = self.earlier()
        if replay is None:
            raise error
        return replay

    def _replay(self, earlier: Row):
        """The stored first answer, or a 422 when the key came with another request."""
        if earlier.fingerprint != self.fingerprint:
            message = "The Idempotency-Key header was already used with a different request."
            raise validation_error({IDEMPOTENCY: [message]})
        headers = {idempotency.REPLAYED: "true"}
        if earlier.location:
            headers["Location"] = earlier.location
        return earlier.response, earlier.status, headers
