"""The manage pages: list, results fragment, CSV, detail, edit, preview, claim, delete (CSRF on)."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine

from tests import factories
from tests.pages import csrf_in, csrf_token, form_post
from webapp.clock import utcnow
from webapp.enums import PeriodType, SourceType
from webapp.expiry import to_utc_z
from webapp.spreadsheet import TRIGGERS, restore

MELBOURNE = "Australia/Melbourne"
CREATED = datetime(2026, 11, 28, 23, 0, tzinfo=UTC)  # 2026-11-29 10:00 in Melbourne, a Sunday
NOW = utcnow()
PAST = NOW - timedelta(days=2)
FUTURE = NOW + timedelta(days=2)
CSV_COLUMNS = [
    "id", "handle", "profile_id", "source_type", "source_id", "code", "timezone", "period",
    "period_type", "absolute_expiry", "expires_at", "quantity", "remaining_quantity",
    "is_cloneable", "status", "meta", "created_at", "updated_at",
]  # fmt: skip
NOT_FOUND = "There is no page here. The share may have been deleted, or the address mistyped."


# --- helpers -------------------------------------------------------------------------------


def text(response) -> str:
    return response.get_data(as_text=True)


def between(page: str, start: str, end: str) -> str:
    """The part of ``page`` from ``start`` up to the next ``end``."""
    assert start in page, start
    rest = page[page.index(start) :]
    return rest[: rest.index(end)]


def visible(fragment: str) -> str:
    """The text a reader sees: tags dropped, entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", fragment)).split())


def definitions(page: str, start: str) -> dict[str, str]:
    """A ``<dl>``'s terms and the raw HTML of their definitions, from the first dl at ``start``."""
    block = between(page, start, "</dl>")
    pairs = re.findall(r"<dt>(.*?)</dt>\s*<dd[^>]*>(.*?)</dd>", block, re.S)
    return {visible(term): value for term, value in pairs}


def result_handles(page: str) -> list[str]:
    """The handles in the results table's rows, in order."""
    if "<tbody>" not in page:
        return []
    body = between(page, "<tbody>", "</tbody>")
    return re.findall(r'<a href="/shares/[0-9]+"><code>([^<]+)</code></a>', body)


def field_error(page: str, field_id: str) -> str | None:
    """The inline error message under a form field, unescaped."""
    match = re.search(rf'<p class="error" id="{field_id}-error">(.*?)</p>', page, re.S)
    return html.unescape(match[1]) if match else None


def query_of(url: str) -> tuple[str, dict[str, list[str]]]:
    parts = urlsplit(html.unescape(url))
    return parts.path, parse_qs(parts.query, keep_blank_values=True)


def follow(client, response):
    assert response.status_code == 302, text(response)[:500]
    return client.get(response.headers["Location"])


# --- the list page -------------------------------------------------------------------------


def test_empty_list_invites_the_first_share(client):
    response = client.get("/shares")

    assert response.status_code == 200
    page = text(response)
    assert "<p>No shares yet.</p>" in page
    assert '<a class="button primary" href="/shares/new">Create the first share</a>' in page
    assert "No shares match these filters." not in page
    assert result_handles(page) == []


@pytest.fixture
def three_states(app) -> dict[str, int]:
    """One share in each status (rule 6), plus an expired one with none left."""
    return {
        "active": factories.share(app, profile_id="p-active", expires_at=FUTURE),
        "expired": factories.share(app, profile_id="p-expired", expires_at=PAST),
        "expired-empty": factories.share(
            app, profile_id="p-expired-empty", expires_at=PAST, remaining_quantity=0
        ),
        "exhausted": factories.share(app, profile_id="p-exhausted", remaining_quantity=0),
    }


@pytest.mark.parametrize(
    ("status", "badge", "names"),
    [
        ("active", "Active", ["active"]),
        ("expired", "Expired", ["expired-empty", "expired"]),
        ("exhausted", "Exhausted", ["exhausted"]),
    ],
)
def test_status_filter_shows_the_status_badge(app, client, three_states, status, badge, names):
    response = client.get(f"/shares?filter[status]={status}")

    assert response.status_code == 200
    page = text(response)
    assert result_handles(page) == [factories.handle_of(app, three_states[n]) for n in names]
    table = between(page, "<tbody>", "</tbody>")
    badges = re.findall(r'<span class="badge badge-([a-z]+)">([A-Za-z]+)</span>', table)
    assert badges == [(status, badge)] * len(names)
    assert f"{len(names)} share{'s' if len(names) != 1 else ''} match" in page
    # The filter form shows the chosen status.
    assert f'<option selected value="{status}">{badge}</option>' in page


def test_unfiltered_list_shows_every_status(app, client, three_states):
    page = text(client.get("/shares"))

    table = between(page, "<tbody>", "</tbody>")
    assert re.findall(r'<span class="badge badge-[a-z]+">([A-Za-z]+)</span>', table) == [
        "Exhausted",
        "Expired",
        "Expired",
        "Active",
    ]
    assert "4 shares ·" in page


@pytest.fixture
def varied(app) -> dict[str, int]:
    return {
        "alice": factories.share(app, profile_id="alice", code="SUMMER", is_cloneable=True),
        "alicia": factories.share(
            app, profile_id="alicia", code="WINTER", source_type=SourceType.BENEFIT
        ),
        "bob": factories.share(app, profile_id="bob", code="summer", source_id=7),
    }


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("", ["bob", "alicia", "alice"]),
        ("filter[search]=ali", ["alicia", "alice"]),
        ("filter[search]=SUM", ["alice"]),
        ("filter[search]=sum", ["bob"]),
        ("filter[source_type]=benefit", ["alicia"]),
        ("filter[is_cloneable]=true", ["alice"]),
        ("filter[is_cloneable]=false", ["bob", "alicia"]),
        ("filter[source_id]=7", ["bob"]),
        ("filter[profile_id]=alice", ["alice"]),
        ("filter[search]=ali&filter[source_type]=reward", ["alice"]),
        ("sort=id", ["alice", "alicia", "bob"]),
        ("filter[search]=&filter[status]=&filter[is_cloneable]=", ["bob", "alicia", "alice"]),
    ],
)
def test_list_filters_via_query_parameters(app, client, varied, query, names):
    response = client.get(f"/shares?{query}")

    assert response.status_code == 200
    assert result_handles(text(response)) == [factories.handle_of(app, varied[n]) for n in names]


