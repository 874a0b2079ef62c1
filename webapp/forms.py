"""WTForms classes: the one validation for the HTML pages, the htmx preview and the JSON API.

The JSON API feeds the same forms through ``formdata_from_json``, which turns JSON types into
form values and reports a wrong type as a field error, so no JSON value can reach a field that
would choke on it.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

from flask import current_app
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, Field, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice, enum_choices, enum_coerce
from wtforms.validators import StopValidation, ValidationError
from wtforms.widgets import DateTimeLocalInput, NumberInput, TextInput

from . import expiry
from .enums import PeriodType, SourceType
from .models import BODY_FIELDS, Share, utcnow

BIGINT_MAX = 2**63 - 1
INT_MAX = 2**31 - 1
META_MAX_ITEMS = 100
META_MAX_CHARS = 1000


def human(name: str) -> str:
    """How messages name a field: ``source_type`` -> ``source type``."""
    return name.replace("[", " ").replace("]", "").replace("_", " ")


@cache
def timezone_names() -> tuple[str, ...]:
    """Every IANA zone name this machine knows, sorted."""
    return tuple(sorted(zoneinfo.available_timezones() - {"Factory", "localtime"}))


# --- validators ---------------------------------------------------------------------------


def required(form, field):
    """The value must be present and not blank."""
    if field.process_errors:
        raise StopValidation()  # a value was given but unreadable: keep that message
    if field.data is None or (isinstance(field.data, str) and not field.data.strip()):
        field.errors[:] = []
        raise StopValidation(f"The {human(field.name)} field is required.")


def optional(form, field):
    """Stop the chain quietly when no value was given."""
    if field.process_errors:
        raise StopValidation()  # a value was given but unreadable: keep that message
    if field.data is None or field.data == "":
        field.errors[:] = []
        raise StopValidation()


# The template marks required fields (and WTForms adds the attribute) from this flag.
required.field_flags = {"required": True}


def max_length(limit: int):
    def check(form, field):
        if field.data is not None and len(field.data) > limit:
            raise ValidationError(
                f"The {human(field.name)} field must not be greater than {limit} characters."
            )

    check.json_schema = {"maxLength": limit}  # read by the OpenAPI document
    return check


def between(low: int, high: int):
    def check(form, field):
        if field.data is not None and not low <= field.data <= high:
            raise ValidationError(
                f"The {human(field.name)} field must be between {low} and {high}."
            )

    check.json_schema = {"minimum": low, "maximum": high}  # read by the OpenAPI document
    return check


def empty_to_none(value):
    """An empty string means null (contract: code, absolute_expiry, timezone)."""
    return None if value == "" else value


def strip(value):
    return value.strip() if isinstance(value, str) else value


# --- fields -------------------------------------------------------------------------------

_DIGITS = re.compile(r"[0-9]{1,19}")


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
        if not _DIGITS.fullmatch(raw):
            raise ValueError(f"The {human(self.name)} field must be an integer.")
        self.data = int(raw)

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else str(self.data)


class EnumSelectField(SelectField):
    """A dropdown over one of the enums; a blank option means "not chosen" (None)."""

    def __init__(self, enum_cls, label=None, validators=None, blank="Choose…", **kwargs):
        to_member = enum_coerce(enum_cls)
        choices = [SelectChoice("", blank)] + enum_choices(enum_cls, label=lambda m: m.label)
        super().__init__(
            label,
            validators,
            coerce=lambda v: to_member(v) if v not in ("", None) else None,
            choices=choices,
            **kwargs,
        )

    def pre_validate(self, form):
        if self.process_errors:
            return
        if self.data is None and self.raw_data and self.raw_data[0] != "":
            # StopValidation: a "required" validator must not replace this with "is required".
            raise StopValidation(f"The selected {human(self.name)} is invalid.")

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
        if self.data not in set(timezone_names()):
            raise ValidationError(
                "The timezone field must be a valid IANA time zone, such as Australia/Melbourne."
            )


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
    """At most 100 items, each at most 1000 characters."""
    if field.data is None:
        return
    if len(field.data) > META_MAX_ITEMS:
        raise ValidationError(f"The meta field must not have more than {META_MAX_ITEMS} items.")
    for number, item in enumerate(field.data, start=1):
        if len(item) > META_MAX_CHARS:
            raise ValidationError(
                f"Meta item {number} must not be greater than {META_MAX_CHARS} characters."
            )


meta_items.json_schema = {"maxItems": META_MAX_ITEMS, "items": {"maxLength": META_MAX_CHARS}}


# --- forms --------------------------------------------------------------------------------

#: The fields whose values decide the expiry; the preview validates only these.
EXPIRY_FIELDS = ("timezone", "period", "period_type", "absolute_expiry", "expires_at")


@dataclass
class ExpiryPreview:
    """What the live preview shows: an expiry, or the reasons there is none yet."""

    expires_at: datetime | None = None
    zone: str = "UTC"
    rule: str = ""
    errors: dict[str, list[str]] = field(default_factory=dict)
    created_at: datetime | None = None
    now: datetime = field(default_factory=utcnow)


class ExpiryForm(FlaskForm):
    """The fields that an edit may change; their expiry rules are shared with create."""

    code = StringField(
        "Code",
        filters=[empty_to_none],
        validators=[optional, max_length(255)],
        description="Optional secret the claimer must give.",
    )
    period = DigitsIntegerField("Period", validators=[optional, between(0, 36500)])
    period_type = EnumSelectField(PeriodType, "Period type", blank="None (never expires)")
    absolute_expiry = StringField(
        "Absolute expiry",
        filters=[strip, empty_to_none],
        validators=[optional, max_length(255)],
        description="YYYY-MM-DD or MM-DD for absolute date, 1–7 for absolute week, "
        "1–31 for absolute month.",
    )
    expires_at = StringField(
        "Expires at",
        filters=[strip, empty_to_none],
        widget=DateTimeLocalInput(),
        render_kw={"step": 1},
        validators=[optional],
        description="An explicit expiry wins over the period; wall-clock time in the share's zone.",
    )
    # "meta" is taken by WTForms' Form.meta, so the attribute differs from the contract's name.
    meta_lines = LinesField(
        "Meta", name="meta", validators=[meta_items], description="One value per line."
    )

    def __init__(self, *args, created_at: datetime | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        # Expiry counts from the creation instant: now for a new share, the stored one on edit.
        self.created_at = created_at or utcnow()

    def zone_name(self) -> str:
        """The share's zone; subclasses say where it comes from."""
        return current_app.config["DEFAULT_TIMEZONE"]

    def normalised_period_type(self) -> PeriodType | None:
        """A period without a period type means days (contract)."""
        if self.period_type.data is None and self.period.data is not None:
            return PeriodType.DAYS
        return self.period_type.data

    def compute_expiry(self, failed: frozenset[str] = frozenset()) -> datetime | None:
        """The expiry these fields give; raises ``expiry.ExpiryError``.

        ``failed`` names fields that did not validate: a bad zone gives way to the default and
        a bad explicit expiry is left out, so the period rules are still checked.
        """
        zone = self.zone_name()
        if "timezone" in failed:
            zone = current_app.config["DEFAULT_TIMEZONE"]
        explicit = None
        if self.expires_at.data is not None and "expires_at" not in failed:
            explicit = expiry.parse_expires_at(self.expires_at.data, zone)
            # The explicit expiry wins (rule 1), but the period fields stored beside it must
            # still be valid, or a later edit could not recompute from them.
            expiry.target_date(
                expiry.local_day(self.created_at, zone),
                self.period.data,
                self.normalised_period_type(),
                self.absolute_expiry.data,
            )
        return expiry.resolve_expiry(
            created_at=self.created_at,
            tz=zone,
            period=self.period.data,
            period_type=self.normalised_period_type(),
            absolute_expiry=self.absolute_expiry.data,
            expires_at=explicit,
        )

    def _check_expiry(self) -> None:
        """Attach an expiry rule violation to the field that caused it."""
        failed = frozenset(n for n in EXPIRY_FIELDS if n in self and self[n].errors)
        # The period rules need readable period fields; a bad zone or explicit expiry does not
        # stop them, so that a 422 names every bad field at once.
        if failed & {"period", "period_type", "absolute_expiry"}:
            # The period rules cannot run, but a bad explicit expiry is still named.
            if self.expires_at.data is not None and "expires_at" not in failed:
                zone = self.zone_name()
                if "timezone" in failed:
                    zone = current_app.config["DEFAULT_TIMEZONE"]
                try:
                    expiry.parse_expires_at(self.expires_at.data, zone)
                except expiry.ExpiryError as error:
                    self.expires_at.errors = [*self.expires_at.errors, error.message]
            return
        while True:
            try:
                self.computed_expires_at = self.compute_expiry(failed)
                return
            except expiry.ExpiryError as error:
                target = error.field if error.field in self else "expires_at"
                if target not in failed:
                    self[target].errors = [*self[target].errors, error.message]
                # Once more without the bad zone or explicit expiry, for the period rules.
                if target in failed or target not in ("timezone", "expires_at"):
                    return
                failed |= {target}

    def validate(self, extra_validators=None) -> bool:
        super().validate(extra_validators)
        self._check_expiry()
        return not self.errors

    def preview(self) -> ExpiryPreview:
        """Validate only the expiry fields and compute the expiry, saving nothing."""
        for name in EXPIRY_FIELDS:
            if name in self:
                self[name].validate(self)
        result = ExpiryPreview(zone=self.zone_name(), created_at=self.created_at)
        self._check_expiry()
        result.errors = {n: self[n].errors for n in EXPIRY_FIELDS if n in self and self[n].errors}
        if not result.errors:
            result.expires_at = self.computed_expires_at
            result.rule = expiry.describe_rule(
                self.created_at,
                result.zone,
                self.period.data,
                self.normalised_period_type(),
                self.absolute_expiry.data,
            )
            if self.expires_at.data is not None:
                result.rule = "the explicit expiry you entered"
        return result


