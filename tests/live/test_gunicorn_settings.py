"""gunicorn as `make serve` runs it refuses to start on a wrong setting, rather than serve and
fail requests: exit 3 (a worker failed to boot), every wrong setting named once in its log, before
any worker starts. When workers refused one by one, two failing at once made gunicorn 27 exit 1
with a traceback (its halt reaps the second worker and raises again)."""

from __future__ import annotations

import subprocess

from tests.conftest import TEST_SECRET
from tests.live.helpers import ROOT, free_port, gunicorn_argv
from tests.unit.test_settings import instance_refusal, unusable_instance


def start_gunicorn(tmp_path, **variables: str) -> subprocess.CompletedProcess:
    """gunicorn as ``make serve`` starts it, with those WEBAPP_ variables; after it exits."""
    env = {
        "PATH": "/usr/bin:/bin",
        "WEBAPP_DATABASE_URL": f"sqlite:///{tmp_path / 'gunicorn.sqlite3'}",
        "WEBAPP_SECRET_KEY": TEST_SECRET,
        "WEBAPP_INSTANCE_PATH": str(tmp_path / "instance"),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
        **{f"WEBAPP_{name}": value for name, value in variables.items()},
    }
    return subprocess.run(
        gunicorn_argv(free_port()),
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_wrong_setting_stops_gunicorn(tmp_path):
    # TRUSTED_PROXIES: it started, then answered every request with X-Forwarded-For 500.
    done = start_gunicorn(tmp_path, TRUSTED_PROXIES="abc", LOG_LEVEL="loud")
    assert done.returncode == 3, done.stderr[-3000:]
    assert (
        done.stderr.count(
            "TRUSTED_PROXIES 'abc' is not a whole number of 0 or more (set WEBAPP_TRUSTED_PROXIES)."
        )
        == 1
    ), done.stderr
    assert "LOG_LEVEL 'loud' is not one of DEBUG, INFO, WARNING, ERROR" in done.stderr
    assert "Booting worker" not in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "instance").exists()  # refused before anything was made


def test_an_instance_folder_it_cannot_make_stops_gunicorn_in_one_line(tmp_path):
    # Every worker failed to boot with an OSError's traceback.
    instance = unusable_instance(tmp_path)
    done = start_gunicorn(tmp_path, INSTANCE_PATH=str(instance))
    assert done.returncode == 3, done.stderr[-3000:]
    line = instance_refusal(instance, "Not a directory", instance)
    assert done.stderr.count(line) == 1, done.stderr
    assert "Booting worker" not in done.stderr
    assert "Traceback" not in done.stderr
