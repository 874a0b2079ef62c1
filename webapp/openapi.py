"""The OpenAPI 3.1 document of the JSON API, built from the forms and enums that validate it.

Request bodies and list parameters are read off the WTForms classes (field kinds, the validators'
``json_schema`` hints, required flags) so the document cannot drift from what the API accepts.
"""

from __future__ import annotations

import enum
from datetime import datetime

from werkzeug.datastructures import MultiDict
from wtforms import BooleanField

from . import ratelimit
from .enums import Role
from .forms import ClaimForm, ShareEditForm, ShareForm
from .forms.adapter import CONTRACT_ORDER
from .forms.fields import DigitsIntegerField, EnumSelectField, LinesField, TimezoneField
from .forms.filters import SORT_FIELDS, ShareFilterForm
from .models import CLAIM_OBJECT, SHARE_OBJECT, Out, Share
from .routing import decimal_range

#: The adapter reads at most this many ASCII digits (forms.fields._DIGITS).
MAX_DIGITS = 19


def digits(low: int = 0, high: int = 10**MAX_DIGITS - 1, blank: bool = False) -> dict:
    """An integer written as a string of ASCII digits, as the adapter reads it: ``low``..``high``,
    leading zeros allowed, at most 19 characters (and ``""`` when ``blank``)."""
    numbers = f"0*(?:{decimal_range(max(low, 1), high)})"
    if low < 1:
        numbers = f"0+|{numbers}"
    if blank:
        numbers = f"|{numbers}"
    pattern = f"^(?:{numbers})$"
    return {
        "type": "string",
        "pattern": pattern,
        "maxLength": MAX_DIGITS,
        "description": f"ASCII digits of an integer from {low} to {high}",
    }


#: Text that str.strip() empties, which the forms read as missing. Spelled out: a JSON Schema
#: \s lacks U+001C..U+001F and U+0085, which strip() removes, and has U+FEFF, which it keeps.
#: (No code point past U+3000 is whitespace.)
BLANK = "^[{}]*$".format("".join(f"\\u{n:04x}" for n in range(0x3001) if chr(n).isspace()))

TIMESTAMP = {"type": "string", "format": "date-time", "examples": ["2026-12-13T12:59:59Z"]}


def _nullable(schema: dict) -> dict:
    if "type" in schema and isinstance(schema["type"], str):
        schema = {**schema, "type": [schema["type"], "null"]}
        if "enum" in schema:
            schema["enum"] = [*schema["enum"], None]
        return schema
    return {"anyOf": [schema, {"type": "null"}]}


def _hints(field) -> dict:
    hints: dict = {}
    for validator in field.validators:
        hints.update(getattr(validator, "json_schema", {}))
    return hints


def field_schema(field) -> dict:
    """The JSON schema of one form field, as the JSON adapter accepts it."""
    hints = _hints(field)
    if isinstance(field, DigitsIntegerField):
        number = {
            "type": "integer",
            **{k: v for k, v in hints.items() if k in ("minimum", "maximum")},
            # JSON Schema counts 1.0 as an integer; the contract does not.
            "description": "A JSON integer, written without a fraction or exponent.",
        }
        low, high = number.get("minimum", 0), number.get("maximum", 10**MAX_DIGITS - 1)
        if field.name == "quantity":
            number["enum"] = [1]
            low = high = 1
        schema = {"anyOf": [number, digits(low, high)]}
    elif isinstance(field, EnumSelectField):
        schema = {
            "type": "string",
            "enum": [choice.value for choice in field.choices if choice.value],
        }
    elif isinstance(field, TimezoneField):
        schema = {
            "type": "string",
            "description": "An IANA time zone name.",
            "examples": ["Australia/Melbourne"],
        }
    elif isinstance(field, BooleanField):
        schema = {"type": "boolean"}
    elif isinstance(field, LinesField):
        schema = {
            "type": "array",
            "items": {"type": "string", **hints.get("items", {})},
            "maxItems": hints.get("maxItems"),
            "description": "An array of strings.",
        }
    else:
        schema = {
            "type": "string",
            **{k: v for k, v in hints.items() if k in ("maxLength", "pattern")},
        }
        if field.flags.required:
            schema["minLength"] = 1
            # Blank after trimming counts as missing.
            schema["not"] = {"pattern": BLANK}
    if field.description:
        schema.setdefault("description", str(field.description))
    schema = {k: v for k, v in schema.items() if v is not None}
    return schema if field.flags.required else _nullable(schema)


