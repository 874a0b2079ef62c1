"""``flask --app webapp shares import FILE.csv [--dry-run]`` (issue 16, item 1): the Import page's
checks and messages from the command line, a non-zero exit on any error, nothing half-done."""

from __future__ import annotations

import getpass
import os
from datetime import UTC, datetime

import time_machine

from tests import bulk, factories
from tests.bulk import csv_file, upload, vip_rows
from tests.unit.test_cli import assert_clean_failure, run
from webapp.forms.imports import MAX_BYTES

CREATED = datetime(2026, 11, 28, 23, 0, 0, tzinfo=UTC)  # 2026-11-29 10:00 in Melbourne
ACTOR = f"cli:{getpass.getuser()}"


def two_bad_rows() -> bytes:
    rows = vip_rows(5)
    rows[1]["source_id"] = "x"
    rows[3]["source_type"] = "nope"
    return csv_file(*rows)


def write(tmp_path, data: bytes, name: str = "vip.csv") -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def assert_nothing_stored(app) -> None:
    assert factories.share_count(app) == 0
    assert bulk.events_of(app, "create") == []
    assert bulk.imports(app) == []


def test_a_dry_run_shows_every_row_with_its_expiry_and_creates_nothing(app, tmp_path):
    path = write(tmp_path, csv_file(*vip_rows(3)))
    with time_machine.travel(CREATED, tick=False):
        result = run(app, "shares", "import", path, "--dry-run")

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[:3] == [
        f"Row {n + 1}: vip-{n}, reward #42, expires 2026-12-13T12:59:59Z (Australia/Melbourne)"
        for n in (1, 2, 3)
    ]
    assert lines[3].startswith("3 valid, 0 with errors. Dry run: nothing was created")
    assert_nothing_stored(app)


def test_a_dry_run_names_each_bad_row_and_field_and_exits_1(app, tmp_path):
    result = run(app, "shares", "import", write(tmp_path, two_bad_rows()), "--dry-run")

    assert_clean_failure(result, "Error: 3 valid, 2 with errors: nothing was created.")
    assert "Row 3, source_id: The source id field must be an integer." in result.stderr
    assert "Row 5, source_type: The selected source type is invalid." in result.stderr
    assert_nothing_stored(app)


def test_an_import_creates_every_row_in_file_order_audited_as_the_cli_user(app, tmp_path):
    path = write(tmp_path, csv_file(*vip_rows(3)))
    with time_machine.travel(CREATED, tick=False):
        result = run(app, "shares", "import", path)

    assert result.exit_code == 0, result.output
    stored = factories.stored_shares(app)
    ids = [share.id for share in stored]
    assert result.output.strip() == f"Imported 3 shares from vip.csv (ids {ids[0]}–{ids[-1]})."
    assert [share.profile_id for share in stored] == ["vip-1", "vip-2", "vip-3"]
    assert {share.created_at for share in stored} == {CREATED}
    assert bulk.events_of(app, "create") == [(share_id, ACTOR) for share_id in ids]
    [done] = bulk.imports(app)
    assert (done.imported_by, done.share_ids, done.content) == (ACTOR, ids, None)


def test_an_import_with_bad_rows_creates_nothing_and_says_what_the_dry_run_says(app, tmp_path):
    path = write(tmp_path, two_bad_rows())
    dry = run(app, "shares", "import", path, "--dry-run")

    result = run(app, "shares", "import", path)

    assert_clean_failure(result, "Error: 3 valid, 2 with errors: nothing was created.")
    assert result.stderr == dry.stderr
    assert_nothing_stored(app)


