"""Command-line tools: ``flask --app webapp init-db`` and ``flask --app webapp tokens ...``."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import AppGroup

from .extensions import db
from .models import ApiToken, utcnow

tokens = AppGroup("tokens", help="Create, list and revoke API tokens.")


@click.command("init-db")
def init_db_command():
    """Create the database tables that do not exist yet (safe to run again)."""
    db.create_all()
    click.echo(f"Database ready: {db.engine.url.render_as_string(hide_password=True)}")


@tokens.command("create")
@click.argument("name")
def create_token(name: str):
    """Make a token called NAME and print it once; only its hash is stored."""
    name = name.strip()
    if not name or len(name) > 100:
        raise click.BadParameter("must be 1 to 100 characters", param_hint="NAME")
    if db.session.scalar(sa.select(ApiToken).where(ApiToken.name == name)):
        raise click.ClickException(f"A token named {name!r} exists already.")
    token, plain = ApiToken.issue(name)
    db.session.add(token)
    db.session.commit()
    click.echo(f"Token {name!r} created. Copy it now: it is not shown again.", err=True)
    click.echo(plain)


@tokens.command("list")
def list_tokens():
    """List tokens: name, created, last used, revoked."""
    rows = db.session.scalars(sa.select(ApiToken).order_by(ApiToken.name)).all()
    if not rows:
        click.echo("No API tokens. Make one with: flask --app webapp tokens create NAME")
        return
    click.echo(f"{'NAME':30} {'CREATED':21} {'LAST USED':21} STATUS")
    for row in rows:
        click.echo(
            f"{row.name:30} {_when(row.created_at):21} {_when(row.last_used_at):21} "
            f"{'revoked ' + _when(row.revoked_at) if row.revoked_at else 'active'}"
        )


@tokens.command("revoke")
@click.argument("name")
def revoke_token(name: str):
    """Revoke the token called NAME; requests with it get 401 at once."""
    token = db.session.scalar(
        sa.select(ApiToken).where(ApiToken.name == name, ApiToken.revoked_at.is_(None))
    )
    if token is None:
        raise click.ClickException(f"No active token named {name!r}.")
    token.revoked_at = utcnow()
    db.session.commit()
    click.echo(f"Token {name!r} revoked.")


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%SZ") if value else "-"


def init_app(app: Flask) -> None:
    app.cli.add_command(init_db_command)
    app.cli.add_command(tokens)
