"""JSON schemas read off the forms and models that validate and write the API's bodies: request
bodies and list parameters from the WTForms classes (field kinds, the validators'
``json_schema`` hints, required flags), response objects from ``models``' field lists."""

from __future__ import annotations

import enum
from datetime import datetime

from wtforms import BooleanField, SelectField

from ..forms.adapter import CONTRACT_ORDER
from ..forms.fields import (
    SPACES,
    DigitsIntegerField,
    EnumSelectField,
    InstantField,
    LinesField,
    TimezoneField,
)
from ..forms.filters import ParamsForm
from ..models import Out
from ..routing import decimal_range

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


#: Text that str.strip() empties, which the forms read as missing.
BLANK = f"^{SPACES}*$"

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
        if low == high:
            number["enum"] = [low]
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
            **{k: v for k, v in hints.items() if k in ("maxLength", "pattern", "not")},
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


#: A range filter's value: a date (00:00 UTC that day), or an instant with Z or an offset.
INSTANT = {
    "anyOf": [
        {"type": "string", "format": "date"},
        {"type": "string", "format": "date-time"},
        {"type": "string", "enum": [""]},
    ]
}


def list_parameters(form: ParamsForm) -> list[dict]:
    """The query parameters of a list (or the feed), read off its filter form."""
    parameters = []
    for field in form:
        schema = field_schema(field)
        if field.name == "sort":
            schema = {
                "type": "string",
                "enum": [f"{s}{f}" for f in form.SORT_FIELDS for s in ("", "-")],
                "default": "-id",
            }
        elif field.name == "filter[is_cloneable]":
            schema = {"type": "string", "enum": ["true", "false", "1", "0", ""]}
        elif isinstance(field, InstantField):
            schema = INSTANT
        elif type(field) is SelectField:
            schema = {"type": "string", "enum": [choice.value for choice in field.choices]}
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


def check_schema() -> dict:
    errors = {"type": "array", "items": {"type": "string"}}
    return {
        "type": "object",
        "required": ["claimable", "errors"],
        "properties": {
            "claimable": {"type": "boolean"},
            "errors": {
                "type": "object",
                "description": "What a claim would answer in its 422 (empty when claimable).",
                "properties": {name: errors for name in ("code", "profile_id", "share")},
                "additionalProperties": False,
            },
        },
    }


def feed_schema() -> dict:
    return {
        "type": "object",
        "required": ["data", "links", "meta"],
        "properties": {
            "data": {"type": "array", "items": {"$ref": "#/components/schemas/Event"}},
            "links": {
                "type": "object",
                "required": ["next"],
                "properties": {"next": {"type": "string"}},
            },
            "meta": {
                "type": "object",
                "required": ["has_more"],
                "properties": {"has_more": {"type": "boolean"}},
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
