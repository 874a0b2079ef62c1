"""Every route of the app, page and API, with hostile path ids and query strings: never a 5xx.

The routes come from ``app.url_map``, so a route added later is walked without being listed
here. Each is asked by every method it takes, as a signed-in viewer and admin (pages) and with
a viewer's and an admin's token (API): once with each hostile id in its path, and once with each
hostile query string; then with query strings that hypothesis makes (derandomized, so each run
sends the same ones).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from tests import factories
from tests.contract import bearer
from tests.pages import csrf_token
from webapp.forms.filters import AuditFilterForm, ShareFilterForm

#: Path ids: real, edge, past every database's integers, and not numbers at all.
HOSTILE_IDS = (
    "{real}",
    "0",
    "000",
    "2147483648",
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551616",
    "1" + "0" * 30,
    "9" * 5000,
    "-1",
    "1.5",
    "1e3",
    "%00",
    "%EF%BC%91",  # a fullwidth digit
    "%D9%A3",  # an Arabic-Indic digit
    "%FF%FE",
    "..%2F..%2Fetc%2Fpasswd",
)
#: Query strings: url_for's own keys, huge and odd numbers, repeated keys, bad text.
HOSTILE_QUERIES = (
    "_method=DELETE",
    "_external=1&_scheme=javascript&_anchor=%00",
    "page=99999999999999999999999",
    "page=1000000000",
    "page=-1&page=0",
    "page[number]=99999999999999999999",
    "page[number]=1000000000&page[size]=100",
    "page[size]=&page[size]=junk",
    "sort=id&sort=-id",
    "sort=" + "-" * 500 + "id",
    "filter[source_id]=18446744073709551616",
    "filter[source_id]=9223372036854775807",
    "filter[search]=%00",
    "filter[search]=%ED%A0%80",  # an encoded lone surrogate
    "filter[search]=" + "x" * 5000,
    "filter[status]=__class__",
    "filter[]=1&filter[[x]]=2&filter[status][]=active",
    "since=99999-01-01&until=0000-00-00",
    "since=0001-01-01&until=9999-12-31",
    "actor=%00&action=%00",
    "next=//evil.example&next=/%0d%0aX:1",
    "%00=%00&=&&&",
    "a[b][c][d][e]=1",
    "x=" + "%FF" * 200,
    "x=" + "%25" * 1000,
)


@dataclass
class Caller:
    """A signed-in browser or a script with a token: how to send one request."""

    name: str
    client: object
    api: bool
    token: str | None = None
    csrf: str | None = None

    def send(self, method: str, url: str):
        if self.api:
            headers = bearer(self.token)
            body = {} if method in ("POST", "PUT") else None
            return self.client.open(url, method=method, headers=headers, json=body)
        data = {"csrf_token": self.csrf} if method == "POST" else None
        return self.client.open(url, method=method, data=data)


def callers(app, client_as, token_for) -> list[Caller]:
    found = []
    for role in ("viewer", "admin"):
        browser = client_as(role)
        found.append(Caller(f"{role} page", browser, False, csrf=csrf_token(browser, "/shares")))
        found.append(Caller(f"{role} token", app.test_client(), True, token=token_for(role)))
    return found


def routes(app) -> list[tuple[str, str, str]]:
    """(endpoint, rule, method) of every route; signing out last, so the walk stays signed in."""
    found = [
        (rule.endpoint, rule.rule, method)
        for rule in app.url_map.iter_rules()
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
    ]
    return sorted(found, key=lambda route: route[0] == "auth.sign_out")


def fill(rule: str, value: str) -> str:
    """The rule's path with ``value`` in each of its variable parts."""
    return re.sub(r"<(?:[^:>]+:)?\w+>", value, rule)


def assert_answered(caller: Caller, method: str, url: str) -> None:
    response = caller.send(method, url)
    assert response.status_code < 500, (caller.name, method, url[:200], response.status_code)
    if url.startswith("/api/"):
        assert response.mimetype == "application/json", (caller.name, method, url[:200])


@pytest.fixture
def world(app) -> dict[str, str]:
    """A share, a staff member and a token, so that real ids reach the views."""
    share_id = factories.share(app, code="C", period=2, period_type="days")
    staff_id = factories.staff(app, "walked@example.com", "viewer")
    factories.token(app, "walked-token", "viewer")
    return {"share_id": str(share_id), "staff_id": str(staff_id), "token_id": "1"}


def test_every_route_with_hostile_ids_and_queries_never_answers_5xx(
    app, client_as, token_for, world
):
    walked = set()
    for caller in callers(app, client_as, token_for):
        for endpoint, rule, method in routes(app):
            if rule.startswith("/api/") != caller.api:
                continue
            walked.add((endpoint, method))
            real = world.get(next(iter(re.findall(r"<int:(\w+)>", rule)), ""), "1")
            if "<" in rule:
                for hostile in HOSTILE_IDS:
                    assert_answered(caller, method, fill(rule, hostile.format(real=real)))
            path = fill(rule, "css/app.css" if endpoint == "static" else real)
            for query in HOSTILE_QUERIES:
                assert_answered(caller, method, f"{path}?{query}")
    every = {(rule.endpoint, m) for rule in app.url_map.iter_rules() for m in rule.methods}
    assert walked == {(e, m) for e, m in every if m not in ("HEAD", "OPTIONS")}


#: Keys the app reads, keys url_for reads, and look-alikes.
KNOWN_KEYS = sorted(
    {field.name for field in ShareFilterForm(MultiDict())}
    | {field.name for field in AuditFilterForm(MultiDict())}
    | {"_method", "_external", "_scheme", "_anchor", "next", "filter[", "page["}
)
values = st.one_of(
    st.text(max_size=30),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(["", "true", "-id", "expires_at", "2026-02-30", "__proto__", "%"]),
)
queries = st.lists(
    st.tuples(st.one_of(st.sampled_from(KNOWN_KEYS), st.text(max_size=12)), values),
    max_size=6,
)


@pytest.fixture
def admin_walkers(app, client_as, token_for) -> dict[str, Caller]:
    """One signed-in admin page and one admin token for every example of a test."""
    return {caller.name: caller for caller in callers(app, client_as, token_for)}


@settings(
    max_examples=300,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(pairs=queries, pick=st.integers(min_value=0))
def test_generated_query_strings_never_answer_5xx(app, admin_walkers, pairs, pick):
    """Any keys and values on any route that answers GET, page (as an admin) or API."""
    gets = [(rule, endpoint) for endpoint, rule, method in routes(app) if method == "GET"]
    rule, endpoint = gets[pick % len(gets)]
    caller = admin_walkers["admin token" if rule.startswith("/api/") else "admin page"]
    path = fill(rule, "css/app.css" if endpoint == "static" else "1")
    query = "&".join(f"{quote(key, safe='[]')}={quote(value, safe='')}" for key, value in pairs)
    assert_answered(caller, "GET", f"{path}?{query}")
