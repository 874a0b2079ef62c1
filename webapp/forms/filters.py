"""The filter forms read from query strings: the share list (page, CSV and API), the claims list
(page and API), the events feed and the audit trail. Field names are the query parameter names of
the contract (``filter[status]``, ``filter[created_at][gte]``, ``sort``, ``page[number]``), so a
filtered page of a browser list is bookmarkable and reads like the API call."""

from __future__ import annotations

import enum
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from werkzeug.datastructures import MultiDict
from wtforms import DateField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional, ValidationError
from wtforms.widgets import SearchInput

from ..enums import SHARE_ACTIONS, AuditAction, AuditKind, PeriodType, ShareStatus, SourceType
from ..expiry import to_utc_z
from .base import QueryForm
from .fields import (
    BIGINT_MAX,
    ID_MAX,
    DigitsIntegerField,
    EnumSelectField,
    InstantField,
    between,
    human,
    strip,
)

SORT_FIELDS = ("id", "created_at", "updated_at", "expires_at", "remaining_quantity")
CLAIM_SORT_FIELDS = ("id", "claimed_at")
DEFAULT_SORT = "-id"
DEFAULT_PAGE_SIZE = 15
MAX_PAGE_SIZE = 100
DEFAULT_FEED_SIZE = 100
MAX_FEED_SIZE = 1000
BOOLEAN_WORDS = {"true": True, "1": True, "false": False, "0": False}
#: The operators of a range filter: ``gte`` includes its instant, ``lt`` excludes it.
RANGE_OPERATORS = ("gte", "lt")


def range_fields(column: str, label: str) -> tuple[InstantField, InstantField]:
    """``filter[<column>][gte]`` and ``filter[<column>][lt]``: declare them as ``<column>_gte``
    and ``<column>_lt`` (the list's query reads the column and operator from that name)."""
    words = {"gte": "from", "lt": "before"}
    gte, lt = (
        InstantField(
            f"{label} {words[op]}",
            name=f"filter[{column}][{op}]",
            id=f"filter-{column.replace('_', '-')}-{op}",
            description="A date (2026-12-01, from 00:00 UTC) or an instant with Z or an offset.",
        )
        for op in RANGE_OPERATORS
    )
    return gte, lt


def sort_field(fields: tuple[str, ...]) -> SelectField:
    return SelectField(
        "Sort",
        choices=[SelectChoice(f"{sign}{f}") for f in fields for sign in ("-", "")],
        default=DEFAULT_SORT,
        validate_choice=False,
    )


def page_number_field() -> DigitsIntegerField:
    return DigitsIntegerField(
        "Page", name="page[number]", default=1, validators=[between(1, 10**9)]
    )


def page_size_field(default: int = DEFAULT_PAGE_SIZE, most: int = MAX_PAGE_SIZE):
    return DigitsIntegerField(
        "Per page", name="page[size]", default=default, validators=[between(1, most)]
    )


def _midnight(day: date, zone: str) -> str:
    """The instant a day begins in ``zone``, as a range filter takes it: the bare date in UTC,
    else with the zone's offset then (``2026-12-02T00:00:00+11:00``)."""
    if zone == "UTC":
        return day.isoformat()
    return datetime.combine(day, time(), tzinfo=ZoneInfo(zone)).isoformat()


def quick_ranges(now: datetime, zone: str = "UTC") -> dict[str, dict[str, str]]:
    """The lists' one-click ranges, as query parameters: "today" and "this week" are the
    reader's, in ``zone`` (the pages show times in it), from midnight and from Monday there."""
    today = now.astimezone(ZoneInfo(zone)).date()
    monday = today - timedelta(days=today.weekday())
    return {
        "expiring_soon": {
            "filter[expires_at][gte]": to_utc_z(now),
            "filter[expires_at][lt]": to_utc_z(now + timedelta(days=7)),
        },
        "created_today": {"filter[created_at][gte]": _midnight(today, zone)},
        "claimed_today": {"filter[claimed_at][gte]": _midnight(today, zone)},
        "claimed_this_week": {"filter[claimed_at][gte]": _midnight(monday, zone)},
    }


