"""Command-line tools: ``init-db``, ``check-tallies``, ``tokens``, ``staff`` and
``shares import`` (``flask --app webapp ...``)."""

from __future__ import annotations

import functools
import getpass
import sys
from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask, current_app, g
from flask.cli import AppGroup, ScriptInfo, with_appcontext

from . import ROOT, accounts, imports
from .db import tallies, writer_queue
from .enums import Role
from .expiry import to_utc_z
from .extensions import db
from .forms.adapter import form_from_json
from .forms.admin import TokenForm
from .forms.imports import MAX_BYTES, TOO_LARGE, FileRefused, RowCheck
from .models import ApiToken, Staff

INIT_DB = "flask --app webapp init-db"
NO_TABLES = f"has no tables yet: run {INIT_DB}."


def migrations(app: Flask):
    """The app's Alembic set-up (Flask-Migrate's ``app.extensions["migrate"]``), made when a
    command first needs it. A server never does: Alembic is a fifth of a worker's start-up."""
    if "migrate" not in app.extensions:
        from flask_migrate import Migrate

        # Batch mode: SQLite can only ALTER a table by copying it. compare_type: autogenerate
        # notices a changed column type, not just added and dropped columns.
        migrations_at = str(ROOT / "migrations")
        Migrate(app, db, directory=migrations_at, render_as_batch=True, compare_type=True)
    return app.extensions["migrate"]


class _MigrationCommands(click.Group):
    """``flask db ...``: Flask-Migrate's commands, set up (``migrations``) when one is run."""

    def make_context(self, info_name, args, parent=None, **extra):
        migrations(parent.ensure_object(ScriptInfo).load_app())
        from flask_migrate.cli import db as commands

        return commands.make_context(info_name, args, parent=parent, **extra)


def _where() -> str:
    """The database as messages name it: its URL without the password."""
    return db.engine.url.render_as_string(hide_password=True)


def _open_database(schema: bool = True) -> None:
    """Open the database before a command works on it and, with ``schema``, check that it has
    this version's tables: a database out of reach, not set up or behind ends the command with
    one line that says why, before anything is written."""
    sqlite_file = db.engine.dialect.name == "sqlite" and db.engine.url.database
    if schema and sqlite_file and writer_queue.unmade(sqlite_file):
        # Opening it would make it (and leave an empty database behind).
        raise click.ClickException(f"The database at {_where()} {NO_TABLES}")
    try:
        with db.engine.connect() as connection:
            problem = _schema_problem(connection) if schema else None
    except sa.exc.DBAPIError as error:
        raise click.ClickException(
            f"The database at {_where()} could not be opened: {_first_line(error)}."
        ) from None
    if problem:
        raise click.ClickException(f"The database at {_where()} {problem}")


def _first_line(error: sa.exc.DBAPIError) -> str:
    """The driver's own words, first line: without SQLAlchemy's statement and link."""
    lines = str(error.orig).strip().splitlines()
    return lines[0].rstrip(".") if lines else type(error.orig).__name__


def _schema_problem(connection: sa.Connection) -> str | None:
    """What keeps the database from this version's schema, if anything: Alembic's version table
    says which migration it is at. A database without one is fine when it has every table
    (``models.create_tables`` made it: tests and scratch databases)."""
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(migrations(current_app).migrate.get_config())
    heads = set(script.get_heads())
    current = set(MigrationContext.configure(connection).get_current_heads())
    if current == heads:
        return None
    if not current:
        missing = set(db.metadata.tables) - set(sa.inspect(connection).get_table_names())
        if not missing:
            return None
        if missing != set(db.metadata.tables):
            return f"lacks tables this version needs ({', '.join(sorted(missing))})."
        return NO_TABLES
    at, latest = ", ".join(sorted(current)), ", ".join(sorted(heads))
    if current <= {revision.revision for revision in script.walk_revisions()}:
        return (
            f"is behind this version of Share Desk (at migration {at}, not {latest}): "
            f"run {INIT_DB} to upgrade it."
        )
    return (
        f"was made by a newer version of Share Desk (migration {at} is unknown here; "
        f"this version's latest is {latest})."
    )


