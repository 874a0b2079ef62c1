"""The JSON adapter: turns a JSON object into form data, so the API validates with the same forms.

JSON types become form values and a wrong type becomes a field error, so no JSON value can reach
a field that would choke on it.
"""

from __future__ import annotations

from collections.abc import Iterable

from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, Field

from ..models import BODY_FIELDS
from .base import Form
from .fields import DigitsIntegerField, EnumSelectField, LinesField, human, not_an_integer


class JSONFormData(MultiDict):
    """Form data made from a JSON object; JSON arrays travel beside it whole."""

    def __init__(self, mapping=None):
        super().__init__(mapping)
        self.json_lists: dict[str, list[str]] = {}


class LongInteger:
    """A JSON integer with more digits than ``int()`` reads, kept as its text.

    ``int()`` refuses more than ``sys.get_int_max_str_digits()`` (4,300 by default), as their
    conversion takes quadratic time. The body is still valid JSON, so its field gets the error
    of any integer out of its range (a 422 naming the field), not the 400 of a broken body.
    """

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text

    def __str__(self) -> str:
        return self.text


def parse_int(text: str) -> int | LongInteger:
    """``json.loads``' ``parse_int``: the integer, or a ``LongInteger`` past int()'s limit."""
    try:
        return int(text)
    except ValueError:  # the text is a JSON integer: only its length can be refused
        return LongInteger(text)


def _is_text(value) -> bool:
    """A str that can be stored: JSON allows lone surrogates ("\\ud800"), UTF-8 does not."""
    if not isinstance(value, str):
        return False
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def formdata_from_json(fields: Iterable[Field], payload: dict) -> tuple[JSONFormData, dict]:
    """Turn a JSON object into form data for a form's ``fields`` (or the form itself), with an
    error for each wrong type.

    ``null`` and absent are the same (the field's default); unknown keys are ignored.
    """
    formdata = JSONFormData()
    errors: dict[str, list[str]] = {}
    for field_ in fields:
        name = field_.name
        if name == "csrf_token" or name not in payload:
            continue
        value, label = payload[name], human(name)
        if value is None:
            # null is an explicit blank: the default on create, a cleared value on edit.
            formdata[name] = ""
            continue
        if isinstance(field_, DigitsIntegerField):
            if isinstance(value, int | LongInteger) and not isinstance(value, bool):
                # The field reads the digits, and names its range to one outside every range
                # (below 0, or longer than any column holds), as it does on a page.
                formdata[name] = str(value)
            # "" is no integer: only code, absolute_expiry and timezone read "" as null.
            elif _is_text(value) and value != "":
                formdata[name] = value
            else:
                errors[name] = [not_an_integer(name)]
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
        elif isinstance(field_, EnumSelectField) and value == "":
            # The page's blank option is no enum value: in JSON, null means "none".
            errors[name] = [f"The selected {label} is invalid."]
        elif _is_text(value):
            formdata[name] = value
        else:
            errors[name] = [f"The {label} field must be a string."]
    return formdata, errors


_FIELDS: dict[type, tuple[Field, ...]] = {}


def _fields_of(form_cls, **kwargs) -> tuple[Field, ...]:
    """The fields of ``form_cls``, from one instance made once: only their names and kinds
    are read, so each request builds and processes its form a single time."""
    fields = _FIELDS.get(form_cls)
    if fields is None:
        fields = _FIELDS[form_cls] = tuple(form_cls(formdata=None, meta={"csrf": False}, **kwargs))
    return fields


def form_from_json(form_cls, payload: dict, obj=None, data=None, **kwargs):
    """Build and validate ``form_cls`` from a JSON object; type errors win over the form's.

    Fields absent from the payload take their value from ``obj``/``data`` (an edit keeps them).
    """
    formdata, type_errors = formdata_from_json(_fields_of(form_cls, **kwargs), payload)
    form = form_cls(formdata=formdata, obj=obj, data=data, meta={"csrf": False}, **kwargs)
    return _validated(form, type_errors)


def json_checker(form_cls, **kwargs):
    """``check(payload) -> (form, valid)``: ``form_from_json`` for many JSON objects in a row
    (the rows of a CSV file), with one ``form_cls`` bound once and filled again for each.

    Binding a form's fields costs more than validating them; a file of 10,000 rows would pay
    it 10,000 times (docs/design.md has the figures). The form is the same object each time:
    read what you need from it before the next check.
    """
    form = form_cls(formdata=None, meta={"csrf": False}, **kwargs)

    def check(payload: dict):
        formdata, type_errors = formdata_from_json(form, payload)
        form.process(formdata)
        return _validated(form, type_errors)

    return check


def _validated(form, type_errors: dict[str, list[str]]):
    """Validate ``form``, then put the JSON type errors in place of its fields' own."""
    valid = form.validate()
    if type_errors:
        by_name = {field_.name: field_ for field_ in form}
        for name, messages in type_errors.items():
            by_name[name].errors = messages
    return form, valid and not type_errors


#: The contract's field order, so that a 422's message names the first bad field in it.
CONTRACT_ORDER = BODY_FIELDS


_RANK = {name: position for position, name in enumerate(CONTRACT_ORDER)}


def field_errors(form: Form) -> dict[str, list[str]]:
    """Errors keyed by the contract's field names (the HTML names), in the contract's order."""
    return in_contract_order({f.name: list(f.errors) for f in form if f.errors})


def in_contract_order(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    """``errors`` with the contract's fields in its order; other keys come after them."""
    return dict(sorted(errors.items(), key=lambda item: _RANK.get(item[0], len(_RANK))))


def required_fields(form_cls) -> tuple[str, ...]:
    """The names of the fields of ``form_cls`` that are required."""
    return tuple(field_.name for field_ in _fields_of(form_cls) if field_.flags.required)
