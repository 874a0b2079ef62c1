"""Validators and fields shared by every form: each knows its contract name and messages."""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Callable
from functools import cache

from flask import current_app
from markupsafe import Markup, escape
from wtforms import Field, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice, enum_choices
from wtforms.validators import StopValidation, ValidationError
from wtforms.widgets import NumberInput, TextInput

from .. import expiry
from ..db.types import BIGINT_MAX as BIGINT_MAX  # the forms read their limits from here
from ..db.types import ID_MAX as ID_MAX
from ..db.types import INT_MAX as INT_MAX
from ..db.types import storable
from .widgets import EnumSelect

#: Any text without U+0000 (db.types.storable), as a JSON Schema pattern.
NO_NUL_PATTERN = "^[^\\u0000]*$"
META_MAX_ITEMS = 100
META_MAX_CHARS = 1000


def human(name: str) -> str:
    """How messages name a field: ``source_type`` -> ``source type``."""
    return name.replace("[", " ").replace("]", "").replace("_", " ")


@cache
def timezone_names() -> tuple[str, ...]:
    """Every IANA zone name this machine knows, sorted."""
    return tuple(sorted(zoneinfo.available_timezones() - {"Factory", "localtime"}))


@cache
def _zone_set() -> frozenset[str]:
    return frozenset(timezone_names())


def is_zone(name: str | None) -> bool:
    """Whether ``name`` is an IANA zone this machine knows."""
    return name in _zone_set()


# --- validators ---------------------------------------------------------------------------


def required(form, field):
    """The value must be present and not blank."""
    if field.process_errors:
        raise StopValidation()  # a value was given but unreadable: keep that message
    if field.data is None or (isinstance(field.data, str) and not field.data.strip()):
        field.errors[:] = []
        raise StopValidation(f"The {human(field.short_name)} field is required.")


def optional(form, field):
    """Stop the chain quietly when no value was given."""
    if field.process_errors:
        raise StopValidation()  # a value was given but unreadable: keep that message
    if field.data is None or field.data == "":
        field.errors[:] = []
        raise StopValidation()


#: The characters str.strip() takes away, as a regular expression class for JSON schemas.
#: Spelled out: a JSON Schema \\s lacks U+001C..U+001F and U+0085, which strip() removes, and
#: has U+FEFF, which it keeps. (No code point past U+3000 is whitespace.)
SPACES = "[{}]".format("".join(f"\\u{n:04x}" for n in range(0x3001) if chr(n).isspace()))


def not_blank(form, field):
    """A value given must hold more than spaces (no value at all is for ``optional``)."""
    if isinstance(field.data, str) and not field.data.strip():
        raise StopValidation(
            f"The {human(field.short_name)} field must not be only spaces: leave it empty for none."
        )


not_blank.json_schema = {"not": {"type": "string", "pattern": f"^{SPACES}+$"}}  # for OpenAPI

# The template marks required fields (and WTForms adds the attribute) from this flag.
required.field_flags = {"required": True}


def max_length(limit: int):
    """Text a VARCHAR(limit) column holds on every database: ``limit`` characters, no U+0000."""

    def check(form, field):
        if not storable(field.data):
            # StopValidation: later checks (a lookup by the value) must not see it either.
            raise StopValidation(
                f"The {human(field.short_name)} field must not contain the NUL character (U+0000)."
            )
        if field.data is not None and len(field.data) > limit:
            raise ValidationError(
                f"The {human(field.short_name)} field must not be greater than {limit} characters."
            )

    # Read by the OpenAPI document.
    check.json_schema = {"maxLength": limit, "pattern": NO_NUL_PATTERN}
    return check


#: C0 and C1 control characters (a tab, a line break, an escape) and Unicode's line separators.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def one_line(form, field):
    """Text shown in a row (a table on a page, a column of the command line): no control
    characters, which would break the row or drive the terminal."""
    if isinstance(field.data, str) and _CONTROL.search(field.data):
        raise ValidationError(
            f"The {human(field.short_name)} field must not contain control characters "
            "(tabs, line breaks)."
        )


