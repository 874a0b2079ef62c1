"""Database models: shares and their claims and tallies, staff, API tokens, the audit trail."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal
from werkzeug.security import check_password_hash, generate_password_hash

from . import expiry
from .enums import PeriodType, Role, ShareStatus, SourceType
from .extensions import db


def utcnow() -> datetime:
    """The current instant in UTC, to the second (the contract stores seconds)."""
    return datetime.now(UTC).replace(microsecond=0)


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


class UTCDateTime(sa.types.TypeDecorator):
    """Stores aware datetimes as naive UTC and hands them back aware.

    SQLite keeps no offset, so every value is normalised to UTC on the way in.
    """

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def enum_column(enum_cls, **kwargs):
    """A VARCHAR column that stores the enum's value (``listItem``), not its name."""
    return mapped_column(
        sa.Enum(
            enum_cls,
            values_callable=lambda members: [m.value for m in members],
            native_enum=False,
            length=max(len(m.value) for m in enum_cls),
            validate_strings=True,
        ),
        **kwargs,
    )


def storable(value) -> bool:
    """Whether every database can hold this value: PostgreSQL's text types refuse U+0000.

    Forms refuse such text (``forms.max_length``), so no stored value holds one, and a lookup by
    one can only find nothing, without asking the database.
    """
    return not isinstance(value, str) or "\x00" not in value


def binary_string(length: int) -> sa.types.TypeEngine:
    """A VARCHAR that compares code point by code point on every database, as search needs.

    SQLite's default collation (BINARY) does so already. PostgreSQL's follows the database's
    locale, where "ab" < "Ab" < "abc", so there the column and its index say COLLATE "C".
    """
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


class Unindexed(ColumnElement):
    """A column whose index SQLite must not use (``+column`` there: a no-op on any value).

    Without statistics SQLite can pick the wrong index: for a search it would rather walk the
    whole id index looking for matches than sort the few rows its prefix ranges find. Other
    databases choose by their statistics and get the plain column.
    """

    inherit_cache = True
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]

    def __init__(self, column):
        self.column = column
        self.type = column.type


@compiles(Unindexed)
def _compile_unindexed(element, compiler, **kw):
    return compiler.process(element.column, **kw)


@compiles(Unindexed, "sqlite")
def _compile_unindexed_sqlite(element, compiler, **kw):
    return "+" + compiler.process(element.column, **kw)


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
    __tablename__ = "shares"
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
        # (tallies._expired), which reads remaining_quantity from it.
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

    @staticmethod
    def create(connection: sa.Connection, values: dict) -> StoredShare:
        """Insert a share and its audit event on ``connection``, in its transaction.

        One prepared INSERT rather than the session's unit of work, which costs more than the
        insert itself on the API's busiest write.
        """
        from . import audit  # audit imports this module

        result = connection.execute(_INSERT_SHARE, values)
        share = StoredShare(id=result.inserted_primary_key[0], **result.last_inserted_params())
        audit.share_created(connection, share)
        return share

    def recompute_expiry(self) -> None:
        """Apply the expiry rules from the stored period fields and creation instant."""
        self.expires_at = expiry.resolve_expiry(
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
            self_computed = expiry.resolve_expiry(
                created_at=self.created_at,
                tz=self.timezone,
                period=self.period,
                period_type=self.period_type,
                absolute_expiry=self.absolute_expiry,
            )
        except expiry.ExpiryError:
            return True
        return self_computed != self.expires_at

    def claims(self) -> list[ShareClaim]:
        """This share's claims, newest first."""
        return db.session.scalars(
            sa.select(ShareClaim)
            .where(ShareClaim.share_id == self.id)
            .order_by(ShareClaim.id.desc())
        ).all()

    def history(self) -> list[AuditEvent]:
        """The audit events of this share, newest first."""
        return db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.share_id == self.id)
            .order_by(AuditEvent.id.desc())
        ).all()

    def status(self, now: datetime | None = None) -> ShareStatus:
        """Exactly one of active, expired, exhausted (contract expiry rule 6)."""
        now = now or utcnow()
        if self.expires_at is not None and now > self.expires_at:
            return ShareStatus.EXPIRED
        if self.remaining_quantity == 0:
            return ShareStatus.EXHAUSTED
        return ShareStatus.ACTIVE

    def to_dict(self) -> dict:
        """The contract's Share object; an explicit whitelist, never ``__dict__``."""
        return {
            "id": self.id,
            "profile_id": self.profile_id,
            "source_type": self.source_type.value,
            "source_id": self.source_id,
            "handle": self.handle,
            "code": self.code,
            "timezone": self.timezone,
            "period": self.period,
            "period_type": self.period_type.value if self.period_type else None,
            "absolute_expiry": self.absolute_expiry,
            "expires_at": expiry.to_utc_z(self.expires_at),
            "quantity": self.quantity,
            "remaining_quantity": self.remaining_quantity,
            "meta": self.meta,
            "is_cloneable": self.is_cloneable,
            "source": {"type": self.source_type.value, "id": self.source_id},
            "created_at": expiry.to_utc_z(self.created_at),
            "updated_at": expiry.to_utc_z(self.updated_at),
        }


