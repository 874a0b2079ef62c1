"""The OpenAPI 3.1 document of the JSON API, built from the forms, enums and models that validate
and write it (``schemas``), operation by operation (``paths``), so that it cannot drift from
what the API does; and the same document flattened for the staff's API page."""

from __future__ import annotations

from ..enums import Role
from ..forms import ClaimForm, ShareEditForm, ShareForm
from ..models import CLAIM_OBJECT, EVENT_OBJECT, SHARE_OBJECT, Share
from . import paths
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
        "paths": paths.all_paths(),
        "components": {
            "securitySchemes": {"bearer": BEARER},
            "schemas": _schemas(),
            "responses": paths.responses(),
        },
    }


def operations(doc: dict) -> list[dict]:
    """The document's operations flattened for the staff API page."""
    found = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                continue
            body = None
            if "requestBody" in op:
                ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
                schema = doc["components"]["schemas"][ref.rsplit("/", 1)[-1]]
                body = [
                    {
                        "name": name,
                        "schema": field,
                        "required": name in schema.get("required", []),
                        "about": field.get("description") or _first_description(field),
                    }
                    for name, field in schema["properties"].items()
                ]
            responses = []
            for status, response in op["responses"].items():
                about = response.get("description")
                if about is None:
                    shared = doc["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
                    about = shared["description"]
                responses.append({"status": status, "about": about})
            found.append(
                {
                    "id": op["operationId"],
                    "method": method.upper(),
                    "path": path,
                    "summary": op["summary"],
                    "parameters": item.get("parameters", []) + op.get("parameters", []),
                    "body": body,
                    "responses": responses,
                }
            )
    return found


def _first_description(schema: dict) -> str:
    for part in schema.get("anyOf", []):
        if part.get("description"):
            return part["description"]
    return ""