def between(low: int, high: int):
    def check(form, field):
        if field.data is not None and not low <= field.data <= high:
            raise ValidationError(_out_of_range(field.short_name, low, high))

    check.json_schema = {"minimum": low, "maximum": high}  # read by the OpenAPI document
    return check


def _out_of_range(name: str, low: int, high: int) -> str:
    if low == high:
        return f"The {human(name)} field must be {low}."
    return f"The {human(name)} field must be between {low} and {high}."


def not_an_integer(name: str) -> str:
    """What an integer field tells a value that is no whole number (a page, JSON, a CSV row)."""
    return f"The {human(name)} field must be an integer."


def empty_to_none(value):
    """An empty string means null (contract: code, absolute_expiry, timezone)."""
    return None if value == "" else value


def strip(value):
    return value.strip() if isinstance(value, str) else value


# --- fields -------------------------------------------------------------------------------

_DIGITS = re.compile(r"[0-9]{1,19}")
#: A whole number that no integer column holds: below zero, or more digits than a BIGINT has.
_OUT_OF_EVERY_RANGE = re.compile(r"-0*[1-9][0-9]*|0*[1-9][0-9]{19,}")


class DigitsIntegerField(Field):
    """An integer written as ASCII digits only: no sign, no spaces, no fraction."""

    widget = NumberInput(min=0)

    def process_formdata(self, valuelist):
        if not valuelist:
            return  # absent: keep the default (or, on edit, the stored value)
        raw = valuelist[0]
        if raw == "":
            self.data = None
            return
        self.data = None
        if _OUT_OF_EVERY_RANGE.fullmatch(raw):
            raise ValueError(self._out_of_range(negative=raw.startswith("-")))
        if not _DIGITS.fullmatch(raw):
            raise ValueError(not_an_integer(self.short_name))
        self.data = int(raw)

    def _out_of_range(self, negative: bool) -> str:
        """What a whole number outside this field's range is told, as its range check would
        say it (``-3`` is an integer: "must be an integer" would be no help)."""
        for check in self.validators:
            bounds = getattr(check, "json_schema", {})
            if "minimum" in bounds:
                return _out_of_range(self.short_name, bounds["minimum"], bounds["maximum"])
        if negative:
            return f"The {human(self.short_name)} field must be at least 0."
        return not_an_integer(self.short_name)

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else str(self.data)


class IdListField(Field):
    """Ids of rows ticked in a list (``id=3&id=7``): each ASCII digits, 1 to ``ID_MAX``."""

    widget = None  # drawn by the list's checkboxes, never by the field
    #: The one parameter a query may give more than once (forms.base.QueryForm).
    repeatable = True

    def __init__(self, label=None, validators=None, most: int = 1000, **kwargs):
        super().__init__(label, validators, default=list, **kwargs)
        self.most = most

    def process_formdata(self, valuelist):
        self.data = []
        if len(valuelist) > self.most:
            raise ValueError(f"Tick at most {self.most:,} rows, or select all that match.")
        for raw in valuelist:
            if not _DIGITS.fullmatch(raw) or not 1 <= int(raw) <= ID_MAX:
                raise ValueError(f"The {human(self.short_name)} parameter must be share ids.")
            self.data.append(int(raw))


@cache
def _enum_options(enum_cls, blank: str) -> tuple[list[SelectChoice], Callable, tuple]:
    """An enum dropdown's options, coercion and (value, label) pairs, built once (forms are
    bound every request).

    Coerces by value like WTForms' ``enum_coerce``, from a table made once rather than per call.
    """
    choices = [SelectChoice("", blank)] + enum_choices(enum_cls, label=lambda m: m.label)
    pairs = tuple((choice.value, choice.label) for choice in choices)
    by_value = {str(member.value): member for member in enum_cls}

    def coerce(value):
        if value in ("", None):
            return None
        if isinstance(value, enum_cls):
            return value
        try:
            return by_value[str(value)]
        except KeyError as error:
            raise ValueError(str(error)) from error

    return choices, coerce, pairs


