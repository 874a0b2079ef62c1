"""The command-line tools: ``init-db``, ``check-tallies`` and ``tokens create/list/revoke``; and
arguments or passwords that are not UTF-8, refused by every command that takes them."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import pytest
import sqlalchemy as sa

from tests import factories
from tests.conftest import TEST_SECRET, table_names
from tests.contract import bearer
from tests.database import stored_bytes
from tests.security.helpers import fingerprint
from webapp import ROOT
from webapp.extensions import db
from webapp.models import ApiToken

VALID = {"profile_id": "profile-1", "source_id": 12, "source_type": "reward"}


def run(app, *args: str):
    """Invoke a CLI command the way ``flask --app webapp ...`` would."""
    return app.test_cli_runner().invoke(args=list(args))


def assert_clean_failure(result, message: str) -> None:
    """Exit code 1, a one-line error naming the problem, no traceback."""
    assert result.exit_code == 1, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)


def token_rows(app) -> list[ApiToken]:
    with app.app_context():
        return list(db.session.scalars(sa.select(ApiToken).order_by(ApiToken.id)))


def create_token(app, name: str) -> str:
    """``tokens create NAME`` and the plain token it prints on its last line."""
    result = run(app, "tokens", "create", name)
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()[-1]


def post_share(app, token: str):
    return app.test_client().post("/api/v3/shares", json=VALID, headers=bearer(token))


# --- init-db -------------------------------------------------------------------------------


def test_init_db_creates_the_tables_and_is_idempotent(bare_app):
    assert "shares" not in table_names(bare_app)

    first = run(bare_app, "init-db")

    assert first.exit_code == 0, first.output
    assert "Database ready" in first.output
    assert {"shares", "api_tokens"} <= table_names(bare_app)

    token = create_token(bare_app, "before-second-run")
    assert post_share(bare_app, token).status_code == 201

    second = run(bare_app, "init-db")

    assert second.exit_code == 0, second.output
    assert "Database ready" in second.output
    # Running it again keeps what is stored.
    assert [row.name for row in token_rows(bare_app)] == ["before-second-run"]
    assert factories.share_count(bare_app) == 1


# --- tokens create -------------------------------------------------------------------------


def test_create_prints_the_token_once_and_it_authenticates(app):
    result = run(app, "tokens", "create", "ci-bot")

    assert result.exit_code == 0, result.output
    plain = result.output.strip().splitlines()[-1]
    assert len(plain) >= 32 and " " not in plain
    assert result.output.count(plain) == 1
    assert "ci-bot" in result.output

    response = post_share(app, plain)

    assert response.status_code == 201
    assert factories.share_count(app) == 1


def test_only_the_hash_of_the_token_is_stored(app):
    plain = create_token(app, "ci-bot")

    [row] = token_rows(app)
    assert row.name == "ci-bot"
    assert row.token_hash == hashlib.sha256(plain.encode()).hexdigest()
    assert row.revoked_at is None
    with app.app_context():
        columns = db.session.execute(sa.text("SELECT * FROM api_tokens")).one()
    assert plain not in [str(value) for value in columns]
    assert plain.encode() not in stored_bytes(app)


def test_each_token_is_different(app):
    first, second = create_token(app, "one"), create_token(app, "two")
    assert first != second
    assert post_share(app, first).status_code == 201
    assert post_share(app, second).status_code == 201


@pytest.mark.parametrize("second_name", ["ci-bot", "  ci-bot  "])
def test_duplicate_name_is_a_clean_error(app, second_name):
    create_token(app, "ci-bot")

    result = run(app, "tokens", "create", second_name)

    assert_clean_failure(result, "A token with this name exists already (names are never reused).")
    assert [row.name for row in token_rows(app)] == ["ci-bot"]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "The name field is required."),
        ("   ", "The name field is required."),
        ("n" * 101, "The name field must not be greater than 100 characters."),
        *[
            (name, "The name field must not contain control characters (tabs, line breaks).")
            for name in (
                "nl\nhere",
                "tab\there",
                "cr\rhere",
                "esc\x1b[31mred",
                "del\x7f",
                "ls\u2028here",
            )
        ],
    ],
)
def test_bad_name_is_refused_as_the_tokens_page_refuses_it(app, name, message):
    result = run(app, "tokens", "create", name)

    assert_clean_failure(result, f"Error: {message}")
    assert token_rows(app) == []
    assert run(app, "tokens", "list").output.startswith("No API tokens.")


# --- tokens list ---------------------------------------------------------------------------


def test_list_without_tokens(app):
    result = run(app, "tokens", "list")
    assert result.exit_code == 0
    assert "No API tokens" in result.output


def test_list_shows_names_and_which_are_revoked(app):
    create_token(app, "alpha")
    create_token(app, "beta")
    assert run(app, "tokens", "revoke", "beta").exit_code == 0

    result = run(app, "tokens", "list")

    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.output.splitlines()[1:] if line.strip()}
    assert set(lines) == {"alpha", "beta"}
    assert "revoked" in lines["beta"]
    assert "revoked" not in lines["alpha"] and "active" in lines["alpha"]


def test_list_never_shows_a_token(app):
    plain = create_token(app, "alpha")
    result = run(app, "tokens", "list")
    assert plain not in result.output


# --- tokens revoke -------------------------------------------------------------------------


def test_revoke_makes_the_token_a_401(app):
    plain = create_token(app, "ci-bot")
    assert post_share(app, plain).status_code == 201

    result = run(app, "tokens", "revoke", "ci-bot")

    assert result.exit_code == 0, result.output
    assert "revoked" in result.output
    response = post_share(app, plain)
    assert response.status_code == 401
    assert isinstance(response.get_json()["message"], str)
    assert factories.share_count(app) == 1
    [row] = token_rows(app)
    assert row.revoked_at is not None


def test_revoking_one_token_leaves_the_others_working(app):
    keep, drop = create_token(app, "keep"), create_token(app, "drop")
    assert run(app, "tokens", "revoke", "drop").exit_code == 0
    assert post_share(app, drop).status_code == 401
    assert post_share(app, keep).status_code == 201


def test_revoke_unknown_name_is_a_clean_error(app):
    result = run(app, "tokens", "revoke", "ghost")
    assert_clean_failure(result, "No active token named 'ghost'.")


def test_revoke_twice_is_a_clean_error(app):
    create_token(app, "ci-bot")
    assert run(app, "tokens", "revoke", "ci-bot").exit_code == 0

    result = run(app, "tokens", "revoke", "ci-bot")

    assert_clean_failure(result, "No active token named 'ci-bot'.")


# --- text that is not UTF-8 ----------------------------------------------------------------

#: Arguments with a byte that is not UTF-8, as Python hands them to a command (os.fsdecode).
NOT_UTF8_EMAIL = os.fsdecode(b"e\xff@example.com")
NOT_UTF8_NAME = os.fsdecode(b"nightly-\xff")
#: A password line that starts with bytes that are not UTF-8.
NOT_UTF8_PASSWORD = b"\xff\xfe\xfa0123456789abc\n"


@pytest.mark.parametrize(
    "args",
    [
        ("staff", "create", NOT_UTF8_EMAIL, "--role", "viewer"),
        ("staff", "set-password", NOT_UTF8_EMAIL),
        ("tokens", "create", NOT_UTF8_NAME),
        ("tokens", "revoke", NOT_UTF8_NAME),
    ],
    ids=lambda args: " ".join(args[:2]),
)
def test_an_argument_that_is_not_utf8_is_refused(app, args):
    create_token(app, "nightly-x")
    before = fingerprint(app)

    result = app.test_cli_runner().invoke(args=list(args), input="a long enough password\n")

    assert result.exit_code == 2, result.output
    assert "Invalid value for" in result.output
    assert "it is not valid UTF-8 text." in result.output
    assert "Traceback" not in result.output
    assert fingerprint(app) == before


@pytest.mark.parametrize(
    "args", [("staff", "create", "new@example.com", "--role", "viewer"), ("staff", "set-password")]
)
def test_a_password_that_is_not_utf8_is_refused(app, tmp_path, args):
    factories.staff(app, "ann@example.com", "admin")
    if args[1] == "set-password":
        args = (*args, "ann@example.com")
    before = fingerprint(app)

    # Standard input read strictly (as in a UTF-8 locale) here; with surrogateescape (as in the
    # C locale, where QA met it) in a process of its own.
    strict = app.test_cli_runner().invoke(args=list(args), input=NOT_UTF8_PASSWORD)
    escaped = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "webapp", *args],
        input=NOT_UTF8_PASSWORD,
        capture_output=True,
        cwd=ROOT,
        # No timeout: its wait sleeps, and under faketime (make test-clock) a sleep may fail.
        env={
            **os.environ,
            "PYTHONIOENCODING": "utf-8:surrogateescape",
            "WEBAPP_DATABASE_URL": app.config["DATABASE_URL"],
            "WEBAPP_SECRET_KEY": TEST_SECRET,
            "WEBAPP_INSTANCE_PATH": str(tmp_path / "instance"),
        },
    )

    assert_clean_failure(strict, "Error: The password is not valid UTF-8 text.")
    assert (escaped.returncode, escaped.stderr) == (
        1,
        b"Error: The password is not valid UTF-8 text.\n",
    )
    assert fingerprint(app) == before


# --- check-tallies -------------------------------------------------------------------------


def break_the_tallies(app) -> None:
    """What a restore that bypassed the triggers could leave: one count off, one missing."""
    with app.app_context():
        db.session.execute(
            sa.text("UPDATE share_tallies SET shares = shares + 2 WHERE dimension = 'all'")
        )
        db.session.execute(sa.text("DELETE FROM share_tallies WHERE dimension = 'source_type'"))
        db.session.commit()


def test_check_tallies_passes_when_the_triggers_kept_them(app):
    for number in range(3):
        assert post_share(app, create_token(app, f"t{number}")).status_code == 201

    result = run(app, "check-tallies")

    assert result.exit_code == 0, result.output
    assert result.output == "The tallies match the shares.\n"


def test_check_tallies_names_what_is_off_and_changes_nothing(app):
    assert post_share(app, create_token(app, "t")).status_code == 201
    break_the_tallies(app)

    result = run(app, "check-tallies")

    assert_clean_failure(result, "2 tallies are off. Run again with --repair")
    assert "all '': kept 3, counted 1" in result.output
    assert "source_type 'reward': kept 0, counted 1" in result.output
    with app.app_context():
        kept = db.session.scalar(
            sa.text("SELECT shares FROM share_tallies WHERE dimension = 'all'")
        )
    assert kept == 3


def test_check_tallies_repair_recounts_them(app):
    assert post_share(app, create_token(app, "t")).status_code == 201
    break_the_tallies(app)

    repaired = run(app, "check-tallies", "--repair")

    assert repaired.exit_code == 0, repaired.output
    assert "Recounted: 2 tallies were off and are right now." in repaired.output
    assert run(app, "check-tallies").output == "The tallies match the shares.\n"
    api = app.test_client()
    token = create_token(app, "reader")
    listed = api.get("/api/v3/shares", headers=bearer(token))
    assert listed.get_json()["meta"]["total"] == factories.share_count(app) == 1
