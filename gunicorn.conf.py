"""gunicorn settings for Share Desk: `make serve`, the gunicorn tests and the benchmarks use these.

Sized for 2 cores: processes use the cores (Python runs one thread at a time per process); threads
overlap the time requests wait on the database. Command-line flags override these
(`make serve BIND=... WORKERS=... THREADS=...`).
"""

import os
import shutil
import sys
import tempfile
from pathlib import Path

# /metrics adds up every worker's counts from files in this directory (prometheus_client's
# multiprocess mode). prometheus_client chooses that mode when it is first imported, so the
# directory is set here, before any worker imports the app; each server gets a fresh one of its
# own unless PROMETHEUS_MULTIPROC_DIR names one (emptied at start: counts start again at zero).
_OWN_METRICS_DIR = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _OWN_METRICS_DIR:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="share-desk-metrics-")
else:
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

from webapp import settings_problems  # noqa: E402
from webapp.telemetry import logs  # noqa: E402

wsgi_app = "webapp:create_app()"
bind = "127.0.0.1:8000"
workers = 2
threads = 8
# Only fires when a worker's main loop hangs (its threads may wait out SQLite's 30 s busy timeout).
timeout = 60
# Lets requests in flight finish on a stop or reload.
graceful_timeout = 30
# gunicorn's own lines in the app's format (WEBAPP_LOG_FORMAT: text, or json), on standard
# error; no access log: the app writes a line per request (its id, timing and who asked).
logconfig_dict = logs.gunicorn_config(os.environ.get("WEBAPP_LOG_FORMAT", "text").lower())
# Otherwise every gunicorn of this user shares ~/.gunicorn/gunicorn.ctl (gunicorn >= 25.1).
control_socket_disable = True


def on_starting(server):
    """Before the first worker: a wrong setting stops gunicorn here, each named once, with exit 3
    (a worker failed to boot: what gunicorn itself says when every worker refuses); then no
    counts left over from an earlier run in the directory."""
    problems = settings_problems()
    if problems:
        for problem in problems:
            server.log.error(problem)
        if server.pidfile is not None:
            server.pidfile.unlink()
        on_exit(server)
        sys.exit(3)
    for leftover in Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).glob("*.db"):
        leftover.unlink()


def on_exit(server):
    if _OWN_METRICS_DIR:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
