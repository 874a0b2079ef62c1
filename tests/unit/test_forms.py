"""The JSON adapter: ``formdata_from_json`` and ``form_from_json`` feed JSON into ShareForm."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from webapp.enums import PeriodType, SourceType
from webapp.forms import ShareForm, field_errors, form_from_json, formdata_from_json

VALID = {"profile_id": "profile-1", "source_id": 12, "source_type": "reward"}
CONTRACT_ORDER = [
    "profile_id", "source_id", "source_type", "code", "timezone", "period", "period_type",
    "absolute_expiry", "expires_at", "quantity", "remaining_quantity", "meta", "is_cloneable",
]  # fmt: skip


@pytest.fixture
def request_ctx(app):
    with app.test_request_context():
        yield


@pytest.fixture
def share_form(request_ctx):
    """An unprocessed ShareForm, as form_from_json builds it."""
    return ShareForm(formdata=None, meta={"csrf": False})


def must_be(field: str, kind: str) -> str:
    return f"The {field.replace('_', ' ')} field must be {kind}."


# --- formdata_from_json: each JSON type per field kind -------------------------------------

INTEGER_FIELDS = ["source_id", "period", "quantity", "remaining_quantity"]
TEXT_FIELDS = [  # StringField, EnumSelectField and TimezoneField all take a JSON string
    "profile_id", "code", "absolute_expiry", "expires_at", "source_type", "period_type",
    "timezone",
]  # fmt: skip


@pytest.mark.parametrize("field", INTEGER_FIELDS)
@pytest.mark.parametrize(
    ("value", "expected"),
    [(12, "12"), (0, "0"), (2**63, str(2**63)), ("12", "12"), ("abc", "abc"), ("-1", "-1")],
)
def test_integer_fields_take_json_integers_and_strings_as_text(share_form, field, value, expected):
    # Strings pass through untouched: the form's DigitsIntegerField judges them.
    formdata, errors = formdata_from_json(share_form, {field: value})
    assert errors == {}
    assert formdata.getlist(field) == [expected]


@pytest.mark.parametrize("field", INTEGER_FIELDS)
@pytest.mark.parametrize("value", [12.5, 1.0, True, False, "", [], [12], {}, {"n": 1}, "\ud800"])
def test_integer_fields_refuse_other_json_types(share_form, field, value):
    formdata, errors = formdata_from_json(share_form, {field: value})
    assert errors == {field: [must_be(field, "an integer")]}
    assert field not in formdata


#: What a whole number outside every range is told: the field's own range, where it has one.
OUT_OF_RANGE = {
    "source_id": "between 1 and 9223372036854775807",
    "period": "between 0 and 36500",
    "quantity": "1",  # its range is 1 to 1
    "remaining_quantity": "between 0 and 2147483647",
}


@pytest.mark.parametrize("field", INTEGER_FIELDS)
@pytest.mark.parametrize("value", [-1, "-1"])
def test_negative_integers_are_told_the_fields_range(request_ctx, field, value):
    form, valid = form_from_json(ShareForm, {**VALID, field: value})
    assert not valid
    assert form.errors[field][0] == must_be(field, OUT_OF_RANGE[field])
    assert form.data[field] is None


@pytest.mark.parametrize("field", ["source_id", "period", "remaining_quantity"])
@pytest.mark.parametrize("value", [10**19, 10**40, "9" * 25, "00" + "9" * 20])
def test_integers_longer_than_any_column_are_told_the_fields_range(request_ctx, field, value):
    form, valid = form_from_json(ShareForm, {**VALID, field: value})
    assert not valid
    assert form.errors[field][0] == must_be(field, OUT_OF_RANGE[field])


@pytest.mark.parametrize(("value", "expected"), [(True, "y"), (False, "")])
def test_boolean_field_takes_json_booleans(share_form, value, expected):
    formdata, errors = formdata_from_json(share_form, {"is_cloneable": value})
    assert errors == {}
    assert formdata.get("is_cloneable", "") == expected


@pytest.mark.parametrize("value", ["true", "false", "yes", 1, 0, 1.0, [], {}, [True]])
def test_boolean_field_refuses_other_json_types(share_form, value):
    formdata, errors = formdata_from_json(share_form, {"is_cloneable": value})
    assert errors == {"is_cloneable": [must_be("is_cloneable", "true or false")]}
    assert "is_cloneable" not in formdata


@pytest.mark.parametrize("value", [["a", "b"], [], ["line\nbreak", ""]])
def test_lines_field_takes_a_json_array_of_strings_whole(share_form, value):
    formdata, errors = formdata_from_json(share_form, {"meta": value})
    assert errors == {}
    assert formdata.json_lists == {"meta": value}
    assert "meta" not in formdata  # not split into lines: the array travels beside the form


@pytest.mark.parametrize(
    "value", ["a\nb", "", 1, True, {"a": "b"}, [1], ["a", None], [["a"]], [{"a": 1}], ["\ud800"]]
)
def test_lines_field_refuses_anything_but_an_array_of_strings(share_form, value):
    formdata, errors = formdata_from_json(share_form, {"meta": value})
    assert errors == {"meta": [must_be("meta", "an array of strings")]}
    assert formdata.json_lists == {}


@pytest.mark.parametrize("field", TEXT_FIELDS)
@pytest.mark.parametrize("value", ["x", "  padded  ", "Australia/Melbourne"])
def test_text_fields_take_json_strings_as_given(share_form, field, value):
    formdata, errors = formdata_from_json(share_form, {field: value})
    assert errors == {}
    assert formdata.getlist(field) == [value]


@pytest.mark.parametrize(
    "field", ["profile_id", "code", "absolute_expiry", "expires_at", "timezone"]
)
def test_an_empty_string_reaches_the_text_fields(share_form, field):
    formdata, errors = formdata_from_json(share_form, {field: ""})
    assert errors == {}
    assert formdata.getlist(field) == [""]


@pytest.mark.parametrize("field", ["source_type", "period_type"])
def test_an_empty_string_is_no_enum_value(share_form, field):
    """The contract reads "" as null only for code, absolute_expiry and timezone."""
    formdata, errors = formdata_from_json(share_form, {field: ""})
    assert errors == {field: [f"The selected {field.replace('_', ' ')} is invalid."]}
    assert field not in formdata


@pytest.mark.parametrize("field", TEXT_FIELDS)
@pytest.mark.parametrize("value", [5, 0, 1.5, True, False, [], ["x"], {}, {"a": "b"}, "\ud800"])
def test_text_fields_refuse_other_json_types(share_form, field, value):
    formdata, errors = formdata_from_json(share_form, {field: value})
    assert errors == {field: [must_be(field, "a string")]}
    assert field not in formdata


@pytest.mark.parametrize("field", CONTRACT_ORDER)
def test_null_is_no_error_and_no_value(share_form, field):
    formdata, errors = formdata_from_json(share_form, {field: None})
    assert errors == {}
    assert formdata.get(field, "") == ""
    assert formdata.json_lists == {}


def test_unknown_and_csrf_keys_are_ignored(share_form):
    payload = {"colour": "blue", "id": 5, "handle": "h", "csrf_token": "t", "meta_lines": ["x"]}
    formdata, errors = formdata_from_json(share_form, payload)
    assert errors == {}
    assert list(formdata.keys()) == [] and formdata.json_lists == {}


# --- form_from_json ------------------------------------------------------------------------


def test_valid_json_gives_a_valid_form_without_a_csrf_token(app, request_ctx):
    assert app.config["WTF_CSRF_ENABLED"] is True
    form, valid = form_from_json(
        ShareForm, {**VALID, "period": "2", "period_type": "weeks", "meta": ["a"]}
    )
    assert valid is True and form.errors == {}
    values = form.share_values()
    assert values["source_type"] is SourceType.REWARD and values["source_id"] == 12
    assert (values["period"], values["period_type"]) == (2, PeriodType.WEEKS)
    assert values["meta"] == ["a"]
    assert values["expires_at"] is not None


def test_null_and_absent_give_the_same_share(request_ctx):
    nulls = dict.fromkeys(set(CONTRACT_ORDER) - set(VALID))
    absent_form, absent_valid = form_from_json(ShareForm, VALID)
    null_form, null_valid = form_from_json(ShareForm, {**VALID, **nulls})
    assert absent_valid and null_valid

    def comparable(form):
        return {
            k: v for k, v in form.share_values().items() if k not in {"created_at", "updated_at"}
        }

    assert comparable(null_form) == comparable(absent_form)
    assert comparable(absent_form)["timezone"] == "UTC"
    assert comparable(absent_form)["remaining_quantity"] == 1


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        # The form alone would say "is required": the type error is what the client needs.
        ({"profile_id": 5}, {"profile_id": [must_be("profile_id", "a string")]}),
        ({"source_id": True}, {"source_id": [must_be("source_id", "an integer")]}),
        ({"source_type": ["reward"]}, {"source_type": [must_be("source_type", "a string")]}),
        # The form alone would say the period is required for weeks.
        ({"period": 12.5, "period_type": "weeks"}, {"period": [must_be("period", "an integer")]}),
        # The form alone would count the items' length.
        ({"meta": ["x" * 2000, 5]}, {"meta": [must_be("meta", "an array of strings")]}),
        # The form alone passes (is_cloneable reads as false): the body is still invalid.
        ({"is_cloneable": "yes"}, {"is_cloneable": [must_be("is_cloneable", "true or false")]}),
        ({"timezone": 10}, {"timezone": [must_be("timezone", "a string")]}),
    ],
)
def test_type_errors_win_over_form_errors(request_ctx, fields, expected):
    form, valid = form_from_json(ShareForm, {**VALID, **fields})
    assert valid is False
    assert field_errors(form) == expected


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("source_id", "-1"),
        ("source_id", "1e3"),
        ("period", " 12"),
        ("period", "36501"),
        ("quantity", "2"),
        ("remaining_quantity", "2"),
        ("source_type", "Reward"),
        ("period_type", "fortnight"),
        ("timezone", "Mars/Base"),
        ("profile_id", "   "),
        ("expires_at", "soon"),
    ],
)
def test_json_and_html_give_the_same_message(request_ctx, field, value):
    """One validation for both surfaces: the same bad text gets the same error."""
    json_form, _ = form_from_json(ShareForm, {**VALID, field: value})
    html_data = MultiDict({**{k: str(v) for k, v in VALID.items()}, field: value})
    html_form = ShareForm(formdata=html_data, meta={"csrf": False})
    html_form.validate()

    assert list(field_errors(json_form)) == [field]
    assert field_errors(json_form) == field_errors(html_form)


# --- field_errors --------------------------------------------------------------------------


def test_field_errors_follow_the_contract_order(request_ctx):
    bad = {
        "is_cloneable": "x",
        "meta": "x",
        "remaining_quantity": -1,
        "quantity": 2,
        "expires_at": 5,
        "absolute_expiry": 5,
        "period_type": "x",
        "period": "-1",
        "timezone": "Nowhere",
        "code": "c" * 256,
        "source_type": "nope",
        "source_id": "x",
        "profile_id": 5,
    }
    form, valid = form_from_json(ShareForm, bad)

    assert valid is False
    errors = field_errors(form)
    assert list(errors) == CONTRACT_ORDER
    assert all(isinstance(m, str) for messages in errors.values() for m in messages)


@pytest.mark.parametrize(
    "bad",
    [
        {"meta": 1, "period": "x", "profile_id": 1},
        {"is_cloneable": 1, "source_type": "x", "code": 1},
        {"remaining_quantity": "x", "source_id": "x", "expires_at": "x"},
    ],
)
def test_field_errors_order_for_some_bad_fields(request_ctx, bad):
    body = {**VALID, **bad}
    form, _ = form_from_json(ShareForm, body)
    errors = field_errors(form)
    assert list(errors) == [name for name in CONTRACT_ORDER if name in bad]
    assert "meta_lines" not in errors  # keyed by the contract's names


def test_field_errors_is_empty_for_a_valid_form(request_ctx):
    form, valid = form_from_json(ShareForm, VALID)
    assert valid is True
    assert field_errors(form) == {}


# --- every form has fields of its own -------------------------------------------------------


def test_forms_built_from_the_same_fields_keep_their_own_values_and_errors(request_ctx):
    bad, _ = form_from_json(ShareForm, {"profile_id": "", "source_id": "x", "source_type": "?"})
    good, valid = form_from_json(ShareForm, VALID)
    assert valid
    assert good.profile_id.data == "profile-1" and good.source_id.data == 12
    assert good.errors == {}
    assert bad.profile_id.data == "" and bad.source_id.data is None
    assert set(bad.errors) == {"profile_id", "source_id", "source_type"}
    # Both copies read the declaration's label, flags and choices.
    assert good.profile_id is not bad.profile_id
    assert good.profile_id.label.text == bad.profile_id.label.text == "Profile ID"
    assert good.profile_id.flags.required and not good.code.flags.required
    assert [c[0] for c in good.source_type.iter_choices()][1:] == [m.value for m in SourceType]


def test_each_form_gets_its_own_meta_and_csrf_token_field(app):
    with app.test_request_context():
        with_csrf = ShareForm(formdata=None)
        without = ShareForm(formdata=None, meta={"csrf": False})
        again = ShareForm(formdata=None)
    assert "csrf_token" in with_csrf and "csrf_token" not in without
    assert with_csrf.profile_id.meta is with_csrf.meta
    assert without.profile_id.meta is without.meta and without.meta.csrf is False
    # The CSRF field is WTForms' own, bound to its form.
    assert with_csrf.csrf_token is not again.csrf_token
    assert with_csrf.csrf_token.csrf_impl is not again.csrf_token.csrf_impl


@pytest.mark.parametrize("value", ["-0", "0" * 25 + "7", "1-2", "--1"])
def test_only_whole_numbers_out_of_range_are_told_the_range(request_ctx, value):
    """ "-0" is zero and a long run of zeros may hide a small number: neither is told a range
    it may already be in; anything else not digits is not an integer."""
    form, valid = form_from_json(ShareForm, {**VALID, "period": value, "period_type": "days"})
    assert not valid
    assert form.errors["period"] == [must_be("period", "an integer")]
