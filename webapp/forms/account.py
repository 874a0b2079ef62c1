"""A staff member's own settings: the time zone their pages show times in."""

from __future__ import annotations

from .base import Form
from .fields import TimezoneField


class DisplayZoneForm(Form):
    timezone = TimezoneField(
        "Display time zone",
        description="History, Audit, Claims and every created or updated time show in this "
        "zone, with UTC when you point at them. A share's expiry stays in the share's own zone.",
    )
