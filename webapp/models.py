"""The tables and how their rows read as JSON: shares, claims, tallies, staff, tokens, audit events,
and the bookkeeping of work in bulk (CSV imports, bulk jobs).

Nothing here writes: every change to a share or claim goes through ``shares``, every staff and
token change through ``accounts``, each with its audit event in the same transaction.
"""

from __future__ import annotations

import enum
import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from types import SimpleNamespace

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from . import clock, expiry
from .clock import utcnow
from .db import tallies
from .db.types import UTCDateTime, binary_string, enum_column
from .enums import SHARE_ACTIONS, AuditAction, JobState, PeriodType, Role, ShareStatus, SourceType
from .extensions import db

#: The fields of the contract's create body, in its order: 422 messages, the OpenAPI document
#: and the audit trail all follow this one list.
BODY_FIELDS = (
    "profile_id",
    "source_id",
    "source_type",
    "code",
    "timezone",
    "period",
    "period_type",
    "absolute_expiry",
    "expires_at",
    "quantity",
    "remaining_quantity",
    "meta",
    "is_cloneable",
)


# --- response objects ------------------------------------------------------------------------


def _as_json(kind) -> Callable:
    """How a stored value of ``kind`` reads in JSON: enums by value, instants as UTC ``Z``."""
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return lambda value: None if value is None else value.value
    if kind is datetime:
        return expiry.to_utc_z
    if kind is list:
        return lambda value: None if value is None else list(value)
    return lambda value: value


@dataclass(frozen=True)
class Out:
    """One field of a response object: its name, its type, whether it may be null, and (for a
    field no column holds) how to read it. ``to_dict`` and the OpenAPI document both read these.
    """

    name: str
    kind: type
    nullable: bool = False
    #: More JSON Schema for the document (a handle's length, a count's minimum).
    schema: dict = field(default_factory=dict)
    read: Callable | None = None

    def __post_init__(self):
        if self.read is None:
            convert, name = _as_json(self.kind), self.name
            object.__setattr__(self, "read", lambda row: convert(getattr(row, name)))


def _source(share) -> dict:
    return {"type": share.source_type.value, "id": share.source_id}


#: The contract's Share object, in its order.
SHARE_OBJECT = (
    Out("id", int),
    Out("profile_id", str),
    Out("source_type", SourceType),
    Out("source_id", int),
    Out("handle", str, schema={"minLength": 22, "pattern": "^[A-Za-z0-9_-]+$"}),
    Out("code", str, nullable=True),
    Out("timezone", str),
    Out("period", int, nullable=True),
    Out("period_type", PeriodType, nullable=True),
    Out("absolute_expiry", str, nullable=True),
    Out("expires_at", datetime, nullable=True),
    Out("quantity", int),
    Out("remaining_quantity", int, nullable=True, schema={"minimum": 0}),
    Out("meta", list, nullable=True),
    Out("is_cloneable", bool),
    Out(
        "source",
        dict,
        schema={
            "required": ["type", "id"],
            "properties": {"type": {"type": "string"}, "id": {"type": "integer"}},
        },
        read=_source,
    ),
    Out("created_at", datetime),
    Out("updated_at", datetime),
)

#: The contract's ShareClaim object, in its order (``share_handle``: the share's at claim time).
CLAIM_OBJECT = (
    Out("id", int),
    Out("share_id", int),
    Out("share_handle", str),
    Out("share_profile_id", str),
    Out("profile_id", str),
    Out("claimed_at", datetime),
    Out("created_source_type", SourceType),
    Out("created_source_id", int),
    Out("is_cloned", bool),
    Out("meta", list, nullable=True),
    Out("created_at", datetime),
    Out("updated_at", datetime),
)


def _actor(event) -> dict:
    """Who made a change: a staff member (their email), an API token (its name), or the system
    (a command line user, a migration)."""
    actor = event.actor
    if actor.startswith("token:"):
        return {"type": "token", "name": actor.removeprefix("token:")}
    if actor == "system" or actor.startswith("cli:"):
        return {"type": "system", "name": actor}
    return {"type": "staff", "name": actor}


