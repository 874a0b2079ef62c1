"""Extension objects, bound to the app in create_app()."""

from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import event
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
csrf = CSRFProtect()


def tune_sqlite(app: Flask) -> None:
    """WAL and a busy timeout, so concurrent writers wait for each other instead of failing."""
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={app.config['SQLITE_BUSY_TIMEOUT_MS']}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
