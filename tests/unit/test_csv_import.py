"""The CSV import's checks (contract part 2, "Bulk import (CSV)"): the file, its header, and each
row validated by the create form with exactly the API's messages."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import time_machine

from webapp.forms import ShareForm, form_from_json, json_checker
from webapp.forms.imports import MAX_BYTES, MAX_ROWS, FileRefused, check, template_csv
from webapp.models import BODY_FIELDS

HEADER = "profile_id,source_id,source_type"
CREATED = datetime(2026, 11, 28, 23, 0, 0, tzinfo=UTC)  # 2026-11-29 10:00 in Melbourne


def rows_of(text: str | bytes) -> list:
    data = text.encode() if isinstance(text, str) else text
    with time_machine.travel(CREATED, tick=False):
        return list(check(data))


def refused(text: str | bytes) -> list[str]:
    with pytest.raises(FileRefused) as caught:
        rows_of(text)
    return caught.value.problems


def csv_cell(value) -> str:
    """A JSON body's value as a CSV cell, quoted when it must be."""
    text = (
        json.dumps(value)
        if isinstance(value, list)
        else str(value).lower()
        if isinstance(value, bool)
        else str(value)
    )
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\n') else text


def test_the_template_is_a_valid_file_of_one_share(app_ctx):
    (row,) = rows_of(template_csv())
    assert row.number == 2 and row.errors == {}
    assert row.values["profile_id"] == "cust-1001"
    assert row.values["meta"] == ["vip", "spring"]
    assert row.values["is_cloneable"] is False
    # 2 weeks from Sunday 29 Nov 2026 in Melbourne: the contract's worked example.
    assert row.values["expires_at"] == datetime(2026, 12, 13, 12, 59, 59, tzinfo=UTC)
    assert row.values["created_at"] == CREATED
    # Every column of the create body, in the contract's order.
    assert template_csv().splitlines()[0].split(",") == list(BODY_FIELDS)


# Each body is a row of the file: its errors must be exactly the API's 422 errors for that body.
BAD_BODIES = [
    {"profile_id": "p", "source_id": "x", "source_type": "reward"},
    {"profile_id": "p", "source_id": "0", "source_type": "nope"},
    {"profile_id": " ", "source_id": "12.5", "source_type": "reward", "period": "-1"},
    {"profile_id": "p", "source_id": "1", "source_type": "reward", "period_type": "weeks"},
    {"profile_id": "p", "source_id": "1", "source_type": "reward", "quantity": "2"},
    {"profile_id": "p", "source_id": "1", "source_type": "reward", "remaining_quantity": "3"},
    {"profile_id": "p", "source_id": "1", "source_type": "reward", "timezone": "Mars/Base"},
    {"profile_id": "p", "source_id": "1", "source_type": "reward", "expires_at": "tomorrow"},
    {
        "profile_id": "p",
        "source_id": "1",
        "source_type": "reward",
        "period_type": "absolute_week",
        "absolute_expiry": "9",
    },
    {"profile_id": "p" * 256, "source_id": "1", "source_type": "reward", "code": "c" * 256},
    {"profile_id": "p", "source_id": "1", "source_type": "reward", "meta": [1, 2]},
    {"profile_id": "p", "source_id": "1", "source_type": "reward", "meta": ["x"] * 101},
]


@pytest.mark.parametrize("body", BAD_BODIES, ids=range(len(BAD_BODIES)))
def test_a_rows_errors_are_the_apis_errors_for_the_same_body(app, api, body):
    columns = list(body)
    text = ",".join(columns) + "\n" + ",".join(csv_cell(body[c]) for c in columns) + "\n"
    answer = api.post("/api/v3/shares", json=body)
    assert answer.status_code == 422

    with app.app_context():
        (row,) = rows_of(text)

    assert row.values is None
    assert row.errors == answer.get_json()["errors"]
    assert list(row.errors) == list(answer.get_json()["errors"])