def test_search_box_keeps_the_typed_text(client, varied):
    page = text(client.get("/shares?filter[search]=%3Cali%22"))

    assert 'name="filter[search]"' in page
    assert re.search(r'<input[^>]*name="filter\[search\]"[^>]*value="&lt;ali&#34;"', page)
    assert "<ali" not in page


def test_no_match_empty_state_has_a_clear_link(client, varied):
    response = client.get("/shares?filter[profile_id]=nobody&filter[status]=active")

    assert response.status_code == 200
    page = text(response)
    assert "<p>No shares match these filters.</p>" in page
    assert '<a href="/shares">Clear the filters</a>' in page
    assert "No shares yet." not in page
    assert result_handles(page) == []


@pytest.mark.parametrize(
    ("query", "messages"),
    [
        ("filter[status]=gone", ["The selected filter status is invalid."]),
        ("filter[x]=1", ["The filter x parameter is not a known filter."]),
        (
            "filter[is_cloneable]=yes",
            ["The filter is cloneable parameter must be true, false, 1 or 0."],
        ),
        ("page[size]=0", ["The page size parameter must be between 1 and 100."]),
        ("page[number]=x", ["The page number parameter must be an integer."]),
        (
            "sort=--id",
            [
                "The sort parameter must be one of id, created_at, updated_at, expires_at, "
                "remaining_quantity, optionally prefixed with - for descending."
            ],
        ),
        ("filter[%3Cb%3E]=1", ["The filter <b> parameter is not a known filter."]),
        (
            "page[size]=&page[size]=junk",
            ["The page size parameter must be given once, not 2 times."],
        ),
        (
            "filter[status]=gone&filter[source_id]=x&filter[y]=2",
            [
                "The filter source id parameter must be an integer.",
                "The selected filter status is invalid.",
                "The filter y parameter is not a known filter.",
            ],
        ),
    ],
)
def test_invalid_filters_give_a_422_page_listing_the_problems(client, varied, query, messages):
    response = client.get(f"/shares?{query}")

    assert response.status_code == 422
    assert response.mimetype == "text/html"
    page = text(response)
    assert "<html" in page
    problems = between(page, "<p>These filters are not valid:</p>", "</ul>")
    assert [html.unescape(m) for m in re.findall(r"<li>(.*?)</li>", problems)] == messages
    assert "<b>" not in problems
    assert '<a href="/shares">Show all shares</a>' in page
    assert result_handles(page) == []


# --- the results fragment ------------------------------------------------------------------


def test_results_fragment_is_only_the_results_and_pushes_the_page_url(app, client, three_states):
    response = client.get(
        "/shares/results?filter[status]=expired&sort=created_at",
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    page = text(response)
    assert "<html" not in page and "<body" not in page and "<form" not in page
    assert page.lstrip().startswith('<div id="results"')
    assert result_handles(page) == [
        factories.handle_of(app, three_states["expired"]),
        factories.handle_of(app, three_states["expired-empty"]),
    ]
    path, query = query_of(response.headers["HX-Push-Url"])
    assert path == "/shares"
    assert query == {"filter[status]": ["expired"], "sort": ["created_at"]}


def test_results_fragment_without_filters_pushes_the_bare_list_url(client, three_states):
    response = client.get("/shares/results", headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert response.headers["HX-Push-Url"] == "/shares"
    assert len(result_handles(text(response))) == 4


def test_results_fragment_empty_states(client, three_states):
    nothing = client.get("/shares/results?filter[search]=zzz", headers={"HX-Request": "true"})

    assert nothing.status_code == 200
    assert "<p>No shares match these filters.</p>" in text(nothing)
    assert "<html" not in text(nothing)
    assert query_of(nothing.headers["HX-Push-Url"]) == ("/shares", {"filter[search]": ["zzz"]})


def test_results_fragment_lists_bad_filters_in_place(client, three_states):
    """htmx 2 swaps only 2xx by default, so the fragment answers 200 with the problems listed."""
    response = client.get("/shares/results?filter[status]=gone", headers={"HX-Request": "true"})

    assert response.status_code == 200
    page = text(response)
    assert "<html" not in page
    assert "<li>The selected filter status is invalid.</li>" in page
    assert result_handles(page) == []


@pytest.mark.parametrize(
    "query",
    [
        "_method=DELETE",
        "_external=1&_scheme=javascript",
        "_anchor=x&filter[search]=a",
        "q=caf%C3%A9",
    ],
)
def test_results_fragment_pushes_any_query_back_as_it_came(client, three_states, query):
    """Keys that url_for reads as its own (``_method``, ``_scheme``) are only text here."""
    response = client.get(f"/shares/results?{query}", headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert query_of(response.headers["HX-Push-Url"]) == ("/shares", parse_qs(query))


# --- pagination ----------------------------------------------------------------------------


def page_link(page: str, rel: str) -> tuple[str, str] | None:
    match = re.search(rf'<a href="([^"]+)"\s+hx-get="([^"]+)" rel="{rel}">', page)
    return (match[1], match[2]) if match else None


def test_pagination_links_keep_the_filters_and_sort(app, client):
    keep = [
        factories.share(app, profile_id="keep", created_at=CREATED + timedelta(minutes=n))
        for n in range(30)
    ]
    factories.share(app, profile_id="other")

    first = client.get("/shares?filter[profile_id]=keep&sort=created_at")

    page = text(first)
    assert first.status_code == 200
    assert result_handles(page) == [factories.handle_of(app, i) for i in keep[:25]]
    assert "Showing 1–25 of 30" in page and "Page 1 of 2" in page
    assert page_link(page, "prev") is None
    href, hx = page_link(page, "next")
    wanted = {"filter[profile_id]": ["keep"], "sort": ["created_at"], "page[number]": ["2"]}
    assert query_of(href) == ("/shares", wanted)
    assert query_of(hx) == ("/shares/results", wanted)

    second = client.get(html.unescape(href))
    page = text(second)
    assert second.status_code == 200
    assert result_handles(page) == [factories.handle_of(app, i) for i in keep[25:]]
    assert "Showing 26–30 of 30" in page and "Page 2 of 2" in page
    assert page_link(page, "next") is None
    href, hx = page_link(page, "prev")
    wanted["page[number]"] = ["1"]
    assert query_of(href) == ("/shares", wanted)
    assert query_of(hx) == ("/shares/results", wanted)


def test_page_size_and_sort_headers_keep_the_filters(app, client):
    for n in range(5):
        factories.share(app, profile_id="keep", remaining_quantity=n % 2)

    page = text(client.get("/shares?filter[profile_id]=keep&page[size]=2"))

    href, _ = page_link(page, "next")
    assert query_of(href)[1] == {
        "filter[profile_id]": ["keep"],
        "page[size]": ["2"],
        "page[number]": ["2"],
    }
    sort_link = re.search(r'<a href="([^"]+)"\s+hx-get="[^"]+">Claims left', page)[1]
    assert query_of(sort_link) == (
        "/shares",
        {"filter[profile_id]": ["keep"], "page[size]": ["2"], "sort": ["remaining_quantity"]},
    )
    export = re.search(r'<a href="([^"]+)" download>Export CSV</a>', page)[1]
    assert query_of(export) == (
        "/shares/export.csv",
        {"filter[profile_id]": ["keep"], "page[size]": ["2"]},
    )


def test_the_id_column_carries_the_newest_first_order_and_says_so(app, client):
    """The list's default order is by id: that column says it sorts, not the random handles."""
    ids = [factories.share(app, profile_id=f"order-{n}") for n in range(3)]

    def headers(page: str) -> list[tuple[str | None, str]]:
        found = re.findall(r'<th scope="col"(?: aria-sort="(\w+)")?>(.*?)</th>', page, re.S)
        return [
            (state or None, html.unescape(re.sub(r"<[^>]+>", "", th)).strip())
            for state, th in found
        ]

    page = text(client.get("/shares"))
    # The arrow keeps to its label (a no-break space): a narrow column does not wrap it alone.
    assert headers(page)[:3] == [("descending", "ID\u00a0▼"), (None, "Handle"), (None, "Profile")]
    assert re.findall(r'<td class="num">(\d+)</td>', page) == [str(i) for i in reversed(ids)]

    page = text(client.get("/shares?sort=id"))
    assert headers(page)[0] == ("ascending", "ID\u00a0▲")
    assert re.findall(r'<td class="num">(\d+)</td>', page) == [str(i) for i in ids]


@pytest.mark.parametrize("size", ["15", "25", "100"])
def test_an_explicit_page_size_is_kept_even_when_it_is_the_api_default(app, client, size):
    """The list shows 25 a page by default; page[size]=15 (the API's default) must stay put."""
    made = sorted((factories.share(app) for _ in range(120)), reverse=True)
    per_page = int(size)

    first = text(client.get(f"/shares?page[size]={size}"))
    href, _ = page_link(first, "next")
    second = text(client.get(html.unescape(href)))

    assert result_handles(first) == [factories.handle_of(app, i) for i in made[:per_page]]
    assert query_of(href)[1] == {"page[size]": [size], "page[number]": ["2"]}
    assert result_handles(second) == [
        factories.handle_of(app, i) for i in made[per_page : 2 * per_page]
    ]


def test_a_page_past_the_last_says_so_and_leads_back(app, client):
    made = [factories.share(app, profile_id="keep") for _ in range(3)]

    response = client.get("/shares?filter[profile_id]=keep&page[size]=2&page[number]=7")

    assert response.status_code == 200
    page = text(response)
    assert result_handles(page) == []
    assert "None" not in between(page, '<nav class="pagination"', "</nav>")
    assert "No shares on this page: the list ends at page 2." in page
    href, hx = page_link(page, "prev")
    wanted = {"filter[profile_id]": ["keep"], "page[size]": ["2"], "page[number]": ["2"]}
    assert query_of(href) == ("/shares", wanted)
    assert query_of(hx) == ("/shares/results", wanted)
    assert result_handles(text(client.get(html.unescape(href)))) == [
        factories.handle_of(app, made[0])
    ]


# --- CSV export ----------------------------------------------------------------------------


def read_csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text(response), newline="")))


