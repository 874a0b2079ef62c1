"""The CSV import's checks (contract part 2, "Bulk import (CSV)"): a file of new shares read row
by row, each row turned into the JSON body the API takes and validated by the create form, so
that it gets exactly the API's messages; and the upload form of the Import page.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from flask_wtf.file import FileField, FileRequired

from ..clock import utcnow
from ..models import BODY_FIELDS
from .adapter import field_errors, in_contract_order, json_checker, required_fields
from .base import Form
from .filters import BOOLEAN_WORDS
from .shares import ShareForm

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 10_000
#: The downloadable template's example row: valid as it stands.
EXAMPLE = {
    "profile_id": "cust-1001",
    "source_id": "42",
    "source_type": "reward",
    "code": "WELCOME",
    "timezone": "Australia/Melbourne",
    "period": "2",
    "period_type": "weeks",
    "quantity": "1",
    "meta": '["vip","spring"]',
    "is_cloneable": "false",
}
META_EXAMPLE = '["vip","spring"]'
TOO_LARGE = f"The file is larger than {MAX_BYTES // (1024 * 1024)} MiB, the limit."


class FileRefused(ValueError):
    """The whole file is refused (its encoding, header or size); ``problems`` says why."""

    def __init__(self, problems: list[str]):
        super().__init__(" ".join(problems))
        self.problems = problems


@dataclass
class RowCheck:
    """One row of the file, checked: its number in the file (the header is row 1), its errors
    by field (``row`` when the row itself cannot be read), and when it is valid the new share's
    column values (``ShareForm.share_values``)."""

    number: int
    errors: dict[str, list[str]] = field(default_factory=dict)
    values: dict | None = None
    #: The profile id as the row gave it, to tell the rows apart on the page.
    profile_id: str = ""


def template_csv() -> str:
    """The template file: a header with every column, and one example row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(BODY_FIELDS)
    writer.writerow([EXAMPLE.get(name, "") for name in BODY_FIELDS])
    return buffer.getvalue()


def check(data: bytes, created_at: datetime | None = None) -> Iterator[RowCheck]:
    """Each row of the file, checked as a create body of shares made at ``created_at``.

    Raises ``FileRefused``, before the first row, when the whole file is refused.
    """
    validate = json_checker(ShareForm, created_at=created_at or utcnow())
    for number, payload, cell_errors in _rows(data):
        row = RowCheck(number, profile_id=str(payload.get("profile_id", "")))
        if "row" in cell_errors:
            row.errors = cell_errors
            yield row
            continue
        form, valid = validate(payload)
        if valid and not cell_errors:
            row.values = form.share_values()
        else:
            row.errors = in_contract_order({**cell_errors, **field_errors(form)})
        yield row


def _rows(data: bytes) -> Iterator[tuple[int, dict, dict[str, list[str]]]]:
    """(row number, JSON-like payload, errors of cells that cannot be read) for each row that is
    not blank. Raises ``FileRefused`` before the first row when the whole file is refused."""
    if len(data) > MAX_BYTES:
        raise FileRefused([TOO_LARGE])
    try:
        text = data.decode("utf-8-sig")  # Excel's "CSV UTF-8" starts with a byte order mark
    except UnicodeDecodeError as error:
        raise FileRefused(
            [
                f"The file is not UTF-8 text (byte {error.start + 1:,} cannot be read). "
                'Save it as "CSV UTF-8" and upload it again.'
            ]
        ) from None
    records = _records(text)
    _, header = next(records, (1, None))
    columns = _columns(header)
    # A first pass counts the rows (cheap next to checking them), so that a file over the limit
    # is refused before any row is checked.
    count = sum(1 for _ in _records(text)) - 1
    if count > MAX_ROWS:
        raise FileRefused([f"The file has {count:,} rows of shares; the limit is {MAX_ROWS:,}."])
    if count == 0:
        raise FileRefused(["The file has a header but no rows of shares below it."])
    for number, cells in records:
        if len(cells) != len(columns):
            message = f"The row has {len(cells)} cells; the header has {len(columns)}."
            yield number, {}, {"row": [message]}
        else:
            yield number, *_payload(columns, cells)


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells) of the header and of each row that is not blank (a blank line, or a
    spreadsheet's empty row, is no share); raises ``FileRefused`` where the CSV cannot be read."""
    number = 0
    try:
        for number, cells in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
            if number == 1 or any(cell.strip() for cell in cells):
                yield number, cells
    except csv.Error as error:
        raise FileRefused([f"Row {number + 1:,} cannot be read as CSV: {error}."]) from None


def _columns(header: list[str] | None) -> list[str]:
    """The header's field names; raises ``FileRefused`` naming every column it refuses."""
    if not header:
        raise FileRefused(["The file is empty: its first row must name the columns."])
    names = [cell.strip() for cell in header]
    problems = []
    for position, name in enumerate(names, start=1):
        if name == "":
            problems.append(f"Column {position} of the header (row 1) has no name.")
        elif name not in BODY_FIELDS:
            problems.append(
                f'Column {position} of the header (row 1), "{name}", is not a field of a share.'
            )
        elif name in names[: position - 1]:
            problems.append(f'Column {position} of the header (row 1), "{name}", is repeated.')
    required = required_fields(ShareForm)
    missing = [name for name in BODY_FIELDS if name in required and name not in names]
    problems += [f'The header (row 1) has no "{name}" column; it is required.' for name in missing]
    if problems:
        known = ", ".join(BODY_FIELDS)
        raise FileRefused([*problems, f"The columns a file may have: {known}."])
    return names


def _payload(columns: list[str], cells: list[str]) -> tuple[dict, dict[str, list[str]]]:
    """A row as the JSON body the API takes: an empty cell is an absent field, ``meta`` a JSON
    array, ``is_cloneable`` a boolean; other cells are text (digits included, as the API
    accepts them). With the errors of cells that cannot be read so."""
    payload, errors = {}, {}
    for name, cell in zip(columns, cells, strict=True):
        if cell == "":
            continue
        if name == "meta":
            try:
                payload[name] = json.loads(cell)
            except (ValueError, RecursionError):  # RecursionError: arrays nested too deep
                errors[name] = [f"The meta field must be a JSON array of strings: {META_EXAMPLE}."]
        elif name == "is_cloneable":
            if cell in BOOLEAN_WORDS:
                payload[name] = BOOLEAN_WORDS[cell]
            else:
                errors[name] = ["The is cloneable field must be true, false, 1 or 0."]
        else:
            payload[name] = cell
    return payload, errors


class ImportForm(Form):
    """The Import page's upload: one CSV file."""

    file = FileField(
        "CSV file",
        validators=[FileRequired("Choose a CSV file to upload.")],
        description=f"UTF-8, comma-separated, at most {MAX_ROWS:,} rows and "
        f"{MAX_BYTES // (1024 * 1024)} MiB.",
        render_kw={"accept": ".csv,text/csv"},
    )