class ShareForm(ExpiryForm):
    """Create a share: every field of the contract's create body."""

    profile_id = StringField("Profile ID", filters=[strip], validators=[required, max_length(255)])
    source_type = EnumSelectField(SourceType, "Source type", validators=[required])
    source_id = DigitsIntegerField("Source ID", validators=[required, between(1, BIGINT_MAX)])
    timezone = TimezoneField("Time zone")
    quantity = DigitsIntegerField("Quantity", default=1, validators=[optional])
    remaining_quantity = DigitsIntegerField(
        "Remaining quantity",
        validators=[optional, between(0, INT_MAX)],
        description="Claims left. Blank: 1, or unlimited for a cloneable share.",
    )
    is_cloneable = BooleanField("Cloneable", description="Each claim gets a copy.")

    def zone_name(self) -> str:
        return self.timezone.data or current_app.config["DEFAULT_TIMEZONE"]

    def validate_quantity(self, field):
        if field.data is not None and field.data != 1:
            raise ValidationError("The quantity field must be 1.")

    def validate_remaining_quantity(self, field):
        if field.data is not None and field.data > 1 and not self.is_cloneable.data:
            raise ValidationError(
                "The remaining quantity field must be 0 or 1 when the share is not cloneable."
            )

    def share_values(self) -> dict:
        """Model column values from valid data, with the contract's defaults applied."""
        remaining = self.remaining_quantity.data
        if remaining is None and not self.is_cloneable.data:
            remaining = 1
        return {
            "profile_id": self.profile_id.data,
            "source_type": self.source_type.data,
            "source_id": self.source_id.data,
            "code": self.code.data,
            "timezone": self.zone_name(),
            "period": self.period.data,
            "period_type": self.normalised_period_type(),
            "absolute_expiry": self.absolute_expiry.data,
            "expires_at": self.computed_expires_at,
            "quantity": 1,
            "remaining_quantity": remaining,
            "meta": self.meta_lines.data,
            "is_cloneable": bool(self.is_cloneable.data),
            "created_at": self.created_at,
            "updated_at": self.created_at,
        }