def test_csv_export_has_the_header_and_exactly_the_filtered_rows(app, client):
    wanted = [
        factories.share(
            app,
            source_type=SourceType.BENEFIT,
            profile_id=f"csv-{n}",
            created_at=CREATED,
            updated_at=CREATED,
        )
        for n in range(30)
    ]
    factories.share(app, profile_id="not-exported")

    response = client.get("/shares/export.csv?filter[source_type]=benefit&page[size]=5")

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="shares.csv"'
    rows = read_csv(response)
    assert rows[0] == CSV_COLUMNS
    # Every filtered row, not one page of them, newest first.
    assert [int(row[0]) for row in rows[1:]] == sorted(wanted, reverse=True)
    last = dict(zip(CSV_COLUMNS, rows[-1], strict=True))
    assert last == {
        "id": str(wanted[0]),
        "handle": factories.handle_of(app, wanted[0]),
        "profile_id": "csv-0",
        "source_type": "benefit",
        "source_id": "42",
        "code": "",
        "timezone": "UTC",
        "period": "",
        "period_type": "",
        "absolute_expiry": "",
        "expires_at": "",
        "quantity": "1",
        "remaining_quantity": "1",
        "is_cloneable": "false",
        "status": "active",
        "meta": "",
        "created_at": "2026-11-28T23:00:00Z",
        "updated_at": "2026-11-28T23:00:00Z",
    }


def test_csv_export_follows_status_and_sort(app, client, three_states):
    response = client.get("/shares/export.csv?filter[status]=expired&sort=id")

    rows = read_csv(response)
    assert [row[0] for row in rows[1:]] == [
        str(three_states["expired"]),
        str(three_states["expired-empty"]),
    ]
    assert {row[CSV_COLUMNS.index("status")] for row in rows[1:]} == {"expired"}


def test_csv_export_neutralises_formula_cells(app, client):
    share_id = factories.share(
        app,
        profile_id="@SUM(A1)",
        code='=HYPERLINK("http://evil.example","x")',
        absolute_expiry="+1",
        meta=["-2+3", "plain"],
        timezone=MELBOURNE,
        period=3,
        period_type=PeriodType.DAYS,
        is_cloneable=True,
        remaining_quantity=None,
    )

    rows = read_csv(client.get("/shares/export.csv"))

    assert len(rows) == 2
    row = dict(zip(CSV_COLUMNS, rows[1], strict=True))
    assert row["id"] == str(share_id)
    assert row["profile_id"] == "'@SUM(A1)"
    assert row["code"] == '\'=HYPERLINK("http://evil.example","x")'
    assert row["absolute_expiry"] == "'+1"
    assert row["meta"] == "'-2+3\nplain"
    assert row["period"] == "3" and row["period_type"] == "days"
    assert row["remaining_quantity"] == "" and row["is_cloneable"] == "true"
    assert row["timezone"] == MELBOURNE