#: The contract's Event object: one change to a share, as the events feed serves it.
EVENT_OBJECT = (
    Out("id", int),
    Out("occurred_at", datetime, read=lambda event: expiry.to_utc_z(event.at)),
    Out("action", str, schema={"enum": [action.value for action in SHARE_ACTIONS]}),
    Out("share_id", int),
    Out("claim_id", int, nullable=True),
    Out(
        "actor",
        dict,
        schema={
            "required": ["type", "name"],
            "properties": {
                "type": {"type": "string", "enum": ["staff", "token", "system"]},
                "name": {"type": "string"},
            },
        },
        read=_actor,
    ),
    Out(
        "changes",
        dict,
        schema={
            "description": "Field name -> [old, new], values as the Share object shows them.",
            "additionalProperties": {"type": "array", "minItems": 2, "maxItems": 2},
        },
        read=lambda event: event.changes,
    ),
)


def as_dict(row, fields: tuple[Out, ...]) -> dict:
    """A row as the response object ``fields`` describe; an explicit whitelist, never
    ``__dict__``."""
    return {out.name: out.read(row) for out in fields}


# --- shares ----------------------------------------------------------------------------------


def new_handle() -> str:
    """A random URL-safe public handle: 16 random bytes give 22 characters."""
    return secrets.token_urlsafe(16)


def _list_index(column: str) -> sa.Index:
    """An index that serves a filter or a sort of the list with its newest-first tie-break.

    With ``id`` in it, "``column = x`` (or ordered by ``column``), then by id" reads the first
    page straight from the index on every database, whatever the table's size.
    """
    return sa.Index(f"ix_shares_{column}_id", column, "id")


