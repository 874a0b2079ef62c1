"""Finding shares, claims and events: the one query behind each list (page, CSV, API), built from
its filter form (``forms.filters``), with exact totals (``totals``)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from . import totals
from .db.types import Unindexed, storable
from .enums import SHARE_ACTIONS, ShareStatus
from .extensions import db
from .forms.filters import (
    DEFAULT_FEED_SIZE,
    DEFAULT_PAGE_SIZE,
    RANGE_OPERATORS,
    ClaimFilterForm,
    EventFilterForm,
    ListForm,
    ShareFilterForm,
)
from .models import AuditEvent, Share, ShareClaim


def status_condition(status: ShareStatus, now: datetime):
    """SQL for exactly one status (contract expiry rule 6)."""
    expired = sa.and_(Share.expires_at.is_not(None), Share.expires_at < now)
    if status is ShareStatus.EXPIRED:
        return expired
    live = sa.or_(Share.expires_at.is_(None), Share.expires_at >= now)
    return sa.and_(live, _claims_condition(status))


def _claims_condition(status: ShareStatus, left=Share.remaining_quantity):
    """What a live share's claims ``left`` must be for ``status`` (active or exhausted)."""
    if status is ShareStatus.EXHAUSTED:
        return left == 0
    return sa.or_(left.is_(None), left > 0)


def _live_in_expiry_order(query: sa.Select, status: ShareStatus, now: datetime):
    """``query``'s live shares of ``status`` as an entity whose expiry order an index serves.

    "Live" is an OR (no expiry, or not yet expired), and with it the expires_at index could only
    be walked from its start, through every expired share. As two branches, one a range from
    ``now`` and one the shares that never expire, each is read in index order and the database
    merges them (SQLite: MERGE (UNION ALL); PostgreSQL: Merge Append).
    """
    # Checked on the rows the expiry ranges find, not a way to find rows.
    claims = _claims_condition(status, Unindexed(Share.remaining_quantity))
    branches = [
        query.where(Share.expires_at >= now, claims),
        query.where(Share.expires_at.is_(None), claims),
    ]
    return aliased(Share, sa.union_all(*branches).subquery("live_shares"))


def prefix_condition(column, text: str):
    """Case-sensitive "equals or starts with", as a range the column's index can serve.

    The searched columns compare by code point on every database (``models.binary_string``), so
    the strings that start with ``text`` are exactly those from ``text`` up to its successor.
    LIKE would be case-insensitive on SQLite and could not use the index.
    """
    upper = prefix_successor(text)
    if upper is None:
        return column >= text
    return sa.and_(column >= text, column < upper)


def prefix_successor(text: str) -> str | None:
    """The least string above every string that starts with ``text``; None when there is none.

    That is ``text`` with its last character moved one code point on, skipping the surrogates
    (which no stored string holds); a last U+10FFFF is dropped and the one before moves instead.
    """
    chars = list(text)
    while chars:
        last = ord(chars.pop())
        if last < 0x10FFFF:
            following = 0xE000 if 0xD800 <= last + 1 <= 0xDFFF else last + 1
            return "".join(chars) + chr(following)
    return None


RANGE_SUFFIXES = tuple(f"_{op}" for op in RANGE_OPERATORS)


def range_condition(model, key: str, instant: datetime):
    """``filter[<column>][gte|lt]`` (a form field named ``<column>_gte``) as SQL: ``gte``
    includes the instant, ``lt`` excludes it, and NULL (a share that never expires) is in no
    range."""
    name, op = key.rsplit("_", 1)
    column = getattr(model, name)
    return column >= instant if op == "gte" else column < instant


def ordered(query: sa.Select, entity, sort: str, unindexed: bool = False) -> sa.Select:
    """``query`` in the order of ``sort`` (``-`` for descending), rows that tie in ``id`` order
    in the same direction. NULL means "never" or "unlimited": it sorts as the largest value
    either way, which the ``(column, id)`` indexes serve on SQLite and PostgreSQL alike."""
    name = sort.removeprefix("-")
    column, tie_break = getattr(entity, name), entity.id
    if unindexed:
        column, tie_break = Unindexed(column), Unindexed(tie_break)
    if sort.startswith("-"):
        order = [column.desc().nulls_first(), tie_break.desc()]
    else:
        order = [column.asc().nulls_last(), tie_break.asc()]
    return query.order_by(*(order[:1] if name == "id" else order))


#: Built once: the home page, the claims list, a customer's page and the audit trail ask it.
_EXISTING = sa.select(Share.id).where(Share.id.in_(sa.bindparam("ids", expanding=True)))


