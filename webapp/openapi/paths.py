"""The operations of the API, path by path, with what each one answers."""

from __future__ import annotations

from werkzeug.datastructures import MultiDict

from .. import idempotency, ratelimit
from ..forms.filters import ClaimFilterForm, EventFilterForm, ShareFilterForm
from .schemas import list_parameters

ERROR = {"$ref": "#/components/responses/Error"}
#: An error that comes after the request was counted (with the rate limit's headers).
COUNTED_ERROR = {"$ref": "#/components/responses/CountedError"}
ERRORS = {
    "400": {"description": "The body is not valid JSON or not a JSON object.", **COUNTED_ERROR},
    "401": {"description": "No token, or a bad or revoked one.", **ERROR},
    "403": {"description": "The token's role may not do this.", **ERROR},
    "413": {"description": "The body is over the size limit.", **COUNTED_ERROR},
    "415": {"description": "The content type is not JSON.", **COUNTED_ERROR},
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
#: What a first answer given again for its Idempotency-Key says (addShare, claimShare).
REPLAYED_HEADER = {
    idempotency.REPLAYED: {
        "description": "On the first answer, given again to a retry with the same "
        "Idempotency-Key and body.",
        "schema": {"type": "string", "enum": ["true"]},
    }
}
ERROR_CONTENT = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
VALIDATION_CONTENT = {
    "application/json": {
        "schema": {"allOf": [{"$ref": "#/components/schemas/Error"}, {"required": ["errors"]}]}
    }
}


def _counted(response: dict, headers: dict | None = None) -> dict:
    """``response`` (with ``headers``) as it comes once the request was counted: with the rate
    limit's headers, as ``ratelimit.headers`` sends them."""
    return {**response, "headers": {**(headers or {}), **RATE_LIMIT_HEADERS}}


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


ID_PARAMETER = {
    "name": "id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1},
}
NOT_FOUND = {"404": {"description": "No such share.", **COUNTED_ERROR}}
NO_CLAIM = {"404": {"description": "No such claim.", **COUNTED_ERROR}}
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
            "description": "Creates a share of one of the profile's records, with its claim "
            "window computed by the contract's expiry rules from `period`, `period_type` and "
            "`absolute_expiry` in the share's `timezone`, or given as `expires_at`. The server "
            "makes the `handle`. With an Idempotency-Key, a retry of the same body within 24 "
            "hours gets the first answer instead of a second share.",
            "parameters": [IDEMPOTENCY_KEY],
            "requestBody": _json_body("#/components/schemas/ShareCreate"),
            "responses": {
                "201": _counted(
                    _data("#/components/schemas/Share", "Created."),
                    {"Location": {"schema": {"type": "string"}}, **REPLAYED_HEADER},
                ),
                **_errors("400", "401", "403", "413", "415", "422", "429"),
            },
        },
        "get": {
            "operationId": "listShares",
            "summary": "List shares (role: viewer)",
            "description": "One page of shares, newest first unless `sort` says otherwise, "
            "narrowed by any of the filters; `meta.total` is exact.",
            "parameters": list_parameters(ShareFilterForm(MultiDict())),
            "responses": {
                "200": _counted({"description": "One page of shares.", "content": page}),
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
            "description": "One share, every field.",
            "responses": {
                "200": _counted(_data("#/components/schemas/Share", "The share.")),
                **NOT_FOUND,
                **_errors("401", "403", "429"),
            },
        },
        "put": {
            "operationId": "editShare",
            "summary": "Edit share (role: agent)",
            "description": "Changes the code, the meta lines or the claim window; absent fields "
            "keep their value. A new period is counted from the original creation day.",
            "requestBody": _json_body("#/components/schemas/ShareEdit"),
            "responses": {
                "200": _counted(_data("#/components/schemas/Share", "The edited share.")),
                **NOT_FOUND,
                **_errors("400", "401", "403", "413", "415", "422", "429"),
            },
        },
        "delete": {
            "operationId": "deleteShare",
            "summary": "Delete share (role: admin)",
            "description": "Removes the share: its handle and code stop working at once. Its "
            "claims are kept and stay readable.",
            "responses": {
                "204": _counted({"description": "Deleted; claims are kept."}),
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
            "description": "With an Idempotency-Key, the first answer (the claim, or the rules' "
            "422) is kept for 24 hours and a retry of the same body gets it again.",
            "parameters": [IDEMPOTENCY_KEY],
            "requestBody": _json_body("#/components/schemas/ClaimRequest"),
            "responses": {
                "201": _counted(
                    _data("#/components/schemas/ShareClaim", "Claimed."), REPLAYED_HEADER
                ),
                **NOT_FOUND,
                **_errors("400", "401", "403", "413", "415", "422", "429"),
                "422": _counted(
                    {
                        "description": "Validation failed, or the rules refused the claim; "
                        "a retry with the same Idempotency-Key gets the refusal again.",
                        "content": VALIDATION_CONTENT,
                    },
                    REPLAYED_HEADER,
                ),
            },
        },
    }


def _share_action_paths() -> dict:
    """``/api/v3/shares/{id}/claim-check`` and ``/api/v3/shares/{id}/expire``."""
    return {
        "/api/v3/shares/{id}/claim-check": {
            "parameters": [ID_PARAMETER],
            "post": {
                "operationId": "checkClaim",
                "summary": "Check a claim (role: viewer)",
                "description": "Whether the claim would succeed now, and the errors a claim "
                "would answer with if not. Nothing is stored or changed.",
                "requestBody": _json_body("#/components/schemas/ClaimRequest"),
                "responses": {
                    "200": _counted(_data("#/components/schemas/ClaimCheck", "The answer.")),
                    **NOT_FOUND,
                    **_errors("400", "401", "403", "413", "415", "422", "429"),
                },
            },
        },
        "/api/v3/shares/{id}/expire": {
            "parameters": [ID_PARAMETER],
            "post": {
                "operationId": "expireShare",
                "summary": "Expire share now (role: agent)",
                "description": "The expiry becomes the current second; a share already expired "
                "keeps its expiry. Any body is ignored.",
                "responses": {
                    "200": _counted(_data("#/components/schemas/Share", "The share, expired.")),
                    **NOT_FOUND,
                    **_errors("401", "403", "429"),
                },
            },
        },
    }


def _claims_paths() -> dict:
    """``/api/v3/claims`` and ``/api/v3/claims/{id}``."""
    page = {"application/json": {"schema": {"$ref": "#/components/schemas/ClaimPage"}}}
    return {
        "/api/v3/claims": {
            "get": {
                "operationId": "listClaims",
                "summary": "List claims (role: viewer)",
                "description": "One page of claims, newest first, found by claimer, owner, "
                "share or date; claims of deleted shares included.",
                "parameters": list_parameters(ClaimFilterForm(MultiDict())),
                "responses": {
                    "200": _counted({"description": "One page of claims.", "content": page}),
                    **_errors("401", "403", "422", "429"),
                },
            }
        },
        "/api/v3/claims/{id}": {
            "parameters": [ID_PARAMETER],
            "get": {
                "operationId": "getClaim",
                "summary": "Get claim (role: viewer)",
                "description": "One claim: who claimed which share, when, and what they got.",
                "responses": {
                    "200": _counted(_data("#/components/schemas/ShareClaim", "The claim.")),
                    **NO_CLAIM,
                    **_errors("401", "403", "429"),
                },
            },
        },
    }


def _events_path() -> dict:
    """``/api/v3/events``."""
    feed = {"application/json": {"schema": {"$ref": "#/components/schemas/EventFeed"}}}
    return {
        "get": {
            "operationId": "listEvents",
            "summary": "Events feed (role: viewer)",
            "description": "Every change to a share, in commit order. Keep the last id you saw "
            "and ask links.next: nothing is missed and nothing comes twice.",
            "parameters": list_parameters(EventFilterForm(MultiDict())),
            "responses": {
                "200": _counted({"description": "The events after page[after].", "content": feed}),
                **_errors("401", "403", "422", "429"),
            },
        }
    }


def responses() -> dict:
    """The responses operations share: an error (before the count or after it), a 429, a
    422."""
    return {
        "Error": {"description": "An error.", "content": ERROR_CONTENT},
        "CountedError": _counted(
            {"description": "An error, once the request was counted.", "content": ERROR_CONTENT}
        ),
        "TooManyRequests": {
            "description": "Too many requests for this token; wait Retry-After seconds.",
            "headers": {
                "Retry-After": {"description": "Seconds until the window ends.", **_COUNT},
                **RATE_LIMIT_HEADERS,
            },
            "content": ERROR_CONTENT,
        },
        "ValidationError": _counted(
            {
                "description": "Validation failed; `errors` names every bad field.",
                "content": VALIDATION_CONTENT,
            }
        ),
    }


def all_paths() -> dict:
    """Every route of the API, Omneo's first, then the desk's own."""
    return {
        "/api/v3/shares": _shares_path(),
        "/api/v3/shares/{id}": _share_path(),
        "/api/v3/shares/{id}/claim": _claim_path(),
        **_share_action_paths(),
        **_claims_paths(),
        "/api/v3/events": _events_path(),
    }