class ParamsForm(QueryForm):
    """Query parameters named as the contract names them; any other ``filter[...]`` or
    ``page[...]`` key is an error, as is a bad value."""

    def __init__(self, args: MultiDict, **kwargs):
        super().__init__(args, **kwargs)
        known = {field.name for field in self}
        self.unknown = sorted(
            key for key in args if key.startswith(("filter[", "page[")) and key not in known
        )

    def validate(self, extra_validators=None) -> bool:
        super().validate(extra_validators)
        return not self.param_errors()

    def param_errors(self) -> dict[str, list[str]]:
        """Errors keyed by query parameter name, unknown filters included."""
        errors = {}
        for field in self:
            if field.errors:
                errors[field.name] = [
                    m.replace(
                        f"The {human(field.name)} field", f"The {human(field.name)} parameter"
                    )
                    for m in field.errors
                ]
        for key in self.unknown:
            errors[key] = [f"The {human(key)} parameter is not a known filter."]
        for key, messages in self.query_errors.items():
            errors[key] = [*errors.get(key, []), *messages]
        return errors

    def given_args(self) -> dict[str, str]:
        """The parameters given, by the contract's names: for links that keep the current view.
        Only the form's own names, so no other query key (``_method``, ``_external``) ever
        reaches ``url_for`` as one of its own arguments."""
        return {
            field.name: field.raw_data[0]
            for field in self
            if field.raw_data and field.raw_data[0] != ""
        }

    def filters(self) -> dict[str, object]:
        """The given ``filter[...]`` fields of valid data, by field: ``is_cloneable`` a bool."""
        found = {}
        for name, field in self._fields.items():
            if field.name.startswith("filter[") and field.data not in (None, ""):
                found[name] = BOOLEAN_WORDS[field.data] if name == "is_cloneable" else field.data
        return found


class ListForm(ParamsForm):
    """A list's parameters: filters, ``sort`` over ``SORT_FIELDS``, and ``page[...]``."""

    SORT_FIELDS: tuple[str, ...] = ()

    def validate_sort(self, field):
        # removeprefix, not lstrip: "--id" is not a sort.
        if field.data.removeprefix("-") not in self.SORT_FIELDS:
            raise ValidationError(
                "The sort parameter must be one of "
                + ", ".join(self.SORT_FIELDS)
                + ", optionally prefixed with - for descending."
            )

    def active_args(self) -> dict[str, str]:
        """The given parameters, for links that keep the current view.

        A given page size is always kept: the API's default (15) is not the list page's (25).
        """
        return {
            name: raw
            for name, raw in self.given_args().items()
            if name != "page[number]" and not (name == "sort" and raw == DEFAULT_SORT)
        }

    @property
    def filtered(self) -> bool:
        """Whether any filter narrows the list (for the empty state's wording)."""
        return any(name.startswith("filter[") for name in self.active_args())

    def filter_args(self) -> dict[str, str]:
        """The given ``filter[...]`` parameters alone: what selects the rows, whatever their order
        or page."""
        return {k: v for k, v in self.active_args().items() if k.startswith("filter[")}

    def in_words(self) -> str:
        """The given filters as people read them: ``Status: Active; Source type: Reward``;
        empty when none is given."""
        parts = []
        for field in self:
            if not field.name.startswith("filter[") or field.data in (None, ""):
                continue
            if isinstance(field.data, enum.Enum):
                value = field.data.label
            elif field.name == "filter[is_cloneable]":
                value = "yes" if BOOLEAN_WORDS[field.data] else "no"
            else:
                value = field.raw_data[0]
            parts.append(f"{field.label.text}: {value}")
        return "; ".join(parts)


