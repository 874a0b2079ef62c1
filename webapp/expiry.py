"""The expiry rules of the share contract (docs/contract.md, "Expiry rules"), as pure functions.

No Flask and no database: the form, the JSON API, the htmx preview and the models all call these,
so the rules live in one place. Every bad input raises ``ExpiryError`` naming the form field to
blame; no ``ValueError``/``OverflowError`` from ``datetime`` escapes unwrapped.
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from webapp.enums import PeriodType

MAX_PERIOD = 36500
PAST_9999 = "The resulting expiry is past the year 9999."
BEFORE_YEAR_1 = "The resulting expiry is before the year 1."
BAD_EXPIRES_AT = "The expires at field must be a valid ISO 8601 date-time."
BAD_INSTANT = "An instant must be a date or an ISO 8601 date-time with Z or an offset."
BAD_TIMEZONE = "The timezone field must be a valid IANA time zone, such as Australia/Melbourne."
BAD_ABSOLUTE_DATE = (
    "The absolute expiry field must be a real date written YYYY-MM-DD or MM-DD "
    "(for example 2026-12-25 or 12-25) when the period type is absolute_date."
)
BAD_WEEKDAY = (
    "The absolute expiry field must be an ISO weekday from 1 (Monday) to 7 (Sunday) "
    "when the period type is absolute_week."
)
BAD_MONTH_DAY = (
    "The absolute expiry field must be a day of the month from 1 to 31 "
    "when the period type is absolute_month."
)

# Fixed English names: strftime's %b/%A follow the process locale.
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# [0-9], not \d: \d also matches other scripts' digits, which int() would then accept.
_FULL_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_MONTH_DAY = re.compile(r"([0-9]{2})-([0-9]{2})")
_WEEKDAY = re.compile(r"[1-7]")
_DAY_OF_MONTH = re.compile(r"[1-9]|[12][0-9]|3[01]")
# The extended ISO 8601 forms people actually send. Matched before fromisoformat, which
# accepts odd extras (any separator character, week dates) that vary between Python versions.
_DATE_TIME = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})[Tt ](?P<hm>[0-9]{2}:[0-9]{2})(?P<s>:[0-9]{2})?"
    r"(?:[.,][0-9]+)?(?P<offset>[Zz]|[+-](?:[01][0-9]|2[0-3])(?::?[0-5][0-9])?)?"
)


class ExpiryError(ValueError):
    """Raised for input that cannot give an expiry; .field names the form field to blame."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message

    def __str__(self) -> str:
        return self.message


def _zone(tz: str | tzinfo) -> tzinfo:
    """A tzinfo from a zone name (or one already built)."""
    if isinstance(tz, tzinfo):
        return tz
    try:
        return ZoneInfo(tz)
    # ZoneInfo raises ValueError for malformed keys and OSError/ValueError for non-TZif files.
    except (ZoneInfoNotFoundError, ValueError, OSError, TypeError):
        raise ExpiryError("timezone", BAD_TIMEZONE) from None


def _as_aware(instant: datetime) -> datetime:
    """Naive datetimes in this app are UTC (that is how they are stored)."""
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=UTC)


def _to_utc(instant: datetime, field: str) -> datetime:
    try:
        return _as_aware(instant).astimezone(UTC)
    except OverflowError:
        # Only the calendar's two ends overflow: before year 1 or after year 9999.
        message = BEFORE_YEAR_1 if instant.year == 1 else PAST_9999
        raise ExpiryError(field, message) from None


def local_day(instant: datetime, tz) -> date:
    """The calendar date of an instant in ``tz`` (a naive instant counts as UTC)."""
    zone = _zone(tz)
    try:
        return _as_aware(instant).astimezone(zone).date()
    except OverflowError:
        raise ExpiryError("expires_at", PAST_9999) from None


def _end_of_day(day: date, zone: tzinfo, field: str) -> datetime:
    # fold=1 picks the later 23:59:59 when clocks go back at midnight (the share stays valid
    # through the whole day) and, in a gap, an instant that still falls on ``day``.
    wall = datetime.combine(day, time(23, 59, 59), tzinfo=zone).replace(fold=1)
    return _to_utc(wall, field)


def end_of_day(day: date, tz) -> datetime:
    """23:59:59 wall clock on ``day`` in ``tz``, as an aware UTC datetime (rule 4)."""
    return _end_of_day(day, _zone(tz), "period")