def existing_share_ids(ids) -> set[int]:
    """Which of these share ids still exist: claims and audit events outlive their share."""
    ids = set(ids)
    if not ids:
        return set()
    return set(db.session.scalars(_EXISTING, {"ids": list(ids)}))


def share_query(form: ShareFilterForm, now: datetime) -> sa.Select:
    """The filtered, sorted SELECT of shares for valid filter data."""
    query = sa.select(Share)
    filters = form.filters()
    name = form.sort.data.removeprefix("-")
    status = filters.get("status")
    # With another filter, that filter's index finds the rows and they are sorted (the split
    # below would walk every never-expiring share to check it).
    by_expiry = (
        name == "expires_at"
        and status in (ShareStatus.ACTIVE, ShareStatus.EXHAUSTED)
        and len(filters) == 1
    )
    for key, value in filters.items():
        if key == "status":
            if not by_expiry:
                query = query.where(status_condition(value, now))
        elif not storable(value):
            # Text with U+0000 is in no database (and PostgreSQL could not even compare it).
            query = query.where(sa.false())
        elif key.endswith(RANGE_SUFFIXES):
            query = query.where(range_condition(Share, key, value))
        elif key == "search":
            query = query.where(
                sa.or_(
                    prefix_condition(Share.handle, value),
                    prefix_condition(Share.code, value),
                    prefix_condition(Share.profile_id, value),
                )
            )
        else:
            query = query.where(getattr(Share, key) == value)
    entity = Share
    if by_expiry:
        entity = _live_in_expiry_order(query, status, now)
        query = sa.select(entity)
    return ordered(query, entity, form.sort.data, unindexed="search" in filters)


def claim_query(form: ClaimFilterForm) -> sa.Select:
    """The filtered, sorted SELECT of claims for valid filter data."""
    query = sa.select(ShareClaim)
    for key, value in form.filters().items():
        if not storable(value):
            query = query.where(sa.false())
        elif key.endswith(RANGE_SUFFIXES):
            query = query.where(range_condition(ShareClaim, key, value))
        else:
            query = query.where(getattr(ShareClaim, key) == value)
    return ordered(query, ShareClaim, form.sort.data)


@dataclass
class Page:
    """One page of a list with the numbers the contract's ``meta`` needs."""

    items: list
    number: int
    size: int
    total: int

    @property
    def last_page(self) -> int:
        return max(1, math.ceil(self.total / self.size))

    @property
    def first_index(self) -> int | None:
        return (self.number - 1) * self.size + 1 if self.items else None

    @property
    def last_index(self) -> int | None:
        return (self.number - 1) * self.size + len(self.items) if self.items else None


def _page(form: ListForm, query: sa.Select, total) -> Page:
    """One page of ``query``, with its exact total: ``total`` (SQL from the tallies) when they
    answer it, else counted from the matching rows."""
    size = form.page_size.data or DEFAULT_PAGE_SIZE
    number = form.page_number.data or 1
    if total is None:
        matching = query.order_by(None).subquery()
        total = sa.select(sa.func.count()).select_from(matching).scalar_subquery()
    counted = db.session.scalar(sa.select(total))
    items = db.session.scalars(query.limit(size).offset((number - 1) * size)).all()
    return Page(items=list(items), number=number, size=size, total=counted)


def fetch_page(form: ShareFilterForm, now: datetime) -> Page:
    """One page of shares."""
    return _page(form, share_query(form, now), totals.total(form.filters(), now))


def fetch_claims(form: ClaimFilterForm) -> Page:
    """One page of claims."""
    return _page(form, claim_query(form), totals.claims_total(form.filters()))


@dataclass
class Feed:
    """The events after ``after``, oldest first, and whether more were waiting."""

    events: list[AuditEvent]
    after: int
    has_more: bool

    @property
    def next_after(self) -> int:
        """Where to ask next: the last id returned, or where this one started."""
        return self.events[-1].id if self.events else self.after


def fetch_events(form: EventFilterForm) -> Feed:
    """Changes to shares after ``page[after]``, in the order they were committed."""
    after, size = form.page_after.data or 0, form.page_size.data or DEFAULT_FEED_SIZE
    query = sa.select(AuditEvent).where(
        AuditEvent.id > after, AuditEvent.action.in_([action.value for action in SHARE_ACTIONS])
    )
    filters = form.filters()
    if "share_id" in filters:
        query = query.where(AuditEvent.share_id == filters["share_id"])
    if "action" in filters:
        query = query.where(AuditEvent.action == filters["action"])
    found = db.session.scalars(query.order_by(AuditEvent.id).limit(size + 1)).all()
    return Feed(events=list(found[:size]), after=after, has_more=len(found) > size)