def body_schema(form) -> dict:
    properties, required = {}, []
    rank = {name: position for position, name in enumerate(CONTRACT_ORDER)}
    for field in sorted(form, key=lambda f: rank.get(f.name, len(rank))):
        if field.name == "csrf_token":
            continue
        properties[field.name] = field_schema(field)
        if field.flags.required:
            required.append(field.name)
    schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema


def _out_schema(out: Out) -> dict:
    """The JSON schema of one response field, from its type in ``models``."""
    if isinstance(out.kind, type) and issubclass(out.kind, enum.Enum):
        schema = {"type": "string", "enum": [member.value for member in out.kind]}
    elif out.kind is datetime:
        schema = dict(TIMESTAMP)
    elif out.kind is list:
        schema = {"type": "array", "items": {"type": "string"}}
    else:
        schema = {"type": JSON_TYPES[out.kind]}
    schema.update(out.schema)
    return _nullable(schema) if out.nullable else schema


#: JSON Schema's names for the plain types of response fields.
JSON_TYPES = {int: "integer", str: "string", bool: "boolean", dict: "object"}


def object_schema(fields: tuple[Out, ...]) -> dict:
    """A response object (Share, ShareClaim) from the same field list as its ``to_dict``."""
    return {
        "type": "object",
        "required": [out.name for out in fields],
        "properties": {out.name: _out_schema(out) for out in fields},
    }


ERROR = {"$ref": "#/components/responses/Error"}
ERRORS = {
    "400": {"description": "The body is not valid JSON or not a JSON object.", **ERROR},
    "401": {"description": "No token, or a bad or revoked one.", **ERROR},
    "403": {"description": "The token's role may not do this.", **ERROR},
    "413": {"description": "The body is over the size limit.", **ERROR},
    "415": {"description": "The content type is not JSON.", **ERROR},
    "422": {"$ref": "#/components/responses/ValidationError"},
    "429": {"$ref": "#/components/responses/TooManyRequests"},
    "503": {
        "description": "The database is busy or out of reach. Retry after the Retry-After "
        "header's seconds (a create with the same Idempotency-Key, to be safe).",
        **ERROR,
    },
}
_COUNT = {"schema": {"type": "integer", "minimum": 0}}
#: What every counted response says about the token's rate limit.
RATE_LIMIT_HEADERS = {
    name: {"description": about, **_COUNT} for name, about in ratelimit.HEADERS.items()
}


def _errors(*codes: str) -> dict:
    """The error responses ``codes``, and the 503 that any operation may answer."""
    return {code: ERRORS[code] for code in (*codes, "503")}


def _json_body(schema_ref: str) -> dict:
    return {"required": True, "content": {"application/json": {"schema": {"$ref": schema_ref}}}}


def _data(schema_ref: str, description: str) -> dict:
    return {
        "description": description,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["data"],
                    "properties": {"data": {"$ref": schema_ref}},
                }
            }
        },
    }


def list_parameters(form: ShareFilterForm) -> list[dict]:
    parameters = []
    for field in form:
        schema = field_schema(field)
        if field.name == "sort":
            schema = {
                "type": "string",
                "enum": [f"{s}{f}" for f in SORT_FIELDS for s in ("", "-")],
                "default": "-id",
            }
        elif field.name == "filter[is_cloneable]":
            schema = {"type": "string", "enum": ["true", "false", "1", "0", ""]}
        elif isinstance(field, DigitsIntegerField):
            # Blank (as an HTML form sends it) means the default, or "any" for a filter.
            bounds = _hints(field)
            schema = digits(bounds["minimum"], bounds["maximum"], blank=True)
            if field.default is not None:
                schema["default"] = field.default
        elif isinstance(field, EnumSelectField):
            schema = {"type": "string", "enum": [*schema["enum"][:-1], ""]}
        else:
            schema = {**schema, "type": "string"}
        parameters.append(
            {
                "name": field.name,
                "in": "query",
                "required": False,
                "schema": schema,
                "description": str(field.description or field.label.text),
            }
        )
    return parameters


def _forms():
    meta = {"csrf": False}
    edit = ShareEditForm(formdata=None, meta=meta, share=Share(timezone="UTC"))
    return {
        "create": ShareForm(formdata=None, meta=meta),
        "edit": edit,
        "claim": ClaimForm(formdata=None, meta=meta),
    }


ID_PARAMETER = {
    "name": "id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1},
}
NOT_FOUND = {"404": {"description": "No such share.", **ERROR}}
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
    "description": "Same key and body within 24 hours: the first response.",
}


