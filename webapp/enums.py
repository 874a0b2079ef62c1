"""The one list of source types, period types, statuses, roles, audit actions and bulk job states.

Columns store the ``value``; dropdowns, JSON validation and docs read the same members.
"""

from __future__ import annotations

import enum


class SourceType(enum.StrEnum):
    """The kinds of record a profile can share (Omneo v3 ``source_type``)."""

    PROFILE = "profile"
    PRODUCT = "product"
    TRANSACTION = "transaction"
    REWARD = "reward"
    BENEFIT = "benefit"
    POINT = "point"
    USER = "user"
    TENANT = "tenant"
    LIST = "list"
    LIST_ITEM = "listItem"
    TARGET = "target"
    AUTOMATION = "automation"
    TRIGGER = "trigger"
    AGGREGATION = "aggregation"
    COMMS_ATTRIBUTE = "comms_attribute"
    APPEARANCE_ATTRIBUTE = "appearance_attribute"
    WEBHOOK = "webhook"
    IDENTITY = "identity"
    TIER = "tier"
    ADDRESS = "address"
    LOCATION = "location"
    PRODUCT_VARIANT = "product_variant"
    BENEFIT_DEFINITION = "benefit_definition"
    REWARD_DEFINITION = "reward_definition"
    TIER_DEFINITION = "tier_definition"
    TRANSACTION_ITEM = "transaction_item"
    ORDER = "order"
    REDEMPTION = "redemption"
    TIER_POINT = "tier_point"
    INTERACTION = "interaction"
    STATUS = "status"
    ORGANISATION = "organisation"
    ROLE_DEFINITION = "role_definition"
    CREDIT_DEFINITION = "credit_definition"
    CREDIT = "credit"
    PRODUCT_LIST_RESERVATION = "product_list_reservation"

    @property
    def label(self) -> str:
        """Human label for dropdowns: ``listItem`` -> ``List item``."""
        return _SOURCE_TYPE_LABELS[self]


def _source_type_label(value: str) -> str:
    words = []
    for part in value.split("_"):
        word = "".join(" " + c.lower() if c.isupper() else c for c in part)
        words.append(word)
    text = " ".join(words)
    return text[:1].upper() + text[1:]


#: Worked out once: the list shows one a row.
_SOURCE_TYPE_LABELS = {member: _source_type_label(member.value) for member in SourceType}


class PeriodType(enum.StrEnum):
    """How ``period`` and ``absolute_expiry`` turn into an expiry date."""

    DAYS = "days"
    WEEKS = "weeks"
    MONTHS = "months"
    YEARS = "years"
    ABSOLUTE_DATE = "absolute_date"
    ABSOLUTE_WEEK = "absolute_week"
    ABSOLUTE_MONTH = "absolute_month"

    @property
    def label(self) -> str:
        """Human label for dropdowns: ``absolute_week`` -> ``Absolute week``."""
        return self.value.replace("_", " ").capitalize()

    @property
    def needs_period(self) -> bool:
        """Relative types count from the creation day and need a ``period``."""
        return self in RELATIVE_PERIOD_TYPES


RELATIVE_PERIOD_TYPES = frozenset(
    {PeriodType.DAYS, PeriodType.WEEKS, PeriodType.MONTHS, PeriodType.YEARS}
)


class ShareStatus(enum.StrEnum):
    """Exactly one status per share (contract expiry rule 6)."""

    ACTIVE = "active"
    EXPIRED = "expired"
    EXHAUSTED = "exhausted"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class Role(enum.StrEnum):
    """What a staff member or API token may do; each role includes the ones before it."""

    VIEWER = "viewer"  # read
    AGENT = "agent"  # also create, edit, claim
    ADMIN = "admin"  # also delete, manage staff and API tokens

    @property
    def label(self) -> str:
        return self.value.capitalize()

    def allows(self, needed: Role) -> bool:
        return _ROLE_RANK[self] >= _ROLE_RANK[needed]


#: Each role's place in the order of Role, for allows() (asked on every request).
_ROLE_RANK = {role: rank for rank, role in enumerate(Role)}


class AuditKind(enum.StrEnum):
    """The Audit page's broad filter: what an event is about."""

    SHARE = "share"
    ACCOUNT = "account"
    SECURITY = "security"

    @property
    def label(self) -> str:
        return _AUDIT_KIND_LABELS[self]


_AUDIT_KIND_LABELS = {
    AuditKind.SHARE: "Share changes",
    AuditKind.ACCOUNT: "Staff and token changes",
    AuditKind.SECURITY: "Security events",
}


class AuditAction(enum.StrEnum):
    """What an audit event records: a change to a share, or to a staff account or token; or a
    security event (who signed in or failed to, lock-outs, sign-outs, CSV exports, passwords
    changed or reset)."""

    CREATE = "create"
    EDIT = "edit"
    CLAIM = "claim"
    EXPIRE = "expire"
    DELETE = "delete"
    STAFF = "staff"
    TOKEN = "token"
    SIGN_IN = "sign_in"
    SIGN_IN_FAILED = "sign_in_failed"
    LOCK_OUT = "lock_out"
    SIGN_OUT = "sign_out"
    EXPORT = "export"
    PASSWORD = "password"

    @property
    def label(self) -> str:
        """``sign_in_failed`` -> ``Sign in failed``."""
        return self.value.replace("_", " ").capitalize()

    @property
    def kind(self) -> AuditKind:
        if self in _SECURITY_ACTIONS:
            return AuditKind.SECURITY
        if self in (AuditAction.STAFF, AuditAction.TOKEN):
            return AuditKind.ACCOUNT
        return AuditKind.SHARE


#: The actions of changes to shares: the events feed serves these, in commit order.
SHARE_ACTIONS = (
    AuditAction.CREATE,
    AuditAction.EDIT,
    AuditAction.CLAIM,
    AuditAction.EXPIRE,
    AuditAction.DELETE,
)
_SECURITY_ACTIONS = frozenset(
    {
        AuditAction.SIGN_IN,
        AuditAction.SIGN_IN_FAILED,
        AuditAction.LOCK_OUT,
        AuditAction.SIGN_OUT,
        AuditAction.EXPORT,
        AuditAction.PASSWORD,
    }
)


class JobState(enum.StrEnum):
    """Where a bulk job stands: running (chunk by chunk), done, or failed (and resumable)."""

    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


#: The actions a bulk job applies to many shares at once.
BULK_ACTIONS = (AuditAction.EXPIRE, AuditAction.DELETE)
