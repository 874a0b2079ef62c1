"""Share Desk: an internal tool for managing Omneo-style shares."""

from __future__ import annotations

import os
import secrets
import tempfile
import zoneinfo
from pathlib import Path
from typing import NoReturn

import click
import sqlalchemy as sa
from flask import Config, Flask
from werkzeug.middleware.proxy_fix import ProxyFix

ROOT = Path(__file__).resolve().parent.parent

DEFAULTS = {
    "DATABASE_URL": "sqlite:///share-desk.sqlite3",  # relative: lands in instance/
    "DEFAULT_TIMEZONE": "UTC",
    # HTML forms may carry 100 meta lines of 1000 characters; the API keeps the contract's limit.
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    "API_MAX_CONTENT_LENGTH": 64 * 1024,
    "SQLITE_BUSY_TIMEOUT_MS": 30_000,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": False,  # also set whenever the request came over HTTPS
    "SESSION_IDLE_MINUTES": 30,
    "SESSION_MAX_HOURS": 12,  # from sign-in, however busy the session
    # Failed sign-ins within the window that lock sign-in: for one email from one address, and
    # from one address for any emails (lockout.py).
    "SIGN_IN_MAX_FAILURES": 5,
    "SIGN_IN_MAX_ADDRESS_FAILURES": 20,
    "SIGN_IN_WINDOW_MINUTES": 15,
    # How many reverse proxies in front set X-Forwarded-For/-Proto; 0 trusts none. Sign-in
    # lock-out counts per client address, so behind a proxy this must be set.
    "TRUSTED_PROXIES": 0,
    # Per API token, counted on its row: every worker and server shares one count (ratelimit.py).
    "API_RATE_LIMIT": "1200 per minute",
    # "text" for people, "json" for a log collector: one object a line (telemetry/logs.py).
    "LOG_FORMAT": "text",
    # INFO writes a line per request; WARNING keeps only what went wrong.
    "LOG_LEVEL": "INFO",
    # /metrics answers this machine, and anyone sending it as a bearer token (none by default).
    "METRICS_TOKEN": None,
    # Bulk jobs (jobs.py): shares per chunk (one transaction each), and how old a running
    # job's heartbeat may be before another worker takes the job over.
    "BULK_CHUNK_SIZE": 500,
    "BULK_STALE_SECONDS": 30,
    # Where customers open a share (https://shop.example.com/s/{handle}); empty: no links shown.
    "SHARE_LINK_TEMPLATE": "",
}

#: The least value of each whole-number setting (a new one is a line here). A wrong value used
#: to start, then fail every request that read it (a 500) or be taken silently; create_app now
#: refuses it, as it refuses anything but true or false where the default is one of them.
LEAST = {
    "MAX_CONTENT_LENGTH": 1,
    "API_MAX_CONTENT_LENGTH": 1,
    "SQLITE_BUSY_TIMEOUT_MS": 0,  # 0: fail at once rather than wait, as SQLite itself allows
    "SESSION_IDLE_MINUTES": 1,
    "SESSION_MAX_HOURS": 1,
    "SIGN_IN_MAX_FAILURES": 1,
    "SIGN_IN_MAX_ADDRESS_FAILURES": 1,
    "SIGN_IN_WINDOW_MINUTES": 1,
    "TRUSTED_PROXIES": 0,
    "BULK_CHUNK_SIZE": 1,
    "BULK_STALE_SECONDS": 1,
}
SAMESITE = ("Strict", "Lax", "None")