def test_the_same_file_again_is_refused_whichever_surface_imported_it(app, tmp_path, client_as):
    data = csv_file(*vip_rows(2))
    first = run(app, "shares", "import", write(tmp_path, data))
    assert first.exit_code == 0, first.output
    [done] = bulk.imports(app)

    again = run(app, "shares", "import", write(tmp_path, data, "copy.csv"), "--dry-run")

    assert_clean_failure(
        again,
        f"This file was imported already, on {done.imported_at:%Y-%m-%dT%H:%M:%SZ} by {ACTOR}: "
        f"it made 2 shares (ids {done.share_ids[0]}–{done.share_ids[1]}).",
    )
    page = upload(client_as("agent"), data)
    assert page.status_code == 409
    assert factories.share_count(app) == 2


def test_a_file_imported_on_the_page_is_refused_by_the_cli(app, tmp_path, client_as):
    agent = client_as("agent")
    data = csv_file(*vip_rows(1))
    page = upload(agent, data).get_data(as_text=True)
    bulk.confirm_import(agent, page)

    result = run(app, "shares", "import", write(tmp_path, data))
    assert_clean_failure(result, "This file was imported already")
    assert factories.share_count(app) == 1


def test_a_file_refused_whole_exits_1_naming_why(app, tmp_path):
    header = run(app, "shares", "import", write(tmp_path, b"profile_id,source_id,handle\np,1,h\n"))
    assert_clean_failure(header, 'Column 3 of the header (row 1), "handle", is not a field')
    assert 'The header (row 1) has no "source_type" column; it is required.' in header.output

    large = run(app, "shares", "import", write(tmp_path, b"x" * (MAX_BYTES + 1), "big.csv"))
    assert_clean_failure(large, "The file is larger than 5 MiB, the limit.")
    assert_nothing_stored(app)


def test_a_device_or_standard_input_is_read_no_further_than_the_limit(app):
    """A device or a pipe reports no size (0): /dev/zero would be read for ever."""
    endless = run(app, "shares", "import", "/dev/zero", "--dry-run")
    assert_clean_failure(endless, "Error: The file is larger than 5 MiB, the limit.")

    large = app.test_cli_runner().invoke(
        args=["shares", "import", "-"], input=csv_file(*vip_rows(1)) + b"x" * MAX_BYTES
    )
    assert_clean_failure(large, "Error: The file is larger than 5 MiB, the limit.")
    assert_nothing_stored(app)


def test_standard_input_is_imported_as_a_file_is(app):
    result = app.test_cli_runner().invoke(
        args=["shares", "import", "-"], input=csv_file(*vip_rows(2))
    )

    assert result.exit_code == 0, result.output
    ids = [share.id for share in factories.stored_shares(app)]
    assert result.output == f"Imported 2 shares from standard input (ids {ids[0]}–{ids[1]}).\n"
    assert [done.filename for done in bulk.imports(app)] == ["standard input"]


def test_a_file_name_that_is_not_utf8_is_kept_with_a_replacement_character(app, tmp_path):
    path = os.path.join(os.fsencode(tmp_path), b"vip-\xff.csv")
    with open(path, "wb") as file:
        file.write(csv_file(*vip_rows(1)))

    result = run(app, "shares", "import", os.fsdecode(path))

    assert result.exit_code == 0, result.output
    assert "Imported 1 share from vip-\ufffd.csv" in result.output
    assert [done.filename for done in bulk.imports(app)] == ["vip-\ufffd.csv"]


def test_a_meta_cell_nested_too_deep_is_its_rows_error(app, tmp_path):
    rows = vip_rows(2)
    rows[1]["meta"] = "[" * 100_000
    path = write(tmp_path, csv_file(*rows))

    for args in (("--dry-run",), ()):
        result = run(app, "shares", "import", path, *args)

        assert_clean_failure(result, "Error: 1 valid, 1 with errors: nothing was created.")
        assert result.stderr.startswith(
            'Row 3, meta: The meta field must be a JSON array of strings: ["vip","spring"].\n'
        )
    assert_nothing_stored(app)


def test_a_missing_file_is_a_usage_error(app, tmp_path):
    result = run(app, "shares", "import", str(tmp_path / "nope.csv"))
    assert result.exit_code == 2
    assert "does not exist" in result.output
    assert_nothing_stored(app)