def _on_database(command=None, *, schema: bool = True):
    """Run ``command`` once the database is open (and, with ``schema``, at this version's
    schema). A database error on the way (locked past the busy timeout, a lost connection, a
    duplicate that a concurrent command made) ends it with one line, not a traceback: the
    command commits once, at its end, so nothing of it was saved."""
    if command is None:
        return functools.partial(_on_database, schema=schema)

    @functools.wraps(command)
    def run(*args, **kwargs):
        _open_database(schema)
        try:
            return command(*args, **kwargs)
        except sa.exc.DBAPIError as error:
            db.session.rollback()
            raise click.ClickException(
                f"The database at {_where()} stopped the command: {_first_line(error)}. "
                "Nothing of it was saved; run it again."
            ) from None

    return run


class _DatabaseGroup(AppGroup):
    """A group whose every command opens the database first (``_open_database``)."""

    def command(self, *args, **kwargs):
        add = super().command(*args, **kwargs)
        return lambda callback: add(_on_database(callback))


tokens = _DatabaseGroup("tokens", help="Create, list and revoke API tokens.")
staff = _DatabaseGroup("staff", help="Create and list staff accounts, and set their passwords.")
shares = _DatabaseGroup("shares", help="Work on shares in bulk.")
ROLE = click.Choice([role.value for role in Role])