@pytest.mark.parametrize(
    ("cells", "errors"),
    [
        (
            {"meta": "vip"},
            {"meta": ['The meta field must be a JSON array of strings: ["vip","spring"].']},
        ),
        ({"meta": '"vip"'}, {"meta": ["The meta field must be an array of strings."]}),
        # Deeper than Python's parser recurses: the cell's error, not a RecursionError.
        (
            {"meta": "[" * 100_000},
            {"meta": ['The meta field must be a JSON array of strings: ["vip","spring"].']},
        ),
        (
            {"meta": "[" * 900 + "]" * 900},
            {"meta": ["The meta field must be an array of strings."]},
        ),
        (
            {"is_cloneable": "yes"},
            {"is_cloneable": ["The is cloneable field must be true, false, 1 or 0."]},
        ),
        (
            {"is_cloneable": "TRUE"},
            {"is_cloneable": ["The is cloneable field must be true, false, 1 or 0."]},
        ),
        (
            {"source_type": "", "meta": "[,]"},
            {
                "source_type": ["The source type field is required."],
                "meta": ['The meta field must be a JSON array of strings: ["vip","spring"].'],
            },
        ),
    ],
)
def test_cells_the_contract_refuses_are_named_by_field(app_ctx, cells, errors):
    row = {"profile_id": "p", "source_id": "1", "source_type": "reward", **cells}
    (checked,) = rows_of(",".join(row) + "\n" + ",".join(csv_cell(v) for v in row.values()) + "\n")
    assert checked.errors == errors
    assert checked.values is None


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        ({"is_cloneable": "1"}, {"is_cloneable": True, "remaining_quantity": None}),
        ({"is_cloneable": "true"}, {"is_cloneable": True, "remaining_quantity": None}),
        ({"is_cloneable": "0"}, {"is_cloneable": False, "remaining_quantity": 1}),
        ({"is_cloneable": ""}, {"is_cloneable": False, "remaining_quantity": 1}),
        ({"meta": '["a","b c"]'}, {"meta": ["a", "b c"]}),
        ({"meta": ""}, {"meta": None}),
        ({"code": "", "timezone": ""}, {"code": None, "timezone": "UTC"}),
        ({"period": "30", "timezone": "Australia/Melbourne"}, {"period": 30}),
        ({"remaining_quantity": "0", "quantity": "1"}, {"remaining_quantity": 0, "quantity": 1}),
    ],
)
def test_an_empty_cell_is_an_absent_field_and_cells_read_as_the_api_reads_them(
    app_ctx, cells, expected
):
    row = {"profile_id": "p", "source_id": "7", "source_type": "benefit", **cells}
    (checked,) = rows_of(",".join(row) + "\n" + ",".join(csv_cell(v) for v in row.values()) + "\n")
    assert checked.errors == {}
    assert {k: checked.values[k] for k in expected} == expected
    assert checked.values["source_id"] == 7


@pytest.mark.parametrize(
    ("header", "problems"),
    [
        (
            "profile_id,source_id,source_type,handle",
            ['Column 4 of the header (row 1), "handle", is not a field of a share.'],
        ),
        (
            "profile_id,source_id,source_type,code,code",
            ['Column 5 of the header (row 1), "code", is repeated.'],
        ),
        (
            "profile_id,source_type",
            ['The header (row 1) has no "source_id" column; it is required.'],
        ),
        (
            "profile_id,,source_id,source_type",
            ["Column 2 of the header (row 1) has no name."],
        ),
        (
            "Profile_ID,source_id",
            [
                'Column 1 of the header (row 1), "Profile_ID", is not a field of a share.',
                'The header (row 1) has no "profile_id" column; it is required.',
                'The header (row 1) has no "source_type" column; it is required.',
            ],
        ),
    ],
)
def test_a_header_the_contract_refuses_refuses_the_whole_file_naming_it(app_ctx, header, problems):
    found = refused(header + "\np,1,reward,x,y\n")
    assert found[:-1] == problems
    assert found[-1].startswith("The columns a file may have: profile_id, source_id, source_type")


