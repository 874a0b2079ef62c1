"""The bulk actions' form: which shares (the ticked ones, or every share matching the list's
filters) and, once confirmed, how many the confirmation named."""

from __future__ import annotations

from wtforms import BooleanField
from wtforms.validators import ValidationError

from .fields import DigitsIntegerField, IdListField, between
from .filters import ShareFilterForm


class BulkForm(ShareFilterForm):
    """The list's filters, with the ticked ids or "every share matching"; read from the query
    string on the confirmation page and from the posted form when confirmed."""

    ids = IdListField("Shares", name="id")
    select_all = BooleanField("Every share matching these filters", name="all")
    count = DigitsIntegerField("Count", name="count", validators=[between(0, 10**12)])

    def validate_ids(self, field):
        if not field.data and not self.select_all.data:
            raise ValidationError(
                "Choose the shares first: tick them in the list, or select all that match."
            )

    def selected_ids(self) -> list[int] | None:
        """The ticked ids; None for every share matching the filters."""
        return None if self.select_all.data else self.ids.data
