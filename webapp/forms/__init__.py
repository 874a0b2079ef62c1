"""Every WTForms class: the one validation for the HTML pages, the htmx preview, the JSON API and
(through ``adapter``) anything else that arrives as data.

One module per surface: ``shares`` (create and edit, with the expiry rules they share with the
preview), ``claims``, ``filters`` (the list's and the audit trail's query strings), ``auth`` and
``admin``. ``base`` and ``fields`` hold what they are built from; ``adapter`` feeds a JSON body
to any of them.
"""

from .adapter import field_errors, form_from_json, formdata_from_json, json_checker
from .base import Form, QueryForm
from .claims import ClaimForm
from .shares import ShareEditForm, ShareForm

__all__ = [
    "ClaimForm",
    "Form",
    "QueryForm",
    "ShareEditForm",
    "ShareForm",
    "field_errors",
    "form_from_json",
    "formdata_from_json",
    "json_checker",
]