class EnumSelectField(SelectField):
    """A dropdown over one of the enums; a blank option means "not chosen" (None)."""

    widget = EnumSelect()

    def __init__(self, enum_cls, label=None, validators=None, blank="Choose…", **kwargs):
        choices, coerce, self.option_pairs = _enum_options(enum_cls, blank)
        super().__init__(label, validators, coerce=coerce, choices=choices, **kwargs)

    def pre_validate(self, form):
        if self.process_errors:
            return
        if self.data is None and self.raw_data and self.raw_data[0] != "":
            # StopValidation: a "required" validator must not replace this with "is required".
            raise StopValidation(f"The selected {human(self.short_name)} is invalid.")

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None


@cache
def _zone_options() -> Markup:
    return Markup("".join(f'<option value="{escape(zone)}">' for zone in timezone_names()))


class ZoneListInput(TextInput):
    """A text box that suggests IANA zones as you type: a native ``datalist``, no script."""

    def __call__(self, field, **kwargs):
        list_id = f"{field.id}-zones"
        kwargs.setdefault("list", list_id)
        kwargs.setdefault("autocomplete", "off")
        kwargs.setdefault("spellcheck", "false")
        box = super().__call__(field, **kwargs)
        return box + Markup(f'<datalist id="{list_id}">') + _zone_options() + Markup("</datalist>")


class TimezoneField(StringField):
    """Every IANA zone; blank or absent means the app's default zone."""

    widget = ZoneListInput()

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(
            label,
            validators,
            default=lambda: current_app.config["DEFAULT_TIMEZONE"],
            **kwargs,
        )

    def process_formdata(self, valuelist):
        if valuelist and valuelist[0].strip() != "":
            self.data = valuelist[0].strip()

    def pre_validate(self, form):
        if not is_zone(self.data):
            raise ValidationError(
                "The timezone field must be a valid IANA time zone, such as Australia/Melbourne."
            )


class InstantField(StringField):
    """An instant: ISO 8601 with ``Z`` or an offset, or a date ``YYYY-MM-DD`` meaning 00:00:00
    UTC that day (the contract's range filters). ``data`` is an aware UTC datetime or None."""

    def process_formdata(self, valuelist):
        if not valuelist or valuelist[0] == "":
            return
        self.data = None
        try:
            self.data = expiry.parse_instant(valuelist[0].strip())
        except expiry.ExpiryError:
            raise ValueError(
                f"The {human(self.short_name)} field must be a date (2026-12-01) or an ISO 8601 "
                "instant with Z or an offset (2026-12-01T10:00:00Z)."
            ) from None

    def _value(self):
        return self.raw_data[0] if self.raw_data else ""


class LinesField(TextAreaField):
    """A list of strings: one per line in HTML, a JSON array through the adapter."""

    def process(self, formdata, data=None, **kwargs):
        self._json_list = getattr(formdata, "json_lists", {}).get(self.name)
        super().process(formdata, data, **kwargs)

    def process_formdata(self, valuelist):
        if self._json_list is not None:
            self.data = list(self._json_list)
        elif valuelist:
            lines = [line.strip() for line in valuelist[0].splitlines()]
            self.data = [line for line in lines if line] or None

    def _value(self):
        return "\n".join(self.data or [])


def meta_items(form, field):
    """At most 100 items, each at most 1000 characters and storable (no U+0000), as any text."""
    if field.data is None:
        return
    if len(field.data) > META_MAX_ITEMS:
        raise ValidationError(f"The meta field must not have more than {META_MAX_ITEMS} items.")
    for number, item in enumerate(field.data, start=1):
        if not storable(item):
            raise ValidationError(
                f"Meta item {number} must not contain the NUL character (U+0000)."
            )
        if len(item) > META_MAX_CHARS:
            raise ValidationError(
                f"Meta item {number} must not be greater than {META_MAX_CHARS} characters."
            )


meta_items.json_schema = {  # read by the OpenAPI document
    "maxItems": META_MAX_ITEMS,
    "items": {"maxLength": META_MAX_CHARS, "pattern": NO_NUL_PATTERN},
}
