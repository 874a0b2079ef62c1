"""WTForms classes: the one validation for the HTML pages, the htmx preview and the JSON API.

``base`` holds the base classes, ``fields`` the validators and field types, ``shares`` the
share forms, and ``adapter`` feeds the same forms from a JSON body.
"""

from .adapter import CONTRACT_ORDER, JSONFormData, field_errors, form_from_json, formdata_from_json
from .base import FieldsBuiltOnce, Form, QueryForm
from .fields import (
    BIGINT_MAX,
    INT_MAX,
    META_MAX_CHARS,
    META_MAX_ITEMS,
    DigitsIntegerField,
    EnumSelectField,
    LinesField,
    TimezoneField,
    ZoneListInput,
    between,
    empty_to_none,
    human,
    max_length,
    meta_items,
    optional,
    required,
    strip,
    timezone_names,
)
from .shares import (
    EXPIRY_FIELDS,
    ClaimForm,
    ExpiryForm,
    ExpiryPreview,
    ShareEditForm,
    ShareForm,
)

__all__ = [
    "BIGINT_MAX",
    "CONTRACT_ORDER",
    "EXPIRY_FIELDS",
    "INT_MAX",
    "META_MAX_CHARS",
    "META_MAX_ITEMS",
    "ClaimForm",
    "DigitsIntegerField",
    "EnumSelectField",
    "ExpiryForm",
    "ExpiryPreview",
    "FieldsBuiltOnce",
    "Form",
    "JSONFormData",
    "LinesField",
    "QueryForm",
    "ShareEditForm",
    "ShareForm",
    "TimezoneField",
    "ZoneListInput",
    "between",
    "empty_to_none",
    "field_errors",
    "form_from_json",
    "formdata_from_json",
    "human",
    "max_length",
    "meta_items",
    "optional",
    "required",
    "strip",
    "timezone_names",
]
