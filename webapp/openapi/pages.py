"""The OpenAPI document flattened for people: each operation with its parameters, body,
example and every answer's shape; and each schema as a table of its fields."""

from __future__ import annotations

from . import examples


def _name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _shared(doc: dict, response: dict) -> dict:
    """A response object, with a shared one (``$ref``) looked up."""
    if "content" not in response and "$ref" in response:
        return {**doc["components"]["responses"][_name(response["$ref"])], **response}
    return response


def body_shape(schema: dict | None) -> list[tuple[str, str | None]]:
    """A response body's shape in a few words, as (text, schema name to link or None) parts:
    ``{"data": `` Share ``}``, or Error ``, with errors``."""
    if schema is None:
        return [("no body", None)]
    if "$ref" in schema:
        return [(_name(schema["$ref"]), _name(schema["$ref"]))]
    if "allOf" in schema:
        parts = [part for piece in schema["allOf"] if "$ref" in piece for part in body_shape(piece)]
        required = [name for piece in schema["allOf"] for name in piece.get("required", [])]
        return parts + [(f", with {', '.join(required)}", None)] if required else parts
    shape: list[tuple[str, str | None]] = [("{", None)]
    for index, (name, field) in enumerate(schema.get("properties", {}).items()):
        shape.append((f'{", " if index else ""}"{name}": ', None))
        shape += body_shape(field) if "$ref" in field else [(field.get("type", "any"), None)]
    return shape + [("}", None)]


def _responses(doc: dict, operation: dict) -> list[dict]:
    found = []
    for status, response in operation["responses"].items():
        response = _shared(doc, response)
        content = response.get("content", {}).get("application/json")
        found.append(
            {
                "status": status,
                "about": response["description"],
                "shape": body_shape(content["schema"] if content else None),
            }
        )
    return found


def _body(doc: dict, operation: dict) -> list[dict] | None:
    if "requestBody" not in operation:
        return None
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    return _fields(doc["components"]["schemas"][_name(ref)])


def _fields(schema: dict) -> list[dict]:
    """An object schema's fields: name, schema, whether required, and what it is."""
    required = set(schema.get("required", []))
    return [
        {
            "name": name,
            "schema": field,
            "required": name in required,
            "about": field.get("description") or _first_description(field),
        }
        for name, field in schema.get("properties", {}).items()
    ]


def operations(doc: dict) -> list[dict]:
    """The document's operations flattened for the staff API page."""
    found = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                continue
            found.append(
                {
                    "id": op["operationId"],
                    "method": method.upper(),
                    "path": path,
                    "summary": op["summary"],
                    "description": op.get("description", ""),
                    "parameters": item.get("parameters", []) + op.get("parameters", []),
                    "body": _body(doc, op),
                    "responses": _responses(doc, op),
                    "example": examples.BY_OPERATION[op["operationId"]],
                }
            )
    return found


def schema_tables(doc: dict) -> list[dict]:
    """Each named schema of the document with its fields: name, type, required, about."""
    return [
        {"name": name, "about": schema.get("description", ""), "fields": _fields(schema)}
        for name, schema in doc["components"]["schemas"].items()
    ]


def _first_description(schema: dict) -> str:
    for part in schema.get("anyOf", []):
        if part.get("description"):
            return part["description"]
    return ""
