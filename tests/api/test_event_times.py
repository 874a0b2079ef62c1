"""An event is stamped with the instant of the change it records, so that a share's History and
the share itself agree to the second, even when the clock moves on while the change is written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine

from webapp.extensions import db
from webapp.models import AuditEvent

NOW = datetime(2026, 11, 29, 9, 59, 59, tzinfo=UTC)
BODY = {
    "profile_id": "stamp-1",
    "source_type": "reward",
    "source_id": 7,
    "code": "STAMP-1",
    "period": 2,
    "period_type": "days",
    "remaining_quantity": 3,
    "is_cloneable": True,
}


@pytest.fixture
def slow_writes(app):
    """The clock moves a second on whenever a share or a claim is written: the worst case of a
    change stamped at 09:59:59.999 and committed at 10:00:00."""
    with time_machine.travel(NOW, tick=False) as traveller, app.app_context():
        engine = db.engine

        def tick(_conn, _cursor, statement, *_args):
            if statement.lstrip().startswith(("INSERT INTO shares", "UPDATE shares",
                                              "INSERT INTO share_claims")):  # fmt: skip
                traveller.shift(timedelta(seconds=1))

        sa.event.listen(engine, "before_cursor_execute", tick)
        yield
        sa.event.remove(engine, "before_cursor_execute", tick)


def event_at(app, action: str, share_id: int) -> str:
    with app.app_context():
        at = db.session.scalars(
            sa.select(AuditEvent.at)
            .where(AuditEvent.action == action, AuditEvent.share_id == share_id)
            .order_by(AuditEvent.id.desc())
        ).first()
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_create_claim_edit_and_expire_events_carry_the_changes_own_time(app, api, slow_writes):
    created = api.post("/api/v3/shares", json=BODY)
    assert created.status_code == 201, created.get_json()
    share = created.get_json()["data"]
    assert share["created_at"] == "2026-11-29T09:59:59Z"
    assert event_at(app, "create", share["id"]) == share["created_at"]

    claimed = api.post(
        f"/api/v3/shares/{share['id']}/claim", json={"profile_id": "friend-1", "code": "STAMP-1"}
    )
    assert claimed.status_code == 201, claimed.get_json()
    claim = claimed.get_json()["data"]
    assert event_at(app, "claim", share["id"]) == claim["claimed_at"]

    edited = api.put(f"/api/v3/shares/{share['id']}", json={"code": "NEW-CODE"})
    assert edited.status_code == 200, edited.get_json()
    assert event_at(app, "edit", share["id"]) == edited.get_json()["data"]["updated_at"]

    expired = api.post(f"/api/v3/shares/{share['id']}/expire")
    assert expired.status_code == 200, expired.get_json()
    after = expired.get_json()["data"]
    assert after["expires_at"] == after["updated_at"]
    assert event_at(app, "expire", share["id"]) == after["expires_at"]
