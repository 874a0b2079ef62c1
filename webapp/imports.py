"""CSV imports of new shares: a checked file is kept in the database until it is confirmed (so any
worker of any server can take the confirmation, and a pending one goes after a day); confirming
creates every row in the caller's transaction, in file order, through ``shares.create_many``.
The same bytes are imported once: a file's SHA-256 is unique.

The Import page and ``flask shares import`` both come here; the checks of each row are the
create form's (``forms.imports``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa

from . import audit, shares
from .clock import utcnow
from .expiry import to_utc_z
from .extensions import db
from .forms.imports import RowCheck, check
from .models import ShareImport

#: How long a checked file waits for its confirmation.
PENDING_LIFETIME = timedelta(days=1)
#: Rows created per statement: bounds the memory an import of 10,000 rows takes.
BATCH = 1000
_IMPORTS = ShareImport.__table__


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Preview:
    """Every row of a file, checked, and the counts the page's summary gives."""

    rows: list[RowCheck] = field(default_factory=list)
    valid: int = 0
    invalid: int = 0


#: What a preview shows of a valid row's share; the rest is dropped as soon as it is checked,
#: so that a preview of 10,000 rows stays small.
SHOWN = ("profile_id", "source_type", "source_id", "expires_at", "timezone", "remaining_quantity")


def preview(data: bytes) -> Preview:
    """Check every row of ``data`` as if its shares were made now; raises ``FileRefused``."""
    found = Preview()
    for row in check(data):
        found.rows.append(row)
        if row.errors:
            found.invalid += 1
        else:
            found.valid += 1
            row.values = {name: row.values[name] for name in SHOWN}
    return found


def imported(data: bytes) -> ShareImport | None:
    """The import these bytes were imported by already, if any."""
    return db.session.scalar(
        sa.select(ShareImport).where(
            ShareImport.sha256 == digest(data), ShareImport.imported_at.is_not(None)
        )
    )


def id_ranges(ids: list[int], most: int = 10) -> str:
    """Share ids in runs: ``101–900, 950``; past ``most`` runs, how many more ids there are."""
    runs: list[list[int]] = []
    for share_id in sorted(ids):
        if runs and share_id == runs[-1][1] + 1:
            runs[-1][1] = share_id
        else:
            runs.append([share_id, share_id])
    words = [f"{a}" if a == b else f"{a}–{b}" for a, b in runs[:most]]
    shown = sum(b - a + 1 for a, b in runs[:most])
    if len(ids) > shown:
        words.append(f"and {len(ids) - shown:,} more")
    return ", ".join(words)


def refusal(done: ShareImport, shown: Callable[[datetime], str] = to_utc_z) -> str:
    """Why a file cannot be imported again: when (as ``shown`` writes an instant), by whom and
    what it made the first time."""
    count = len(done.share_ids or [])
    return (
        f"This file was imported already, on {shown(done.imported_at)} by "
        f"{done.imported_by}: it made {count:,} share{'s' if count != 1 else ''} "
        f"(ids {id_ranges(done.share_ids or [])}). A file is imported once."
    )


def keep(data: bytes, filename: str) -> ShareImport:
    """Keep a checked file until its confirmation (in the caller's transaction), or find the
    one kept with the same bytes; pending files older than a day go first."""
    db.session.execute(
        sa.delete(ShareImport).where(
            ShareImport.imported_at.is_(None),
            ShareImport.uploaded_at < utcnow() - PENDING_LIFETIME,
        )
    )
    found = db.session.scalar(sa.select(ShareImport).where(ShareImport.sha256 == digest(data)))
    if found is not None:
        return found
    pending = ShareImport(
        sha256=digest(data),
        filename=filename[:255],
        content=data,
        uploaded_by=audit.current_actor(),
    )
    db.session.add(pending)
    db.session.flush()
    return pending


def expired(pending: ShareImport) -> bool:
    """Whether a pending file waited too long for its confirmation (it is thrown away)."""
    return pending.imported_at is None and utcnow() - pending.uploaded_at > PENDING_LIFETIME


@dataclass
class Outcome:
    """What a confirmation did: the ids of the shares made, in file order; or, when some row no
    longer passes its checks (and the caller must roll back), those rows."""

    ids: list[int] = field(default_factory=list)
    invalid: list[RowCheck] = field(default_factory=list)
    valid: int = 0


def confirm(pending: ShareImport, now: datetime | None = None) -> Outcome | None:
    """Create every row of ``pending`` in the caller's transaction, in file order, made at
    ``now``; mark it imported by the current actor and drop its content. None when it was
    imported meanwhile (by another request: nothing is done). With ``invalid`` rows, the caller
    rolls back. Raises ``FileRefused``."""
    now = now or utcnow()
    data = pending.content
    taken = db.session.execute(
        sa.update(_IMPORTS)
        .where(_IMPORTS.c.id == pending.id, _IMPORTS.c.imported_at.is_(None))
        .values(imported_at=now, imported_by=audit.current_actor(), content=None)
    )
    if taken.rowcount != 1:
        return None
    outcome = Outcome()
    connection, batch = db.session.connection(), []
    for row in check(data, now):
        if row.errors:
            outcome.invalid.append(row)
            continue
        outcome.valid += 1
        if not outcome.invalid:
            batch.append(row.values)
            if len(batch) == BATCH:
                outcome.ids += shares.create_many(batch, connection)
                batch = []
    if batch and not outcome.invalid:
        outcome.ids += shares.create_many(batch, connection)
    if not outcome.invalid:
        db.session.execute(
            sa.update(_IMPORTS).where(_IMPORTS.c.id == pending.id).values(share_ids=outcome.ids)
        )
    db.session.expire(pending)
    return outcome
