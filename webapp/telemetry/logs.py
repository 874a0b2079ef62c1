"""Log lines: one per request, and whatever the app warns about, each with its request's id.

``WEBAPP_LOG_FORMAT=json`` writes one JSON object a line (python-json-logger), for a log
collector; ``text`` (the default) writes lines for people. Both go to standard error, and every
line says which request it belongs to (``-`` for none). Under gunicorn, ``gunicorn.conf.py``
gives gunicorn's own lines the same format, and the request lines written here take the place
of its access log.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from flask import Flask
from flask.logging import default_handler
from pythonjsonlogger.json import JsonFormatter

from . import timing

FORMATS = ("text", "json")
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
#: The app's loggers: ``webapp`` (Flask's ``app.logger``) and ``webapp.request`` below it.
LOGGER = "webapp"
REQUESTS = logging.getLogger("webapp.request")
TEXT = (
    "[%(asctime)s] %(levelname)s in %(name)s (pid %(process)d, request %(request_id)s): %(message)s"
)
#: JSON: these record fields under these names, then the request's fields; ``time`` in UTC.
JSON_FIELDS = {"levelname": "level", "name": "logger", "process": "pid", "message": "message"}


class RequestFields(logging.Filter):
    """Adds the current request's id, method and path to every record logged while it runs,
    and ``-`` for the id outside one (gunicorn's own lines, say), so that every line, JSON
    included, has the field."""

    def filter(self, record: logging.LogRecord) -> bool:
        if hasattr(record, "request_id"):
            return True
        current = timing.current()
        if current is None:
            record.request_id = "-"
        else:
            record.request_id = current.id
            record.method = current.method
            record.path = current.path
        return True


class _Stderr(logging.StreamHandler):
    """Standard error as it is at each write (a test runner swaps it), never a stale copy."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass


def formatter(log_format: str) -> logging.Formatter:
    """The formatter for ``text`` or ``json``."""
    if log_format == "json":
        return JsonFormatter(list(JSON_FIELDS), rename_fields=JSON_FIELDS, timestamp="time")
    return logging.Formatter(TEXT, defaults={"request_id": "-"})


def handler(log_format: str) -> logging.Handler:
    """A standard-error handler writing ``log_format`` lines with their request's fields."""
    made = _Stderr()
    made.addFilter(RequestFields())
    made.setFormatter(formatter(log_format))
    return made


def gunicorn_config(log_format: str) -> dict:
    """gunicorn's ``logconfig_dict``: its own lines in the app's format, on standard error.

    Its access log stays off: the app's request lines say more (who asked, the database's
    share, the request id).
    """
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "root": {"level": "INFO", "handlers": []},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["app"], "propagate": False},
            "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
        },
        "handlers": {"app": {"()": f"{__name__}.handler", "log_format": log_format}},
        "formatters": {},
    }


def write_request_line(record: timing.RequestRecord) -> None:
    """One line per request, once its body is sent: who asked for what, and how it went.

    The path without its query string: a search for a claim code does not belong in the logs.
    """
    duration_ms = round(record.seconds * 1000, 3)
    fields = {
        "request_id": record.id,
        "method": record.method,
        "path": record.path,
        "status": record.status,
        "duration_ms": duration_ms,
        "db_ms": round(record.db_seconds * 1000, 3),
        "queries": record.queries,
        "endpoint": record.endpoint,
        "actor": record.actor,
        "remote_addr": record.remote_addr,
    }
    REQUESTS.info(
        "%s %s %s in %.1f ms (db %.1f ms, %s) by %s from %s",
        record.method,
        record.path,
        record.status,
        duration_ms,
        fields["db_ms"],
        record.counted_queries,
        record.actor or "anonymous",
        record.remote_addr or "-",
        extra=fields,
    )


def request_lines(app: Flask) -> Callable[[timing.RequestRecord], None]:
    """What writes ``app``'s request lines: nothing while its ``LOG_LEVEL`` is above INFO.

    Read at each request, from the app's own settings: a process may hold several apps (tests).
    """
    config = app.config

    def write(record: timing.RequestRecord) -> None:
        if logging.getLevelName(str(config["LOG_LEVEL"]).upper()) <= logging.INFO:
            write_request_line(record)

    return write


def check_format(log_format) -> None:
    if str(log_format).lower() not in FORMATS:
        raise ValueError(
            f"LOG_FORMAT {log_format!r} is not one of {', '.join(FORMATS)} (set WEBAPP_LOG_FORMAT)."
        )


def check_level(level) -> None:
    if str(level).upper() not in LEVELS:
        raise ValueError(
            f"LOG_LEVEL {level!r} is not one of {', '.join(LEVELS)} (set WEBAPP_LOG_LEVEL)."
        )


def init_app(app: Flask) -> None:
    """Send the app's log lines to standard error, in its ``LOG_FORMAT`` from ``LOG_LEVEL`` up
    (create_app refused any other).

    Logging is per process: the last app made sets the format (tests make several).
    """
    log_format = str(app.config["LOG_FORMAT"]).lower()
    level = str(app.config["LOG_LEVEL"]).upper()
    logger = logging.getLogger(LOGGER)
    for old in list(logger.handlers):
        if old is default_handler or isinstance(old, _Stderr):
            logger.removeHandler(old)
    logger.addHandler(handler(log_format))
    logger.setLevel(level)
    # Our handler writes them: the root logger (gunicorn's, a test runner's) must not again.
    logger.propagate = False