class StoredShare(SimpleNamespace):
    """A share as ``Share.create`` stored it: every column (defaults filled in), outside the
    session. It answers ``to_dict`` as a loaded ``Share`` does; load the Share to change it."""

    to_dict = Share.to_dict


#: Built once: every create runs it.
_INSERT_SHARE = sa.insert(Share.__table__)


class ShareTally(db.Model):
    """How many shares count in one ``(dimension, value)``: kept by triggers, read for list
    totals (``tallies``)."""

    __tablename__ = "share_tallies"

    dimension: Mapped[str] = mapped_column(binary_string(32), primary_key=True)
    # Expiry days ("2026-11-29") compare as text: code point order on every database.
    value: Mapped[str] = mapped_column(binary_string(64), primary_key=True)
    shares: Mapped[int] = mapped_column(sa.BigInteger)


@sa.event.listens_for(db.metadata, "after_create")
def _install_tally_triggers(_metadata, connection, tables=(), **_kw) -> None:
    """``create_all`` (the tests' databases) gets the tally triggers too; migrations install
    them with the table."""
    if Share.__table__ in tables:
        from . import tallies

        tallies.install(connection)


class ClaimRefused(Exception):
    """A claim the rules refuse; ``errors`` maps contract fields to messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


class ShareClaim(db.Model):
    """One successful claim.

    It keeps its own copy of what it needs (owner, shared record, handle), and ``share_id`` is a
    plain column rather than a foreign key, so deleting a share leaves its claims readable.
    """

    __tablename__ = "share_claims"

    id: Mapped[int] = mapped_column(primary_key=True)
    share_id: Mapped[int] = mapped_column(index=True)
    share_handle: Mapped[str] = mapped_column(sa.String(64))
    share_profile_id: Mapped[str] = mapped_column(sa.String(255))
    profile_id: Mapped[str] = mapped_column(sa.String(255), index=True)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_source_type: Mapped[SourceType] = enum_column(SourceType)
    created_source_id: Mapped[int] = mapped_column(sa.BigInteger)
    is_cloned: Mapped[bool]
    meta: Mapped[list[str] | None] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def to_dict(self) -> dict:
        """The contract's ShareClaim object."""
        return {
            "id": self.id,
            "share_id": self.share_id,
            "share_profile_id": self.share_profile_id,
            "profile_id": self.profile_id,
            "claimed_at": expiry.to_utc_z(self.claimed_at),
            "created_source_type": self.created_source_type.value,
            "created_source_id": self.created_source_id,
            "is_cloned": self.is_cloned,
            "meta": self.meta,
            "created_at": expiry.to_utc_z(self.created_at),
            "updated_at": expiry.to_utc_z(self.updated_at),
        }