class ShareEditForm(ExpiryForm):
    """Edit a share: only the contract's editable fields; expiry counts from its creation."""

    EDITABLE = ("code", "period", "period_type", "absolute_expiry", "expires_at", "meta")

    def __init__(self, *args, share: Share, **kwargs):
        self.share = share
        super().__init__(*args, created_at=share.created_at, **kwargs)

    @staticmethod
    def initial_data(share: Share, show_explicit_expiry: bool = True) -> dict:
        """The share's editable values as form data.

        Only an explicit stored expiry is shown in ``expires_at``: a computed one follows the
        period fields. The API leaves it out, since there an absent ``expires_at`` keeps it.
        """
        data = {
            "code": share.code,
            "period": share.period,
            "period_type": share.period_type,
            "absolute_expiry": share.absolute_expiry,
            "meta_lines": share.meta,
            "expires_at": None,
        }
        if show_explicit_expiry and share.expiry_is_explicit:
            local = share.expires_at.astimezone(zoneinfo.ZoneInfo(share.timezone))
            data["expires_at"] = local.strftime("%Y-%m-%dT%H:%M:%S")
        return data

    def zone_name(self) -> str:
        return self.share.timezone

    def apply(self, present: set[str]) -> None:
        """Write the fields named in ``present`` to the share, then expiry rule 7."""
        values = {
            "code": self.code.data,
            "period": self.period.data,
            "period_type": self.normalised_period_type(),
            "absolute_expiry": self.absolute_expiry.data,
            "meta": self.meta_lines.data,
        }
        for name, value in values.items():
            if name in present or (name == "period_type" and "period" in present):
                setattr(self.share, name, value)
        if self.expires_at.data is not None:
            # An explicit expiry posted back as it was shown keeps its stored instant: the
            # wall clock cannot tell the two occurrences of a repeated (DST) hour apart.
            if not self._expiry_posted_back_unchanged():
                self.share.expires_at = self.computed_expires_at
        elif present & {"expires_at", "period", "period_type", "absolute_expiry"}:
            self.share.recompute_expiry()


    def _expiry_posted_back_unchanged(self) -> bool:
        shown = self.expires_at.object_data
        if shown is None:
            return False
        try:  # "02:30" from the browser is the "02:30:00" it was shown
            return datetime.fromisoformat(self.expires_at.data) == datetime.fromisoformat(shown)
        except ValueError:
            return False