def test_columns_come_in_any_order_and_the_header_may_have_spaces(app_ctx):
    (row,) = rows_of(" source_type , profile_id,source_id\nreward,p-1,5\n")
    assert row.errors == {}
    assert (row.values["profile_id"], row.values["source_id"]) == ("p-1", 5)


def test_rows_are_numbered_as_the_spreadsheet_numbers_them_and_blank_ones_are_skipped(app_ctx):
    text = f"{HEADER}\np-1,1,reward\n\n,,\np-2,x,reward\np-3,3\n"
    rows = rows_of(text)
    assert [row.number for row in rows] == [2, 5, 6]
    assert rows[0].errors == {}
    assert rows[1].errors == {"source_id": ["The source id field must be an integer."]}
    assert rows[2].errors == {"row": ["The row has 2 cells; the header has 3."]}
    assert [row.profile_id for row in rows] == ["p-1", "p-2", ""]


def test_a_byte_order_mark_is_allowed_and_other_encodings_are_refused(app_ctx):
    (row,) = rows_of(b"\xef\xbb\xbf" + f"{HEADER}\np-1,1,reward\n".encode())
    assert row.errors == {}
    problems = refused(f"{HEADER}\nCafé,1,reward\n".encode("latin-1"))
    assert problems == [
        'The file is not UTF-8 text (byte 37 cannot be read). Save it as "CSV UTF-8" and '
        "upload it again."
    ]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "The file is empty: its first row must name the columns."),
        (f"{HEADER}\n", "The file has a header but no rows of shares below it."),
        (f"{HEADER}\n\n,,\n", "The file has a header but no rows of shares below it."),
        (
            f"{HEADER}\np,1,reward\n{'p' * 140_000},2,reward\n",
            "Row 3 cannot be read as CSV: field larger than field limit (131072).",
        ),
    ],
    ids=["empty", "header only", "blank rows only", "a cell too long for CSV"],
)
def test_a_file_without_rows_or_unreadable_as_csv_is_refused(app_ctx, text, problem):
    assert refused(text) == [problem]


def test_ten_thousand_rows_are_the_limit_and_one_more_is_refused_before_any_check(app_ctx):
    at_limit = HEADER + "\n" + "p,1,reward\n" * MAX_ROWS
    over = at_limit + "p,1,reward\n"
    assert refused(over) == ["The file has 10,001 rows of shares; the limit is 10,000."]
    rows = rows_of(at_limit)
    assert len(rows) == MAX_ROWS and rows[-1].number == MAX_ROWS + 1
    assert all(not row.errors for row in rows)


def test_five_mebibytes_are_the_limit(app_ctx):
    row = "p,1,reward," + "m" * 990 + "\n"
    text = "profile_id,source_id,source_type,code\n"
    text += row * ((MAX_BYTES - len(text)) // len(row))
    text += "p,1,reward," + "x" * (MAX_BYTES - len(text) - len("p,1,reward,\n")) + "\n"
    assert len(text.encode()) == MAX_BYTES
    assert len(rows_of(text)) > 5000
    assert refused(text + "\n") == ["The file is larger than 5 MiB, the limit."]


def test_one_form_filled_again_for_each_row_answers_as_a_form_per_row(app_ctx):
    """The checker reuses one form (json_checker): no row's values or errors may leak into the
    next, whatever the order."""
    bodies = [
        {"profile_id": "p", "source_id": "1", "source_type": "reward", "meta": ["a"]},
        *BAD_BODIES,
        {"profile_id": "q", "source_id": "2", "source_type": "list", "is_cloneable": True},
        {"profile_id": "r", "source_id": "3", "source_type": "tier", "period": "3"},
        BAD_BODIES[0],
        {"profile_id": "s", "source_id": "4", "source_type": "tier"},
    ]
    validate = json_checker(ShareForm, created_at=CREATED)
    for body in bodies:
        alone, valid = form_from_json(ShareForm, body, created_at=CREATED)
        reused, reused_valid = validate(body)
        assert reused_valid == valid
        assert reused.errors == alone.errors
        if valid:
            assert reused.share_values() == alone.share_values()
