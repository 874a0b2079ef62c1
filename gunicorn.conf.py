"""gunicorn settings for Share Desk: `make serve`, the gunicorn tests and the benchmarks use these.

Sized for 2 cores: processes use the cores (Python runs one thread at a time per process); threads
overlap the time requests wait on the database. Command-line flags override these
(`make serve BIND=... WORKERS=... THREADS=...`).
"""

import os

from webapp.telemetry import logs

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