def to_utc_z(dt: datetime | None) -> str | None:
    """``2026-12-13T12:59:59Z``: UTC to the second, the one format the API writes."""
    if dt is None:
        return None
    # isoformat, not strftime: %Y does not zero-pad years below 1000 on every platform.
    return _to_utc(dt, "expires_at").replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def parse_expires_at(text: str, tz) -> datetime:
    """An ``expires_at`` string as an aware UTC datetime, truncated to the second.

    With an offset or ``Z`` it is that instant; without one it is wall clock in ``tz``;
    a bare ``YYYY-MM-DD`` is 23:59:59 that day in ``tz`` (rule 8).
    """
    zone = _zone(tz)
    text = text.strip() if isinstance(text, str) else ""
    if _FULL_DATE.fullmatch(text):
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise ExpiryError("expires_at", BAD_EXPIRES_AT) from None
        return _end_of_day(day, zone, "expires_at")
    match = _DATE_TIME.fullmatch(text)
    if not match:
        raise ExpiryError("expires_at", BAD_EXPIRES_AT)
    # Rebuild a canonical string; the fraction is dropped since expiries are kept to the second.
    offset = (match["offset"] or "").upper()
    canonical = f"{match['date']}T{match['hm']}{match['s'] or ':00'}{offset}"
    try:
        parsed = datetime.fromisoformat(canonical)
    except ValueError:
        raise ExpiryError("expires_at", BAD_EXPIRES_AT) from None
    if parsed.tzinfo is None:
        # fold=0: an ambiguous wall time means its first occurrence, and a time inside a
        # spring-forward gap moves forward by the gap, as wall clocks do.
        parsed = parsed.replace(tzinfo=zone)
    return _to_utc(parsed, "expires_at")


def parse_instant(text: str) -> datetime:
    """A range filter's instant, as an aware UTC datetime: ISO 8601 with ``Z`` or an offset, or a
    date ``YYYY-MM-DD`` meaning 00:00:00 UTC that day. Anything else raises ``ExpiryError``."""
    if _FULL_DATE.fullmatch(text):
        try:
            return datetime.combine(date.fromisoformat(text), time(), UTC)
        except ValueError:
            raise ExpiryError("instant", BAD_INSTANT) from None
    match = _DATE_TIME.fullmatch(text)
    if not match or not match["offset"]:
        raise ExpiryError("instant", BAD_INSTANT)
    try:
        # Whole, fraction included: "gte 10:00:00.5" must not take in a row of 10:00:00.
        return _to_utc(datetime.fromisoformat(text.replace(",", ".").upper()), "instant")
    except ValueError:
        raise ExpiryError("instant", BAD_INSTANT) from None


def _period_type(period: int | None, period_type: PeriodType | str | None) -> PeriodType | None:
    """The effective type: a period alone means days (contract, create body)."""
    if period_type is None or period_type == "":
        return PeriodType.DAYS if period is not None else None
    try:
        return PeriodType(period_type)
    except ValueError:
        choices = ", ".join(member.value for member in PeriodType)
        raise ExpiryError(
            "period_type", f"The period type field must be one of: {choices}."
        ) from None


def _check_period(period: int | None) -> None:
    if period is None:
        return
    if isinstance(period, bool) or not isinstance(period, int):  # True is an int, not a period
        raise ExpiryError("period", "The period field must be a whole number.")
    if not 0 <= period <= MAX_PERIOD:
        raise ExpiryError("period", f"The period field must be between 0 and {MAX_PERIOD}.")


