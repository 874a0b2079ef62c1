"""The base classes of every form: Flask-WTF's for posted forms, WTForms' for query strings."""

from __future__ import annotations

import wtforms
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict

from .fields import human


class Form(FlaskForm):
    """A posted form: CSRF-protected on the pages, fed from JSON (CSRF off) by the API."""


class QueryForm(wtforms.Form):
    """A form read from the query string (filters): nothing changes, so no CSRF.

    A parameter given more than once (``page[size]=10&page[size]=20``) is refused on every list,
    page or API (contract, List): which of its values counts would be a guess. Only a field that
    is a list (``repeatable``, the ticked rows' ``id=3&id=7``) takes several.
    """

    def __init__(self, args: MultiDict, **kwargs):
        super().__init__(formdata=args, **kwargs)
        lists = {field.name for field in self if getattr(field, "repeatable", False)}
        #: Errors about the query string as a whole, by parameter name.
        self.query_errors = {
            key: [f"The {human(key)} parameter must be given once, not {len(values)} times."]
            for key, values in args.lists()
            if len(values) > 1 and key not in lists
        }

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        return valid and not self.query_errors
