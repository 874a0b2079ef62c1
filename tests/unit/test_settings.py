"""Settings are checked once, at start: a wrong one stops the app with a line naming its
``WEBAPP_`` variable, the value given and what is allowed, instead of starting and then failing
requests (a 500 on each)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TEST_SECRET
from webapp import DEFAULTS, LEAST, ConfigError, create_app
from webapp.extensions import db

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def start(tmp_path, monkeypatch):
    """``start(**variables)``: create_app with those WEBAPP_ variables set, as a deployment sets
    them (all-digit values become numbers, true/false booleans); its connections are closed when
    the test ends."""
    made = []
    for name in os.environ:
        if name.startswith("WEBAPP_"):
            monkeypatch.delenv(name)
    # The default database lands in the instance folder.
    monkeypatch.setenv("WEBAPP_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("WEBAPP_SECRET_KEY", TEST_SECRET)

    def make(**variables: str):
        for name, value in variables.items():
            monkeypatch.setenv(f"WEBAPP_{name}", value)
        made.append(create_app({"TESTING": True}))
        return made[-1]

    yield make
    for app in made:
        with app.app_context():
            db.engine.dispose()


def refusal(start, **variables: str) -> list[str]:
    """The lines the start refuses those variables with."""
    with pytest.raises(ConfigError) as refused:
        start(**variables)
    return str(refused.value).splitlines()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        # Each started, then failed requests or sign-ins, or was taken silently.
        ("TRUSTED_PROXIES", "-1", "TRUSTED_PROXIES '-1' is not a whole number of 0 or more"),
        ("TRUSTED_PROXIES", "abc", "TRUSTED_PROXIES 'abc' is not a whole number of 0 or more"),
        ("SESSION_IDLE_MINUTES", "abc", "SESSION_IDLE_MINUTES 'abc' is not a whole number of 1"),
        ("SESSION_IDLE_MINUTES", "-3", "SESSION_IDLE_MINUTES '-3' is not a whole number of 1"),
        ("SESSION_IDLE_MINUTES", "1.5", "SESSION_IDLE_MINUTES '1.5' is not a whole number of 1"),
        ("SESSION_MAX_HOURS", "abc", "SESSION_MAX_HOURS 'abc' is not a whole number of 1"),
        ("SIGN_IN_MAX_FAILURES", "abc", "SIGN_IN_MAX_FAILURES 'abc' is not a whole number of 1"),
        ("SIGN_IN_WINDOW_MINUTES", "x", "SIGN_IN_WINDOW_MINUTES 'x' is not a whole number of 1"),
        (
            "API_MAX_CONTENT_LENGTH",
            "abc",
            "API_MAX_CONTENT_LENGTH 'abc' is not a whole number of 1",
        ),
        ("BULK_CHUNK_SIZE", "x", "BULK_CHUNK_SIZE 'x' is not a whole number of 1 or more"),
        ("BULK_CHUNK_SIZE", "0", "BULK_CHUNK_SIZE 0 is not a whole number of 1 or more"),
        ("BULK_CHUNK_SIZE", "true", "BULK_CHUNK_SIZE True is not a whole number of 1 or more"),
        ("BULK_STALE_SECONDS", "x", "BULK_STALE_SECONDS 'x' is not a whole number of 1"),
        ("MAX_CONTENT_LENGTH", "1MB", "MAX_CONTENT_LENGTH '1MB' is not a whole number of 1"),
        ("SQLITE_BUSY_TIMEOUT_MS", "30s", "SQLITE_BUSY_TIMEOUT_MS '30s' is not a whole number"),
        (
            "SIGN_IN_MAX_ADDRESS_FAILURES",
            "0",
            "SIGN_IN_MAX_ADDRESS_FAILURES 0 is not a whole number of 1 or more",
        ),
        # A string is true to Python: 'maybe' made every cookie Secure, 'no' kept HttpOnly.
        ("SESSION_COOKIE_SECURE", "maybe", "SESSION_COOKIE_SECURE 'maybe' is not true or false"),
        ("SESSION_COOKIE_SECURE", "1", "SESSION_COOKIE_SECURE 1 is not true or false"),
        ("SESSION_COOKIE_HTTPONLY", "no", "SESSION_COOKIE_HTTPONLY 'no' is not true or false"),
        # Werkzeug refused it on every response that set the cookie.
        (
            "SESSION_COOKIE_SAMESITE",
            "maybe",
            "SESSION_COOKIE_SAMESITE 'maybe' is not one of Strict, Lax, None",
        ),
        # All digits read as a number, which cannot sign a cookie: a 500 on every page.
        ("SECRET_KEY", "123456789", "SECRET_KEY must be text, not a number"),
        ("DATABASE_URL", "not a url", "DATABASE_URL is not a database URL"),
        ("DATABASE_URL", "12345", "DATABASE_URL is not a database URL"),
        ("DATABASE_URL", "postgres://h/d", "DATABASE_URL names no database SQLAlchemy knows"),
        ("DATABASE_URL", "mysql://h/d", "DATABASE_URL needs a driver that is not installed"),
        # Checked before, now with the rest.
        ("DEFAULT_TIMEZONE", "Mars/Base", "DEFAULT_TIMEZONE 'Mars/Base' is not an IANA time zone"),
        ("API_RATE_LIMIT", "1200", "API_RATE_LIMIT 1200 is not a rate such as '1200 per minute'"),
        ("LOG_FORMAT", "yaml", "LOG_FORMAT 'yaml' is not one of text, json"),
        ("LOG_LEVEL", "loud", "LOG_LEVEL 'loud' is not one of DEBUG, INFO, WARNING, ERROR"),
        ("METRICS_TOKEN", "short", "METRICS_TOKEN must be at least 16 characters"),
        ("SHARE_LINK_TEMPLATE", "/s/{handle}", "SHARE_LINK_TEMPLATE '/s/{handle}' must be"),
    ],
)
def test_a_wrong_setting_stops_the_start_with_one_line_naming_it(start, name, value, message):
    (line,) = refusal(start, **{name: value})
    assert line.startswith(message)
    assert line.endswith(")."), line
    assert f"set WEBAPP_{name}" in line


@pytest.mark.parametrize(("name", "least"), LEAST.items())
def test_each_whole_number_setting_has_a_least_value(start, name, least):
    for wrong in ("abc", f"{least}.0", "", " 5", str(least - 1)):
        (line,) = refusal(start, **{name: wrong})
        assert line.startswith(f"{name} ")
        assert line.endswith(f"is not a whole number of {least} or more (set WEBAPP_{name}).")
    assert start(**{name: str(least)}).config[name] == least


def test_every_whole_number_in_the_defaults_is_checked():
    # A new numeric setting is one line in LEAST; forgetting it lets a wrong value start.
    numbers = {name for name, value in DEFAULTS.items() if type(value) is int}
    assert numbers == set(LEAST)
    assert all(DEFAULTS[name] >= least for name, least in LEAST.items())


def test_the_defaults_start(start):
    app = start()
    assert {name: app.config[name] for name in DEFAULTS} == DEFAULTS


def test_good_values_start(start):
    app = start(
        TRUSTED_PROXIES="2",
        SESSION_IDLE_MINUTES="5",
        SESSION_MAX_HOURS="1",
        SIGN_IN_MAX_FAILURES="3",
        SIGN_IN_WINDOW_MINUTES="60",
        API_MAX_CONTENT_LENGTH="1024",
        BULK_CHUNK_SIZE="1",
        BULK_STALE_SECONDS="120",
        SQLITE_BUSY_TIMEOUT_MS="0",
        SESSION_COOKIE_SECURE="TRUE",
        SESSION_COOKIE_HTTPONLY="false",
        SESSION_COOKIE_SAMESITE="strict",
        DEFAULT_TIMEZONE="Australia/Melbourne",
        METRICS_TOKEN="1234567890123456",  # all digits: a number, long enough all the same
    )
    assert app.config["TRUSTED_PROXIES"] == 2
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is False
    assert app.config["SQLITE_BUSY_TIMEOUT_MS"] == 0


def test_a_trusted_proxy_setting_answers_forwarded_requests(start):
    # WEBAPP_TRUSTED_PROXIES=-1 used to start and then answer every forwarded request 500.
    client = start(TRUSTED_PROXIES="1").test_client()
    response = client.get("/sign-in", headers={"X-Forwarded-For": "203.0.113.9"})
    assert response.status_code == 200


def test_every_wrong_setting_is_named_at_once(start):
    lines = refusal(start, TRUSTED_PROXIES="abc", BULK_CHUNK_SIZE="0", LOG_FORMAT="yaml")
    assert [line.split()[0] for line in lines] == [
        "TRUSTED_PROXIES",
        "BULK_CHUNK_SIZE",
        "LOG_FORMAT",
    ]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_URL", "postgres://sharedesk:hunter2-secret@db/sharedesk"),
        ("DATABASE_URL", "nonsense hunter2-secret"),
        ("SECRET_KEY", "9876543210"),
        ("METRICS_TOKEN", "hunter2"),
    ],
)
def test_a_wrong_secret_is_not_repeated(start, name, value):
    (line,) = refusal(start, **{name: value})
    assert f"set WEBAPP_{name}" in line
    assert "hunter2" not in line and "9876543210" not in line


def operator_env(tmp_path, **variables: str) -> dict[str, str]:
    """The environment an operator sets, in ``tmp_path``, with those WEBAPP_ variables."""
    return {
        **os.environ,
        "WEBAPP_INSTANCE_PATH": str(tmp_path / "instance"),
        "WEBAPP_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
        "WEBAPP_SECRET_KEY": TEST_SECRET,
        **{f"WEBAPP_{name}": value for name, value in variables.items()},
    }


def flask_cli(tmp_path, *args: str, **variables: str) -> subprocess.CompletedProcess:
    """``flask --app webapp ARGS`` as an operator runs it, with those WEBAPP_ variables."""
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "webapp", *args],
        cwd=ROOT,
        env=operator_env(tmp_path, **variables),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        # No timeout: its wait sleeps, and under faketime (make test-clock) a sleep may fail.
    )


@pytest.mark.parametrize(
    "args",
    [["--help"], ["init-db"], ["run", "--port", "0"], ["db", "upgrade"], ["routes"]],
    ids=" ".join,
)
def test_the_command_line_says_a_wrong_setting_in_one_line(tmp_path, args):
    # It printed some 30 lines of traceback with the message last, even for --help.
    done = flask_cli(tmp_path, *args, TRUSTED_PROXIES="abc")
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "Error: TRUSTED_PROXIES 'abc' is not a whole number of 0 or more "
        "(set WEBAPP_TRUSTED_PROXIES)."
    ]
    assert done.stdout == ""


def test_the_command_line_says_every_wrong_setting(tmp_path):
    done = flask_cli(tmp_path, "init-db", BULK_CHUNK_SIZE="0", SESSION_COOKIE_SECURE="maybe")
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "Error: BULK_CHUNK_SIZE 0 is not a whole number of 1 or more (set WEBAPP_BULK_CHUNK_SIZE).",
        "Error: SESSION_COOKIE_SECURE 'maybe' is not true or false "
        "(set WEBAPP_SESSION_COOKIE_SECURE).",
    ]
    assert not (tmp_path / "instance").exists()  # refused before anything was made


def unusable_instance(tmp_path) -> Path:
    """An instance folder no one can make, root included: its parent is a file."""
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    return blocker / "instance"


def instance_refusal(instance: Path, reason: str, filename: Path) -> str:
    return (
        f"The instance folder {instance} cannot be used ({reason}: {filename}); "
        "set WEBAPP_INSTANCE_PATH to a folder this user may write."
    )


def test_an_instance_folder_that_cannot_be_made_is_refused_in_one_line(start, tmp_path):
    # It was an OSError's traceback, from a gunicorn worker and from the command line alike.
    instance = unusable_instance(tmp_path)
    assert refusal(start, INSTANCE_PATH=str(instance)) == [
        instance_refusal(instance, "Not a directory", instance)
    ]


def test_a_kept_secret_key_that_cannot_be_read_is_refused_in_one_line(start, tmp_path, monkeypatch):
    monkeypatch.delenv("WEBAPP_SECRET_KEY")
    instance = tmp_path / "instance"
    (instance / "secret_key").mkdir(parents=True)
    assert refusal(start) == [instance_refusal(instance, "Is a directory", instance / "secret_key")]


def test_the_command_line_says_an_unusable_instance_folder_in_one_line(tmp_path):
    instance = unusable_instance(tmp_path)
    done = flask_cli(tmp_path, "init-db", INSTANCE_PATH=str(instance))
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "Error: " + instance_refusal(instance, "Not a directory", instance)
    ]
    assert not (tmp_path / "cli.sqlite3").exists()  # refused before anything was made


def test_the_command_line_runs_with_good_settings(tmp_path):
    done = flask_cli(tmp_path, "init-db", TRUSTED_PROXIES="1", BULK_CHUNK_SIZE="50")
    assert done.returncode == 0, done.stderr
    assert "Database ready" in done.stdout