class ShareFilterForm(ListForm):
    """The share list's parameters."""

    SORT_FIELDS = SORT_FIELDS

    profile_id = StringField("Profile ID", name="filter[profile_id]", id="filter-profile-id")
    source_type = EnumSelectField(
        SourceType,
        "Source type",
        name="filter[source_type]",
        id="filter-source-type",
        blank="Any source type",
    )
    source_id = DigitsIntegerField(
        "Source ID",
        name="filter[source_id]",
        id="filter-source-id",
        validators=[between(1, BIGINT_MAX)],
    )
    handle = StringField("Handle", name="filter[handle]", id="filter-handle")
    code = StringField("Code", name="filter[code]", id="filter-code")
    period_type = EnumSelectField(
        PeriodType,
        "Period type",
        name="filter[period_type]",
        id="filter-period-type",
        blank="Any period type",
    )
    is_cloneable = SelectField(
        "Cloneable",
        name="filter[is_cloneable]",
        id="filter-is-cloneable",
        choices=[
            SelectChoice("", "Cloneable or not"),
            SelectChoice("true", "Cloneable"),
            SelectChoice("false", "Not cloneable"),
        ],
        validate_choice=False,
    )
    timezone = StringField("Time zone", name="filter[timezone]", id="filter-timezone")
    status = EnumSelectField(
        ShareStatus, "Status", name="filter[status]", id="filter-status", blank="Any status"
    )
    search = StringField(
        "Search",
        name="filter[search]",
        id="filter-search",
        widget=SearchInput(),
        render_kw={
            "placeholder": "Handle, code or profile ID",
            "autocomplete": "off",
            "data-search-shortcut": True,
        },
        description="Handle, code or profile ID: equal to or starting with. Press / to jump here.",
    )
    created_at_gte, created_at_lt = range_fields("created_at", "Created")
    updated_at_gte, updated_at_lt = range_fields("updated_at", "Updated")
    expires_at_gte, expires_at_lt = range_fields("expires_at", "Expires")
    sort = sort_field(SORT_FIELDS)
    page_number = page_number_field()
    page_size = page_size_field()

    def validate_is_cloneable(self, field):
        if field.data not in (None, "") and field.data not in BOOLEAN_WORDS:
            raise ValidationError("The filter is cloneable parameter must be true, false, 1 or 0.")


class ClaimFilterForm(ListForm):
    """The claims list's parameters: who claimed, whose share, which share, when."""

    SORT_FIELDS = CLAIM_SORT_FIELDS

    profile_id = StringField("Claimer", name="filter[profile_id]", id="filter-profile-id")
    share_profile_id = StringField(
        "Owner", name="filter[share_profile_id]", id="filter-share-profile-id"
    )
    share_handle = StringField(
        "Share handle", name="filter[share_handle]", id="filter-share-handle"
    )
    share_id = DigitsIntegerField(
        "Share ID",
        name="filter[share_id]",
        id="filter-share-id",
        validators=[between(1, ID_MAX)],
    )
    claimed_at_gte, claimed_at_lt = range_fields("claimed_at", "Claimed")
    sort = sort_field(CLAIM_SORT_FIELDS)
    page_number = page_number_field()
    page_size = page_size_field()


class EventFilterForm(ParamsForm):
    """The events feed's parameters: where to start, how many, and which share or action."""

    share_id = DigitsIntegerField(
        "Share ID", name="filter[share_id]", validators=[between(1, ID_MAX)]
    )
    action = SelectField(
        "Action",
        name="filter[action]",
        choices=[SelectChoice("")] + [SelectChoice(action.value) for action in SHARE_ACTIONS],
        default="",
        validate_choice=False,
    )
    page_after = DigitsIntegerField(
        "After", name="page[after]", default=0, validators=[between(0, ID_MAX)]
    )
    page_size = page_size_field(DEFAULT_FEED_SIZE, MAX_FEED_SIZE)

    def validate_action(self, field):
        if field.data and field.data not in {action.value for action in SHARE_ACTIONS}:
            raise ValidationError(
                "The filter action parameter must be one of "
                + ", ".join(action.value for action in SHARE_ACTIONS)
                + "."
            )


class AuditFilterForm(QueryForm):
    actor = StringField("Actor", filters=[strip])
    kind = SelectField(
        "Kind",
        choices=[SelectChoice("", "Any kind")]
        + [SelectChoice(k.value, k.label) for k in AuditKind],
        default="",
    )
    action = SelectField(
        "Action",
        choices=[SelectChoice("", "Any action")] + [SelectChoice(a.value) for a in AuditAction],
        default="",
    )
    since = DateField("From", validators=[Optional()])
    until = DateField("To", validators=[Optional()])
    # Not shown with the filters: the page links carry it.
    page = DigitsIntegerField("Page", default=1, validators=[between(1, 10**9)])

    def filter_fields(self) -> list:
        return [field for field in self if field is not self.page]

    def active_args(self) -> dict[str, str]:
        """The given filters, for the page links (which add their own page number)."""
        return {
            field.name: field.raw_data[0]
            for field in self.filter_fields()
            if field.raw_data and field.raw_data[0] != ""
        }
