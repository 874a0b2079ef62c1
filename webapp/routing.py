"""How a URL's path reads: a number in it is a database id.

Every ``<int:...>`` in a route uses ``IdConverter``: ASCII digits of an id that an id column can
hold (``db.types.ID_MAX``). A larger one (``/shares/9223372036854775808``, which SQLite cannot
even compare, or ``/shares/2147483648``, which PostgreSQL's INTEGER cannot) matches no route, so
it gets the same 404 as any other path that names nothing, on every route, including routes
added later.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter

from .db.types import ID_MAX


def decimal_range(low: int, high: int) -> str:
    """A regex for the numbers ``low``..``high`` (low >= 1) written without leading zeros.

    The range is cut into blocks that each read as a fixed prefix, one digit range and
    free digits (``12[3-9]``, ``1[3-9][0-9]{2}``, ...).
    """
    parts = []
    while low <= high:
        free = 0
        while low % 10 ** (free + 1) == 0 and low + 10 ** (free + 1) - 1 <= high:
            free += 1
        step = 10**free
        first = low // step % 10
        count = 1
        while first + count <= 9 and low + (count + 1) * step - 1 <= high:
            count += 1
        prefix = str(low // (step * 10)) if low >= step * 10 else ""
        digit = str(first) if count == 1 else f"[{first}-{first + count - 1}]"
        parts.append(prefix + digit + (f"[0-9]{{{free}}}" if free else ""))
        low += count * step
    return "|".join(parts)


class IdConverter(IntegerConverter):
    """``<int:...>``: 0 to ``ID_MAX`` in ASCII digits; any other segment matches no route.

    The range is in the regex rather than checked after the match: Werkzeug answers a value its
    converter refuses with 405 when a rule for another method has the same path.
    """

    regex = f"(?:0*(?:{decimal_range(1, ID_MAX)})|0+)"

    def __init__(self, map, fixed_digits=0, min=None, max=ID_MAX, signed=False):
        super().__init__(map, fixed_digits, min, max, signed)


def init_app(app: Flask) -> None:
    """Before any route is added: rules take their converters when they are made."""
    app.url_map.converters["int"] = IdConverter
