"""One worked example per operation: the request, as curl and as Python, and the answer it gets.

The API page and the OpenAPI document show these, and ``tests/live/test_docs_examples.py``
runs every one of them, as written, against a live server and checks the answer against the
one shown here, so no example can rot. Each runs in a shell with ``BASE`` (the server) and
``TOKEN`` (an admin token) set, and ``SHARE_ID`` / ``CLAIM_ID`` where it names one.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

#: The example share: what ``addShare`` sends, and what the other examples then work on.
SHARE_BODY = {
    "profile_id": "cust-1",
    "source_type": "reward",
    "source_id": 42,
    "code": "WELCOME-42",
    "period": 2,
    "period_type": "weeks",
    "timezone": "Australia/Melbourne",
    "remaining_quantity": 5,
    "meta": ["campaign:spring"],
    "is_cloneable": True,
}
#: The example claim: cust-2 claims the example share with its code.
CLAIM_BODY = {"profile_id": "cust-2", "code": "WELCOME-42"}
#: Where the documented answers' links point.
SERVER = "https://desk.example.com"
VARIABLE = re.compile(r"\{(\w+)\}")

SHARE = {
    "id": 1,
    "profile_id": "cust-1",
    "source_type": "reward",
    "source_id": 42,
    "handle": "p1Zr8yQ0oW3cXl5nT9sVbg",
    "code": "WELCOME-42",
    "timezone": "Australia/Melbourne",
    "period": 2,
    "period_type": "weeks",
    "absolute_expiry": None,
    "expires_at": "2026-12-13T12:59:59Z",
    "quantity": 1,
    "remaining_quantity": 5,
    "meta": ["campaign:spring"],
    "is_cloneable": True,
    "source": {"type": "reward", "id": 42},
    "created_at": "2026-11-28T23:00:00Z",
    "updated_at": "2026-11-28T23:00:00Z",
}
CLAIM = {
    "id": 1,
    "share_id": 1,
    "share_handle": "p1Zr8yQ0oW3cXl5nT9sVbg",
    "share_profile_id": "cust-1",
    "profile_id": "cust-2",
    "claimed_at": "2026-11-28T23:05:00Z",
    "created_source_type": "reward",
    "created_source_id": 42,
    "is_cloned": True,
    "meta": None,
    "created_at": "2026-11-28T23:05:00Z",
    "updated_at": "2026-11-28T23:05:00Z",
}


def _page(path: str, query: str, items: list, size: int) -> dict:
    """A one-page answer of a list; ``query``: its filters, as its links carry them."""
    return {
        "data": items,
        "links": {
            "first": f"{SERVER}{path}?{query}page%5Bnumber%5D=1",
            "last": f"{SERVER}{path}?{query}page%5Bnumber%5D=1",
            "prev": None,
            "next": None,
        },
        "meta": {
            "current_page": 1,
            "from": 1,
            "last_page": 1,
            "per_page": size,
            "to": len(items),
            "total": len(items),
            "path": f"{SERVER}{path}",
        },
    }


@dataclass(frozen=True)
class Example:
    """One request and the answer it gets, given ``given`` (``share``: the example share
    exists, ``SHARE_ID`` names it; ``claim``: cust-2 has claimed it, ``CLAIM_ID`` names that)."""

    operation: str
    about: str
    method: str
    path: str
    status: int
    response: dict | None
    body: dict | None = None
    params: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    given: tuple[str, ...] = ()

    @property
    def variables(self) -> list[str]:
        """The environment variables the path names besides BASE and TOKEN."""
        return VARIABLE.findall(self.path)

    def curl(self) -> str:
        """The request as a curl command line for a POSIX shell."""
        path = VARIABLE.sub(lambda m: f"${m[1]}", self.path)
        method = "" if self.method == "GET" else f"-X {self.method} "
        lines = [f'curl -sS {method}"$BASE{path}"']
        if self.params:
            lines[0] += " -G"
            lines += [f"--data-urlencode '{name}={value}'" for name, value in self.params.items()]
        lines.append('-H "Authorization: Bearer $TOKEN"')
        lines += [f"-H '{name}: {value}'" for name, value in self.headers.items()]
        if self.body is not None:
            lines.append('-H "Content-Type: application/json"')
            lines.append("-d '" + json.dumps(self.body, indent=2).replace("\n", "\n  ") + "'")
        if self.response is None:
            lines.append("-o /dev/null -w '%{http_code}\\n'")  # no body: say the status
        return " \\\n  ".join(lines)

    def python(self) -> str:
        """The same request with ``requests``, printing what the server answered."""
        path = VARIABLE.sub(lambda m: f"{{os.environ['{m[1]}']}}", self.path)
        headers = {"Authorization": "Bearer {os.environ['TOKEN']}", **self.headers}
        arguments = [f"f\"{{os.environ['BASE']}}{path}\""]
        shown = ", ".join(
            f'"{name}": f"{value}"' if "{" in value else f'"{name}": "{value}"'
            for name, value in headers.items()
        )
        arguments.append(f"headers={{{shown}}}")
        if self.params:
            arguments.append(f"params={json.dumps(self.params)}")
        if self.body is not None:
            fields = "".join(f'        "{k}": {_python(v)},\n' for k, v in self.body.items())
            arguments.append(f"json={{\n{fields}    }}")
        arguments.append("timeout=10")
        call = ",\n    ".join(arguments)
        shown_answer = (
            "print(response.status_code)"
            if self.response is None
            else "print(json.dumps(response.json(), indent=2))"
        )
        return (
            "import json\nimport os\n\nimport requests\n\n"
            f"response = requests.{self.method.lower()}(\n    {call},\n)\n"
            f"response.raise_for_status()\n{shown_answer}\n"
        )

    def response_text(self) -> str:
        return json.dumps(self.response, indent=2) if self.response is not None else ""


def _python(value) -> str:
    """A JSON value written as Python: ``True``, ``None``, lists and dicts of them."""
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_python(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {_python(v)}" for k, v in value.items()) + "}"
    return json.dumps(value)


EXPIRED_SHARE = {
    **SHARE,
    "expires_at": "2026-11-29T01:00:00Z",
    "updated_at": "2026-11-29T01:00:00Z",
}
EDITED_SHARE = {
    **SHARE,
    "code": "WELCOME-43",
    "period": 30,
    "period_type": "days",
    "expires_at": "2026-12-29T12:59:59Z",
    "updated_at": "2026-11-29T01:00:00Z",
}

EXAMPLES = (
    Example(
        "addShare",
        "Share reward 42 of customer cust-1 with up to 5 customers for two weeks; the key makes "
        "a retry safe.",
        "POST",
        "/api/v3/shares",
        201,
        {"data": SHARE},
        body=SHARE_BODY,
        headers={"Idempotency-Key": "order-1234-share"},
    ),
    Example(
        "listShares",
        "The active shares, two a page.",
        "GET",
        "/api/v3/shares",
        200,
        _page("/api/v3/shares", "filter%5Bstatus%5D=active&page%5Bsize%5D=2&", [SHARE], 2),
        params={"filter[status]": "active", "page[size]": "2"},
        given=("share",),
    ),
    Example(
        "getShare",
        "One share.",
        "GET",
        "/api/v3/shares/{SHARE_ID}",
        200,
        {"data": SHARE},
        given=("share",),
    ),  # fmt: skip
    Example(
        "editShare",
        "A new code and a 30-day period: the expiry is counted again from the creation day.",
        "PUT",
        "/api/v3/shares/{SHARE_ID}",
        200,
        {"data": EDITED_SHARE},
        body={"code": "WELCOME-43", "period": 30, "period_type": "days"},
        given=("share",),
    ),
    Example(
        "deleteShare",
        "Delete the share (its claims are kept).",
        "DELETE",
        "/api/v3/shares/{SHARE_ID}",
        204,
        None,
        given=("share",),
    ),
    Example(
        "claimShare",
        "Customer cust-2 claims the share with its code.",
        "POST",
        "/api/v3/shares/{SHARE_ID}/claim",
        201,
        {"data": CLAIM},
        body=CLAIM_BODY,
        headers={"Idempotency-Key": "claim-cust-2-welcome-42"},
        given=("share",),
    ),
    Example(
        "checkClaim",
        "Would the owner's own claim with a wrong code succeed? No, and why not.",
        "POST",
        "/api/v3/shares/{SHARE_ID}/claim-check",
        200,
        {
            "data": {
                "claimable": False,
                "errors": {
                    "code": ["The code is wrong: give the share's code."],
                    "profile_id": ["A profile cannot claim its own share."],
                },
            }
        },
        body={"profile_id": "cust-1", "code": "WRONG"},
        given=("share",),
    ),
    Example(
        "expireShare",
        "Stop the share now: its expiry becomes the current second.",
        "POST",
        "/api/v3/shares/{SHARE_ID}/expire",
        200,
        {"data": EXPIRED_SHARE},
        given=("share",),
    ),
    Example(
        "listClaims",
        "The claims customer cust-2 made.",
        "GET",
        "/api/v3/claims",
        200,
        _page("/api/v3/claims", "filter%5Bprofile_id%5D=cust-2&", [CLAIM], 15),
        params={"filter[profile_id]": "cust-2"},
        given=("share", "claim"),
    ),
    Example(
        "getClaim",
        "One claim.",
        "GET",
        "/api/v3/claims/{CLAIM_ID}",
        200,
        {"data": CLAIM},
        given=("share", "claim"),
    ),  # fmt: skip
    Example(
        "listEvents",
        "Every change since event 0, oldest first: keep the last id and ask links.next.",
        "GET",
        "/api/v3/events",
        200,
        {
            "data": [
                {
                    "id": 1,
                    "occurred_at": "2026-11-28T23:00:00Z",
                    "action": "create",
                    "share_id": 1,
                    "claim_id": None,
                    "actor": {"type": "token", "name": "nightly-import"},
                    # A create lists every field of the new share that is not null.
                    "changes": {
                        name: [None, value] for name, value in SHARE.items() if value is not None
                    },
                },
                {
                    "id": 2,
                    "occurred_at": "2026-11-28T23:05:00Z",
                    "action": "claim",
                    "share_id": 1,
                    "claim_id": 1,
                    "actor": {"type": "token", "name": "nightly-import"},
                    "changes": {
                        "remaining_quantity": [5, 4],
                        "updated_at": ["2026-11-28T23:00:00Z", "2026-11-28T23:05:00Z"],
                    },
                },
            ],
            "links": {"next": f"{SERVER}/api/v3/events?page%5Bafter%5D=2"},
            "meta": {"has_more": False},
        },
        params={"page[after]": "0"},
        given=("share", "claim"),
    ),
)
BY_OPERATION = {example.operation: example for example in EXAMPLES}
