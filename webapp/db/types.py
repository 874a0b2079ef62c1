"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import mapped_column
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

#: The largest integer a BIGINT column holds on every database (source ids).
BIGINT_MAX = 2**63 - 1
#: The largest integer an INTEGER column holds on every database (PostgreSQL's 32 bits).
INT_MAX = 2**31 - 1
#: The largest id: ids are INTEGER columns (SQLite holds more, but its ids count up from 1 and
#: never get there). A larger id names no row.
ID_MAX = INT_MAX


class UTCDateTime(sa.types.TypeDecorator):
    """Stores aware datetimes as naive UTC and hands them back aware.

    SQLite keeps no offset, so every value is normalised to UTC on the way in.
    """

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def enum_column(enum_cls, length: int | None = None, **kwargs):
    """A VARCHAR column that stores the enum's value (``listItem``), not its name: as long as the
    longest value, or ``length`` for an enum that grows (a new member must not change a table)."""
    return mapped_column(
        sa.Enum(
            enum_cls,
            values_callable=lambda members: [m.value for m in members],
            native_enum=False,
            length=length or max(len(m.value) for m in enum_cls),
            validate_strings=True,
        ),
        **kwargs,
    )


def storable(value) -> bool:
    """Whether every database can hold this value: PostgreSQL's text types refuse U+0000.

    Forms refuse such text (``forms.max_length``), so no stored value holds one, and a lookup by
    one can only find nothing, without asking the database.
    """
    return not isinstance(value, str) or "\x00" not in value


def binary_string(length: int) -> sa.types.TypeEngine:
    """A VARCHAR that compares code point by code point on every database, as search needs.

    SQLite's default collation (BINARY) does so already. PostgreSQL's follows the database's
    locale, where "ab" < "Ab" < "abc", so there the column and its index say COLLATE "C".
    """
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


class Unindexed(ColumnElement):
    """A column whose index SQLite must not use (``+column`` there: a no-op on any value).

    Without statistics SQLite can pick the wrong index: for a search it would rather walk the
    whole id index looking for matches than sort the few rows its prefix ranges find. Other
    databases choose by their statistics and get the plain column.
    """

    inherit_cache = True
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]

    def __init__(self, column):
        self.column = column
        self.type = column.type


@compiles(Unindexed)
def _compile_unindexed(element, compiler, **kw):
    return compiler.process(element.column, **kw)


@compiles(Unindexed, "sqlite")
def _compile_unindexed_sqlite(element, compiler, **kw):
    return "+" + compiler.process(element.column, **kw)
