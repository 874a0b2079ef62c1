"""The faster widgets write exactly what WTForms' own write, character for character."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import wtforms.widgets
import wtforms.widgets.core
from markupsafe import Markup
from werkzeug.datastructures import MultiDict
from wtforms import Form
from wtforms.widgets import Select

from webapp.clock import utcnow
from webapp.enums import PeriodType, ShareStatus, SourceType
from webapp.forms import ClaimForm, ShareEditForm, ShareForm
from webapp.forms.admin import StaffForm, TokenForm
from webapp.forms.auth import SignInForm
from webapp.forms.fields import EnumSelectField, required
from webapp.forms.filters import AuditFilterForm, ShareFilterForm
from webapp.forms.widgets import WTFORMS_HTML_PARAMS as html_params
from webapp.forms.widgets import EnumSelect, attributes, render_field

ATTRIBUTES = [
    {},
    {"id": "x", "name": "filter[status]", "type": "text", "value": "v"},
    {"value": "quote \" and <tag> & ampersand ' apostrophe"},
    {"value": Markup("<b>already safe</b>")},
    {"value": 42, "min": 0, "max": 10**9},
    {"checked": True, "disabled": False, "required": True},
    {"class_": "wide", "for_": "field-id"},
    {"data_search_shortcut": True, "data_some_thing": "a_b"},
    {"aria_describedby": "a-help a-error", "aria-invalid": "true"},
    {"placeholder": "Handle, code or profile ID", "autocomplete": "off"},
    {"title": "zoé ✓ 東京", "lang": "ja"},
    {"name": "x", "value": ""},
]


@pytest.mark.parametrize("given", ATTRIBUTES, ids=[str(i) for i in range(len(ATTRIBUTES))])
def test_attributes_are_written_as_wtforms_writes_them(given):
    assert attributes(**given) == html_params(**given)
    assert isinstance(attributes(**given), Markup)


class Choices(Form):
    source_type = EnumSelectField(SourceType, "Source type", validators=[required])
    period_type = EnumSelectField(PeriodType, "Period type", blank="None (never expires)")
    status = EnumSelectField(ShareStatus, "Status", name="filter[status]", id="filter-status")


@pytest.mark.parametrize(
    ("formdata", "data"),
    [
        (None, None),
        (MultiDict(), None),
        (MultiDict({"source_type": "listItem", "period_type": "weeks"}), None),
        (MultiDict({"filter[status]": "expired"}), None),
        (MultiDict({"source_type": "nonsense", "filter[status]": ""}), None),
        (None, {"source_type": SourceType.REWARD, "period_type": PeriodType.ABSOLUTE_WEEK}),
        (None, {"source_type": "benefit", "status": "active"}),  # plain strings, as defaults are
    ],
)
@pytest.mark.parametrize(
    "extra",
    [{}, {"aria-describedby": "f-help f-error", "aria-invalid": "true"}, {"disabled": True}],
)
def test_enum_selects_are_written_as_wtforms_writes_them(formdata, data, extra):
    form = Choices(formdata=formdata, data=data)
    for field in form:
        assert isinstance(field.widget, EnumSelect)
        assert EnumSelect()(field, **extra) == Select()(field, **extra), field.name


def test_the_chosen_option_is_marked_once():
    form = Choices(MultiDict({"source_type": "reward"}))
    html = str(form.source_type())
    assert html.count(" selected") == 1
    assert '<option selected value="reward">Reward</option>' in html
    assert html.startswith('<select id="source_type" name="source_type" required>')


FORMS = {
    "create": lambda: ShareForm(),
    "edit": lambda: ShareEditForm(
        share=SimpleNamespace(created_at=utcnow(), timezone="Australia/Melbourne"),
        data={"code": 'a "quoted" <code>'},
    ),
    "claim": lambda: ClaimForm(),
    "filters": lambda: ShareFilterForm(MultiDict({"filter[search]": "x<y", "sort": "id"})),
    "audit": lambda: AuditFilterForm(MultiDict({"action": "create"})),
    "sign-in": lambda: SignInForm(),
    "staff": lambda: StaffForm(),
    "token": lambda: TokenForm(),
}


@pytest.mark.parametrize("name", FORMS)
def test_every_field_and_label_of_every_form_writes_the_same_html(app, monkeypatch, name):
    """With WTForms' own attribute writer put back, each form renders exactly as with ours."""
    with app.test_request_context("/", method="POST", data={"profile_id": "x&y", "period": "-1"}):
        form = FORMS[name]()
        form.validate()  # errors, and aria attributes from them, as the pages show them

        def rendered():
            extra = {"aria-describedby": "help error", "aria-invalid": "true", "class_": "x"}
            return [(str(field.label), str(field()), str(field(**extra))) for field in form]

        ours = rendered()
        monkeypatch.setattr(wtforms.widgets.core, "html_params", html_params)
        monkeypatch.setattr(wtforms.widgets.core.Input, "html_params", staticmethod(html_params))
        monkeypatch.setattr(wtforms.widgets, "html_params", html_params)
        assert rendered() == ours
        assert len(ours) >= 2


def test_a_field_is_laid_out_with_its_label_help_and_errors_tied_to_its_widget(app):
    with app.test_request_context("/", method="POST", data={"profile_id": "", "code": "<b>"}):
        form = ClaimForm(meta={"csrf": False})
        assert not form.validate()
        form.code.errors.append("Not <this> code.")
        code = str(render_field(form.code, autocomplete="off"))
        profile = str(render_field(form.profile_id))
    assert code.startswith('<div class="field has-error">')
    assert 'aria-describedby="code-help code-error"' in code
    assert 'aria-invalid="true"' in code and 'autocomplete="off"' in code
    assert '<p class="help" id="code-help">The share&#39;s code, or its handle' in code
    assert '<p class="error" id="code-error">Not &lt;this&gt; code.</p>' in code
    assert 'value="&lt;b&gt;"' in code
    assert '<span class="req" aria-hidden="true">*</span>' in profile
    assert "The profile id field is required." in profile


def test_a_checkbox_comes_before_its_label(app):
    with app.test_request_context("/"):
        form = ShareForm(meta={"csrf": False})
        html = str(render_field(form.is_cloneable))
    assert html.startswith('<div class="field field-check">\n<input')
    assert html.index("<input") < html.index("<label")
    assert "aria-invalid" not in html and "has-error" not in html
