"""Exactly WTForms' HTML, written faster: the pages render forms on every request.

WTForms writes each attribute of a field or label through ``Markup.format`` (Python's string
formatter, escaping as it goes), and each ``<option>`` through the same, so the list's filter
dropdowns cost more than the rest of its form, and the create form's 37 source types more than
its other fields together. ``attributes`` writes the same text with markupsafe's ``escape``, and
``use_attributes`` has WTForms' own widgets and labels call it (their logic stays WTForms');
``EnumSelect`` has WTForms write an enum's options once per process, and at each render only
picks the chosen one. tests/unit/test_widgets.py holds both to WTForms' own output;
docs/design.md has the figures. ``render_field`` lays a field out as every page does.
"""

from __future__ import annotations

from functools import cache

import wtforms.widgets
import wtforms.widgets.core
from markupsafe import Markup, escape
from wtforms.fields.choices import Choice
from wtforms.widgets import Select
from wtforms.widgets.core import clean_key

#: WTForms' own attribute writer, kept for the tests that compare ``attributes`` with it.
WTFORMS_HTML_PARAMS = wtforms.widgets.core.html_params


def attributes(**kwargs) -> Markup:
    """WTForms' ``html_params``: sorted ``key="escaped value"``, ``True`` bare, ``False`` left out,
    ``class_``/``for_`` without their underscore, ``data_``/``aria_`` with hyphens."""
    written = []
    for key, value in sorted(kwargs.items()):
        if value is True:
            written.append(clean_key(key))
        elif value is not False:
            written.append(f'{escape(clean_key(key))}="{escape(value)}"')
    return Markup(" ".join(written))


def use_attributes() -> None:
    """Have WTForms' widgets (``Input`` and its kinds, ``TextArea``, ``Select``) and labels
    write their attributes with ``attributes``: the three names they call it by."""
    wtforms.widgets.core.html_params = attributes
    wtforms.widgets.core.Input.html_params = staticmethod(attributes)
    wtforms.widgets.html_params = attributes  # Label's


@cache
def _options(choices: tuple[tuple[str, str], ...]) -> dict[str, tuple[Markup, Markup]]:
    """Each option as WTForms writes it, unselected and selected, by value."""
    return {
        value: (
            Select.render_option(Choice(value, label, False, None)),
            Select.render_option(Choice(value, label, True, None)),
        )
        for value, label in choices
    }


class EnumSelect(Select):
    """A ``<select>`` over an enum field's fixed choices (``fields.EnumSelectField``)."""

    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", field.id)
        for flag in self.validation_attrs:
            if flag not in kwargs and getattr(field.flags, flag, False):
                kwargs[flag] = getattr(field.flags, flag)
        data = field.data
        chosen = "" if data is None else str(getattr(data, "value", data))
        options = _options(field.option_pairs)
        html = [f"<select {attributes(name=field.name, **kwargs)}>"]
        html += [pair[value == chosen] for value, pair in options.items()]
        html.append("</select>")
        return Markup("".join(html))


def render_field(field, **attrs) -> Markup:
    """A form field as every page lays it out: its label (``*`` when required), its widget, its
    help and its errors, the widget pointing at both for screen readers (``aria-describedby``,
    ``aria-invalid``); a checkbox before its label. ``attrs`` go to the widget
    (``autocomplete``, ...). A function rather than a Jinja macro: a form writes a dozen a page,
    and a macro call costs more than the field's own HTML."""
    described = []
    if field.description:
        described.append(f"{field.id}-help")
    if field.errors:
        described.append(f"{field.id}-error")
        attrs = {"aria-invalid": "true", **attrs}
    if described:
        attrs = {"aria-describedby": " ".join(described), **attrs}
    is_check = field.type == "BooleanField"
    classes = "field" + (" has-error" if field.errors else "")
    classes += " field-check" if is_check else ""
    html = [f'<div class="{classes}">']
    if is_check:
        html.append(f"{field(**attrs)} {field.label}")
    else:
        required = ' <span class="req" aria-hidden="true">*</span>' if field.flags.required else ""
        html.append(f'<span class="label-row">{field.label}{required}</span>')
        html.append(str(field(**attrs)))
    if field.description:
        html.append(f'<p class="help" id="{escape(field.id)}-help">{escape(field.description)}</p>')
    if field.errors:
        html.append(
            f'<p class="error" id="{escape(field.id)}-error">{Markup(" ").join(field.errors)}</p>'
        )
    html.append("</div>")
    return Markup("\n".join(html))
