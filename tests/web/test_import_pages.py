"""The Import page (issue 16, item 1; contract part 2, "Bulk import (CSV)"): every row shown with
its expiry or its errors, nothing stored until every row is valid and the import is confirmed,
then every row created at once, audited; the same file twice refused."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
import time_machine

from tests import bulk, factories
from tests.bulk import confirm_import as confirm
from tests.bulk import csv_file, upload, vip_rows, visible
from tests.pages import csrf_token, form_id_in
from webapp import imports as importing
from webapp.extensions import db
from webapp.forms.imports import MAX_BYTES, RowCheck
from webapp.models import Staff

CREATED = datetime(2026, 11, 28, 23, 0, 0, tzinfo=UTC)  # 2026-11-29 10:00 in Melbourne


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def agent(client_as):
    return client_as("agent")


def test_the_import_page_explains_the_file_and_offers_the_template(agent):
    page = text(agent.get("/shares/import"))

    assert 'enctype="multipart/form-data"' in page
    assert 'name="csrf_token"' in page and 'type="file"' in page
    assert "At most 10,000 rows and 5 MiB" in visible(page)
    assert 'href="/shares/import/template.csv" download' in page
    template = agent.get("/shares/import/template.csv")
    assert template.status_code == 200 and template.mimetype == "text/csv"
    assert "attachment" in template.headers["Content-Disposition"]
    header, example = template.get_data(as_text=True).splitlines()
    assert header.startswith("profile_id,source_id,source_type,")
    assert example.startswith("cust-1001,42,reward,")


def test_the_import_is_linked_from_the_nav_and_the_list_for_agents_only(client_as):
    for role, shown in (("viewer", False), ("agent", True), ("admin", True)):
        page = text(client_as(role).get("/shares"))
        assert ('href="/shares/import"' in page) == shown, role
        assert (">Import</a>" in page) == shown, role
        assert (">Import CSV</a>" in page) == shown, role


def test_two_bad_rows_are_shown_by_row_and_field_and_nothing_is_stored(app, agent):
    rows = vip_rows(5)
    rows[1]["source_id"] = "x"
    rows[3]["source_type"] = "nope"

    response = upload(agent, csv_file(*rows))

    assert response.status_code == 422
    page = text(response)
    assert "3 valid, 2 with errors" in visible(page)
    assert "Row 3, source_id: The source id field must be an integer." in visible(page)
    assert "Row 5, source_type: The selected source type is invalid." in visible(page)
    assert len(re.findall(r'<tr id="row-\d+"', page)) == 5
    assert "Create 3 shares" not in page and "/shares/import/" not in page.split("<h2>")[0]
    assert factories.share_count(app) == 0
    assert bulk.imports(app) == []


def test_a_meta_cell_nested_too_deep_is_its_rows_error_not_a_500(app, agent):
    rows = vip_rows(2)
    rows[1]["meta"] = "[" * 100_000

    response = upload(agent, csv_file(*rows))

    assert response.status_code == 422
    page = visible(text(response))
    assert "1 valid, 1 with errors" in page
    assert 'Row 3, meta: The meta field must be a JSON array of strings: ["vip","spring"].' in page
    assert factories.share_count(app) == 0
    assert bulk.imports(app) == []


def test_a_valid_file_shows_each_rows_expiry_then_one_confirmation_creates_all(app, client_as):
    data = csv_file(*vip_rows(3), {**vip_rows(1, 4)[0], "period": "", "period_type": ""})
    with time_machine.travel(CREATED, tick=False):
        agent = client_as("agent")
        response = upload(agent, data, "vip-december.csv")

        assert response.status_code == 200
        page = text(response)
        assert "4 valid, 0 with errors" in visible(page)
        # Two weeks from Sunday 29 Nov in Melbourne: 13 Dec, 23:59:59 there.
        assert page.count("2026-12-13 23:59:59 AEDT") == 3
        assert "never" in page.split('id="row-5"')[1]
        assert "Create 4 shares" in page
        assert factories.share_count(app) == 0
        [pending] = bulk.imports(app)
        assert pending.imported_at is None and pending.content == data
        assert pending.filename == "vip-december.csv"

        confirmed = confirm(agent, page)
        result = text(agent.get(confirmed.headers["Location"]))

    assert confirmed.status_code == 302
    assert confirmed.headers["Location"] == f"/shares/import/{pending.id}"
    stored = factories.stored_shares(app)
    assert [share.profile_id for share in stored] == ["vip-1", "vip-2", "vip-3", "vip-4"]
    assert {share.created_at for share in stored} == {CREATED}
    assert stored[0].expires_at == datetime(2026, 12, 13, 12, 59, 59, tzinfo=UTC)
    assert stored[3].expires_at is None and stored[0].meta == ["vip"]
    ids = [share.id for share in stored]
    [done] = bulk.imports(app)
    assert done.imported_at == CREATED and done.imported_by.startswith("agent-")
    assert done.share_ids == ids and done.content is None
    assert bulk.events_of(app, "create") == [(share_id, done.imported_by) for share_id in ids]
    assert "4 shares created from vip-december.csv." in result
    assert f"ids {ids[0]}–{ids[-1]}" in visible(result)
    assert "filter%5Bcreated_at%5D%5Bgte%5D=2026-11-28T23:00:00Z" in result
    assert "filter%5Bcreated_at%5D%5Blt%5D=2026-11-28T23:00:01Z" in result


def test_the_confirmation_sent_twice_creates_once(app, agent):
    page = text(upload(agent, csv_file(*vip_rows(3))))

    first = confirm(agent, page)
    second = confirm(agent, page)

    assert second.status_code == 302
    assert second.headers["Location"] == first.headers["Location"]
    assert factories.share_count(app) == 3
    assert len(bulk.events_of(app, "create")) == 3
    assert "3 shares created from vip.csv." in text(agent.get(second.headers["Location"]))


def test_the_confirmation_sent_twice_at_once_creates_once_and_both_get_its_answer(app, agent):
    page = text(upload(agent, csv_file(*vip_rows(50))))
    other = app.test_client()  # a second connection of the same browser session
    other.set_cookie("session", agent.get_cookie("session").value)
    start = threading.Barrier(2)

    def send(client):
        start.wait()
        return confirm(client, page)

    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(send, [agent, other]))

    assert [answer.status_code for answer in answers] == [302, 302]
    assert {answer.headers["Location"] for answer in answers} == {
        f"/shares/import/{bulk.imports(app)[0].id}"
    }
    assert factories.share_count(app) == 50
    assert len(bulk.events_of(app, "create")) == 50
    for client in (agent, other):
        shown = text(client.get("/shares/import"))
        assert "50 shares created from vip.csv." in shown
        assert "imported already" not in shown


def test_an_import_says_when_in_the_readers_own_zone(app, agent):
    with app.app_context():
        db.session.execute(sa.update(Staff).values(timezone="Asia/Tokyo"))
        db.session.commit()
    data = csv_file(*vip_rows(2))
    done_page = visible(text(agent.get(confirm(agent, text(upload(agent, data))).location)))
    [done] = bulk.imports(app)
    tokyo = done.imported_at.astimezone(ZoneInfo("Asia/Tokyo")).strftime("%Y-%m-%d %H:%M:%S JST")

    again = visible(text(upload(agent, data)))

    assert f"2 shares created on {tokyo} by" in done_page
    assert f"This file was imported already, on {tokyo} by" in again


def test_the_same_file_again_is_refused_saying_when_by_whom_and_what_it_made(app, agent):
    data = csv_file(*vip_rows(3))
    page = text(upload(agent, data))
    confirm(agent, page)
    [done] = bulk.imports(app)
    ids = done.share_ids

    again = upload(agent, data, "renamed.csv")

    assert again.status_code == 409
    message = visible(text(again))
    # In the reader's zone (UTC until they choose one), as every time the pages show.
    assert f"This file was imported already, on {done.imported_at:%Y-%m-%d %H:%M:%S} UTC" in message
    assert f"by {done.imported_by}: it made 3 shares (ids {ids[0]}–{ids[-1]})." in message
    # Another confirmation of the old preview (a second tab) creates nothing either.
    other_tab = page.replace(form_id_in(page), "another-tab-form-id")
    refused = confirm(agent, other_tab)
    assert refused.status_code == 302
    assert "This file was imported already" in text(agent.get(refused.headers["Location"]))
    assert factories.share_count(app) == 3
    assert len(bulk.imports(app)) == 1


def test_the_same_bytes_uploaded_twice_before_confirming_are_kept_once(app, agent):
    data = csv_file(*vip_rows(2))
    first = text(upload(agent, data))
    second = text(upload(agent, data))
    action = re.compile(r'action="(/shares/import/\d+)"')
    assert action.search(first)[1] == action.search(second)[1]
    assert len(bulk.imports(app)) == 1


def test_any_agent_can_take_the_confirmation_from_the_link(app, agent, client_as):
    page = text(upload(agent, csv_file(*vip_rows(2))))
    link = re.search(r'action="(/shares/import/\d+)"', page)[1]

    other = client_as("agent")
    shown = text(other.get(link))
    assert "2 valid, 0 with errors" in visible(shown)
    assert confirm(other, shown).status_code == 302
    assert factories.share_count(app) == 2


def test_a_pending_import_older_than_a_day_is_thrown_away(app, client_as):
    with time_machine.travel(CREATED, tick=False):
        page = text(upload(client_as("agent"), csv_file(*vip_rows(2))))
    link = re.search(r'action="(/shares/import/\d+)"', page)[1]

    with time_machine.travel(CREATED + timedelta(days=1, minutes=1), tick=False):
        agent = client_as("agent")  # a day later: another session
        shown = agent.get(link)
        assert shown.status_code == 302 and shown.headers["Location"] == "/shares/import"
        assert "waited more than a day" in text(agent.get("/shares/import"))
        late = agent.post(link, data={"csrf_token": csrf_token(agent), "form_id": form_id_in(page)})
        assert late.headers["Location"] == "/shares/import"
        assert factories.share_count(app) == 0
        # The next upload throws it away.
        upload(agent, csv_file(*vip_rows(1, 10)))
    [kept] = bulk.imports(app)
    assert kept.content == csv_file(*vip_rows(1, 10))


@pytest.mark.parametrize(
    ("data", "status", "problem"),
    [
        (b"profile_id,source_id,source_type,id\np,1,reward,9\n", 422, '"id", is not a field'),
        (b"profile_id,source_id\np,1\n", 422, 'no "source_type" column; it is required.'),
        (b"profile_id,source_id,source_type\n", 422, "no rows of shares"),
        ("profile_id,source_id,source_type\nCafé,1,reward\n".encode("latin-1"), 422, "not UTF-8"),
        (
            b"profile_id,source_id,source_type\n" + b"p,1,reward\n" * 10_001,
            422,
            "the limit is 10,000",
        ),
        (b"x" * (MAX_BYTES + 1), 422, "larger than 5 MiB, the limit"),
        (b"x" * (MAX_BYTES + 100_000), 413, "larger than 5 MiB, the limit"),
    ],
    ids=[
        "unknown column",
        "missing column",
        "no rows",
        "latin-1",
        "10,001 rows",
        "5 MiB + 1",
        "far over",
    ],
)
def test_a_file_refused_whole_says_why_and_keeps_nothing(app, agent, data, status, problem):
    response = upload(agent, data)
    assert response.status_code == status
    page = visible(text(response))
    assert "Nothing was imported: the whole file is refused." in page
    assert problem in page
    assert factories.share_count(app) == 0
    assert bulk.imports(app) == []


def test_no_file_chosen_asks_for_one(app, agent):
    token = csrf_token(agent, "/shares/import")
    response = agent.post("/shares/import", data={"csrf_token": token})
    assert response.status_code == 422
    assert "Choose a CSV file to upload." in text(response)


def test_the_upload_and_the_confirmation_need_their_csrf_token(app, agent):
    refused = upload(agent, csv_file(*vip_rows(1)), token="")
    assert refused.status_code == 400
    assert bulk.imports(app) == []
    page = text(upload(agent, csv_file(*vip_rows(1))))
    action = re.search(r'action="(/shares/import/\d+)"', page)[1]
    response = agent.post(action, data={"form_id": form_id_in(page)})
    assert response.status_code == 400
    assert factories.share_count(app) == 0


def test_rows_that_fail_their_checks_at_confirmation_create_nothing(app, agent, monkeypatch):
    """The rows are checked again when confirmed (their shares are made then): one that fails
    now stops the whole import, and says why."""
    page = text(upload(agent, csv_file(*vip_rows(3))))
    real = importing.check

    def one_fails(data, created_at=None):
        for row in real(data, created_at):
            if row.number == 3:
                yield RowCheck(3, {"period": ["The period changed its mind."]}, None, "vip-2")
            else:
                yield row

    monkeypatch.setattr(importing, "check", one_fails)
    response = confirm(agent, page)

    assert response.status_code == 422
    assert "Row 3, period: The period changed its mind." in visible(text(response))
    assert factories.share_count(app) == 0
    assert bulk.events_of(app, "create") == []
    [pending] = bulk.imports(app)
    assert pending.imported_at is None and pending.content is not None
