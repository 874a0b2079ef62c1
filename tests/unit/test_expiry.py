"""The expiry rules (docs/contract.md, "Expiry rules") as pure functions."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from webapp.enums import PeriodType
from webapp.expiry import (
    PAST_9999,
    ExpiryError,
    describe_rule,
    end_of_day,
    local_day,
    parse_expires_at,
    resolve_expiry,
    target_date,
    to_utc_z,
)

MELBOURNE = "Australia/Melbourne"
# The contract's worked examples: 2026-11-29 10:00 in Melbourne, a Sunday.
CREATED = datetime(2026, 11, 28, 23, 0, tzinfo=UTC)


def expiry(created_at=CREATED, tz=MELBOURNE, **fields) -> str | None:
    return to_utc_z(resolve_expiry(created_at=created_at, tz=tz, **fields))


# --- The contract's worked examples -------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "period_type", "absolute_expiry", "expected"),
    [
        (2, "weeks", None, "2026-12-13T12:59:59Z"),
        (30, "days", None, "2026-12-29T12:59:59Z"),
        (3, "months", None, "2027-02-28T12:59:59Z"),
        (1, "years", None, "2027-11-29T12:59:59Z"),
        (None, "absolute_month", None, "2026-11-30T12:59:59Z"),
        (2, "absolute_month", None, "2027-01-31T12:59:59Z"),
        (0, "absolute_week", None, "2026-11-29T12:59:59Z"),
        (1, "absolute_week", None, "2026-12-06T12:59:59Z"),
        (0, "absolute_week", "1", "2026-11-30T12:59:59Z"),
        (None, "absolute_month", "15", "2026-12-15T12:59:59Z"),
        (None, "absolute_date", "12-25", "2026-12-25T12:59:59Z"),
        (None, "absolute_date", "06-30", "2027-06-30T13:59:59Z"),
    ],
)
def test_contract_worked_examples(period, period_type, absolute_expiry, expected):
    fields = {"period": period, "period_type": period_type, "absolute_expiry": absolute_expiry}
    assert expiry(**fields) == expected
    # The enum member works the same as its value, and so does a ZoneInfo for the name.
    fields["period_type"] = PeriodType(period_type)
    assert expiry(tz=ZoneInfo(MELBOURNE), **fields) == expected


def test_creation_day_is_the_local_date_not_the_utc_date():
    created = datetime(2026, 11, 29, 14, 30, tzinfo=UTC)  # already 30 Nov 01:30 in Melbourne
    assert local_day(created, MELBOURNE) == date(2026, 11, 30)
    assert expiry(created_at=created, period=1, period_type="days") == "2026-12-01T12:59:59Z"


def test_never_expires_without_period_or_type():
    assert resolve_expiry(created_at=CREATED, tz=MELBOURNE) is None
    # Rule 2 looks only at period and period_type; a lone absolute_expiry changes nothing.
    assert expiry(absolute_expiry="12-25") is None
    assert target_date(date(2026, 1, 1), None, None, None) is None


def test_period_without_type_means_days():
    assert expiry(period=30) == "2026-12-29T12:59:59Z"
    assert expiry(period=30, period_type="") == "2026-12-29T12:59:59Z"


def test_absolute_expiry_is_ignored_for_relative_types():
    assert expiry(period=2, period_type="weeks", absolute_expiry="junk") == "2026-12-13T12:59:59Z"


def test_explicit_expires_at_wins_and_is_converted_to_utc():
    melbourne_noon = datetime(2027, 1, 5, 12, 0, tzinfo=ZoneInfo(MELBOURNE))
    result = resolve_expiry(
        created_at=CREATED, tz=MELBOURNE, period=3, period_type="days", expires_at=melbourne_noon
    )
    assert result == datetime(2027, 1, 5, 1, 0, tzinfo=UTC)
    assert result.tzinfo is UTC
    # Nothing is computed, so period fields that could not give an expiry do not matter...
    assert resolve_expiry(
        created_at=CREATED, tz=MELBOURNE, period=-5, period_type="nope", expires_at=melbourne_noon
    )
    # ...but the zone is still checked: the share stores it.
    with pytest.raises(ExpiryError) as caught:
        resolve_expiry(created_at=CREATED, tz="Nowhere/Land", expires_at=melbourne_noon)
    assert caught.value.field == "timezone"


def test_naive_created_at_counts_as_utc():
    naive = datetime(2026, 11, 29, 14, 30)
    assert expiry(created_at=naive, period=1) == "2026-12-01T12:59:59Z"


# --- Calendar edge cases -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("created_day", "period", "period_type", "absolute_expiry", "expected"),
    [
        # Month arithmetic clamps to the month's end.
        (date(2027, 1, 31), 1, "months", None, date(2027, 2, 28)),
        (date(2028, 1, 31), 1, "months", None, date(2028, 2, 29)),
        (date(2026, 8, 31), 1, "months", None, date(2026, 9, 30)),
        (date(2026, 12, 15), 1, "months", None, date(2027, 1, 15)),
        (date(2026, 11, 29), 14, "months", None, date(2028, 1, 29)),
        # Years from Feb 29 land on Feb 28, except in leap years.
        (date(2028, 2, 29), 1, "years", None, date(2029, 2, 28)),
        (date(2028, 2, 29), 4, "years", None, date(2032, 2, 29)),
        (date(2026, 11, 29), 0, "days", None, date(2026, 11, 29)),
        # absolute_date MM-DD: next occurrence on or after D, then + period years.
        (date(2026, 12, 25), None, "absolute_date", "12-25", date(2026, 12, 25)),
        (date(2026, 12, 26), None, "absolute_date", "12-25", date(2027, 12, 25)),
        (date(2026, 11, 29), 2, "absolute_date", "12-25", date(2028, 12, 25)),
        (date(2026, 11, 29), None, "absolute_date", "02-29", date(2027, 2, 28)),
        (date(2027, 3, 1), None, "absolute_date", "02-29", date(2028, 2, 29)),
        (date(2028, 2, 29), None, "absolute_date", "02-29", date(2028, 2, 29)),
        (date(2027, 2, 28), None, "absolute_date", "02-29", date(2027, 2, 28)),
        (date(2026, 11, 29), 1, "absolute_date", "02-29", date(2028, 2, 29)),
        (date(2027, 3, 1), 1, "absolute_date", "02-29", date(2029, 2, 28)),
        # absolute_date YYYY-MM-DD: that date, period ignored, the past allowed (rule 5).
        (date(2026, 11, 29), 5, "absolute_date", "2026-12-25", date(2026, 12, 25)),
        (date(2026, 11, 29), None, "absolute_date", "2020-02-29", date(2020, 2, 29)),
        (date(2026, 11, 29), None, "absolute_date", " 2027-01-02 ", date(2027, 1, 2)),
        # absolute_month with a day number, clamped to the month's length.
        (date(2027, 1, 31), 1, "absolute_month", "31", date(2027, 2, 28)),
        (date(2028, 1, 31), 1, "absolute_month", "31", date(2028, 2, 29)),
        (date(2027, 2, 10), None, "absolute_month", "31", date(2027, 2, 28)),
        (date(2027, 1, 31), 0, "absolute_month", "15", date(2027, 2, 15)),
        (date(2027, 1, 31), 0, "absolute_month", "30", date(2027, 2, 28)),
        (date(2026, 12, 20), None, "absolute_month", "15", date(2027, 1, 15)),
        (date(2026, 12, 15), None, "absolute_month", "15", date(2026, 12, 15)),
        (date(2026, 4, 30), None, "absolute_month", "31", date(2026, 4, 30)),
        (date(2026, 11, 29), None, "absolute_month", "", date(2026, 11, 30)),
        (date(2027, 2, 1), None, "absolute_month", None, date(2027, 2, 28)),
        # absolute_week: the Sunday ending T's ISO week, or the first given weekday on/after T.
        (date(2026, 11, 29), None, "absolute_week", "7", date(2026, 11, 29)),
        (date(2026, 11, 30), None, "absolute_week", None, date(2026, 12, 6)),
        (date(2026, 11, 30), None, "absolute_week", "1", date(2026, 11, 30)),
        (date(2026, 11, 30), 1, "absolute_week", "3", date(2026, 12, 9)),
        (date(2026, 12, 31), 0, "absolute_week", None, date(2027, 1, 3)),
    ],
)
def test_target_date(created_day, period, period_type, absolute_expiry, expected):
    assert target_date(created_day, period, period_type, absolute_expiry) == expected


# --- Daylight saving -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "tz", "expected"),
    [
        # Melbourne: AEDT (+11) ends the first Sunday of April, starts the first Sunday of October.
        (date(2026, 4, 4), MELBOURNE, "2026-04-04T12:59:59Z"),
        (date(2026, 4, 5), MELBOURNE, "2026-04-05T13:59:59Z"),
        (date(2026, 10, 3), MELBOURNE, "2026-10-03T13:59:59Z"),
        (date(2026, 10, 4), MELBOURNE, "2026-10-04T12:59:59Z"),
        # New York: EDT (-4) starts the 2nd Sunday of March, ends the 1st Sunday of November.
        (date(2026, 3, 7), "America/New_York", "2026-03-08T04:59:59Z"),
        (date(2026, 3, 8), "America/New_York", "2026-03-09T03:59:59Z"),
        (date(2026, 10, 31), "America/New_York", "2026-11-01T03:59:59Z"),
        (date(2026, 11, 1), "America/New_York", "2026-11-02T04:59:59Z"),
        # Santiago turns clocks back at midnight, so 23:59:59 happens twice: the later one counts.
        (date(2024, 4, 6), "America/Santiago", "2024-04-07T03:59:59Z"),
        (date(2026, 11, 29), "UTC", "2026-11-29T23:59:59Z"),
        (date(2026, 11, 29), "Asia/Kolkata", "2026-11-29T18:29:59Z"),
    ],
)
def test_end_of_day_across_dst_changes(day, tz, expected):
    result = end_of_day(day, tz)
    assert result.tzinfo is UTC
    assert to_utc_z(result) == expected


def test_days_across_a_dst_change_keep_the_wall_clock():
    # Created Saturday 4 Apr 2026 in Melbourne (+11); one day later is after the change (+10).
    created = datetime(2026, 4, 4, 9, 0, tzinfo=ZoneInfo(MELBOURNE))
    assert expiry(created_at=created, period=1) == "2026-04-05T13:59:59Z"


# --- parse_expires_at ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tz", "expected"),
    [
        ("2026-12-01T10:00:00Z", MELBOURNE, "2026-12-01T10:00:00Z"),
        ("2026-12-01t10:00:00z", MELBOURNE, "2026-12-01T10:00:00Z"),
        ("2026-12-01T10:00:00+10:00", "UTC", "2026-12-01T00:00:00Z"),
        ("2026-12-01T10:00:00+1000", "UTC", "2026-12-01T00:00:00Z"),
        ("2026-12-01T10:00-05", "UTC", "2026-12-01T15:00:00Z"),
        ("2026-12-01 10:00:00Z", "UTC", "2026-12-01T10:00:00Z"),
        ("2026-12-01T10:00:00.987654Z", "UTC", "2026-12-01T10:00:00Z"),
        ("  2026-12-01T10:00:59.5+00:00 ", "UTC", "2026-12-01T10:00:59Z"),
        # No offset: wall clock in the share's zone, summer and winter.
        ("2026-07-01T09:30:00", "America/New_York", "2026-07-01T13:30:00Z"),
        ("2026-12-01T09:30", "America/New_York", "2026-12-01T14:30:00Z"),
        ("2026-12-01T10:00:00", MELBOURNE, "2026-11-30T23:00:00Z"),
        # A wall time in the spring-forward gap moves forward; an ambiguous one is the first.
        ("2026-03-08T02:30:00", "America/New_York", "2026-03-08T07:30:00Z"),
        ("2026-11-01T01:30:00", "America/New_York", "2026-11-01T05:30:00Z"),
        # Date only: 23:59:59 that day in the zone (rule 8).
        ("2026-12-01", MELBOURNE, "2026-12-01T12:59:59Z"),
        ("2026-07-01", MELBOURNE, "2026-07-01T13:59:59Z"),
        ("2026-12-01", "America/New_York", "2026-12-02T04:59:59Z"),
    ],
)
def test_parse_expires_at(text, tz, expected):
    result = parse_expires_at(text, tz)
    assert result.tzinfo is UTC
    assert result.microsecond == 0
    assert to_utc_z(result) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "tomorrow",
        "2026-13-01",
        "2026-02-30",
        "2026-02-30T10:00:00",
        "2026-12-01T25:00:00",
        "2026-12-01T10:60",
        "2026-12-01T10:00:00+24:00",
        "2026-12-01T10:00:00+10:75",
        "2026-12-01T10",
        "2026-12-01x10:00:00",
        "2026-W48-1",
        "20261201",
        "12/01/2026",
        "0000-01-01",
        "2026-12-01T10:00:00 +10:00",
        "２０２６-12-01",  # full-width digits
        None,
    ],
)
def test_parse_expires_at_rejects_garbage(text):
    with pytest.raises(ExpiryError) as caught:
        parse_expires_at(text, MELBOURNE)
    assert caught.value.field == "expires_at"
    assert str(caught.value) == "The expires at field must be a valid ISO 8601 date-time."


@pytest.mark.parametrize(
    ("text", "tz"),
    [
        ("9999-12-31T23:00:00-05:00", "UTC"),
        ("9999-12-31T23:00:00", "America/New_York"),
        ("9999-12-31", "Pacific/Pago_Pago"),
    ],
)
def test_parse_expires_at_past_9999(text, tz):
    with pytest.raises(ExpiryError) as caught:
        parse_expires_at(text, tz)
    assert (caught.value.field, caught.value.message) == ("expires_at", PAST_9999)


# --- Errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"tz": "Mars/Olympus_Mons", "period": 1}, "timezone", "valid IANA time zone"),
        ({"tz": "", "period": 1}, "timezone", "valid IANA time zone"),
        ({"tz": "../etc/passwd", "period": 1}, "timezone", "valid IANA time zone"),
        ({"tz": None, "period": 1}, "timezone", "valid IANA time zone"),
        ({"period_type": "days"}, "period", "required when the period type is days."),
        ({"period_type": "weeks"}, "period", "required when the period type is weeks."),
        ({"period_type": "months"}, "period", "required when the period type is months."),
        ({"period_type": PeriodType.YEARS}, "period", "required when the period type is years."),
        ({"period": -1}, "period", "between 0 and 36500"),
        ({"period": 36501, "period_type": "weeks"}, "period", "between 0 and 36500"),
        ({"period": True}, "period", "whole number"),
        ({"period": 1.5}, "period", "whole number"),
        ({"period": "3"}, "period", "whole number"),
        ({"period": 1, "period_type": "fortnights"}, "period_type", "must be one of: days"),
        ({"period_type": "DAYS", "period": 1}, "period_type", "must be one of"),
        ({"period_type": "absolute_date"}, "absolute_expiry", "required when the period type"),
        ({"period_type": "absolute_date", "absolute_expiry": " "}, "absolute_expiry", "required"),
        # Past year 9999, blamed on the field that caused it.
        ({"period": 36500, "period_type": "years"}, "period", PAST_9999),
        (
            {"period": 36500, "period_type": "absolute_date", "absolute_expiry": "12-25"},
            "period",
            PAST_9999,
        ),
        (
            {
                "tz": "America/New_York",
                "period_type": "absolute_date",
                "absolute_expiry": "9999-12-31",
            },
            "absolute_expiry",
            PAST_9999,
        ),
    ],
)
def test_expiry_errors(fields, field, message):
    fields = {"tz": MELBOURNE, **fields}
    with pytest.raises(ExpiryError) as caught:
        resolve_expiry(created_at=CREATED, **fields)
    error = caught.value
    assert error.field == field
    assert message in error.message
    assert str(error) == error.message
    assert error.message.startswith("The ")
    assert isinstance(error, ValueError)


# Each message states the accepted format.
FORMATS = {
    "absolute_date": "must be a real date written YYYY-MM-DD or MM-DD",
    "absolute_week": "must be an ISO weekday from 1 (Monday) to 7 (Sunday)",
    "absolute_month": "must be a day of the month from 1 to 31",
}


@pytest.mark.parametrize(
    ("period_type", "text"),
    [
        *(
            ("absolute_date", text)
            for text in ["13-01", "02-30", "00-10", "12-00", "1-5", "2026-02-30", "2026-13-01"]
        ),
        *(
            ("absolute_date", text)
            for text in ["0000-01-01", "2026/12/25", "Dec 25", "12-25-2026", "12-25x", "١٢-٢٥"]
        ),
        *(("absolute_week", text) for text in ["0", "8", "01", "Mon", "1.0", "-1"]),
        *(("absolute_month", text) for text in ["0", "32", "05", "x", "1.5", "last"]),
    ],
)
def test_bad_absolute_expiry(period_type, text):
    with pytest.raises(ExpiryError) as caught:
        resolve_expiry(
            created_at=CREATED, tz=MELBOURNE, period_type=period_type, absolute_expiry=text
        )
    assert caught.value.field == "absolute_expiry"
    assert caught.value.message.startswith("The absolute expiry field " + FORMATS[period_type])


def test_large_periods_within_range_are_fine():
    # 36500 months is 3041 years and 8 months: July, Melbourne winter (+10).
    assert expiry(period=36500, period_type="months") == "5068-07-29T13:59:59Z"
    assert expiry(period=36500, period_type="days") == "2126-11-05T12:59:59Z"


@pytest.mark.parametrize(
    ("created_at", "tz", "fields"),
    [
        (datetime(9990, 1, 1, tzinfo=UTC), "UTC", {"period": 36500}),
        (datetime(9999, 12, 31, 12, tzinfo=UTC), "America/New_York", {"period": 0}),
        (
            datetime(9999, 12, 20, tzinfo=UTC),
            "UTC",
            {"period_type": "absolute_month", "absolute_expiry": "15"},
        ),
        (datetime(9999, 12, 31, tzinfo=UTC), "UTC", {"period_type": "absolute_week"}),
        (datetime(9999, 12, 1, tzinfo=UTC), "UTC", {"period": 1, "period_type": "absolute_month"}),
    ],
)
def test_overflow_near_year_9999_is_an_expiry_error(created_at, tz, fields):
    with pytest.raises(ExpiryError) as caught:
        resolve_expiry(created_at=created_at, tz=tz, **fields)
    assert (caught.value.field, caught.value.message) == ("period", PAST_9999)


def test_end_of_day_and_local_day_overflow_are_expiry_errors():
    with pytest.raises(ExpiryError, match="past the year 9999"):
        end_of_day(date(9999, 12, 31), "Pacific/Pago_Pago")
    with pytest.raises(ExpiryError, match="past the year 9999"):
        local_day(datetime(9999, 12, 31, 23, tzinfo=UTC), "Pacific/Kiritimati")
    assert end_of_day(date(9999, 12, 31), "Pacific/Kiritimati").year == 9999


# --- describe_rule and to_utc_z ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "period", "period_type", "absolute_expiry", "expected"),
    [
        (MELBOURNE, None, None, None, "never expires"),
        (MELBOURNE, 2, "weeks", None, "2 weeks after 29 Nov 2026 in Australia/Melbourne"),
        (MELBOURNE, 1, None, None, "1 day after 29 Nov 2026 in Australia/Melbourne"),
        (MELBOURNE, 3, "months", None, "3 months after 29 Nov 2026 in Australia/Melbourne"),
        (MELBOURNE, 1, "years", None, "1 year after 29 Nov 2026 in Australia/Melbourne"),
        (
            MELBOURNE,
            2,
            "absolute_month",
            None,
            "end of the month 2 months after 29 Nov 2026 in Australia/Melbourne",
        ),
        (
            MELBOURNE,
            None,
            "absolute_month",
            None,
            "end of the month of 29 Nov 2026 in Australia/Melbourne",
        ),
        (
            MELBOURNE,
            None,
            "absolute_month",
            "15",
            "the first 15th on or after 29 Nov 2026 in Australia/Melbourne",
        ),
        (
            MELBOURNE,
            1,
            "absolute_month",
            "31",
            "the first 31st (or the last day of a shorter month) at least 1 month after 29 Nov 2026"
            " in Australia/Melbourne",
        ),
        (
            MELBOURNE,
            0,
            "absolute_week",
            None,
            "the Sunday ending the week of 29 Nov 2026 in Australia/Melbourne",
        ),
        (
            MELBOURNE,
            2,
            "absolute_week",
            "1",
            "the first Monday at least 2 weeks after 29 Nov 2026 in Australia/Melbourne",
        ),
        ("UTC", None, "absolute_date", "12-25", "the next 25 Dec on or after 28 Nov 2026 in UTC"),
        (
            "UTC",
            2,
            "absolute_date",
            "02-29",
            "2 years after the next 29 Feb (28 Feb in other years) on or after 28 Nov 2026 in UTC",
        ),
        ("UTC", None, "absolute_date", "2027-01-02", "the fixed date 2 Jan 2027 in UTC"),
    ],
)
def test_describe_rule(tz, period, period_type, absolute_expiry, expected):
    assert describe_rule(CREATED, tz, period, period_type, absolute_expiry) == expected


def test_describe_rule_validates_like_resolve_expiry():
    with pytest.raises(ExpiryError) as caught:
        describe_rule(CREATED, MELBOURNE, None, "absolute_date", "02-30")
    assert caught.value.field == "absolute_expiry"


def test_to_utc_z():
    assert to_utc_z(None) is None
    assert to_utc_z(datetime(2026, 12, 13, 23, 59, 59, 999999, tzinfo=ZoneInfo(MELBOURNE))) == (
        "2026-12-13T12:59:59Z"
    )
    assert to_utc_z(datetime(2026, 12, 13, 12, 59, 59)) == "2026-12-13T12:59:59Z"  # naive = UTC
    assert to_utc_z(datetime(5, 1, 2, 3, 4, 5, tzinfo=UTC)) == "0005-01-02T03:04:05Z"


# --- Properties ----------------------------------------------------------------------------------

ZONES = [
    "UTC",
    "Australia/Melbourne",
    "Australia/Lord_Howe",  # half-hour DST
    "America/New_York",
    "Asia/Kolkata",  # +05:30
    "Asia/Kathmandu",  # +05:45
    "Pacific/Kiritimati",  # +14
    "Pacific/Pago_Pago",  # -11
    "America/St_Johns",  # -03:30 with DST
]
# database=None: no .hypothesis folder in the repo; a failure prints its example to reproduce.
PROPERTY = settings(max_examples=200, deadline=None, database=None)

instants = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 12, 31), timezones=st.just(UTC)
)
zones = st.sampled_from(ZONES)
periods = st.integers(min_value=0, max_value=3000)
relative_types = st.sampled_from(["days", "weeks", "months", "years"])


def _check_end_of_local_day(result: datetime, tz: str, created_day: date) -> date:
    local = result.astimezone(ZoneInfo(tz))
    assert result.tzinfo is UTC
    assert local.time() == time(23, 59, 59)
    assert local.date() >= created_day
    return local.date()


@PROPERTY
@given(instants, zones, relative_types, periods, periods)
def test_relative_rules_end_a_local_day_on_or_after_d_and_grow_with_period(
    created_at, tz, period_type, a, b
):
    created_day = local_day(created_at, tz)
    low, high = sorted((a, b))
    first = resolve_expiry(created_at=created_at, tz=tz, period=low, period_type=period_type)
    second = resolve_expiry(created_at=created_at, tz=tz, period=high, period_type=period_type)
    assert _check_end_of_local_day(first, tz, created_day) == target_date(
        created_day, low, period_type, None
    )
    _check_end_of_local_day(second, tz, created_day)
    assert first <= second


def _first_day_from(start: date, matches) -> date:
    """Reference oracle: walk forward a day at a time."""
    day = start
    while not matches(day):
        day += timedelta(days=1)
    return day


def _month_len(day: date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


absolute_rules = st.one_of(
    st.tuples(st.just("absolute_week"), st.none() | st.integers(1, 7).map(str)),
    st.tuples(st.just("absolute_month"), st.none() | st.integers(1, 31).map(str)),
    st.tuples(
        st.just("absolute_date"),
        st.dates(date(2000, 1, 1), date(2000, 12, 31)).map(lambda d: d.strftime("%m-%d")),
    ),
)


@PROPERTY
@given(instants, zones, absolute_rules, st.none() | periods, periods)
def test_absolute_rules_match_a_day_by_day_oracle(created_at, tz, rule, period, other):
    period_type, text = rule
    created_day = local_day(created_at, tz)
    result = resolve_expiry(
        created_at=created_at, tz=tz, period=period, period_type=period_type, absolute_expiry=text
    )
    day = _check_end_of_local_day(result, tz, created_day)
    n = period or 0
    if period_type == "absolute_week":
        start = created_day + timedelta(weeks=n)
        weekday = int(text) if text else 7
        assert day == _first_day_from(start, lambda d: d.isoweekday() == weekday)
    elif period_type == "absolute_month":
        start = target_date(created_day, n, "months", None)
        wanted = int(text) if text else 31
        assert day == _first_day_from(start, lambda d: d.day == min(wanted, _month_len(d)))
    else:
        month, mday = int(text[:2]), int(text[3:])
        base = _first_day_from(
            created_day, lambda d: (d.month, d.day) == (month, min(mday, _month_len(d)))
        )
        assert (day.year, day.month) == (base.year + n, month)
        assert day.day == min(mday, calendar.monthrange(day.year, month)[1])
    # A larger period never gives an earlier expiry.
    if period is not None and other >= period:
        later = resolve_expiry(
            created_at=created_at,
            tz=tz,
            period=other,
            period_type=period_type,
            absolute_expiry=text,
        )
        assert later >= result


@PROPERTY
@given(instants, zones)
# 01:30 EST, the second 01:30 of that night: its wall clock alone would mean the first.
@example(datetime(2026, 11, 1, 6, 30, tzinfo=UTC), "America/New_York")
def test_parse_expires_at_round_trips_utc_z_and_wall_clock(instant, tz):
    instant = instant.replace(microsecond=0)
    assert parse_expires_at(to_utc_z(instant), tz) == instant
    # An unambiguous local wall clock without an offset is read back in the zone.
    local = instant.astimezone(ZoneInfo(tz))
    if local.replace(fold=0).utcoffset() == local.replace(fold=1).utcoffset():
        assert parse_expires_at(local.replace(tzinfo=None).isoformat(), tz) == instant
