"""Jinja filters and globals for showing instants to people."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, g, url_for
from markupsafe import Markup, escape

from . import charts, expiry, once, sharelinks
from .clock import utcnow
from .forms.fields import is_zone
from .forms.widgets import render_field


def local_time(value: datetime | None, zone: str) -> str:
    """``2026-12-13 23:59:59 AEDT`` in the given zone; empty for None."""
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S %Z")


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def long_time(value: datetime, zone: str) -> str:
    """``Monday 30 Nov 2026 23:59:59 AEDT``: an instant in words, in the given zone (English
    names whatever the process locale)."""
    local = value.astimezone(ZoneInfo(zone))
    day = f"{_WEEKDAYS[local.weekday()]} {local.day} {_MONTHS[local.month - 1]} {local.year}"
    return f"{day} {local:%H:%M:%S} {local.tzname()}"


def weekday(value: datetime | None, zone: str) -> str:
    """The weekday of an instant in the given zone: ``Sunday``."""
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(zone)).strftime("%A")


def when(value: datetime, zone: str, weekday: bool = False) -> Markup:
    """An instant in a share's zone, named, with the UTC instant on hover (and its weekday
    first, if asked): ``<time datetime="…Z" title="UTC: …Z">2026-12-13 23:59:59 AEDT <span
    class="zone">Australia/Melbourne</span></time>`` (``… 12:59:59 UTC`` in UTC). A function
    rather than a macro: the list writes two a row, and a Jinja macro call costs more than the
    rest of the row's cells."""
    utc = escape(expiry.to_utc_z(value))
    local = value.astimezone(ZoneInfo(zone))
    shown = local.strftime("%A %Y-%m-%d %H:%M:%S %Z" if weekday else "%Y-%m-%d %H:%M:%S %Z")
    # A zone named as it abbreviates (UTC) is said once, not "… UTC UTC".
    named = "" if local.tzname() == zone else f' <span class="zone">{escape(zone)}</span>'
    return Markup(f'<time datetime="{utc}" title="UTC: {utc}">{escape(shown)}{named}</time>')


def relative_time(value: datetime, now: datetime | None = None) -> str:
    """``in 13 days`` or ``2 days ago``, rounded down to the largest whole unit; ``just now`` for
    the current second and the minute before it.

    Instants are stored to the second, so one made this second is up to a second behind a
    clock that counts microseconds: compared to the second, it is now, not the future.
    """
    now = now or utcnow()
    seconds = int((value.replace(microsecond=0) - now.replace(microsecond=0)).total_seconds())
    past, seconds = seconds <= 0, abs(seconds)
    for unit, size in (
        ("year", 365 * 86400),
        ("month", 30 * 86400),
        ("day", 86400),
        ("hour", 3600),
        ("minute", 60),
    ):
        if seconds >= size:
            count = seconds // size
            text = f"{count} {unit}{'s' if count != 1 else ''}"
            break
    else:
        return "just now" if past else "in less than a minute"
    return f"{text} ago" if past else f"in {text}"


def expiry_phrase(value: datetime | None, now: datetime | None = None) -> str:
    """How a share's expiry reads in a list: ``in 13 days``, ``expired 2 days ago``, ``never``."""
    if value is None:
        return "never expires"
    now = now or utcnow()
    text = relative_time(value, now)
    return f"expired {text}" if value < now else text


def change_value(value) -> str:
    """One side of an audited change, for people: ``∅`` for none, a record as its fields."""
    if value is None:
        return "∅"
    if isinstance(value, dict):
        return ", ".join(f"{key} {item}" for key, item in value.items())
    return str(value)


def display_zone() -> str:
    """The zone the signed-in person reads times in: theirs, or UTC until they have one (or if
    this machine's time zone data no longer knows theirs)."""
    staff = g.get("staff")
    zone = staff.timezone if staff is not None else None
    return zone if is_zone(zone) else "UTC"


def at(value: datetime) -> Markup:
    """An instant in the reader's own display zone, with the UTC instant on hover: every
    "created", "updated" and "when" the pages show (a share's expiry is ``when``, in the share's
    zone). A function, as ``when`` is: the lists write one a row."""
    utc = escape(expiry.to_utc_z(value))
    return (
        Markup(f'<time datetime="{utc}" title="UTC: {utc}">')
        + local_time(value, display_zone())
        + Markup("</time>")
    )


def profile_url(profile_id: str) -> str:
    """The customer page of a profile. Its id goes in the path, unless browsers would rewrite
    the path (a ``.`` or ``..`` segment, an empty one): then in the query string."""
    segments = profile_id.split("/")
    if any(segment in ("", ".", "..") for segment in segments):
        return url_for("people.profile_by_query", id=profile_id)
    return url_for("people.profile", profile_id=profile_id)


def profile_link(profile_id: str) -> Markup:
    """A profile id, linked to that customer's page (the lists write one or two a row)."""
    return Markup(f'<a href="{escape(profile_url(profile_id))}">{escape(profile_id)}</a>')


def inline_code(text: str) -> Markup:
    """Text with ``code`` in backticks (as the OpenAPI descriptions write it) shown as code."""
    return Markup(re.sub(r"`([^`<>]+)`", r"<code>\1</code>", str(escape(text))))


def schema_type(schema: dict, doc: dict | None = None) -> str:
    """A JSON schema in a few words: ``integer or digits string``, ``one of: days, weeks``."""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " or ".join(schema_type(part) for part in schema["anyOf"])
    if "enum" in schema:
        return "one of: " + ", ".join("null" if v is None else str(v) for v in schema["enum"])
    kind = schema.get("type", "any")
    words = " or ".join(kind) if isinstance(kind, list) else kind
    if kind == "string" and "pattern" in schema:
        words = "digits string"
    if "array" in words and "items" in schema:
        words += " of " + schema_type(schema["items"])
    bounds = ("minimum", "maximum", "maxLength", "maxItems")
    limits = [f"{k} {schema[k]}" for k in bounds if k in schema]
    return words + (f" ({', '.join(limits)})" if limits else "")


def init_app(app: Flask) -> None:
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.globals.update(when=when, at=at)
    app.jinja_env.filters.update(
        local_time=local_time,
        weekday=weekday,
        relative_time=relative_time,
        expiry_phrase=expiry_phrase,
        utc_z=expiry.to_utc_z,
        schema_type=schema_type,
        inline_code=inline_code,
        change_value=change_value,
        long_time=long_time,
    )
    app.jinja_env.globals.update(
        profile_link=profile_link,
        new_form_id=once.new_form_id,
        display_zone=display_zone,
        share_link=sharelinks.link,
        render_field=render_field,
        draw_chart=charts.drawn,
    )
    if app.testing:
        # A template typo fails the test instead of rendering an empty string.
        from jinja2 import StrictUndefined

        app.jinja_env.undefined = StrictUndefined