def test_csv_export_neutralises_a_formula_after_a_separator_and_reads_back_exactly(app, client):
    """A spreadsheet that splits on ";" (or "|", a tab, a line break) splits the cell too: the
    formula after the separator is made inert there, and ``restore`` gives the value back."""
    share_id = factories.share(
        app, profile_id="acme;=1+1;", code="a|@cmd", meta=["x\t-1", "plain; +2"]
    )

    rows = read_csv(client.get("/shares/export.csv"))

    row = dict(zip(CSV_COLUMNS, rows[1], strict=True))
    assert row["id"] == str(share_id)
    assert row["profile_id"] == "acme;'=1+1;"
    assert row["code"] == "a|'@cmd"
    assert row["meta"] == "x\t'-1\nplain; '+2"
    for name in ("profile_id", "code", "meta"):
        for separator in (";", "|", "\t", "\n"):
            assert not [p for p in row[name].split(separator) if p.lstrip(" ")[:1] in TRIGGERS]
    original = factories.share_data(app, share_id)
    assert restore(row["profile_id"]) == original["profile_id"]
    assert restore(row["code"]) == original["code"]
    assert restore(row["meta"]).split("\n") == original["meta"]


def test_csv_export_keeps_a_handle_as_the_api_shows_it(app, client, api):
    """Handles are made of letters, digits, "-" and "_": one that starts with "-" is exported as
    it is, so the CSV and the API agree."""
    handle = "-J9xQ2vLmN4pR7sT1uW3yZ"
    share_id = factories.share(app, handle=handle)

    row = dict(zip(CSV_COLUMNS, read_csv(client.get("/shares/export.csv"))[1], strict=True))

    assert row["handle"] == handle
    assert api.get(f"/api/v3/shares/{share_id}").get_json()["data"]["handle"] == handle


def test_csv_export_with_no_rows_is_just_the_header(client):
    response = client.get("/shares/export.csv?filter[profile_id]=nobody")

    assert response.status_code == 200
    assert read_csv(response) == [CSV_COLUMNS]


def test_csv_export_with_bad_filters_is_422(client, varied):
    response = client.get("/shares/export.csv?filter[status]=gone")

    assert response.status_code == 422
    assert response.mimetype == "text/html"
    assert "text/csv" not in response.headers["Content-Type"]


# --- detail page ---------------------------------------------------------------------------


@pytest.fixture
def full_share(app) -> int:
    return factories.share(
        app,
        profile_id="owner-7",
        source_type=SourceType.LIST_ITEM,
        source_id=77,
        code="SECRET",
        timezone=MELBOURNE,
        period=2,
        period_type=PeriodType.WEEKS,
        absolute_expiry="ignored",
        expires_at=datetime(2026, 12, 13, 12, 59, 59, tzinfo=UTC),
        remaining_quantity=3,
        is_cloneable=True,
        meta=["first", "<b>second</b>"],
        created_at=CREATED,
        updated_at=CREATED + timedelta(hours=1),
    )


TIMES = ("Expires", "Created", "Updated")


def test_detail_page_shows_every_field_and_the_actions(app, client, full_share):
    response = client.get(f"/shares/{full_share}")

    assert response.status_code == 200
    page = text(response)
    handle = factories.handle_of(app, full_share)
    expires = datetime(2026, 12, 13, 12, 59, 59, tzinfo=UTC)
    status = "Expired" if expires < NOW else "Active"
    assert (
        f'<code>{handle}</code> <span class="badge badge-{status.lower()}">{status}</span>' in page
    )
    assert f'<input id="share-handle" value="{handle}" readonly>' in page
    fields = definitions(page, '<dl class="fields">')
    assert {term: visible(value) for term, value in fields.items() if term not in TIMES} == {
        "ID": str(full_share),
        "Profile ID": "owner-7",
        "Source": "List item (listItem) #77",
        "Code": "SECRET",
        "Time zone": "Australia/Melbourne",
        "Period": "2 Weeks",
        "Absolute expiry": "ignored",
        "Quantity": "1",
        "Claims left": "3",
        "Cloneable": "yes: each claim gets a copy",
        "Meta": "first<b>second</b>",
    }
    assert re.findall(r"<li>(.*?)</li>", fields["Meta"]) == ["first", "&lt;b&gt;second&lt;/b&gt;"]
    # The expiry in the share's zone; created and updated in the reader's (UTC: none chosen).
    for term, instant, local in (
        ("Expires", "2026-12-13T12:59:59Z", "Sunday 2026-12-13 23:59:59 AEDT"),
        ("Created", "2026-11-28T23:00:00Z", "2026-11-28 23:00:00 UTC"),
        ("Updated", "2026-11-29T00:00:00Z", "2026-11-29 00:00:00 UTC"),
    ):
        assert f'<time datetime="{instant}"' in fields[term], term
        assert local in visible(fields[term]), term
    assert f"UTC {'2026-12-13T12:59:59Z'}" in visible(fields["Expires"])
    actions = between(page, '<div class="actions">', "</div>")
    assert f'href="/shares/{full_share}/edit">Edit</a>' in actions
    assert f'href="/shares/{full_share}/delete">Delete</a>' in actions
    # Claimable while active; once it has expired (as it has from 2026-12-14), it says why not.
    claimable = status == "Active"
    assert ('href="#claim">Claim</a>' in actions) is claimable
    claim_form = between(page, '<section id="claim"', "</section>")
    if claimable:
        assert f'action="/shares/{full_share}/claim"' in claim_form
        for name in ("csrf_token", "profile_id", "code", "meta"):
            assert f'name="{name}"' in claim_form
    else:
        assert "It has expired, so no claim can succeed" in claim_form
    assert "<p>No claims yet.</p>" in page


def test_detail_page_of_a_plain_share(app, client):
    share_id = factories.share(app, code=None, remaining_quantity=None, is_cloneable=True)

    fields = between(text(client.get(f"/shares/{share_id}")), '<dl class="fields">', "</dl>")

    assert "<dt>Code</dt><dd>none (claimers give the handle)</dd>" in fields
    assert "<dt>Period</dt><dd>— </dd>" in fields
    assert "<dt>Absolute expiry</dt><dd>—</dd>" in fields
    assert re.search(r'<dd data-testid="share-expires">\s*never\s*</dd>', fields)
    assert '<dd data-testid="claims-left">unlimited</dd>' in fields