def _clamped(year: int, month: int, day: int, field: str = "period") -> date:
    """That day, or the month's last day when the month is shorter (Jan 31 -> Feb 28)."""
    if year > 9999:
        raise ExpiryError(field, PAST_9999)
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _add_months(day: date, months: int) -> date:
    index = day.month - 1 + months
    return _clamped(day.year + index // 12, index % 12 + 1, day.day)


def _add_days(day: date, days: int) -> date:
    try:
        return day + timedelta(days=days)
    except OverflowError:
        raise ExpiryError("period", PAST_9999) from None


def _absolute_date(created_day: date, period: int | None, text: str) -> date:
    if _FULL_DATE.fullmatch(text):
        try:
            return date.fromisoformat(text)  # a fixed date; period is ignored (rule 3)
        except ValueError:
            raise ExpiryError("absolute_expiry", BAD_ABSOLUTE_DATE) from None
    match = _MONTH_DAY.fullmatch(text)
    month, day = (int(match[1]), int(match[2])) if match else (0, 0)
    # 2000 is a leap year, so this accepts 02-29 and rejects 02-30 and 13-01.
    if not 1 <= month <= 12 or not 1 <= day <= calendar.monthrange(2000, month)[1]:
        raise ExpiryError("absolute_expiry", BAD_ABSOLUTE_DATE)
    year = created_day.year
    if _clamped(year, month, day) < created_day:
        year += 1
    # Years are added to the month-day, not to the clamped date, so 02-29 lands on Feb 29
    # again in the next leap year.
    return _clamped(year + (period or 0), month, day, "period" if period else "absolute_expiry")


def _absolute_week(start: date, text: str | None) -> date:
    if text is None:
        return _add_days(start, 7 - start.isoweekday())  # the Sunday ending the ISO week
    if not _WEEKDAY.fullmatch(text):
        raise ExpiryError("absolute_expiry", BAD_WEEKDAY)
    return _add_days(start, (int(text) - start.isoweekday()) % 7)


def _absolute_month(start: date, text: str | None) -> date:
    if text is None:
        return _clamped(start.year, start.month, 31)
    if not _DAY_OF_MONTH.fullmatch(text):
        raise ExpiryError("absolute_expiry", BAD_MONTH_DAY)
    wanted = int(text)
    candidate = _clamped(start.year, start.month, wanted)
    if candidate >= start:
        return candidate
    # This month's (clamped) day is already behind T, so the first match is in the next month.
    year, month = (start.year + 1, 1) if start.month == 12 else (start.year, start.month + 1)
    return _clamped(year, month, wanted)


def _expiry_text(absolute_expiry: str | None) -> str | None:
    """Trimmed ``absolute_expiry``; empty means null (contract, create body)."""
    if absolute_expiry is None:
        return None
    return str(absolute_expiry).strip() or None


def target_date(
    created_day: date,
    period: int | None,
    period_type: PeriodType | str | None,
    absolute_expiry: str | None,
) -> date | None:
    """The target date E from the creation day D (rule 3); None when nothing is set."""
    _check_period(period)
    kind = _period_type(period, period_type)
    if kind is None:
        return None
    text = _expiry_text(absolute_expiry)
    if kind.needs_period and period is None:
        raise ExpiryError(
            "period", f"The period field is required when the period type is {kind.value}."
        )
    if kind is PeriodType.DAYS:
        return _add_days(created_day, period)
    if kind is PeriodType.WEEKS:
        return _add_days(created_day, 7 * period)
    if kind is PeriodType.MONTHS:
        return _add_months(created_day, period)
    if kind is PeriodType.YEARS:
        return _clamped(created_day.year + period, created_day.month, created_day.day)
    if kind is PeriodType.ABSOLUTE_WEEK:
        return _absolute_week(_add_days(created_day, 7 * (period or 0)), text)
    if kind is PeriodType.ABSOLUTE_MONTH:
        return _absolute_month(_add_months(created_day, period or 0), text)
    if text is None:
        raise ExpiryError(
            "absolute_expiry",
            "The absolute expiry field is required when the period type is absolute_date.",
        )
    return _absolute_date(created_day, period, text)


def resolve_expiry(
    *,
    created_at: datetime,
    tz: str | tzinfo,
    period: int | None = None,
    period_type: PeriodType | str | None = None,
    absolute_expiry: str | None = None,
    expires_at: datetime | None = None,
) -> datetime | None:
    """The share's ``expires_at`` in UTC (rules 1-4), or None when it never expires."""
    zone = _zone(tz)  # checked even when unused: the share stores its zone either way
    if expires_at is not None:
        return _to_utc(expires_at, "expires_at")
    day = target_date(local_day(created_at, zone), period, period_type, absolute_expiry)
    if day is None:
        return None
    # Past 9999 here is the fault of a fixed YYYY-MM-DD, or else of the period that moved E.
    fixed = _FULL_DATE.fullmatch(_expiry_text(absolute_expiry) or "")
    is_fixed_date = fixed and _period_type(period, period_type) is PeriodType.ABSOLUTE_DATE
    return _end_of_day(day, zone, "absolute_expiry" if is_fixed_date else "period")


def _day_text(day: date) -> str:
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def _count(n: int, unit: str) -> str:
    return f"{n} {unit}" if n == 1 else f"{n} {unit}s"


def _ordinal(n: int) -> str:
    suffix = "th" if 11 <= n <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def describe_rule(created_at: datetime, tz, period, period_type, absolute_expiry) -> str:
    """The rule in plain English for the preview, e.g. '2 weeks after 29 Nov 2026 in UTC'."""
    zone = _zone(tz)
    day = local_day(created_at, zone)
    # Validate exactly as resolve_expiry does, so a rule is never described that cannot apply.
    target_date(day, period, period_type, absolute_expiry)
    kind = _period_type(period, period_type)
    if kind is None:
        return "never expires"
    text = _expiry_text(absolute_expiry) or ""
    since, where = _day_text(day), f" in {getattr(zone, 'key', None) or zone}"
    if kind.needs_period:
        return f"{_count(period, kind.value[:-1])} after {since}{where}"
    if kind is PeriodType.ABSOLUTE_DATE:
        if _FULL_DATE.fullmatch(text):
            return f"the fixed date {_day_text(date.fromisoformat(text))}{where}"
        month, mday = int(text[:2]), int(text[3:])
        named = f"{mday} {_MONTHS[month - 1]}" + (
            " (28 Feb in other years)" if text == "02-29" else ""
        )
        rule = f"the next {named} on or after {since}"
        return (f"{_count(period, 'year')} after {rule}" if period else rule) + where
    unit = "week" if kind is PeriodType.ABSOLUTE_WEEK else "month"
    # "on or after D" when T is D itself, "at least N weeks after D" when the period moved T.
    start = f"at least {_count(period, unit)} after {since}" if period else f"on or after {since}"
    if kind is PeriodType.ABSOLUTE_WEEK:
        if not text:
            anchor = f"{_count(period, 'week')} after" if period else "of"
            return f"the Sunday ending the week {anchor} {since}{where}"
        return f"the first {_WEEKDAYS[int(text) - 1]} {start}{where}"
    if not text:
        anchor = f"{_count(period, 'month')} after" if period else "of"
        return f"end of the month {anchor} {since}{where}"
    clamp = " (or the last day of a shorter month)" if int(text) > 28 else ""
    return f"the first {_ordinal(int(text))}{clamp} {start}{where}"