class Share(db.Model):
    __tablename__ = tallies.SHARES
    __table_args__ = (
        *(
            _list_index(column)
            for column in (
                "source_type",
                "period_type",
                "is_cloneable",
                "timezone",
                "created_at",
                "updated_at",
                "remaining_quantity",
            )
        ),
        # Also covers the status totals' count of today's expiries with no claims left
        # (totals._expired), which reads remaining_quantity from it.
        sa.Index("ix_shares_expires_at_id", "expires_at", "id", "remaining_quantity"),
        # Never reuse the id of a deleted share: kept claims still name it.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Searched by prefix (listing.prefix_condition): binary strings, so the range is exact.
    profile_id: Mapped[str] = mapped_column(binary_string(255), index=True)
    source_type: Mapped[SourceType] = enum_column(SourceType)
    source_id: Mapped[int] = mapped_column(sa.BigInteger, index=True)
    handle: Mapped[str] = mapped_column(binary_string(64), unique=True, default=new_handle)
    code: Mapped[str | None] = mapped_column(binary_string(255), index=True)
    timezone: Mapped[str] = mapped_column(sa.String(64))
    period: Mapped[int | None]
    period_type: Mapped[PeriodType | None] = enum_column(PeriodType)
    absolute_expiry: Mapped[str | None] = mapped_column(sa.String(255))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    quantity: Mapped[int] = mapped_column(default=1)
    remaining_quantity: Mapped[int | None]
    meta: Mapped[list[str] | None] = mapped_column(sa.JSON)
    is_cloneable: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def computed_expiry(self) -> datetime | None:
        """The expiry the stored period fields give from the creation instant (rules 2-4)."""
        return expiry.resolve_expiry(
            created_at=self.created_at,
            tz=self.timezone,
            period=self.period,
            period_type=self.period_type,
            absolute_expiry=self.absolute_expiry,
        )

    @property
    def expiry_is_explicit(self) -> bool:
        """Whether the stored expiry was given outright rather than computed from the period."""
        if self.expires_at is None:
            return False
        try:
            return self.computed_expiry() != self.expires_at
        except expiry.ExpiryError:
            return True

    def claims(self) -> list[ShareClaim]:
        """This share's claims, newest first."""
        return db.session.scalars(_of_share(ShareClaim), {"share_id": self.id}).all()

    def history(self) -> list[AuditEvent]:
        """The audit events of this share, newest first."""
        return db.session.scalars(_of_share(AuditEvent), {"share_id": self.id}).all()

    def status(self, now: datetime | None = None) -> ShareStatus:
        """Exactly one of active, expired, exhausted (contract expiry rule 6)."""
        now = now or clock.now()
        if self.expires_at is not None and now > self.expires_at:
            return ShareStatus.EXPIRED
        if self.remaining_quantity == 0:
            return ShareStatus.EXHAUSTED
        return ShareStatus.ACTIVE

    def to_dict(self) -> dict:
        """The contract's Share object."""
        return as_dict(self, SHARE_OBJECT)


@cache
def _of_share(model) -> sa.Select:
    """A share's rows of ``model`` (its claims, its audit events), newest first: built once, as
    a share's page asks for both on every visit (building one took longer than running it)."""
    return (
        sa.select(model).where(model.share_id == sa.bindparam("share_id")).order_by(model.id.desc())
    )


class StoredShare(SimpleNamespace):
    """A share as ``shares.create`` stored it: every column (defaults filled in), outside the
    session. It answers ``to_dict`` as a loaded ``Share`` does; load the Share to change it."""

    to_dict = Share.to_dict


class ShareTally(db.Model):
    """How many shares count in one ``(dimension, value)``: kept by the triggers of
    ``db.tallies``, read for list totals (``totals``)."""

    __tablename__ = tallies.TALLIES

    dimension: Mapped[str] = mapped_column(binary_string(32), primary_key=True)
    # Expiry days ("2026-11-29") compare as text: code point order on every database.
    value: Mapped[str] = mapped_column(binary_string(64), primary_key=True)
    shares: Mapped[int] = mapped_column(sa.BigInteger)


class ShareClaim(db.Model):
    """One successful claim.

    It keeps its own copy of what it needs (owner, shared record, handle), and ``share_id`` is a
    plain column rather than a foreign key, so deleting a share leaves its claims readable.
    """

    __tablename__ = "share_claims"
    # Each filter of the claims list, with the id its pages are ordered by (see _list_index);
    # the metrics count the last day's claims through the claimed_at one.
    __table_args__ = tuple(
        sa.Index(f"ix_share_claims_{column}_id", column, "id")
        for column in ("share_id", "share_handle", "share_profile_id", "profile_id", "claimed_at")
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    share_id: Mapped[int]
    share_handle: Mapped[str] = mapped_column(sa.String(64))
    share_profile_id: Mapped[str] = mapped_column(sa.String(255))
    profile_id: Mapped[str] = mapped_column(sa.String(255))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_source_type: Mapped[SourceType] = enum_column(SourceType)
    created_source_id: Mapped[int] = mapped_column(sa.BigInteger)
    is_cloned: Mapped[bool]
    meta: Mapped[list[str] | None] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def to_dict(self) -> dict:
        """The contract's ShareClaim object."""
        return as_dict(self, CLAIM_OBJECT)


# --- people and scripts ----------------------------------------------------------------------


class ApiToken(db.Model):
    """A named bearer token for scripts; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    role: Mapped[Role] = enum_column(Role, default=Role.AGENT)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The API rate limit's current window (ratelimit): the requests counted in it, and its end.
    window_hits: Mapped[int] = mapped_column(default=0, server_default="0")
    window_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Who made it, as the audit trail names actors (a staff email, ``cli:USER``); and the
    #: staff member, so that deactivating them can revoke what they made. Null: not recorded.
    created_by: Mapped[str | None] = mapped_column(sa.String(300))
    creator_id: Mapped[int | None] = mapped_column(index=True)

    PREFIX = "sd_"

    @staticmethod
    def hash(token: str) -> str:
        # Tokens carry 256 random bits, so a fast hash is enough: nothing to brute-force.
        return hashlib.sha256(token.encode()).hexdigest()

    @classmethod
    def issue(cls, name: str, role: Role = Role.AGENT) -> tuple[ApiToken, str]:
        """Make a token row and return it with the plain token, which is never stored."""
        plain = cls.PREFIX + secrets.token_urlsafe(32)
        return cls(name=name, role=role, token_hash=cls.hash(plain)), plain


#: Something @ something, with no space, control character or line separator anywhere.
_EMAIL = re.compile(r"[^@\s\x00-\x1f\x7f-\x9f]+@[^@\s\x00-\x1f\x7f-\x9f]+")


class Staff(db.Model):
    """A person who signs in to the web app."""

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[Role] = enum_column(Role)
    is_active: Mapped[bool] = mapped_column(default=True)
    # Moved on at sign-out, deactivation, a role or password change: session cookies carry it,
    # so older copies stop working (accounts.end_sessions).
    session_epoch: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Set when an admin resets the password: the member chooses their own before anything else.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    #: The IANA zone the pages show their times in for this person; None until they pick one
    #: or their browser's is detected (UTC meanwhile).
    timezone: Mapped[str | None] = mapped_column(sa.String(64))

    MIN_PASSWORD = 12

    @staticmethod
    def normalise_email(email: str) -> str:
        return email.strip().lower()

    @classmethod
    def email_problem(cls, email: str) -> str | None:
        """What is wrong with ``email`` for a new account ("must be an email address"), or None:
        the admin page and the command line say the same. Measured once lowercased ("İ" becomes
        two characters); one line of printable text, for the pages, the audit and the logs."""
        normal = cls.normalise_email(email)
        if len(normal) > 254:
            return "must not be greater than 254 characters"
        if not _EMAIL.fullmatch(normal):
            return "must be an email address"
        return None

    def set_password(self, password: str) -> None:
        # scrypt: a deliberately slow hash, so a stolen table resists guessing.
        self.password_hash = generate_password_hash(password, method="scrypt")

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @classmethod
    def by_email(cls, email: str) -> Staff | None:
        return db.session.scalar(sa.select(cls).where(cls.email == cls.normalise_email(email)))


class SignInFailure(db.Model):
    """A failed sign-in, kept in the database so every app server sees the same count; counted
    from before its password is checked (``lockout``), and removed if the password was right."""

    __tablename__ = "sign_in_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), index=True)
    address: Mapped[str] = mapped_column(sa.String(64), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class SignInGate(db.Model):
    """One row per client address that signs in: ``lockout`` locks it while it counts an attempt
    from that address, so attempts from one address are counted one at a time, by every server.
    """

    __tablename__ = "sign_in_gates"

    address: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    #: The last attempt from this address.
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditEvent(db.Model):
    """Who changed which share, when, and how: written in the change's own transaction.

    Ids are handed out in commit order (``audit.record``), so the events feed, read by "ids after
    the last one I saw", misses nothing.
    """

    __tablename__ = "audit_events"
    # The feed and the Audit page read a share's or an action's events in id order.
    __table_args__ = (
        sa.Index("ix_audit_events_share_id_id", "share_id", "id"),
        sa.Index("ix_audit_events_action_id", "action", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(sa.String(300), index=True)
    action: Mapped[str] = mapped_column(sa.String(20))
    share_id: Mapped[int | None]
    share_handle: Mapped[str | None] = mapped_column(sa.String(64))
    #: The claim a claim event made.
    claim_id: Mapped[int | None]
    changes: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    #: That claim, loaded with the events that list it (one query for a page of events).
    claim: Mapped[ShareClaim | None] = relationship(
        primaryjoin="foreign(AuditEvent.claim_id) == ShareClaim.id", viewonly=True, lazy="selectin"
    )

    def to_dict(self) -> dict:
        """The contract's Event object."""
        return as_dict(self, EVENT_OBJECT)


class IdempotencyKey(db.Model):
    """The first answer to a change sent with a key, replayed for 24 hours: an API create or
    claim with an ``Idempotency-Key``, or a page's form with its one-time form id.

    Unique per scope (``token:<id>``, ``staff:<id>``), route and key, and written in the change's
    own transaction: of two concurrent requests with one key, one commits and the other finds its
    row (``idempotency``).
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (sa.UniqueConstraint("scope", "route", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(sa.String(40))
    route: Mapped[str] = mapped_column(sa.String(60))
    key: Mapped[str] = mapped_column(sa.String(255))
    fingerprint: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[int]
    response: Mapped[dict] = mapped_column(sa.JSON)
    location: Mapped[str | None] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


# --- work in bulk ----------------------------------------------------------------------------


class ShareImport(db.Model):
    """A CSV file of new shares (``imports``): kept from its preview to its confirmation, so that
    any worker of any server can take the confirmation (a pending import, thrown away after a
    day), then kept as the record of what it made. Its SHA-256 is unique: the same bytes are
    imported once."""

    __tablename__ = "share_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(sa.String(64), unique=True)
    filename: Mapped[str] = mapped_column(sa.String(255))
    #: The file itself while it waits for its confirmation; dropped once it is imported.
    content: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    uploaded_by: Mapped[str] = mapped_column(sa.String(300))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    imported_by: Mapped[str | None] = mapped_column(sa.String(300))
    imported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The ids of the shares it made, in file order.
    share_ids: Mapped[list[int] | None] = mapped_column(sa.JSON)


class BulkJob(db.Model):
    """One bulk action (expire or delete) over the shares a person selected, done in chunks
    (``jobs``): how far it got, who runs it now, and what stopped it."""

    __tablename__ = "bulk_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    # As long as audit_events.action: the audit's actions grow, this table stays as it is.
    action: Mapped[AuditAction] = enum_column(AuditAction, length=20)
    #: Who confirmed it: its audit events name them.
    actor: Mapped[str] = mapped_column(sa.String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The selection in words ("Status: Active; Source type: Reward"), as it was confirmed.
    selection: Mapped[str] = mapped_column(sa.Text)
    #: The list's query parameters, for the way back to the list.
    list_args: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    total: Mapped[int]
    #: Shares taken (changed or left as they were by the action's rules), and those changed.
    done: Mapped[int] = mapped_column(default=0)
    changed: Mapped[int] = mapped_column(default=0)
    state: Mapped[JobState] = enum_column(JobState, index=True)
    error: Mapped[str | None] = mapped_column(sa.Text)
    #: Who runs it now (a random id per runner) and when it last showed signs of life.
    runner: Mapped[str | None] = mapped_column(sa.String(32))
    heartbeat: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class BulkJobItem(db.Model):
    """One share a bulk job selected, and whether the job has taken it yet. A job's chunk takes
    the next not-done items in share id order; they go when the job is done."""

    __tablename__ = "bulk_job_items"
    __table_args__ = (
        sa.Index("ix_bulk_job_items_job_id_done_share_id", "job_id", "done", "share_id"),
    )

    job_id: Mapped[int] = mapped_column(sa.ForeignKey("bulk_jobs.id"), primary_key=True)
    # A plain column, like a claim's: the share may be deleted, by this job or meanwhile.
    share_id: Mapped[int] = mapped_column(primary_key=True)
    done: Mapped[bool] = mapped_column(default=False)


def create_tables(connection: sa.Connection) -> None:
    """Every table, with the tallies' triggers: the schema the migrations build, in one step
    (for tests and scratch databases; ``flask init-db`` runs the migrations)."""
    db.metadata.create_all(connection)
    tallies.install(connection)