def _is_utf8(text: str) -> bool:
    """Bytes that are not UTF-8, in an argument or standard input, reach Python as lone
    surrogates (``surrogateescape``), which no database or hash takes."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


class _Text(click.ParamType):
    """An argument that is text: refused, with a usage error, unless it is valid UTF-8."""

    name = "text"

    def convert(self, value, param, ctx):
        if not _is_utf8(value):
            self.fail("it is not valid UTF-8 text.", param, ctx)
        return value


TEXT = _Text()


def _as_cli_actor() -> None:
    """Audit rows from the command line name the operating-system user."""
    g.actor = f"cli:{getpass.getuser()}"


@click.command("init-db")
@with_appcontext
@_on_database(schema=False)
def init_db_command():
    """Create the database or upgrade it to the latest migration (safe to run again)."""
    import flask_migrate

    migrations(current_app)
    flask_migrate.upgrade()
    click.echo(f"Database ready: {_where()}")
    has_staff = db.session.scalar(sa.select(sa.func.count(Staff.id)))
    if db.engine.dialect.name == "sqlite" and db.engine.url.database:
        # Once its last connection closes, SQLite removes the -wal and -shm files (unless another
        # process has the database open): name only the files that stay.
        db.session.remove()
        db.engine.dispose()
        exposed = writer_queue.exposed_files(db.engine.url.database)
        if exposed:
            click.echo(
                "Other users of this machine can read the database (password and token hashes,"
                " every share code). Make it owner-only:\n  chmod go= " + " ".join(exposed),
                err=True,
            )
    if not has_staff:
        click.echo(
            "No staff account yet. Make the first one with:\n"
            "  .venv/bin/flask --app webapp staff create you@example.com --role admin"
        )


@tokens.command("create")
@click.argument("name", type=TEXT)
@click.option(
    "--role", type=ROLE, default=Role.AGENT.value, show_default=True, help="What the token may do."
)
def create_token(name: str, role: str):
    """Make a token called NAME and print it once; only its hash is stored.

    The Tokens page's form checks the name, with its messages.
    """
    _as_cli_actor()
    form, valid = form_from_json(TokenForm, {"name": name, "role": role})
    if not valid:
        raise click.ClickException(" ".join(error for f in form for error in f.errors))
    name = form.name.data
    _token, plain = accounts.issue_token(name, form.role.data)
    db.session.commit()
    click.echo(f"Token {name!r} ({role}) created. Copy it now: it is not shown again.", err=True)
    click.echo(plain)


@tokens.command("list")
def list_tokens():
    """List tokens: name, role, created, by whom, last used, revoked."""
    rows = db.session.scalars(sa.select(ApiToken).order_by(ApiToken.name)).all()
    if not rows:
        click.echo("No API tokens. Make one with: flask --app webapp tokens create NAME")
        return
    click.echo(f"{'NAME':30} {'ROLE':7} {'CREATED':21} {'CREATED BY':30} {'LAST USED':21} STATUS")
    for row in rows:
        click.echo(
            f"{row.name:30} {row.role.value:7} {_when(row.created_at):21} "
            f"{row.created_by or '-':30} {_when(row.last_used_at):21} "
            f"{'revoked ' + _when(row.revoked_at) if row.revoked_at else 'active'}"
        )


@tokens.command("revoke")
@click.argument("name", type=TEXT)
def revoke_token(name: str):
    """Revoke the token called NAME; requests with it get 401 at once."""
    _as_cli_actor()
    name = name.strip()
    token = db.session.scalar(
        sa.select(ApiToken).where(ApiToken.name == name, ApiToken.revoked_at.is_(None))
    )
    if token is None:
        raise click.ClickException(f"No active token named {name!r}.")
    accounts.revoke_token(token)
    db.session.commit()
    click.echo(f"Token {name!r} revoked.")


@staff.command("create")
@click.argument("email", type=TEXT)
@click.option("--role", type=ROLE, required=True, help="viewer, agent or admin.")
def create_staff(email: str, role: str):
    """Make a staff account; the password is asked for, or read from standard input."""
    _as_cli_actor()
    problem = Staff.email_problem(email)
    if problem:
        raise click.BadParameter(problem, param_hint="EMAIL")
    email = Staff.normalise_email(email)
    if Staff.by_email(email):
        raise click.ClickException(f"A staff account for {email} exists already.")
    accounts.create_staff(email, Role(role), _read_password())
    db.session.commit()
    click.echo(f"Staff account {email} created ({role}).")


def _read_password() -> str:
    """A new password, asked for twice at a terminal, else one line of standard input."""
    try:
        if sys.stdin.isatty():
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        else:
            password = sys.stdin.readline().rstrip("\r\n")
    except UnicodeDecodeError:  # standard input read strictly (a UTF-8 locale)
        password = None
    if password is None or not _is_utf8(password):
        raise click.ClickException("The password is not valid UTF-8 text.")
    if len(password) < Staff.MIN_PASSWORD:
        raise click.ClickException(
            f"The password must be at least {Staff.MIN_PASSWORD} characters."
        )
    return password


@staff.command("set-password")
@click.argument("email", type=TEXT)
@click.option(
    "--must-change", is_flag=True, help="They choose their own password at their next sign-in."
)
def set_password(email: str, must_change: bool):
    """Set the password of the account EMAIL (asked for, or read from standard input); every
    session of theirs ends. For the admin who forgot theirs, too."""
    _as_cli_actor()
    member = Staff.by_email(email)
    if member is None:
        raise click.ClickException(f"No staff account for {Staff.normalise_email(email)}.")
    accounts.reset_password(member, _read_password(), must_change=must_change)
    db.session.commit()
    then = " They choose their own when they next sign in." if must_change else ""
    click.echo(f"Password of {member.email} set; their sessions have ended.{then}")


@staff.command("list")
def list_staff():
    """List staff accounts with their roles."""
    rows = db.session.scalars(sa.select(Staff).order_by(Staff.email)).all()
    if not rows:
        click.echo(
            "No staff accounts. Make one with: flask --app webapp staff create EMAIL --role admin"
        )
        return
    for row in rows:
        state = "active" if row.is_active else "deactivated"
        click.echo(f"{row.email:40} {row.role.value:7} {state}")


@click.command("check-tallies")
@click.option("--repair", is_flag=True, help="Recount the tallies from the shares if any is off.")
@with_appcontext
@_on_database
def check_tallies_command(repair: bool):
    """Check the list totals' tallies against a count of the shares; --repair recounts them.

    Triggers keep them right; a restore or import that bypassed the triggers would not.
    """
    with db.engine.begin() as connection:
        wrong = tallies.differences(connection)
        if not wrong:
            click.echo("The tallies match the shares.")
            return
        for dimension, value, kept, counted in wrong[:20]:
            click.echo(f"  {dimension} {value!r}: kept {kept}, counted {counted}")
        if len(wrong) > 20:
            click.echo(f"  ... and {len(wrong) - 20} more")
        if repair:
            tallies.recount(connection)
            click.echo(f"Recounted: {len(wrong)} tallies were off and are right now.")
            return
    raise click.ClickException(
        f"{len(wrong)} tallies are off. Run again with --repair to recount them from the shares."
    )


@shares.command("import")
@click.argument(
    "path",
    metavar="FILE.csv",
    type=click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=Path),
)
@click.option("--dry-run", is_flag=True, help="Check and show every row; create nothing.")
def import_shares(path: Path, dry_run: bool):
    """Create a share from each row of a CSV file (- reads standard input), all in one
    transaction, in file order.

    The Import page's format, checks and messages: nothing is created when any row is refused
    (exit 1), and a file imported before is refused.
    """
    _as_cli_actor()
    data = _read_at_most_the_limit(path)
    # A file name that is not UTF-8 is kept and shown with U+FFFD in place of its odd bytes.
    name = "standard input" if str(path) == "-" else click.format_filename(path.name)
    done = imports.imported(data)
    if done is not None:
        raise click.ClickException(imports.refusal(done))
    try:
        if dry_run:
            _dry_run(imports.preview(data))
            return
        outcome = imports.confirm(imports.keep(data, name))
    except FileRefused as refused:
        raise click.ClickException(" ".join(refused.problems)) from None
    if outcome is None:  # imported by someone else meanwhile
        db.session.rollback()
        raise click.ClickException(imports.refusal(imports.imported(data)))
    if outcome.invalid:
        db.session.rollback()
        _refuse(outcome.invalid, outcome.valid)
    db.session.commit()
    count = len(outcome.ids)
    click.echo(
        f"Imported {count:,} share{'s' if count != 1 else ''} from {name} "
        f"(ids {imports.id_ranges(outcome.ids)})."
    )


def _read_at_most_the_limit(path: Path) -> bytes:
    """The file's bytes, read to one byte past the limit and refused there: a device, a pipe or
    standard input reports no size, and /dev/zero never ends."""
    with click.open_file(path, "rb") as handle:
        data = handle.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise click.ClickException(TOO_LARGE)
    return data


def _dry_run(checked: imports.Preview) -> None:
    """Every row with its expiry; the errors, and exit 1, when any row is refused."""
    invalid = [row for row in checked.rows if row.errors]
    if invalid:
        _refuse(invalid, checked.valid)
    for row in checked.rows:
        share = row.values
        expires = to_utc_z(share["expires_at"]) if share["expires_at"] else "never"
        click.echo(
            f"Row {row.number}: {share['profile_id']}, {share['source_type'].value} "
            f"#{share['source_id']}, expires {expires} ({share['timezone']})"
        )
    click.echo(
        f"{checked.valid:,} valid, 0 with errors. Dry run: nothing was created; run again "
        "without --dry-run to create them."
    )


def _refuse(invalid: list[RowCheck], valid: int) -> None:
    """Say every refused row and field, and stop with exit 1."""
    for row in invalid:
        for name, messages in row.errors.items():
            click.echo(f"Row {row.number}, {name}: {' '.join(messages)}", err=True)
    raise click.ClickException(
        f"{valid:,} valid, {len(invalid):,} with errors: nothing was created."
    )


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%SZ") if value else "-"


def init_app(app: Flask) -> None:
    app.cli.add_command(init_db_command)
    app.cli.add_command(check_tallies_command)
    app.cli.add_command(tokens)
    app.cli.add_command(staff)
    app.cli.add_command(shares)
    app.cli.add_command(_MigrationCommands("db", help="Alembic's migrations (Flask-Migrate)."))
