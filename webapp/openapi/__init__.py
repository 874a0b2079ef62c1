"""The OpenAPI 3.1 document of the JSON API, built from the forms, enums and models that validate
and write it (``schemas``), operation by operation (``paths``), so that it cannot drift from
what the API does, with a worked example of each operation (``examples``); ``pages`` flattens
it for the staff's API page."""

from __future__ import annotations

from ..enums import Role
from ..forms import ClaimForm, ShareEditForm, ShareForm
from ..models import CLAIM_OBJECT, EVENT_OBJECT, SHARE_OBJECT, Share
from . import examples, paths
from .pages import operations, schema_tables
from .schemas import (
    ERROR_SCHEMA,
    body_schema,
    check_schema,
    feed_schema,
    object_schema,
    page_schema,
)


def _forms():
    meta = {"csrf": False}
    edit = ShareEditForm(formdata=None, meta=meta, share=Share(timezone="UTC"))
    return {
        "create": ShareForm(formdata=None, meta=meta),
        "edit": edit,
        "claim": ClaimForm(formdata=None, meta=meta),
    }


BEARER = {
    "type": "http",
    "scheme": "bearer",
    "description": "Made with `flask --app webapp tokens create NAME --role ROLE` "
    "or on the API tokens page.",
}


def _schemas() -> dict:
    forms = _forms()
    edit = body_schema(forms["edit"])
    edit["description"] = "Only these fields may change; absent fields keep their value."
    return {
        "Share": object_schema(SHARE_OBJECT),
        "ShareClaim": object_schema(CLAIM_OBJECT),
        "ShareCreate": body_schema(forms["create"]),
        "ShareEdit": edit,
        "ClaimRequest": body_schema(forms["claim"]),
        "SharePage": page_schema("#/components/schemas/Share"),
        "ClaimPage": page_schema("#/components/schemas/ShareClaim"),
        "ClaimCheck": check_schema(),
        "Event": object_schema(EVENT_OBJECT),
        "EventFeed": feed_schema(),
        "Error": ERROR_SCHEMA,
    }


def document() -> dict:
    """The whole OpenAPI 3.1 document."""
    roles = ", ".join(role.value for role in Role)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Share Desk API",
            "version": "3",
            "description": "Shares: a profile offers one of its records to other profiles. "
            f"Follows the Omneo v3 Shares API. Roles: {roles} (each includes the ones before).",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": _with_examples(paths.all_paths()),
        "components": {
            "securitySchemes": {"bearer": BEARER},
            "schemas": _schemas(),
            "responses": paths.responses(),
        },
    }


def _with_examples(found: dict) -> dict:
    """Each operation's example request body and answer, where readers and tools look for them."""
    for example in examples.EXAMPLES:
        path = examples.VARIABLE.sub("{id}", example.path)
        operation = found[path][example.method.lower()]
        if example.body is not None:
            operation["requestBody"]["content"]["application/json"]["example"] = example.body
        if example.response is not None:
            answer = operation["responses"][str(example.status)]
            answer["content"]["application/json"]["example"] = example.response
    return found


__all__ = ["document", "operations", "schema_tables"]
