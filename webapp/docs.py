"""The API documentation for people: the API page (every operation with a worked example and
the shape of every answer) and the interactive reference, both read off the OpenAPI document."""

from __future__ import annotations

from flask import Blueprint, render_template

from . import openapi
from .auth import requires
from .enums import Role

bp = Blueprint("docs", __name__, url_prefix="/docs/api")


@bp.get("")
@requires(Role.VIEWER)
def api_docs():
    """The OpenAPI document rendered for people, with an example of every operation."""
    doc = openapi.document()
    return render_template(
        "docs/api.html",
        doc=doc,
        operations=openapi.operations(doc),
        schemas=openapi.schema_tables(doc),
    )


@bp.get("/reference")
@requires(Role.VIEWER)
def api_reference():
    """The same document in Swagger UI, to browse and to try calls with a token.

    Swagger UI 5.35 runs under the app's own policy (its styles are set through the DOM, which
    the CSP allows), so this page relaxes nothing; tests/e2e/test_api_docs.py listens for any
    violation while it loads and tries a call."""
    return render_template("docs/reference.html")


@bp.get("/openapi.json")
@requires(Role.VIEWER)
def openapi_document():
    """``/api/v3/openapi.json`` for a signed-in person: the API reads only bearer tokens, so the
    reference page fetches the document here, with its session."""
    return openapi.document()
