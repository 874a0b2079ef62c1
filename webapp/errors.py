"""The one place that turns errors into responses: JSON under /api/, HTML pages elsewhere."""

from __future__ import annotations

import sqlite3

import sqlalchemy as sa
from flask import Flask, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

#: Contract wording for the statuses an API client can meet.
API_MESSAGES = {
    400: "The request body must be a JSON object.",
    401: "Unauthenticated. Send 'Authorization: Bearer <token>'.",
    403: "This token's role may not do this.",
    404: "Not found.",
    405: "The method is not allowed for this route.",
    413: "The request body is too large.",
    415: "The content type must be application/json.",
    422: "The given data was invalid.",
    429: "Too many requests for this token. Wait for the time in the Retry-After header.",
    503: "The database is busy or out of reach. Try again in a few seconds.",
}
#: Seconds a client should wait before it retries after a 503.
RETRY_AFTER_UNAVAILABLE = 5
#: The SQLite errors that a retry may cure (sqlite3 raises OperationalError for schema errors too).
_SQLITE_TRANSIENT = ("database is locked", "unable to open database file")
#: A table or column this version needs is missing: SQLite's words, PostgreSQL's SQLSTATEs.
_SQLITE_NO_SCHEMA = ("no such table", "no such column")
_POSTGRES_NO_SCHEMA = ("42P01", "42703")  # undefined_table, undefined_column
NOT_SET_UP = (
    "The database is not set up for this version of Share Desk. An operator runs "
    "'flask --app webapp init-db' (see the README)."
)


class ApiError(HTTPException):
    """An HTTP error with a message of our own (and field errors for a 422, headers for a 429)."""

    def __init__(
        self,
        code: int,
        message: str | None = None,
        errors: dict | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message or API_MESSAGES.get(code))
        self.code = code
        self.errors = errors
        self.response_headers = headers or {}


def validation_error(errors: dict[str, list[str]]) -> ApiError:
    """A 422 naming every bad field; the message is the first error, as Laravel words it."""
    messages = [m for field_messages in errors.values() for m in field_messages]
    message = messages[0] if messages else API_MESSAGES[422]
    if len(messages) > 1:
        others = len(messages) - 1
        message += f" (and {others} more error{'s' if others > 1 else ''})"
    return ApiError(422, message, errors)


def wants_json() -> bool:
    """Whether this is an API request: JSON errors, a bearer token, no session cookie."""
    return request.path.startswith("/api/")


def json_body(error: HTTPException) -> dict:
    """The contract's error body: a ``message``, and for a 422 the ``errors`` of every field."""
    if isinstance(error, ApiError):
        message = error.description
    else:
        message = API_MESSAGES.get(error.code) or error.description
    body = {"message": message}
    if getattr(error, "errors", None) is not None:
        body["errors"] = error.errors
    return body


def handle_http_error(error: HTTPException):
    if wants_json():
        headers = error.response_headers if isinstance(error, ApiError) else {}
        response = jsonify(json_body(error))
        response.status_code = error.code
        response.headers.update(headers)
        if error.code == 401:
            response.headers["WWW-Authenticate"] = "Bearer"
        if error.code == 405 and getattr(error, "valid_methods", None):
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response
    known = (403, 404, 405, 422, 500)
    template = f"errors/{error.code}.html" if error.code in known else "errors/error.html"
    headers = getattr(error, "response_headers", {})
    return render_template(template, error=error), error.code, headers


def database_unavailable(error: sa.exc.OperationalError) -> bool:
    """Whether the database was busy or out of reach, rather than the query wrong.

    PostgreSQL's OperationalError means a lost connection, a timeout, a lock or a conflict; so
    does a connection SQLAlchemy found dead. SQLite's covers a missing table too: only its busy
    and cannot-open errors count.
    """
    if error.connection_invalidated or not isinstance(error.orig, sqlite3.OperationalError):
        return True
    return str(error.orig).lower().startswith(_SQLITE_TRANSIENT)


def schema_missing(error: sa.exc.DBAPIError) -> bool:
    """Whether a table or column of this version is missing: a database never initialised, or
    not upgraded with the code (``init-db`` not run), or its file replaced under the server."""
    if isinstance(error.orig, sqlite3.OperationalError):
        return str(error.orig).lower().startswith(_SQLITE_NO_SCHEMA)
    return getattr(error.orig, "sqlstate", None) in _POSTGRES_NO_SCHEMA


def handle_database_error(error: sa.exc.DBAPIError):
    """A 503 with Retry-After when a retry may succeed; a 503 that says so when the database
    lacks this version's tables (as /healthz does); else a 500.

    The request's transaction was rolled back, unless the connection was lost during its commit:
    then only the database knows, which is why a create's retry should carry an Idempotency-Key.
    """
    if schema_missing(error):
        current_app.logger.error(
            "The database lacks this version's schema on %s %s (%s): run init-db.",
            request.method,
            request.path,
            error.orig,
        )
        return handle_http_error(ApiError(503, NOT_SET_UP))
    if not isinstance(error, sa.exc.OperationalError) or not database_unavailable(error):
        return handle_unexpected(error)
    current_app.logger.warning(
        "Database unavailable on %s %s: %s", request.method, request.path, error.orig
    )
    retry = {"Retry-After": str(RETRY_AFTER_UNAVAILABLE)}
    return handle_http_error(ApiError(503, headers=retry))


def handle_unexpected(error: Exception):
    # The traceback goes to the log; the client sees only a generic page or message.
    current_app.logger.exception("Unhandled error on %s %s", request.method, request.path)
    return handle_http_error(InternalServerError())


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(sa.exc.DBAPIError, handle_database_error)
    app.register_error_handler(Exception, handle_unexpected)