def _shares_path() -> dict:
    """``/api/v3/shares``: add and list."""
    page = {"application/json": {"schema": {"$ref": "#/components/schemas/SharePage"}}}
    return {
        "post": {
            "operationId": "addShare",
            "summary": "Add share (role: agent)",
            "parameters": [IDEMPOTENCY_KEY],
            "requestBody": _json_body("#/components/schemas/ShareCreate"),
            "responses": {
                "201": {
                    **_data("#/components/schemas/Share", "Created."),
                    "headers": {"Location": {"schema": {"type": "string"}}},
                },
                **_errors("400", "401", "403", "413", "415", "422", "429"),
            },
        },
        "get": {
            "operationId": "listShares",
            "summary": "List shares (role: viewer)",
            "parameters": list_parameters(ShareFilterForm(MultiDict())),
            "responses": {
                "200": {"description": "One page of shares.", "content": page},
                **_errors("401", "403", "422", "429"),
            },
        },
    }


def _share_path() -> dict:
    """``/api/v3/shares/{id}``: get, edit and delete."""
    return {
        "parameters": [ID_PARAMETER],
        "get": {
            "operationId": "getShare",
            "summary": "Get share (role: viewer)",
            "responses": {
                "200": _data("#/components/schemas/Share", "The share."),
                **NOT_FOUND,
                **_errors("401", "403", "429"),
            },
        },
        "put": {
            "operationId": "editShare",
            "summary": "Edit share (role: agent)",
            "requestBody": _json_body("#/components/schemas/ShareEdit"),
            "responses": {
                "200": _data("#/components/schemas/Share", "The edited share."),
                **NOT_FOUND,
                **_errors("400", "401", "403", "413", "415", "422", "429"),
            },
        },
        "delete": {
            "operationId": "deleteShare",
            "summary": "Delete share (role: admin)",
            "responses": {
                "204": {"description": "Deleted; claims are kept."},
                **NOT_FOUND,
                **_errors("401", "403", "429"),
            },
        },
    }


def _claim_path() -> dict:
    """``/api/v3/shares/{id}/claim``."""
    return {
        "parameters": [ID_PARAMETER],
        "post": {
            "operationId": "claimShare",
            "summary": "Claim share (role: agent)",
            "requestBody": _json_body("#/components/schemas/ClaimRequest"),
            "responses": {
                "201": _data("#/components/schemas/ShareClaim", "Claimed."),
                **NOT_FOUND,
                **_errors("400", "401", "403", "413", "415", "422", "429"),
            },
        },
    }


def page_schema(item_ref: str) -> dict:
    """One page of a list: its items, the links to other pages and the numbers about it."""
    links = ("first", "last", "prev", "next")
    numbers = {
        "current_page": {"type": "integer"},
        "from": {"type": ["integer", "null"]},
        "last_page": {"type": "integer"},
        "per_page": {"type": "integer"},
        "to": {"type": ["integer", "null"]},
        "total": {"type": "integer"},
        "path": {"type": "string"},
    }
    return {
        "type": "object",
        "required": ["data", "links", "meta"],
        "properties": {
            "data": {"type": "array", "items": {"$ref": item_ref}},
            "links": {
                "type": "object",
                "required": list(links),
                "properties": {k: {"type": ["string", "null"]} for k in links},
            },
            "meta": {"type": "object", "required": list(numbers), "properties": numbers},
        },
    }


ERROR_SCHEMA = {
    "type": "object",
    "required": ["message"],
    "properties": {
        "message": {"type": "string"},
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
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
        "Error": ERROR_SCHEMA,
    }


def _responses() -> dict:
    """The responses operations share: an error, a 429, a 422."""
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    return {
        "Error": {"description": "An error.", "content": error},
        "TooManyRequests": {
            "description": "Too many requests for this token; wait Retry-After seconds.",
            "headers": {
                "Retry-After": {"description": "Seconds until the window ends.", **_COUNT},
                **RATE_LIMIT_HEADERS,
            },
            "content": error,
        },
        "ValidationError": {
            "description": "Validation failed; `errors` names every bad field.",
            "content": {
                "application/json": {
                    "schema": {
                        "allOf": [{"$ref": "#/components/schemas/Error"}, {"required": ["errors"]}]
                    }
                }
            },
        },
    }


BEARER = {
    "type": "http",
    "scheme": "bearer",
    "description": "Made with `flask --app webapp tokens create NAME --role ROLE` "
    "or on the API tokens page.",
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
        "paths": {
            "/api/v3/shares": _shares_path(),
            "/api/v3/shares/{id}": _share_path(),
            "/api/v3/shares/{id}/claim": _claim_path(),
        },
        "components": {
            "securitySchemes": {"bearer": BEARER},
            "schemas": _schemas(),
            "responses": _responses(),
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
