"""The base classes of every form: Flask-WTF's for posted forms, WTForms' for query strings.

Both build their declared fields once (``FieldsBuiltOnce``), not once per request.
"""

from __future__ import annotations

import wtforms
from flask_wtf import FlaskForm
from wtforms import Field, FieldList, FormField
from wtforms.csrf.core import CSRFTokenField

#: (declared field, name, prefix) -> the field built from it once. Bounded by the declared
#: fields, as long as no form is given a prefix that changes per request.
_PROTOTYPES: dict[tuple, Field] = {}


class FieldsBuiltOnce:
    """A form ``Meta``: each declared field is built once, and every form gets a copy of it.

    WTForms builds every field anew for each form (its label, flags and a check of its
    validators): over a third of the time an API create spends in its form. What that build
    makes is never changed afterwards (views and templates only read labels, flags, choices and
    widgets), so the copies share it; each copy takes its own form's meta and translations and
    is processed as usual. A CSRF field holds its own form's token, and a nested form its own
    fields: those are built as WTForms builds them.
    """

    def bind_field(self, form, unbound_field, options):
        if issubclass(unbound_field.field_class, CSRFTokenField | FormField | FieldList):
            return super().bind_field(form, unbound_field, options)
        key = (unbound_field, options["name"], options["prefix"])
        prototype = _PROTOTYPES.get(key)
        if prototype is None:
            prototype = _PROTOTYPES[key] = super().bind_field(form, unbound_field, options)
        field = object.__new__(type(prototype))
        field.__dict__.update(prototype.__dict__)
        field.meta = form.meta
        if options["translations"] is not None:
            field._translations = options["translations"]
        return field


class Form(FlaskForm):
    """A posted form: CSRF-protected on the pages, fed from JSON (CSRF off) by the API."""

    Meta = FieldsBuiltOnce


class QueryForm(wtforms.Form):
    """A form read from the query string (filters): nothing changes, so no CSRF."""

    Meta = FieldsBuiltOnce
