"""The share forms, create and edit, and the expiry rules they share with the live preview."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from wtforms import BooleanField, StringField
from wtforms.validators import ValidationError
from wtforms.widgets import DateTimeLocalInput

from .. import expiry
from ..clock import utcnow
from ..enums import PeriodType, SourceType
from ..models import Share
from .base import Form
from .fields import (
    BIGINT_MAX,
    INT_MAX,
    DigitsIntegerField,
    EnumSelectField,
    LinesField,
    TimezoneField,
    between,
    empty_to_none,
    max_length,
    meta_items,
    not_blank,
    optional,
    required,
    strip,
)

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
    #: Of a share that exists (an edit), not one about to be made.
    existing: bool = False


class ExpiryForm(Form):
    """The fields that an edit may change; their expiry rules are shared with create."""

    #: Whether the form changes a share that exists (its preview says so).
    EXISTING = False

    code = StringField(
        "Code",
        filters=[empty_to_none],
        # A code of spaces could never be claimed: a claim's code is required, not blank.
        validators=[optional, not_blank, max_length(255)],
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
        result = ExpiryPreview(
            zone=self.zone_name(), created_at=self.created_at, existing=self.EXISTING
        )
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
    quantity = DigitsIntegerField("Quantity", default=1, validators=[optional, between(1, 1)])
    remaining_quantity = DigitsIntegerField(
        "Remaining quantity",
        validators=[optional, between(0, INT_MAX)],
        description="Claims left. Blank: 1, or unlimited for a cloneable share.",
    )
    is_cloneable = BooleanField("Cloneable", description="Each claim gets a copy.")

    def zone_name(self) -> str:
        return self.timezone.data or current_app.config["DEFAULT_TIMEZONE"]

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
    EXISTING = True

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

    def changes(self, present: set[str]) -> tuple[dict, bool]:
        """The values to write for the fields named in ``present``, and whether the expiry must
        be recomputed from the period fields (expiry rule 7), for ``shares.edit``."""
        values = {
            "code": self.code.data,
            "period": self.period.data,
            "period_type": self.normalised_period_type(),
            "absolute_expiry": self.absolute_expiry.data,
            "meta": self.meta_lines.data,
        }
        values = {
            name: value
            for name, value in values.items()
            if name in present or (name == "period_type" and "period" in present)
        }
        if self.expires_at.data is not None:
            # An explicit expiry posted back as it was shown keeps its stored instant: the
            # wall clock cannot tell the two occurrences of a repeated (DST) hour apart.
            if not self._expiry_posted_back_unchanged():
                values["expires_at"] = self.computed_expires_at
            return values, False
        return values, bool(present & {"expires_at", "period", "period_type", "absolute_expiry"})

    def _expiry_posted_back_unchanged(self) -> bool:
        shown = self.expires_at.object_data
        if shown is None:
            return False
        try:  # "02:30" from the browser is the "02:30:00" it was shown
            return datetime.fromisoformat(self.expires_at.data) == datetime.fromisoformat(shown)
        except ValueError:
            return False
