"""The write path for many shares at once (``shares.create_many``, ``expire_many``,
``delete_many`` and ``audit.record_many``): each share by the rules of the single action, each
change with the event the single action would have written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine

from tests import factories
from tests.security.helpers import events_after, last_event_id
from webapp import audit, shares
from webapp.db import tallies
from webapp.enums import AuditAction
from webapp.extensions import db
from webapp.models import Share

NOW = datetime(2026, 11, 29, 10, 0, 0, tzinfo=UTC)


def without_identity(changes: dict) -> dict:
    """An event's changes less what differs between two shares made alike (id, handle)."""
    return {k: v for k, v in changes.items() if k not in ("id", "handle")}


def assert_tallies_true(app) -> None:
    with app.app_context(), db.engine.connect() as connection:
        assert tallies.differences(connection) == []


@time_machine.travel(NOW, tick=False)
def test_create_many_stores_each_row_in_order_with_the_event_a_create_writes(app):
    rows = [
        factories.share_values(profile_id=f"bulk-{n}", period=n + 1, period_type="days")
        for n in range(5)
    ]
    with app.app_context():
        single = shares.create(
            factories.share_values(profile_id="bulk-0", period=1, period_type="days")
        )
        db.session.commit()
    before = last_event_id(app)

    with app.app_context():
        ids = shares.create_many(rows)
        db.session.commit()

    assert ids == sorted(ids) and len(set(ids)) == 5
    stored = {share.id: share for share in factories.stored_shares(app)}
    assert [stored[i].profile_id for i in ids] == [f"bulk-{n}" for n in range(5)]
    assert len({stored[i].handle for i in ids}) == 5
    made = events_after(app, before)
    assert [(e["action"], e["share_id"]) for e in made] == [("create", i) for i in ids]
    for event, share_id in zip(made, ids, strict=True):
        assert event["share_handle"] == stored[share_id].handle
        # Exactly what the single create records: every field of the new object, old values null.
        assert event["changes"] == {
            name: [None, value]
            for name, value in factories.share_data(app, share_id).items()
            if value is not None
        }
    first = events_after(app, 0)[0]
    assert without_identity(made[0]["changes"]) == without_identity(first["changes"])
    assert first["share_id"] == single.id
    assert_tallies_true(app)


def test_create_many_with_no_rows_writes_nothing(app):
    with app.app_context():
        assert shares.create_many([]) == []
        db.session.commit()
    assert factories.share_count(app) == 0 and events_after(app, 0) == []


def test_expire_many_follows_the_single_expire_rules_share_by_share(app):
    with time_machine.travel(NOW - timedelta(days=3), tick=False):
        twin, active, never, expired, gone = factories.shares(
            app,
            {"profile_id": "twin", "period": 5, "period_type": "days"},
            {"profile_id": "active", "period": 5, "period_type": "days"},
            {"profile_id": "never"},
            {"profile_id": "expired", "expires_at": NOW - timedelta(days=1)},
            {"profile_id": "gone"},
        )
        with app.app_context():
            shares.delete(db.session.get(Share, gone))
            db.session.commit()
    expired_before = factories.share_row(app, expired)
    before = last_event_id(app)

    with time_machine.travel(NOW, tick=False), app.app_context():
        shares.expire(db.session.get(Share, twin))
        done = shares.expire_many([active, never, expired, gone])
        db.session.commit()

    assert done == [active, never]
    for share_id in (twin, active, never):
        row = factories.share_row(app, share_id)
        assert row["expires_at"] == NOW and row["updated_at"] == NOW
    # An expired share keeps its expiry and gets no event; a deleted one is skipped.
    assert factories.share_row(app, expired) == expired_before
    assert factories.share_row(app, gone) is None
    made = events_after(app, before)
    assert [(e["action"], e["share_id"]) for e in made] == [
        ("expire", twin),
        ("expire", active),
        ("expire", never),
    ]
    # The bulk event of a share like the twin is the single action's, to the letter.
    assert made[1]["changes"] == made[0]["changes"]
    assert made[2]["changes"]["expires_at"] == [None, "2026-11-29T10:00:00Z"]
    assert made[1]["share_handle"] == factories.handle_of(app, active)
    assert_tallies_true(app)


def test_expire_many_of_shares_all_expired_or_gone_writes_nothing(app):
    expired = factories.share(app, expires_at=NOW - timedelta(days=1))
    before = last_event_id(app)
    with time_machine.travel(NOW, tick=False), app.app_context():
        assert shares.expire_many([expired, expired + 1]) == []
        db.session.commit()
    assert events_after(app, before) == []


# Frozen: the twins compared below are made apart, and a second may tick between them.
@time_machine.travel(NOW, tick=False)
def test_delete_many_deletes_as_delete_does_and_keeps_claims(app):
    twin, first, second, gone = factories.shares(
        app,
        {"profile_id": "same", "code": "C", "meta": ["a"]},
        {"profile_id": "same", "code": "C", "meta": ["a"]},
        {"profile_id": "other"},
        {"profile_id": "gone"},
    )
    claim_id = factories.claim(app, first, "claimer-1")
    with app.app_context():
        shares.delete(db.session.get(Share, gone))
        db.session.commit()
    last_values = factories.share_data(app, first)
    before = last_event_id(app)

    with app.app_context():
        shares.delete(db.session.get(Share, twin))
        done = shares.delete_many([second, first, gone])
        db.session.commit()

    assert done == [first, second]
    assert factories.share_count(app) == 0
    assert [row["id"] for row in factories.claim_rows(app)] == [claim_id]
    made = events_after(app, before)
    assert [(e["action"], e["share_id"]) for e in made] == [
        ("delete", twin),
        ("delete", first),
        ("delete", second),
    ]
    assert made[1]["changes"] == {k: [v, None] for k, v in last_values.items() if v is not None}
    assert without_identity(made[1]["changes"]) == without_identity(made[0]["changes"])
    assert_tallies_true(app)


def test_record_many_writes_events_in_the_order_given_and_nothing_for_none(app):
    with app.app_context():
        connection = db.session.connection()
        audit.record_many(connection, AuditAction.EDIT, [])
        audit.record_many(
            connection,
            AuditAction.EDIT,
            [({"code": ["a", "b"]}, 7, "h7", None), ({"code": ["c", "d"]}, 3, "h3", None)],
        )
        db.session.commit()
    made = events_after(app, 0)
    assert [(e["share_id"], e["share_handle"], e["changes"]) for e in made] == [
        (7, "h7", {"code": ["a", "b"]}),
        (3, "h3", {"code": ["c", "d"]}),
    ]
    assert {e["actor"] for e in made} == {"system"}
