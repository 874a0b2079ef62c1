"""The claim form: who claims, with which code, and what they note."""

from __future__ import annotations

from wtforms import StringField

from .base import Form
from .fields import LinesField, max_length, meta_items, required, strip


class ClaimForm(Form):
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