def claim_share(share: Share, profile_id: str, code: str, meta: list[str] | None) -> ShareClaim:
    """Claim ``share`` for ``profile_id``; raises ``ClaimRefused`` naming every reason.

    The decrement is one conditional UPDATE, so concurrent claims can never take
    ``remaining_quantity`` below zero, and the claim row is written in the same transaction.
    """
    now = utcnow()
    errors: dict[str, list[str]] = {}
    expected = share.code if share.code is not None else share.handle
    if not hmac.compare_digest(code.encode(), expected.encode()):
        what = "code" if share.code is not None else "handle"
        errors["code"] = [f"The code is wrong: give the share's {what}."]
    if profile_id == share.profile_id:
        errors["profile_id"] = ["A profile cannot claim its own share."]
    status = share.status(now)
    if status is ShareStatus.EXPIRED:
        errors["share"] = ["The share has expired."]
    elif status is ShareStatus.EXHAUSTED:
        errors["share"] = ["The share has no claims left."]
    if errors:
        raise ClaimRefused(errors)

    taken = db.session.execute(
        sa.update(Share)
        .where(
            Share.id == share.id,
            sa.or_(Share.remaining_quantity.is_(None), Share.remaining_quantity > 0),
            sa.or_(Share.expires_at.is_(None), Share.expires_at >= now),
        )
        # NULL (unlimited) stays NULL: NULL - 1 is NULL.
        .values(remaining_quantity=Share.remaining_quantity - 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:
        db.session.rollback()
        # Another claim took the last one (or the share expired) between the check and now.
        raise ClaimRefused({"share": ["The share has no claims left."]})
    claim = ShareClaim(
        share_id=share.id,
        share_handle=share.handle,
        share_profile_id=share.profile_id,
        profile_id=profile_id,
        claimed_at=now,
        created_source_type=share.source_type,
        created_source_id=share.source_id,
        is_cloned=share.is_cloneable,
        meta=meta,
        created_at=now,
        updated_at=now,
    )
    db.session.add(claim)
    db.session.commit()
    db.session.refresh(share)
    return claim


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


class Staff(db.Model):
    """A person who signs in to the web app."""

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[Role] = enum_column(Role)
    is_active: Mapped[bool] = mapped_column(default=True)
    # Moved on at sign-out: session cookies carry it, so older copies stop working.
    session_epoch: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    MIN_PASSWORD = 12

    @staticmethod
    def normalise_email(email: str) -> str:
        return email.strip().lower()

    def set_password(self, password: str) -> None:
        # scrypt: a deliberately slow hash, so a stolen table resists guessing.
        self.password_hash = generate_password_hash(password, method="scrypt")

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @classmethod
    def by_email(cls, email: str) -> Staff | None:
        return db.session.scalar(sa.select(cls).where(cls.email == cls.normalise_email(email)))


class SignInFailure(db.Model):
    """A failed sign-in, kept in the database so every app server sees the same count."""

    __tablename__ = "sign_in_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), index=True)
    address: Mapped[str] = mapped_column(sa.String(64), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class AuditEvent(db.Model):
    """Who changed which share, when, and how: written in the change's own transaction."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(sa.String(300), index=True)
    action: Mapped[str] = mapped_column(sa.String(20), index=True)
    share_id: Mapped[int | None] = mapped_column(index=True)
    share_handle: Mapped[str | None] = mapped_column(sa.String(64))
    changes: Mapped[dict] = mapped_column(sa.JSON, default=dict)


class IdempotencyKey(db.Model):
    """The first answer to a create sent with an ``Idempotency-Key``, replayed for 24 hours.

    Unique per token and key, and written in the create's own transaction: of two concurrent
    requests with one key, one commits and the other finds its row.
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (sa.UniqueConstraint("token_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[int]
    key: Mapped[str] = mapped_column(sa.String(255))
    fingerprint: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[int]
    response: Mapped[dict] = mapped_column(sa.JSON)
    location: Mapped[str | None] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    LIFETIME = timedelta(hours=24)

    @staticmethod
    def fingerprint_of(payload: dict) -> str:
        canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        # surrogatepass: JSON may carry a lone surrogate ("\ud800"), which strict UTF-8 refuses.
        return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()

    @classmethod
    def find(cls, connection: sa.Connection, token_id: int, key: str) -> sa.Row | None:
        """The live record for this token and key (an expired one is as good as none)."""
        table = cls.__table__
        row = connection.execute(
            sa.select(table).where(table.c.token_id == token_id, table.c.key == key)
        ).first()
        if row is not None and utcnow() - row.created_at > cls.LIFETIME:
            return None
        return row

    @classmethod
    def record(cls, connection: sa.Connection, **values) -> None:
        """Store a first answer on ``connection``, in the create's transaction, in place of an
        expired record of the same key. A live one makes the INSERT fail (IntegrityError)."""
        table = cls.__table__
        connection.execute(
            sa.delete(table).where(
                table.c.token_id == values["token_id"],
                table.c.key == values["key"],
                table.c.created_at < utcnow() - cls.LIFETIME,
            )
        )
        connection.execute(sa.insert(table), values)
