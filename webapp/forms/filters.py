"""The filter forms read from query strings: the share list (page, CSV and API) and the audit
trail. Field names are the query parameter names of the contract (``filter[status]``, ``sort``,
``page[number]``), so a filtered page of the browser list is bookmarkable and reads like the API
call."""

from __future__ import annotations

from werkzeug.datastructures import MultiDict
from wtforms import DateField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional, ValidationError
from wtforms.widgets import SearchInput

from ..enums import AuditAction, AuditKind, PeriodType, ShareStatus, SourceType
from .base import QueryForm
from .fields import BIGINT_MAX, DigitsIntegerField, EnumSelectField, between, human, strip

SORT_FIELDS = ("id", "created_at", "updated_at", "expires_at", "remaining_quantity")
DEFAULT_SORT = "-id"
DEFAULT_PAGE_SIZE = 15
MAX_PAGE_SIZE = 100
BOOLEAN_WORDS = {"true": True, "1": True, "false": False, "0": False}


class ShareFilterForm(QueryForm):
    """List parameters. Field names are the query parameter names of the contract."""

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
    sort = SelectField(
        "Sort",
        choices=[SelectChoice(f"{sign}{f}") for f in SORT_FIELDS for sign in ("-", "")],
        default=DEFAULT_SORT,
        validate_choice=False,
    )
    page_number = DigitsIntegerField(
        "Page", name="page[number]", default=1, validators=[between(1, 10**9)]
    )
    page_size = DigitsIntegerField(
        "Per page",
        name="page[size]",
        default=DEFAULT_PAGE_SIZE,
        validators=[between(1, MAX_PAGE_SIZE)],
    )

    def __init__(self, args: MultiDict, **kwargs):
        super().__init__(args, **kwargs)
        known = {field.name for field in self}
        self.unknown = sorted(
            key for key in args if key.startswith(("filter[", "page[")) and key not in known
        )

    def validate_is_cloneable(self, field):
        if field.data not in (None, "") and field.data not in BOOLEAN_WORDS:
            raise ValidationError("The filter is cloneable parameter must be true, false, 1 or 0.")

    def validate_sort(self, field):
        # removeprefix, not lstrip: "--id" is not a sort.
        if field.data.removeprefix("-") not in SORT_FIELDS:
            raise ValidationError(
                "The sort parameter must be one of "
                + ", ".join(SORT_FIELDS)
                + ", optionally prefixed with - for descending."
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

    def active_args(self) -> dict[str, str]:
        """The given parameters, for links that keep the current view.

        A given page size is always kept: the API's default (15) is not the list page's (25).
        """
        args = {}
        for field in self:
            raw = field.raw_data[0] if field.raw_data else ""
            if raw != "" and field.name != "page[number]":
                if field.name == "sort" and raw == DEFAULT_SORT:
                    continue
                args[field.name] = raw
        return args

    def filters(self) -> dict[str, object]:
        """The given ``filter[...]`` fields of valid data, by field: ``is_cloneable`` a bool."""
        found = {}
        for name, field in self._fields.items():
            if field.name.startswith("filter[") and field.data not in (None, ""):
                found[name] = BOOLEAN_WORDS[field.data] if name == "is_cloneable" else field.data
        return found

    @property
    def filtered(self) -> bool:
        """Whether any filter narrows the list (for the empty state's wording)."""
        return any(name.startswith("filter[") for name in self.active_args())


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
