"""Finding shares: the one query behind the list page, its CSV and the API list, built from the
filter form (``forms.filters.ShareFilterForm``), with exact totals (``totals``)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from . import totals
from .db.types import Unindexed, storable
from .enums import ShareStatus
from .extensions import db
from .forms.filters import DEFAULT_PAGE_SIZE, ShareFilterForm
from .models import Share


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
    descending = form.sort.data.startswith("-")
    column, tie_break = getattr(entity, name), entity.id
    if "search" in filters:
        column, tie_break = Unindexed(column), Unindexed(tie_break)
    # NULL means "never" / "unlimited": it sorts as the largest value either way, which the
    # (column, id) indexes serve on SQLite and PostgreSQL alike.
    if descending:
        order = [column.desc().nulls_first(), tie_break.desc()]
    else:
        order = [column.asc().nulls_last(), tie_break.asc()]
    return query.order_by(*(order[:1] if name == "id" else order))


@dataclass
class Page:
    """One page of shares with the numbers the contract's ``meta`` needs."""

    items: list[Share]
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


def fetch_page(form: ShareFilterForm, now: datetime) -> Page:
    """Run the query for one page, with its exact total: from the tallies where they answer
    it, else counted from the matching rows."""
    query = share_query(form, now)
    size = form.page_size.data or DEFAULT_PAGE_SIZE
    number = form.page_number.data or 1
    counted = totals.total(form.filters(), now)
    if counted is None:
        matching = query.order_by(None).subquery()
        counted = sa.select(sa.func.count()).select_from(matching).scalar_subquery()
    total = db.session.scalar(sa.select(counted))
    items = db.session.scalars(query.limit(size).offset((number - 1) * size)).all()
    return Page(items=list(items), number=number, size=size, total=total)
