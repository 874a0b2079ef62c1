"""Reading the CSRF token off a page: one way, for every test that posts as a browser does."""

from __future__ import annotations

import re

CSRF_INPUT = re.compile(r'<input\b[^>]*\bname="csrf_token"[^>]*>')
VALUE = re.compile(r'\bvalue="([^"]+)"')
#: The token htmx sends in a header, from ``<body hx-headers=...>`` (templates/base.html).
HX_HEADERS = re.compile(r'hx-headers=\'\{"X-CSRFToken": "([^"]+)"\}\'')


def csrf_in(page: str, *, hx_headers: bool = False) -> str:
    """The token of the first hidden ``csrf_token`` input in ``page`` (HTML text, or a part of
    it), or with ``hx_headers`` the one htmx sends."""
    if hx_headers:
        match = HX_HEADERS.search(page)
        assert match, "no X-CSRFToken in hx-headers"
        return match[1]
    tag = CSRF_INPUT.search(page)
    assert tag, "no csrf_token input on the page"
    value = VALUE.search(tag[0])
    assert value, f"a csrf_token input without a value: {tag[0]}"
    return value[1]


def csrf_token(client, path: str = "/sign-in") -> str:
    """The CSRF token of this client's session, from the page at ``path`` fetched now."""
    response = client.get(path)
    assert response.status_code == 200, path
    return csrf_in(response.get_data(as_text=True))


def form_post(client, path: str, **data):
    """A browser's post of a form at ``path`` with ``data`` and this session's CSRF token."""
    return client.post(path, data={"csrf_token": csrf_token(client), **data})


FORM_ID = re.compile(r'<input type="hidden" name="form_id" value="([^"]+)">')


def form_id_in(page: str) -> str:
    """The one-time form id of the first form in ``page`` that has one (webapp/once.py)."""
    match = FORM_ID.search(page)
    assert match, "no form_id input on the page"
    return match[1]
