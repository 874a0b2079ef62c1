"""Bulk actions on the list (issue 16, items 2 to 4): tick shares or select every share matching
the filters, expire now (agents) or delete (admins) after a confirmation that names the count and
the filters; each share by the single action's rules with its own event; long work in chunks
with progress, a failure that says what was done and a resume that does the rest once."""

from __future__ import annotations

import contextlib
import json
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from unittest.mock import patch

import pytest
import sqlalchemy as sa

from tests import bulk, factories
from tests.bulk import hidden_fields, visible
from tests.pages import csrf_token
from webapp import jobs
from webapp.clock import utcnow
from webapp.extensions import db
from webapp.models import BulkJob, Share

PAST = utcnow() - timedelta(days=2)


def text(response) -> str:
    return response.get_data(as_text=True)


def confirmation(client, action: str, **params):
    return client.get(f"/shares/bulk/{action}", query_string=params)


def confirm(client, action: str, page: str, **changes):
    """Press the confirmation page's button: its hidden fields, as the browser sends them."""
    fields = {**hidden_fields(page), **changes}
    return client.post(f"/shares/bulk/{action}", data=fields)


def do(client, action: str, **params):
    """Ask for the action, then confirm it; the confirmation's answer."""
    page = confirmation(client, action, **params)
    assert page.status_code == 200, text(page)
    return confirm(client, action, text(page))


def job_id_of(response) -> int:
    return int(re.fullmatch(r"/shares/bulk/jobs/(\d+)", response.headers["Location"])[1])


@pytest.fixture
def agent(client_as):
    return client_as("agent")


@pytest.fixture
def admin(client_as):
    return client_as("admin")


@pytest.mark.parametrize(
    ("role", "expire", "delete"), [("viewer", 0, 0), ("agent", 1, 0), ("admin", 1, 1)]
)
def test_the_list_offers_bulk_controls_by_role(app, client_as, role, expire, delete):
    factories.shares(app, {"profile_id": "a"}, {"profile_id": "b"})
    page = text(client_as(role).get("/shares"))

    assert page.count('name="id"') == 2 * expire
    assert ("Select all 2 shares" in page) == bool(expire)
    assert page.count("Expire now…") == expire
    assert page.count("Delete…") == delete
    assert ('action="/shares/bulk/expire"' in page) == bool(expire)


def test_select_all_says_matching_these_filters_when_filtered(app, agent):
    factories.shares(app, {"profile_id": "a", "code": "X"}, {"profile_id": "b"})
    page = text(agent.get("/shares", query_string={"filter[code]": "X"}))
    assert "Select all 1 share matching these filters" in visible(page)
    # The bar carries the filters, and only them, to the confirmation.
    bar = page.split("data-bulk-bar>")[1].split("</div>")[0]
    assert hidden_fields(bar) == {"filter[code]": ["X"]}


def test_the_confirmation_names_the_count_and_the_filters_in_words(app, agent):
    factories.shares(
        app,
        *({"profile_id": f"r-{n}", "source_type": "reward"} for n in range(3)),
        {"profile_id": "b", "source_type": "benefit"},
        {"profile_id": "gone", "source_type": "reward", "expires_at": PAST},
    )
    response = confirmation(
        agent, "expire", all="1", **{"filter[source_type]": "reward", "filter[status]": "active"}
    )

    assert response.status_code == 200
    page = visible(text(response))
    assert "Expire 3 shares now?" in page
    assert "Every share matching these filters: Source type: Reward; Status: Active (3 now)" in page
    assert "Expire 3 shares now Cancel" in page
    assert hidden_fields(text(response))["count"] == ["3"]
    assert factories.share_row(app, 1)["expires_at"] is None  # asking changed nothing


def test_ticked_shares_are_listed_by_handle_on_the_confirmation(app, admin):
    first, second, _other = factories.shares(app, {}, {}, {})
    response = confirmation(admin, "delete", id=[first, second])
    page = visible(text(response))
    assert "Delete 2 shares?" in page
    assert factories.handle_of(app, first) in page and factories.handle_of(app, second) in page
    assert hidden_fields(text(response))["id"] == [str(first), str(second)]