def test_detail_page_lists_the_claims_newest_first(app, client, full_share):
    factories.claim(app, full_share, "claimer-a", meta=["x", "y"])
    factories.claim(app, full_share, "claimer-b")

    page = text(client.get(f"/shares/{full_share}"))

    table = between(page, '<table class="claims">', "</table>")
    rows = re.findall(r"<tr>(.*?)</tr>", between(table, "<tbody>", "</tbody>"), re.S)
    assert len(rows) == 2
    cells = [re.findall(r"<td>(.*?)</td>", row, re.S) for row in rows]
    # Each claimer is a link to their customer page.
    assert [c[1:] for c in cells] == [
        ['<a href="/profiles/claimer-b">claimer-b</a>', "List item #77", "copy", "—"],
        ['<a href="/profiles/claimer-a">claimer-a</a>', "List item #77", "copy", "x, y"],
    ]
    assert "No claims yet." not in page


# --- edit ----------------------------------------------------------------------------------


@pytest.fixture
def melbourne_share(app) -> int:
    """The contract's worked-example share: 2 weeks from 2026-11-29 10:00 in Melbourne."""
    return factories.share(
        app,
        profile_id="owner-m",
        timezone=MELBOURNE,
        code="OLD",
        period=2,
        period_type=PeriodType.WEEKS,
        expires_at=datetime(2026, 12, 13, 12, 59, 59, tzinfo=UTC),
        meta=["keep"],
        created_at=CREATED,
        updated_at=CREATED,
    )


@pytest.fixture
def an_hour_after_creation():
    """The clock stopped an hour after ``melbourne_share`` was made, so none of its expiries
    has passed. Name it before ``client``: the session and CSRF token are made in that time."""
    with time_machine.travel(CREATED + timedelta(hours=1), tick=False):
        yield


def edit_form(**overrides) -> dict:
    form = {
        "code": "OLD",
        "period": "2",
        "period_type": "weeks",
        "absolute_expiry": "",
        "expires_at": "",
        "meta": "keep",
    }
    form.update(overrides)
    return form


def test_edit_page_shows_fixed_fields_read_only(app, client, melbourne_share):
    response = client.get(f"/shares/{melbourne_share}/edit")

    assert response.status_code == 200
    page = text(response)
    fixed = definitions(page, '<section aria-labelledby="fixed-title"')
    assert {term: visible(value) for term, value in fixed.items() if term != "Created"} == {
        "Profile ID": "owner-m",
        "Source": "Reward #42",
        "Time zone": "Australia/Melbourne",
        "Claims left": "1",
        "Cloneable": "no",
    }
    assert '<time datetime="2026-11-28T23:00:00Z"' in fixed["Created"]
    assert "2026-11-29 10:00:00 AEDT" in visible(fixed["Created"])
    assert visible(fixed["Created"]).endswith("(expiry counts from this day)")
    form = between(page, f'<form method="post" action="/shares/{melbourne_share}/edit"', "</form>")
    names = set(re.findall(r'name="([^"]+)"', form))
    assert names == {
        "csrf_token",
        "code",
        "period",
        "period_type",
        "absolute_expiry",
        "expires_at",
        "meta",
    }
    assert re.search(r'<input[^>]*id="code"[^>]*value="OLD"', form)
    assert re.search(r'<input[^>]*id="period"[^>]*value="2"', form)
    assert '<option selected value="weeks">Weeks</option>' in form
    # A computed expiry is not shown as an explicit one: it follows the period fields.
    assert re.search(r'<input[^>]*id="expires_at"[^>]*value=""', form)
    assert re.search(r"<textarea[^>]*>\s*keep</textarea>", form)
    assert f'hx-post="/shares/{melbourne_share}/preview"' in form


def test_edit_page_shows_an_explicit_expiry_in_the_share_zone(app, client):
    share_id = factories.share(
        app, timezone=MELBOURNE, expires_at=datetime(2030, 1, 1, tzinfo=UTC), created_at=CREATED
    )

    page = text(client.get(f"/shares/{share_id}/edit"))

    assert re.search(r'<input[^>]*id="expires_at"[^>]*value="2030-01-01T11:00:00"', page)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        # expected: code, period, period_type, absolute_expiry, expires_at, meta
        (
            {"code": "NEW", "period": "30", "period_type": "days", "meta": "a\n\n b \nc"},
            ("NEW", 30, "days", None, "2026-12-29T12:59:59Z", ["a", "b", "c"]),
        ),
        (
            {"period": "3", "period_type": "months"},
            ("OLD", 3, "months", None, "2027-02-28T12:59:59Z", ["keep"]),
        ),
        (
            {"period": "", "period_type": "absolute_date", "absolute_expiry": "06-30"},
            ("OLD", None, "absolute_date", "06-30", "2027-06-30T13:59:59Z", ["keep"]),
        ),
        (
            {"period": "5", "period_type": ""},
            ("OLD", 5, "days", None, "2026-12-04T12:59:59Z", ["keep"]),
        ),
        ({"period": "", "period_type": ""}, ("OLD", None, None, None, None, ["keep"])),
        (
            {"expires_at": "2027-01-01T10:00:00"},
            ("OLD", 2, "weeks", None, "2026-12-31T23:00:00Z", ["keep"]),
        ),
        (
            {"expires_at": "2027-01-01T10:00"},
            ("OLD", 2, "weeks", None, "2026-12-31T23:00:00Z", ["keep"]),
        ),
        ({"code": "", "meta": ""}, (None, 2, "weeks", None, "2026-12-13T12:59:59Z", None)),
        # Fields that are not editable are ignored.
        (
            {
                "profile_id": "thief",
                "timezone": "UTC",
                "remaining_quantity": "9",
                "is_cloneable": "y",
            },
            ("OLD", 2, "weeks", None, "2026-12-13T12:59:59Z", ["keep"]),
        ),
    ],
)
def test_valid_edit_redirects_changes_the_row_and_flashes(
    app, client, melbourne_share, changes, expected
):
    before = factories.share_row(app, melbourne_share)
    response = form_post(client, f"/shares/{melbourne_share}/edit", **edit_form(**changes))

    assert response.status_code == 302
    assert response.headers["Location"] == f"/shares/{melbourne_share}"
    after = factories.share_row(app, melbourne_share)
    code, period, period_type, absolute_expiry, expires_at, meta = expected
    assert after["code"] == code
    assert after["period"] == period
    assert after["period_type"] == (PeriodType(period_type) if period_type else None)
    assert after["absolute_expiry"] == absolute_expiry
    assert to_utc_z(after["expires_at"]) == expires_at
    assert after["meta"] == meta
    for name in ("profile_id", "timezone", "remaining_quantity", "is_cloneable", "created_at"):
        assert after[name] == before[name]
    page = text(client.get(response.headers["Location"]))
    assert (
        f'<div class="flash flash-success" role="status">Share {before["handle"]} updated.</div>'
        in page
    )