class ConfigError(RuntimeError):
    """Settings the app cannot run with: a line for each, naming its WEBAPP_ variable."""


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: defaults, then instance/config.py, then WEBAPP_* variables, then tests."""
    app = Flask(
        __name__,
        instance_path=_instance_path(),
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    # Keep JSON objects in the contract's field order instead of sorting their keys.
    app.json.sort_keys = False
    _load_settings(app.config, test_config)
    # First: a wrong setting stops the app before anything opens or reads it.
    problems = _wrong_settings(app.config) or _use_instance(Path(app.instance_path), app.config)
    if problems:
        _refuse(problems)
    app.config["SQLALCHEMY_DATABASE_URI"] = app.config["DATABASE_URL"]
    if app.config["TRUSTED_PROXIES"]:
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    from . import (
        account,
        admin,
        api,
        auth,
        bulk_pages,
        cli,
        docs,
        errors,
        import_pages,
        people,
        ratelimit,
        routing,
        templating,
        views,
    )
    from .db import server_pool, writer_queue
    from .extensions import csrf, db
    from .forms import widgets
    from .telemetry import logs, metrics, timing

    ratelimit.init_app(app)
    logs.init_app(app)
    routing.init_app(app)  # before the blueprints add their routes
    writer_queue.configure(app)
    db.init_app(app)
    with app.app_context():
        timing.init_app(app, db.engine, on_end=(logs.request_lines(app), metrics.observe))
        if db.engine.dialect.name != "sqlite":
            # A server drops connections (a restart, an idle timeout); a file does not.
            server_pool.check_idle_connections(db.engine)
    csrf.init_app(app)
    widgets.use_attributes()
    errors.init_app(app)
    templating.init_app(app)
    auth.init_app(app)
    cli.init_app(app)
    app.register_blueprint(views.bp)
    app.register_blueprint(people.bp)
    app.register_blueprint(import_pages.bp)
    app.register_blueprint(bulk_pages.bp)
    app.register_blueprint(account.bp)
    app.register_blueprint(docs.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(admin.health)
    metrics.init_app(app)
    return app


def settings_problems() -> list[str]:
    """What create_app would refuse in the settings it would read now, a line for each (and an
    instance folder it could not use; a usable one is made, with its secret key). gunicorn's
    master asks before it starts a worker (gunicorn.conf.py): workers that each fail to boot
    stop gunicorn too, but with exit 1 and a traceback when two of them fail at once."""
    config = Config(_instance_path())
    _load_settings(config)
    return _wrong_settings(config) or _use_instance(Path(config.root_path), config)


def _instance_path() -> str:
    return os.environ.get("WEBAPP_INSTANCE_PATH", str(ROOT / "instance"))


def _load_settings(config: Config, test_config: dict | None = None) -> None:
    config.from_mapping(DEFAULTS)
    config.from_pyfile("config.py", silent=True)
    config.from_prefixed_env("WEBAPP", loads=_env_value)
    if test_config:
        config.update(test_config)


def _env_value(value: str):
    """Environment values are plain strings, except for numbers and true/false."""
    if value.isdigit():
        return int(value)
    return {"true": True, "false": False}.get(value.lower(), value)


def _use_instance(instance: Path, config: Config) -> list[str]:
    """Make the instance folder if missing and, when no secret key is set, take the one kept
    there (``_instance_secret``). A folder that cannot be made, written or read is refused as a
    wrong setting is, in a line naming WEBAPP_INSTANCE_PATH, not a traceback."""
    try:
        instance.mkdir(parents=True, exist_ok=True)
        if not config.get("SECRET_KEY"):
            config["SECRET_KEY"] = _instance_secret(instance)
    except OSError as error:
        return [
            f"The instance folder {instance} cannot be used ({error.strerror or error}: "
            f"{error.filename}); set WEBAPP_INSTANCE_PATH to a folder this user may write."
        ]
    return []


def _instance_secret(instance: Path) -> str:
    """The secret key kept in instance/secret_key, made on first run; never a literal."""
    path = instance / "secret_key"
    if not path.exists():
        # Written aside (mkstemp: mode 0600), then linked into place: when several gunicorn
        # workers start at once, none reads a half-written key and none fails on the file another
        # made; all of them end up with the one key that won.
        fd, draft = tempfile.mkstemp(dir=instance, prefix=".secret_key-")
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(draft)
    return path.read_text().strip()


def _wrong_settings(config) -> list[str]:
    """What is wrong with the settings, a line for each wrong one: all of them at once, so a
    deployment is not fixed one restart at a time."""
    from . import sharelinks
    from .ratelimit import Rate
    from .telemetry import logs, metrics

    problems = [
        f"{name} {config[name]!r} is not a whole number of {least} or more (set WEBAPP_{name})."
        for name, least in LEAST.items()
        # bool is an int to Python, not to a person who wrote true.
        if type(config[name]) is not int or config[name] < least
    ]
    problems += [
        f"{name} {config[name]!r} is not true or false (set WEBAPP_{name})."
        for name, default in DEFAULTS.items()
        if isinstance(default, bool) and not isinstance(config[name], bool)
    ]
    checks = {
        "DATABASE_URL": _check_database_url,
        "SECRET_KEY": _check_secret_key,
        "DEFAULT_TIMEZONE": _check_timezone,
        "SESSION_COOKIE_SAMESITE": _check_samesite,
        "API_RATE_LIMIT": Rate.parse,
        "LOG_FORMAT": logs.check_format,
        "LOG_LEVEL": logs.check_level,
        "METRICS_TOKEN": metrics.check_token,
        "SHARE_LINK_TEMPLATE": sharelinks.check_template,
    }
    for name, check in checks.items():
        try:
            check(config.get(name))
        except ValueError as error:
            problems.append(str(error))
    return problems


def _refuse(problems: list[str]) -> NoReturn:
    """Stop the app for its settings. Under ``flask --app webapp ...`` (a click command runs):
    the lines alone, as the CLI's own errors read, and exit 1; Flask's CLI shows a traceback for
    any other exception, and its NoAppException as "No such command" (for --help, with exit 0).
    Elsewhere a ConfigError: gunicorn's worker then fails to boot, and gunicorn exits 3."""
    if click.get_current_context(silent=True) is None:
        raise ConfigError("\n".join(problems))
    for problem in problems:
        click.echo(f"Error: {problem}", err=True)
    raise SystemExit(1)