def test_nothing_selected_goes_back_to_the_list_asking_for_a_selection(app, agent):
    factories.share(app)
    response = confirmation(agent, "expire", **{"filter[status]": "active"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/shares?filter%5Bstatus%5D=active"
    assert "Choose the shares first" in text(agent.get(response.headers["Location"]))


def test_bad_filters_or_ids_are_a_422_that_changes_nothing(app, agent):
    factories.share(app)
    for params in (
        {"all": "1", "filter[status]": "soon"},
        {"id": "abc"},
        {"id": ["1", "2147483648"]},  # past the id columns' range
        {"all": "1", "filter[x]": "1"},
        {"all": "1", "filter[status]": ["active", "expired"]},  # only the ids may repeat
    ):
        response = confirmation(agent, "expire", **params)
        assert response.status_code == 422, params
        assert "these filters are not valid" in text(response)
    assert bulk.events_of(app, "expire") == []


def test_select_all_matching_expires_every_match_not_only_the_page_and_nothing_else(app, agent):
    matching = factories.shares(app, *({"profile_id": f"m-{n}", "code": "LEAK"} for n in range(30)))
    other = factories.share(app, profile_id="other", code="SAFE")
    earlier = factories.share(app, profile_id="done", code="LEAK", expires_at=PAST)
    other_before, earlier_before = (
        factories.share_row(app, other),
        factories.share_row(app, earlier),
    )

    response = do(agent, "expire", all="1", **{"filter[code]": "LEAK"})

    job = bulk.wait_for(app, job_id_of(response))
    assert (job.state.value, job.total, job.done, job.changed) == ("done", 31, 31, 30)
    now = utcnow()
    for share_id in matching:
        assert factories.share_row(app, share_id)["expires_at"] <= now
    assert factories.share_row(app, other) == other_before
    assert factories.share_row(app, earlier) == earlier_before  # expired already: as it was
    actor = bulk.events_of(app, "expire")[0][1]
    assert bulk.events_of(app, "expire") == [(share_id, actor) for share_id in matching]
    assert actor.startswith("agent-")
    page = visible(text(agent.get(response.headers["Location"])))
    assert (
        "Done: 30 of 31 shares expired; 1 had expired already or was deleted and is unchanged."
        in page
    )
    assert "every share matching Code: LEAK" in page


def test_only_the_ticked_shares_are_acted_on(app, admin):
    ids = factories.shares(app, *({"profile_id": f"t-{n}"} for n in range(5)))
    claim = factories.claim(app, ids[1], "claimer")
    last = factories.share_data(app, ids[1])

    response = do(admin, "delete", id=[ids[1], ids[3]])

    assert bulk.wait_for(app, job_id_of(response)).changed == 2
    assert [s.id for s in factories.stored_shares(app)] == [ids[0], ids[2], ids[4]]
    assert [row["id"] for row in factories.claim_rows(app)] == [claim]
    assert [share_id for share_id, _ in bulk.events_of(app, "delete")] == [ids[1], ids[3]]
    with app.app_context():
        event = db.session.execute(
            sa.text("SELECT changes FROM audit_events WHERE action = 'delete' ORDER BY id")
        ).scalar()
    changes = event if isinstance(event, dict) else json.loads(event)
    assert changes == {k: [v, None] for k, v in last.items() if v is not None}
    flash = visible(text(admin.get(response.headers["Location"])))
    assert "Done: 2 of 2 shares deleted." in flash


def test_agents_may_not_delete_in_bulk(app, agent):
    ids = factories.shares(app, {}, {})
    assert confirmation(agent, "delete", id=ids).status_code == 403
    fields = {"csrf_token": csrf_token(agent, "/shares"), "id": ids, "count": "2"}
    assert agent.post("/shares/bulk/delete", data=fields).status_code == 403
    assert factories.share_count(app) == 2


def test_the_bulk_confirmation_sent_twice_acts_once(app, agent):
    ids = factories.shares(app, *({"code": "TWICE"} for _ in range(4)))
    page = text(confirmation(agent, "expire", all="1", **{"filter[code]": "TWICE"}))

    first = confirm(agent, "expire", page)
    second = confirm(agent, "expire", page)

    assert second.status_code == 302
    assert second.headers["Location"] == first.headers["Location"]
    bulk.wait_for(app, job_id_of(first))
    assert [share_id for share_id, _ in bulk.events_of(app, "expire")] == ids
    with app.app_context():
        assert db.session.scalar(sa.text("SELECT count(*) FROM bulk_jobs")) == 1


def test_the_bulk_confirmation_sent_twice_at_once_starts_one_job(app, agent):
    ids = factories.shares(app, *({"code": "RACE"} for _ in range(40)))
    page = text(confirmation(agent, "expire", all="1", **{"filter[code]": "RACE"}))
    other = app.test_client()  # a second connection of the same browser session
    other.set_cookie("session", agent.get_cookie("session").value)
    start = threading.Barrier(2)

    def send(client):
        start.wait()
        return confirm(client, "expire", page)

    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(send, [agent, other]))

    assert [answer.status_code for answer in answers] == [302, 302]
    assert len({answer.headers["Location"] for answer in answers}) == 1
    bulk.wait_for(app, job_id_of(answers[0]))
    assert [share_id for share_id, _ in bulk.events_of(app, "expire")] == ids
    with app.app_context():
        assert db.session.scalar(sa.text("SELECT count(*) FROM bulk_jobs")) == 1


def test_a_selection_that_changed_since_it_was_confirmed_is_asked_again(app, agent):
    factories.shares(app, {"code": "GROW"}, {"code": "GROW"})
    page = text(confirmation(agent, "expire", all="1", **{"filter[code]": "GROW"}))
    factories.share(app, code="GROW")

    response = confirm(agent, "expire", page)

    assert response.status_code == 409
    shown = visible(text(response))
    assert "The selection changed since the confirmation. It is 3 now; you confirmed 2." in shown
    assert "Expire 3 shares now?" in shown
    assert bulk.events_of(app, "expire") == []
    with app.app_context():
        assert db.session.scalar(sa.text("SELECT count(*) FROM bulk_jobs")) == 0


def test_every_bulk_post_needs_its_csrf_token(app, agent):
    ids = factories.shares(app, {})
    response = agent.post(
        "/shares/bulk/expire", data={"id": ids, "count": "1", "form_id": "x" * 16}
    )
    assert response.status_code == 400
    assert bulk.events_of(app, "expire") == []


# --- long work: chunks, progress, failure and resume ---------------------------------------


def test_a_large_selection_runs_in_chunks_in_the_background_with_progress(app, agent):
    app.config["BULK_CHUNK_SIZE"] = 5
    ids = factories.shares(app, *({"profile_id": f"c-{n}"} for n in range(23)))

    response = do(agent, "expire", all="1")

    job_id = job_id_of(response)
    job = bulk.wait_for(app, job_id)
    assert (job.state.value, job.done, job.changed, job.runner) == ("done", 23, 23, None)
    assert [share_id for share_id, _ in bulk.events_of(app, "expire")] == ids
    assert bulk.items(app, job_id) == []  # done: its items have served
    fragment = text(agent.get(f"/shares/bulk/jobs/{job_id}/progress"))
    assert "hx-trigger" not in fragment  # polling stops once the job ends
    assert 'value="23"' in fragment and "23 of 23 done" in visible(fragment)


def test_the_job_page_says_a_job_goes_on_not_a_count_that_goes_stale(app, agent):
    """A start that leaves work for the background says it goes on; the page's progress, not
    a message from the first chunk, says how far."""
    app.config["BULK_CHUNK_SIZE"] = 2
    factories.shares(app, *({"profile_id": f"c-{n}"} for n in range(5)))
    # The background runner is not let start: the job stays where the request left it.
    with patch("webapp.jobs.run_in_background"):
        response = do(agent, "expire", all="1")
    page = visible(text(agent.get(response.headers["Location"])))
    assert "Bulk expire of 5 shares under way: see its progress." in page
    assert "2 of 5 done" in page and "2 of 5 shares done: 2 expired." in page


def test_a_bulk_expire_counts_shares_taken_as_done_not_as_expired(app, agent):
    ids = factories.shares(app, {}, {"expires_at": utcnow() - timedelta(days=1)})
    response = do(agent, "expire", id=ids)
    page = visible(text(agent.get(response.headers["Location"])))
    assert "2 of 2 done" in page and "2 of 2 expired" not in page
    assert "Done: 1 of 2 shares expired; 1 had expired already or was deleted" in page


def test_a_running_job_page_polls_its_progress_every_second(app, agent):
    factories.shares(app, {}, {})
    job_id = factories.bulk_job(app, "expire", None, runner="alive")

    page = text(agent.get(f"/shares/bulk/jobs/{job_id}"))

    assert f'hx-get="/shares/bulk/jobs/{job_id}/progress"' in page
    assert 'hx-trigger="every 1s"' in page
    assert "0 of 2 shares done" in visible(page)
    assert "You may leave this page" in page
    assert bulk.job(app, job_id).runner == "alive"  # a fresh heartbeat is not taken over


@contextlib.contextmanager
def undeletable(app, profile_id: str):
    """The database refuses to delete shares of ``profile_id`` while this lasts."""
    with app.app_context():
        dialect = db.engine.dialect.name
        statements = {
            "sqlite": [
                "CREATE TRIGGER stuck BEFORE DELETE ON shares WHEN OLD.profile_id = "
                f"'{profile_id}' BEGIN SELECT RAISE(ABORT, 'this share cannot be deleted'); END"
            ],
            "postgresql": [
                "CREATE FUNCTION stuck() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"IF OLD.profile_id = '{profile_id}' THEN "
                "RAISE EXCEPTION 'this share cannot be deleted'; END IF; RETURN OLD; END $$",
                "CREATE TRIGGER stuck BEFORE DELETE ON shares "
                "FOR EACH ROW EXECUTE FUNCTION stuck()",
            ],
        }[dialect]
        drops = {
            "sqlite": ["DROP TRIGGER stuck"],
            "postgresql": ["DROP TRIGGER stuck ON shares", "DROP FUNCTION stuck()"],
        }[dialect]
        with db.engine.begin() as connection:
            for statement in statements:
                connection.exec_driver_sql(statement)
    try:
        yield
    finally:
        with app.app_context(), db.engine.begin() as connection:
            for statement in drops:
                connection.exec_driver_sql(statement)


def test_a_failed_chunk_leaves_earlier_chunks_done_and_a_resume_does_the_rest_once(app, admin):
    app.config["BULK_CHUNK_SIZE"] = 4
    ids = factories.shares(app, *({"profile_id": f"d-{n}"} for n in range(12)))
    with app.app_context():
        db.session.execute(sa.update(Share).where(Share.id == ids[6]).values(profile_id="stuck"))
        db.session.commit()

    with undeletable(app, "stuck"):
        response = do(admin, "delete", all="1")
        job_id = job_id_of(response)
        job = bulk.wait_for(app, job_id)

        # Chunk 1 (shares 1-4) committed; chunk 2 (5-8) failed whole; chunk 3 never ran.
        assert (job.state.value, job.done, job.changed, job.runner) == ("failed", 4, 4, None)
        assert "this share cannot be deleted" in job.error
        assert [s.id for s in factories.stored_shares(app)] == ids[4:]
        assert bulk.items(app, job_id) == [(i, True) for i in ids[:4]] + [
            (i, False) for i in ids[4:]
        ]
        page = visible(text(admin.get(f"/shares/bulk/jobs/{job_id}")))
        assert "Stopped after 4 of 12 shares" in page and "this share cannot be deleted" in page
        assert "4 deleted; the other 8 are not done yet: resume to finish them." in page
        assert "Resume" in page

    resumed = admin.post(
        f"/shares/bulk/jobs/{job_id}/resume", data={"csrf_token": csrf_token(admin, "/shares")}
    )
    again = admin.post(
        f"/shares/bulk/jobs/{job_id}/resume", data={"csrf_token": csrf_token(admin, "/shares")}
    )

    assert resumed.status_code == again.status_code == 302
    job = bulk.wait_for(app, job_id)
    assert (job.state.value, job.done, job.changed, job.error) == ("done", 12, 12, None)
    assert factories.share_count(app) == 0
    # Each share deleted exactly once, in share order, whichever chunk or runner did it.
    assert [share_id for share_id, _ in bulk.events_of(app, "delete")] == ids


def test_resuming_a_delete_job_needs_an_admin(app, agent):
    ids = factories.shares(app, {})
    job_id = factories.bulk_job(app, "delete", ids, state="failed")

    page = text(agent.get(f"/shares/bulk/jobs/{job_id}"))
    assert "0 deleted; the other 1 is not done yet: resume to finish it." in visible(page)
    assert ">Resume</button>" not in page
    response = agent.post(
        f"/shares/bulk/jobs/{job_id}/resume", data={"csrf_token": csrf_token(agent, "/shares")}
    )
    assert response.status_code == 403
    assert factories.share_count(app) == 1 and bulk.job(app, job_id).state.value == "failed"


def test_a_job_whose_runner_died_is_taken_over_when_someone_looks_at_it(app, agent):
    app.config["BULK_CHUNK_SIZE"] = 3
    ids = factories.shares(app, *({} for _ in range(7)))
    job_id = factories.bulk_job(app, "expire", None, runner="dead")
    with app.app_context():
        assert jobs.run_chunk(job_id, "dead")  # one chunk, then its process "dies"
        db.session.execute(
            sa.update(BulkJob)
            .where(BulkJob.id == job_id)
            .values(heartbeat=utcnow() - timedelta(minutes=5))
        )
        db.session.commit()

    agent.get(f"/shares/bulk/jobs/{job_id}/progress")

    job = bulk.wait_for(app, job_id)
    assert (job.state.value, job.done, job.changed) == ("done", 7, 7)
    assert [share_id for share_id, _ in bulk.events_of(app, "expire")] == ids
    # The dead runner, should it wake, holds nothing any more.
    with app.app_context():
        assert jobs.run_chunk(job_id, "dead") is False


def test_the_list_points_agents_to_unfinished_bulk_work(app, client_as):
    factories.shares(app, {}, {})
    job_id = factories.bulk_job(app, "expire", None, runner="busy")

    agent_page = text(client_as("agent").get("/shares"))
    viewer_page = text(client_as("viewer").get("/shares"))

    assert f'href="/shares/bulk/jobs/{job_id}"' in agent_page
    assert "Bulk expire of 2 shares by system: under way, 0 done." in visible(agent_page)
    assert "/shares/bulk/jobs/" not in viewer_page