def test_reposting_an_explicit_expiry_unchanged_keeps_it(app, client):
    share_id = factories.share(
        app,
        timezone=MELBOURNE,
        period=2,
        period_type=PeriodType.WEEKS,
        expires_at=datetime(2030, 1, 1, tzinfo=UTC),
        created_at=CREATED,
    )
    token = csrf_token(client, f"/shares/{share_id}/edit")

    response = client.post(
        f"/shares/{share_id}/edit",
        data={"csrf_token": token, **edit_form(code="C", expires_at="2030-01-01T11:00:00")},
    )

    assert response.status_code == 302
    after = factories.share_row(app, share_id)
    assert to_utc_z(after["expires_at"]) == "2030-01-01T00:00:00Z"
    assert after["code"] == "C"


@pytest.mark.parametrize("shown_as", ["2027-04-04T02:30:00", "2027-04-04T02:30"])
def test_an_unchanged_explicit_expiry_in_a_repeated_dst_hour_keeps_its_instant(
    app, client, shown_as
):
    """02:30 happens twice in Melbourne on 2027-04-04; the form shows only the wall clock.

    Editing just the code must not move the expiry to the other 02:30, an hour away.
    """
    second_0230 = datetime(2027, 4, 3, 16, 30, tzinfo=UTC)  # 02:30 AEST, after the clocks go back
    share_id = factories.share(app, timezone=MELBOURNE, code="OLD", expires_at=second_0230)
    page = text(client.get(f"/shares/{share_id}/edit"))
    assert re.search(r'<input[^>]*id="expires_at"[^>]*value="2027-04-04T02:30:00"', page)
    token = csrf_token(client, f"/shares/{share_id}/edit")

    response = client.post(
        f"/shares/{share_id}/edit",
        data={
            "csrf_token": token,
            **edit_form(code="NEW", period="", period_type="", meta="", expires_at=shown_as),
        },
    )

    assert response.status_code == 302
    after = factories.share_row(app, share_id)
    assert after["code"] == "NEW"
    assert after["expires_at"] == second_0230


def test_a_changed_explicit_expiry_in_a_repeated_hour_means_its_first_occurrence(app, client):
    share_id = factories.share(app, timezone=MELBOURNE, expires_at=datetime(2030, 1, 1, tzinfo=UTC))
    token = csrf_token(client, f"/shares/{share_id}/edit")

    response = client.post(
        f"/shares/{share_id}/edit",
        data={
            "csrf_token": token,
            **edit_form(period="", period_type="", expires_at="2027-04-04T02:30:00"),
        },
    )

    assert response.status_code == 302
    assert factories.share_row(app, share_id)["expires_at"] == datetime(
        2027, 4, 3, 15, 30, tzinfo=UTC
    )


BAD_EXPIRES_AT = "The expires at field must be a valid ISO 8601 date-time."


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"period": "x"}, {"period": "The period field must be an integer."}),
        ({"period": "-2"}, {"period": "The period field must be between 0 and 36500."}),
        ({"period": "36501"}, {"period": "The period field must be between 0 and 36500."}),
        ({"period": ""}, {"period": "The period field is required when the period type is weeks."}),
        ({"period_type": "fortnights"}, {"period_type": "The selected period type is invalid."}),
        (
            {"period_type": "absolute_date", "absolute_expiry": ""},
            {
                "absolute_expiry": "The absolute expiry field is required "
                "when the period type is absolute_date."
            },
        ),
        (
            {"period_type": "absolute_month", "absolute_expiry": "40"},
            {
                "absolute_expiry": "The absolute expiry field must be a day of the month "
                "from 1 to 31 when the period type is absolute_month."
            },
        ),
        ({"code": "x" * 256}, {"code": "The code field must not be greater than 255 characters."}),
        ({"expires_at": "soon"}, {"expires_at": BAD_EXPIRES_AT}),
        (
            {"meta": "\n".join(["m"] * 101)},
            {"meta": "The meta field must not have more than 100 items."},
        ),
        (
            {"period": "x", "expires_at": "soon", "code": "x" * 256},
            {
                "period": "The period field must be an integer.",
                "expires_at": BAD_EXPIRES_AT,
                "code": "The code field must not be greater than 255 characters.",
            },
        ),
    ],
)
def test_invalid_edit_is_422_with_inline_errors_and_changes_nothing(
    app, client, melbourne_share, changes, errors
):
    before = factories.share_row(app, melbourne_share)
    response = form_post(client, f"/shares/{melbourne_share}/edit", **edit_form(**changes))

    assert response.status_code == 422
    page = text(response)
    assert "The changes were not saved: please correct the fields marked below." in page
    for field_id in ("code", "period", "period_type", "absolute_expiry", "expires_at", "meta"):
        assert field_error(page, field_id) == errors.get(field_id), field_id
    # The typed values are shown again, not the stored ones.
    if "period" in changes and changes["period"]:
        assert re.search(rf'<input[^>]*id="period"[^>]*value="{changes["period"]}"', page)
    assert factories.share_row(app, melbourne_share) == before