class ClaimForm(FlaskForm):
    """Claim a share: the claimer, the share's code (or handle) and optional meta."""

    profile_id = StringField(
        "Claimer profile ID", filters=[strip], validators=[required, max_length(255)]
    )
    code = StringField(
        "Code",
        validators=[required, max_length(255)],
        description="The share's code, or its handle when it has no code.",
    )
    meta_lines = LinesField(
        "Meta", name="meta", validators=[meta_items], description="One value per line."
    )


# --- JSON adapter -------------------------------------------------------------------------


class JSONFormData(MultiDict):
    """Form data made from a JSON object; JSON arrays travel beside it whole."""

    def __init__(self, mapping=None):
        super().__init__(mapping)
        self.json_lists: dict[str, list[str]] = {}


def _is_text(value) -> bool:
    """A str that can be stored: JSON allows lone surrogates ("\\ud800"), UTF-8 does not."""
    if not isinstance(value, str):
        return False
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def formdata_from_json(form: FlaskForm, payload: dict) -> tuple[JSONFormData, dict]:
    """Turn a JSON object into form data for ``form``, with an error for each wrong type.

    ``null`` and absent are the same (the field's default); unknown keys are ignored.
    """
    formdata = JSONFormData()
    errors: dict[str, list[str]] = {}
    for field_ in form:
        name = field_.name
        if name == "csrf_token" or name not in payload:
            continue
        value, label = payload[name], human(name)
        if value is None:
            # null is an explicit blank: the default on create, a cleared value on edit.
            formdata[name] = ""
            continue
        if isinstance(field_, DigitsIntegerField):
            if isinstance(value, int) and not isinstance(value, bool):
                if value < 0:
                    errors[name] = [f"The {label} field must be at least 0."]
                else:
                    formdata[name] = str(value)
            # "" is no integer: only code, absolute_expiry and timezone read "" as null.
            elif _is_text(value) and value != "":
                formdata[name] = value
            else:
                errors[name] = [f"The {label} field must be an integer."]
        elif isinstance(field_, BooleanField):
            if not isinstance(value, bool):
                errors[name] = [f"The {label} field must be true or false."]
            elif value:
                formdata[name] = "y"
        elif isinstance(field_, LinesField):
            if isinstance(value, list) and all(_is_text(item) for item in value):
                formdata.json_lists[name] = value
            else:
                errors[name] = [f"The {label} field must be an array of strings."]
        elif _is_text(value):
            formdata[name] = value
        else:
            errors[name] = [f"The {label} field must be a string."]
    return formdata, errors


def form_from_json(form_cls, payload: dict, obj=None, data=None, **kwargs):
    """Build and validate ``form_cls`` from a JSON object; type errors win over the form's.

    Fields absent from the payload take their value from ``obj``/``data`` (an edit keeps them).
    """
    form = form_cls(formdata=None, obj=obj, data=data, meta={"csrf": False}, **kwargs)
    formdata, type_errors = formdata_from_json(form, payload)
    form.process(formdata, obj=obj, data=data)
    form.validate()
    by_name = {field_.name: field_ for field_ in form}
    for name, messages in type_errors.items():
        by_name[name].errors = messages
    return form, not form.errors


#: The contract's field order, so that a 422's message names the first bad field in it.
CONTRACT_ORDER = BODY_FIELDS


def field_errors(form: FlaskForm) -> dict[str, list[str]]:
    """Errors keyed by the contract's field names (the HTML names), in the contract's order."""
    found = {field_.name: list(field_.errors) for field_ in form if field_.errors}
    rank = {name: position for position, name in enumerate(CONTRACT_ORDER)}
    return dict(sorted(found.items(), key=lambda item: rank.get(item[0], len(rank))))