def _check_database_url(url) -> None:
    """A URL SQLAlchemy reads, of a database whose driver is installed. The URL itself is not
    repeated: it may hold a password."""
    try:
        parsed = sa.engine.make_url(url)
        parsed.get_dialect().import_dbapi()
    except sa.exc.NoSuchModuleError:  # an ArgumentError too
        problem = f"names no database SQLAlchemy knows ({parsed.drivername!r})"
    except sa.exc.ArgumentError:
        problem = "is not a database URL"
    except ImportError as error:
        problem = f"needs a driver that is not installed ({error.name!r})"
    else:
        return
    raise ValueError(
        f"DATABASE_URL {problem} (set WEBAPP_DATABASE_URL, e.g. to "
        "postgresql+psycopg://user:password@host:5432/sharedesk or sqlite:///share-desk.sqlite3)."
    )


def _check_secret_key(key) -> None:
    """Text (or bytes from instance/config.py); all digits in WEBAPP_SECRET_KEY reads as a number,
    which cannot sign a cookie. Never repeated in the message."""
    if key is not None and not isinstance(key, str | bytes):
        raise ValueError(
            "SECRET_KEY must be text, not a number "
            "(set WEBAPP_SECRET_KEY, e.g. to the output of: openssl rand -hex 32)."
        )


def _check_timezone(name) -> None:
    try:
        zoneinfo.ZoneInfo(str(name))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(
            f"DEFAULT_TIMEZONE {name!r} is not an IANA time zone (set WEBAPP_DEFAULT_TIMEZONE)."
        ) from error


def _check_samesite(value) -> None:
    """What Werkzeug writes into the cookie; anything else fails every response that sets it."""
    if str(value).title() not in SAMESITE:
        raise ValueError(
            f"SESSION_COOKIE_SAMESITE {value!r} is not one of {', '.join(SAMESITE)} "
            "(set WEBAPP_SESSION_COOKIE_SAMESITE)."
        )