# --- edit preview --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "utc", "rule"),
    [
        (
            {"period": "2", "period_type": "weeks"},
            "2026-12-13T12:59:59Z",
            "2 weeks after 29 Nov 2026 in Australia/Melbourne",
        ),
        (
            {"period": "30", "period_type": "days"},
            "2026-12-29T12:59:59Z",
            "30 days after 29 Nov 2026 in Australia/Melbourne",
        ),
        (
            {"period": "", "period_type": "absolute_month"},
            "2026-11-30T12:59:59Z",
            "end of the month of 29 Nov 2026 in Australia/Melbourne",
        ),
        (
            {"period": "", "period_type": "absolute_date", "absolute_expiry": "06-30"},
            "2027-06-30T13:59:59Z",
            "the next 30 Jun on or after 29 Nov 2026 in Australia/Melbourne",
        ),
        (
            {"period": "0", "period_type": "absolute_week", "absolute_expiry": "1"},
            "2026-11-30T12:59:59Z",
            "the first Monday on or after 29 Nov 2026 in Australia/Melbourne",
        ),
    ],
)
def test_edit_preview_counts_from_the_share_creation(
    an_hour_after_creation, app, client, melbourne_share, fields, utc, rule
):
    before = factories.share_row(app, melbourne_share)
    token = csrf_token(client, f"/shares/{melbourne_share}/edit")

    response = client.post(
        f"/shares/{melbourne_share}/preview",
        data={"absolute_expiry": "", "expires_at": "", **fields},
        headers={"X-CSRFToken": token, "HX-Request": "true"},
    )

    assert response.status_code == 200
    page = text(response)
    assert "<html" not in page
    assert f'<code data-testid="preview-utc">{utc}</code>' in page
    assert f"Rule: {rule}." in page
    assert "This date is in the past" not in page
    assert factories.share_row(app, melbourne_share) == before


def test_edit_preview_warns_about_a_past_expiry_and_shows_errors(app, client, melbourne_share):
    token = csrf_token(client, f"/shares/{melbourne_share}/edit")

    past = client.post(
        f"/shares/{melbourne_share}/preview",
        data={
            "csrf_token": token,
            "period": "2",
            "period_type": "weeks",
            "expires_at": "2026-01-01",
        },
    )
    bad = client.post(
        f"/shares/{melbourne_share}/preview",
        data={"csrf_token": token, "period": "", "period_type": "weeks"},
    )

    assert past.status_code == 200
    assert '<code data-testid="preview-utc">2026-01-01T12:59:59Z</code>' in text(past)
    # Of a share that exists: not "born" expired.
    assert "This date is in the past: once saved, the share is expired." in text(past)
    assert bad.status_code == 200
    assert "No expiry yet:" in text(bad)
    assert "<li>The period field is required when the period type is weeks.</li>" in text(bad)
    assert (
        to_utc_z(factories.share_row(app, melbourne_share)["expires_at"]) == "2026-12-13T12:59:59Z"
    )


def test_edit_preview_of_an_old_share_shows_that_the_expiry_has_passed(app, client):
    created = utcnow() - timedelta(days=40, hours=1)
    share_id = factories.share(app, created_at=created, updated_at=created)
    token = csrf_token(client, f"/shares/{share_id}/edit")

    response = client.post(
        f"/shares/{share_id}/preview",
        data={"csrf_token": token, "period": "30", "period_type": "days"},
    )

    assert response.status_code == 200
    expected = datetime.combine(created.date() + timedelta(days=30), datetime.max.time())
    page = text(response)
    assert f'<code data-testid="preview-utc">{expected:%Y-%m-%dT%H:%M:%SZ}</code>' in page
    assert re.search(r"<span>expired (9|10) days ago</span>", page)
    assert factories.share_row(app, share_id)["expires_at"] is None


# --- claim from the detail page ------------------------------------------------------------


def test_claim_form_success_flashes_and_decrements(app, client):
    share_id = factories.share(app, code="C", is_cloneable=True, remaining_quantity=2)
    token = csrf_token(client, f"/shares/{share_id}")

    response = client.post(
        f"/shares/{share_id}/claim",
        data={"csrf_token": token, "profile_id": " claimer-1 ", "code": "C", "meta": "x\ny"},
    )

    assert response.status_code == 302
    assert response.headers["Location"] == f"/shares/{share_id}"
    assert factories.share_row(app, share_id)["remaining_quantity"] == 1
    rows = factories.claim_rows(app)
    assert len(rows) == 1
    assert rows[0]["profile_id"] == "claimer-1"
    assert rows[0]["meta"] == ["x", "y"]
    assert rows[0]["share_profile_id"] == "owner-1" and rows[0]["is_cloned"] is True
    page = text(client.get(response.headers["Location"]))
    handle = factories.handle_of(app, share_id)
    assert (
        f'<div class="flash flash-success" role="status">Share {handle} claimed by profile '
        "claimer-1.</div>"
    ) in page
    assert '<dd data-testid="claims-left">1</dd>' in page
    claims = between(page, '<table class="claims">', "</table>")
    assert '<td><a href="/profiles/claimer-1">claimer-1</a></td>' in claims


def test_claim_form_with_the_handle_when_there_is_no_code(app, client):
    share_id = factories.share(app, code=None)
    token = csrf_token(client, f"/shares/{share_id}")

    response = client.post(
        f"/shares/{share_id}/claim",
        data={"csrf_token": token, "profile_id": "c", "code": factories.handle_of(app, share_id)},
    )

    assert response.status_code == 302
    assert factories.share_row(app, share_id)["remaining_quantity"] == 0
    assert len(factories.claim_rows(app)) == 1


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"expires_at": PAST}, "It has expired, so no claim can succeed: extend it or edit"),
        ({"remaining_quantity": 0}, "It has no claims left, so no claim can succeed."),
    ],
)
def test_a_share_no_claim_can_succeed_offers_no_claim_form(app, client, fields, reason):
    share_id = factories.share(app, code="C", **fields)

    page = text(client.get(f"/shares/{share_id}"))

    claim_section = between(page, '<section id="claim"', "</section>")
    assert reason in claim_section
    assert "<form" not in claim_section and "Claim share" not in page
    assert 'href="#claim"' not in page
    assert '<section id="check"' in page  # the claim check still answers why


def test_an_active_share_offers_the_claim_form(app, client):
    page = text(client.get(f"/shares/{factories.share(app, code='C')}"))
    claim_section = between(page, '<section id="claim"', "</section>")
    assert "Claim share" in claim_section and 'href="#claim"' in page
    assert 'data-testid="not-claimable"' not in page


