"""The base classes of every form: Flask-WTF's for posted forms, WTForms' for query strings."""

from __future__ import annotations

import wtforms
from flask_wtf import FlaskForm


class Form(FlaskForm):
    """A posted form: CSRF-protected on the pages, fed from JSON (CSRF off) by the API."""


class QueryForm(wtforms.Form):
    """A form read from the query string (filters): nothing changes, so no CSRF."""