@pytest.mark.parametrize(
    ("share", "form", "inline"),
    [
        (
            {"code": "C"},
            {"profile_id": "c", "code": "wrong"},
            {"code": "The code is wrong: give the share's code."},
        ),
        (
            {"code": None},
            {"profile_id": "c", "code": "wrong"},
            {"code": "The code is wrong: give the share's handle."},
        ),
        (
            {"code": "C"},
            {"profile_id": "owner-1", "code": "C"},
            {"profile_id": "A profile cannot claim its own share."},
        ),
        (
            {"code": "C", "expires_at": PAST},
            {"profile_id": "c", "code": "C"},
            {"share": "The share has expired."},
        ),
        (
            {"code": "C", "remaining_quantity": 0},
            {"profile_id": "c", "code": "C"},
            {"share": "The share has no claims left."},
        ),
        (
            {"code": "C", "expires_at": PAST},
            {"profile_id": "owner-1", "code": "x"},
            {
                "code": "The code is wrong: give the share's code.",
                "profile_id": "A profile cannot claim its own share.",
                "share": "The share has expired.",
            },
        ),
        (
            {"code": "C"},
            {"profile_id": "", "code": ""},
            {
                "profile_id": "The profile id field is required.",
                "code": "The code field is required.",
            },
        ),
    ],
)
def test_refused_claim_form_is_422_inline_and_changes_nothing(app, client, share, form, inline):
    share_id = factories.share(app, **share)
    before = factories.share_row(app, share_id)
    token = csrf_token(client, f"/shares/{share_id}")

    response = client.post(f"/shares/{share_id}/claim", data={"csrf_token": token, **form})

    assert response.status_code == 422
    page = text(response)
    assert "<html" in page and f"Share <code>{before['handle']}</code>" in page
    claim_section = between(page, '<section id="claim"', "</section>")
    assert field_error(claim_section, "code") == inline.get("code")
    assert field_error(claim_section, "profile_id") == inline.get("profile_id")
    share_error = re.search(r'id="claim-share-error">(.*?)</p>', claim_section)
    assert (share_error and share_error[1]) == inline.get("share")
    # The claimer typed is kept in the form.
    if form["profile_id"]:
        assert re.search(
            rf'<input[^>]*id="profile_id"[^>]*value="{form["profile_id"]}"', claim_section
        )
    assert factories.share_row(app, share_id) == before
    assert factories.claim_rows(app) == []


# --- CSRF ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/shares/{id}/claim", {"profile_id": "c", "code": "C"}),
        ("/shares/{id}/delete", {}),
        ("/shares/{id}/edit", edit_form(code="HACKED", period="30", period_type="days")),
        ("/shares/{id}/preview", {"period": "1"}),
    ],
)
@pytest.mark.parametrize(
    ("token", "message"),
    [(None, "The CSRF token is missing."), ("forged", "The CSRF token is invalid.")],
)
def test_posts_without_a_valid_csrf_token_are_400_and_change_nothing(
    app, client, path, data, token, message
):
    share_id = factories.share(app, code="C", timezone=MELBOURNE, created_at=CREATED)
    factories.claim(app, share_id, "earlier")
    before = factories.share_row(app, share_id)
    claims = factories.claim_rows(app)
    client.get(f"/shares/{share_id}")  # a session exists, as in a real browser
    if token is not None:
        data = {**data, "csrf_token": token}

    response = client.post(path.format(id=share_id), data=data)

    assert response.status_code == 400
    assert response.mimetype == "text/html"
    page = text(response)
    assert "<h1>400 · Bad Request</h1>" in page
    assert message in page
    assert factories.share_row(app, share_id) == before
    assert factories.claim_rows(app) == claims
    assert factories.share_count(app) == 1


# --- delete --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("claims", "confirm", "flash"),
    [
        (0, None, ""),
        (1, "Its 1 claim record will be kept.", " Its 1 claim record is kept."),
        (2, "Its 2 claim records will be kept.", " Its 2 claim records are kept."),
    ],
)
def test_delete_asks_first_then_deletes_and_says_what_went(app, client, claims, confirm, flash):
    share_id = factories.share(
        app, profile_id="owner-d", source_type=SourceType.BENEFIT, source_id=9
    )
    keep = factories.share(app, profile_id="someone-else")
    for n in range(claims):
        factories.claim(app, share_id, f"claimer-{n}")
    handle = factories.handle_of(app, share_id)
    kept_claims = factories.claim_rows(app)

    confirm_page = client.get(f"/shares/{share_id}/delete")

    assert confirm_page.status_code == 200
    page = text(confirm_page)
    assert f"<h1>Delete share <code>{handle}</code>?</h1>" in page
    assert "Profile <strong>owner-d</strong> shares benefit #9." in page
    if confirm:
        assert confirm in page
    else:
        assert "claim record" not in page
    form = between(page, f'<form method="post" action="/shares/{share_id}/delete"', "</form>")
    assert '<button type="submit" class="danger">Delete share</button>' in form
    assert f'<a href="/shares/{share_id}">Keep it</a>' in form
    assert factories.share_row(app, share_id) is not None  # GET deletes nothing

    token = csrf_in(form)
    response = client.post(f"/shares/{share_id}/delete", data={"csrf_token": token})

    assert response.status_code == 302
    assert response.headers["Location"] == "/shares"
    listing = text(client.get("/shares"))
    assert (
        f'<div class="flash flash-success" role="status">Share {handle} of profile owner-d '
        f"deleted.{flash}</div>"
    ) in listing
    assert result_handles(listing) == [factories.handle_of(app, keep)]
    assert factories.share_row(app, share_id) is None
    assert factories.claim_rows(app) == kept_claims
    gone = client.get(f"/shares/{share_id}")
    assert gone.status_code == 404
    assert NOT_FOUND in text(gone)


# --- 404 pages -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/shares/999"),
        ("get", "/shares/999/edit"),
        ("get", "/shares/999/delete"),
        ("get", "/shares/not-a-number"),
        ("get", "/shares/999/nothing-here"),
        ("post", "/shares/999/claim"),
        ("post", "/shares/999/edit"),
        ("post", "/shares/999/delete"),
        ("post", "/shares/999/preview"),
    ],
)
def test_missing_shares_get_an_html_404_page(app, client, method, path):
    factories.share(app)
    token = csrf_token(client, "/shares")

    if method == "get":
        response = client.get(path)
    else:
        response = client.post(path, data={"csrf_token": token, "profile_id": "c", "code": "C"})

    assert response.status_code == 404
    assert response.mimetype == "text/html"
    page = text(response)
    assert "<html" in page
    assert "<h1>404 · Not Found</h1>" in page
    assert NOT_FOUND in page
    assert factories.share_count(app) == 1
    assert factories.claim_rows(app) == []
