"""The business-hours clock and SLA timers: hand-computed cases (DST, weekends, holidays) and invariants."""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxlens.errors import CxlensInputError
from cxlens.loop.sla import BusinessCalendar, SlaPolicy, parse_calendar
from cxlens.metrics import calendar as ticket_calendar

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
H = timedelta(hours=1)
OFFICE = BusinessCalendar("Europe/Berlin", frozenset(range(5)), time(9), time(17), frozenset({date(2026, 12, 25)}))


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


# --- add: hand-computed due times --------------------------------------------------------------

ADD_CASES = [
    # Friday 16:00 CET + 2 h: 1 h on Friday, then Monday opens 09:00 CEST (after the 29 March change).
    (OFFICE, berlin(2026, 3, 27, 16), 2 * H, datetime(2026, 3, 30, 8, tzinfo=UTC)),
    # Friday evening -> Monday: the clock starts at Monday's opening.
    (OFFICE, berlin(2026, 6, 5, 19, 30), 30 * timedelta(minutes=1), berlin(2026, 6, 8, 9, 30)),
    # Before opening on a Tuesday, given in New York time (01:00 EDT = 07:00 CEST).
    (OFFICE, datetime(2026, 6, 2, 1, tzinfo=NEW_YORK), H, datetime(2026, 6, 2, 4, tzinfo=NEW_YORK)),
    # Ends exactly at closing: the closing time, not the next opening.
    (OFFICE, berlin(2026, 6, 1, 9), 8 * H, berlin(2026, 6, 1, 17)),
    (OFFICE, berlin(2026, 6, 1, 9), 8 * H + timedelta(seconds=1), berlin(2026, 6, 2, 9, 0, 1)),
    # Overnight never counts: Monday 16:00 + 3 h = Tuesday 11:00.
    (OFFICE, berlin(2026, 6, 1, 16), 3 * H, berlin(2026, 6, 2, 11)),
    # Holiday: Thursday 24 Dec 16:00 + 3 h; Friday 25 Dec is a holiday, then the weekend.
    (OFFICE, berlin(2026, 12, 24, 16), 3 * H, berlin(2026, 12, 28, 11)),
    # Across the autumn change (25 Oct): Friday 23 Oct 12:00 CEST + 10 h = Monday 26 Oct 14:00 CET.
    (OFFICE, berlin(2026, 10, 23, 12), 10 * H, datetime(2026, 10, 26, 13, tzinfo=UTC)),
    # 24/7 in Berlin: business time is real time, so the 23-hour day ends at 00:00 + 23 h real.
    (BusinessCalendar.always("Europe/Berlin"), berlin(2026, 3, 29, 0), 23 * H, berlin(2026, 3, 30, 0)),
    (BusinessCalendar.always("Europe/Berlin"), berlin(2026, 10, 25, 0), 25 * H, berlin(2026, 10, 26, 0)),
    # Zero duration is the start itself, even outside hours.
    (OFFICE, berlin(2026, 6, 6, 12), timedelta(0), berlin(2026, 6, 6, 12)),
]


@pytest.mark.parametrize(("cal", "start", "duration", "due"), ADD_CASES)
def test_add_literal(cal: BusinessCalendar, start: datetime, duration: timedelta, due: datetime) -> None:
    got = cal.add(start, duration)
    assert got == due
    assert got.tzinfo == start.tzinfo  # returned in the zone given
    assert cal.elapsed(start, got) == duration


ELAPSED_CASES = [
    (OFFICE, berlin(2026, 3, 27, 16), berlin(2026, 3, 30, 10), 2 * H),
    (OFFICE, berlin(2026, 6, 1, 16), berlin(2026, 6, 2, 10), 2 * H),
    (OFFICE, berlin(2026, 6, 6, 8), berlin(2026, 6, 7, 20), timedelta(0)),      # a weekend
    (OFFICE, berlin(2026, 12, 24, 0), berlin(2026, 12, 29, 0), 16 * H),         # Thu + Mon (Fri holiday)
    (OFFICE, berlin(2026, 6, 1, 0), berlin(2026, 6, 8, 0), 40 * H),             # a full week
    # A day is 23 h / 25 h of real time on the change days of a 24/7 Berlin clock.
    (BusinessCalendar.always("Europe/Berlin"), berlin(2026, 3, 29), berlin(2026, 3, 30), 23 * H),
    (BusinessCalendar.always("Europe/Berlin"), berlin(2026, 10, 25), berlin(2026, 10, 26), 25 * H),
    # Night shift 01:00-05:00 every day: 3 real hours on 29 March, 5 on 25 October.
    (BusinessCalendar("Europe/Berlin", opens=time(1), closes=time(5)), berlin(2026, 3, 29), berlin(2026, 3, 30), 3 * H),
    (BusinessCalendar("Europe/Berlin", opens=time(1), closes=time(5)), berlin(2026, 10, 25), berlin(2026, 10, 26),
     5 * H),
    # Opening at a skipped wall time (02:30 on 29 March) opens at the change, 03:00 CEST.
    (BusinessCalendar("Europe/Berlin", opens=time(2, 30), closes=time(4)), berlin(2026, 3, 29), berlin(2026, 3, 30),
     H),
    # Opening at a repeated wall time (02:30 on 25 October) is its first occurrence: 02:30 CEST-04:00 CET.
    (BusinessCalendar("Europe/Berlin", opens=time(2, 30), closes=time(4)), berlin(2026, 10, 25),
     berlin(2026, 10, 26), 2 * H + 30 * timedelta(minutes=1)),
    # Evening shift up to midnight (24:00).
    (BusinessCalendar("Europe/Berlin", opens=time(20)), berlin(2026, 10, 24, 23), berlin(2026, 10, 25, 21), 2 * H),
    # Reversed order gives negative business time.
    (OFFICE, berlin(2026, 6, 2, 10), berlin(2026, 6, 1, 16), -2 * H),
]


@pytest.mark.parametrize(("cal", "start", "end", "expected"), ELAPSED_CASES)
def test_elapsed_literal(cal: BusinessCalendar, start: datetime, end: datetime, expected: timedelta) -> None:
    assert cal.elapsed(start, end) == expected


def test_is_open_and_next_open() -> None:
    assert OFFICE.is_open(berlin(2026, 6, 1, 9))
    assert not OFFICE.is_open(berlin(2026, 6, 1, 17))           # closing excluded
    assert not OFFICE.is_open(berlin(2026, 6, 6, 12))           # Saturday
    assert not OFFICE.is_open(berlin(2026, 12, 25, 12))         # holiday
    assert OFFICE.is_open(datetime(2026, 6, 1, 7, 30, tzinfo=UTC))  # 09:30 CEST
    assert OFFICE.next_open(berlin(2026, 6, 5, 18)) == berlin(2026, 6, 8, 9)
    assert OFFICE.next_open(berlin(2026, 6, 5, 10)) == berlin(2026, 6, 5, 10)
    assert BusinessCalendar.always().is_open(datetime(2026, 1, 1, tzinfo=UTC))


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(CxlensInputError, match="'start' must be timezone-aware"):
        OFFICE.add(datetime(2026, 6, 1, 9), H)
    with pytest.raises(CxlensInputError, match="'end' must be timezone-aware"):
        OFFICE.elapsed(berlin(2026, 6, 1, 9), datetime(2026, 6, 1, 10))
    with pytest.raises(CxlensInputError, match="'t' must be timezone-aware"):
        OFFICE.is_open(datetime(2026, 6, 1, 10))
    with pytest.raises(CxlensInputError, match="zero or more"):
        OFFICE.add(berlin(2026, 6, 1, 9), -H)


# --- parse_calendar ------------------------------------------------------------------------------


def test_parse_calendar_json_and_toml() -> None:
    from_json = parse_calendar({"timezone": "Europe/Berlin", "days": ["mon-fri"], "opens": "09:00",
                                "closes": "17:00", "holidays": ["2026-12-25"]})
    assert from_json == OFFICE
    toml = tomllib.loads('timezone = "Europe/Berlin"\ndays = ["monday", "tue", 2, "thu-fri"]\n'
                         'opens = 09:00:00\ncloses = 17:00:00\nholidays = [2026-12-25]\n')
    assert parse_calendar(toml) == OFFICE
    assert parse_calendar(OFFICE.to_dict()) == OFFICE
    assert parse_calendar({}) == BusinessCalendar.always() == parse_calendar(None)
    assert parse_calendar({"opens": "20:00", "closes": "24:00"}).hours_per_day == 4 * H
    assert OFFICE.to_dict() == {"timezone": "Europe/Berlin", "days": ["mon", "tue", "wed", "thu", "fri"],
                                "opens": "09:00", "closes": "17:00", "holidays": ["2026-12-25"]}


BAD_CALENDARS = [
    ({"timezone": "Mars/Olympus"}, "'timezone' must be an IANA zone name", "Mars/Olympus"),
    ({"days": ["mon", "funday"]}, "'days[1]' must be a weekday name", "funday"),
    ({"days": ["fri-mon"]}, "'days[0]'", "fri-mon"),
    ({"days": [7]}, "'days[0]'", "7"),
    ({"days": []}, "'days' must be a non-empty set", "[]"),
    ({"opens": "9am"}, "'opens' must be a local time", "9am"),
    ({"opens": "17:00", "closes": "09:00"}, "'closes' must be after 'opens'", "17:00"),
    ({"holidays": ["25/12/2026"]}, "'holidays[0]' must be a date", "25/12/2026"),
    ({"hours": "9-5"}, "Unknown business calendar key 'hours'", "timezone, days"),
    ("9-5", "must be a mapping", "9-5"),
]


@pytest.mark.parametrize(("mapping", "message", "value"), BAD_CALENDARS)
def test_bad_calendars(mapping: object, message: str, value: str) -> None:
    with pytest.raises(CxlensInputError) as info:
        parse_calendar(mapping)  # type: ignore[arg-type]
    assert message in str(info.value) and value in str(info.value)


# --- SLA policy ----------------------------------------------------------------------------------

POLICY = SlaPolicy(acknowledge=4 * H, resolve=16 * H, calendar=OFFICE, at_risk_fraction=0.25)
OPENED = berlin(2026, 3, 27, 15)  # Friday 15:00 CET


def test_due_times() -> None:
    due = POLICY.due_times(OPENED)
    # 2 h on Friday, then Monday 09:00-11:00 CEST.
    assert due.acknowledge_by == berlin(2026, 3, 30, 11)
    # 2 h Friday + 8 h Monday + 6 h Tuesday.
    assert due.resolve_by == berlin(2026, 3, 31, 15)


def test_status_at_risk_then_breached() -> None:
    at_risk = POLICY.status(OPENED, None, None, now=berlin(2026, 3, 30, 10, 30))
    assert at_risk.acknowledge.state == "at_risk"            # 30 min left < 25 % of 4 h
    assert at_risk.acknowledge.remaining == timedelta(minutes=30)
    assert at_risk.acknowledge.used == timedelta(hours=3, minutes=30)
    assert at_risk.resolve.state == "on_track"
    assert at_risk.resolve.remaining == timedelta(hours=12, minutes=30)
    assert at_risk.at_risk and not at_risk.breached

    late = POLICY.status(OPENED, None, None, now=berlin(2026, 3, 30, 11, 30))
    assert late.acknowledge.state == "breached" and late.acknowledge.remaining == -timedelta(minutes=30)
    assert late.breached
    assert late.to_dict()["acknowledge"]["remaining_seconds"] == -1800.0


def test_status_met_and_resolved_late() -> None:
    status = POLICY.status(OPENED, berlin(2026, 3, 30, 10), berlin(2026, 3, 31, 16), now=berlin(2026, 4, 1, 12))
    assert status.acknowledge.state == "met"
    assert status.acknowledge.used == 3 * H and status.acknowledge.remaining is None
    assert status.resolve.state == "breached" and status.resolve.used == 17 * H
    # Seen before the acknowledgement happened, the timer is still running.
    earlier = POLICY.status(OPENED, berlin(2026, 3, 30, 10), None, now=berlin(2026, 3, 30, 9, 30))
    assert earlier.acknowledge.state == "on_track" and earlier.acknowledge.remaining == timedelta(minutes=90)


def test_policy_validation() -> None:
    with pytest.raises(CxlensInputError, match="'acknowledge' must be a positive duration"):
        SlaPolicy(timedelta(0), H)
    with pytest.raises(CxlensInputError, match="at_risk_fraction"):
        SlaPolicy(H, H, at_risk_fraction=1.5)


# --- invariants ----------------------------------------------------------------------------------

# Opening/closing hours away from 01:00-03:00, where the zones below change their clocks, so that
# the minute-by-minute wall-clock oracle has one unambiguous reading.
HOURS = st.sampled_from([time(0), time(6), time(7, 30), time(9), time(12), time(17), time(18, 45), time(22)])
ZONES = st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"])


@st.composite
def calendars(draw: st.DrawFn) -> BusinessCalendar:
    opens, closes = sorted(draw(st.lists(HOURS, min_size=2, max_size=2, unique=True)))
    if draw(st.booleans()):
        closes = time(0)  # until midnight
    holidays = draw(st.frozensets(st.dates(date(2026, 3, 20), date(2026, 4, 10)), max_size=4))
    return BusinessCalendar(draw(ZONES), draw(st.frozensets(st.integers(0, 6), min_size=1)), opens, closes, holidays)


INSTANTS = st.datetimes(datetime(2026, 3, 20), datetime(2026, 4, 10), timezones=st.sampled_from(
    [UTC, BERLIN, NEW_YORK, timezone(timedelta(hours=-3, minutes=-30))]))
DURATIONS = st.timedeltas(timedelta(0), timedelta(days=6))


@settings(max_examples=150, deadline=None)
@given(calendars(), INSTANTS, DURATIONS, DURATIONS)
def test_add_elapsed_invariants(cal: BusinessCalendar, start: datetime, a: timedelta, b: timedelta) -> None:
    due = cal.add(start, a)
    assert cal.elapsed(start, due) == a
    assert due >= start
    assert cal.elapsed(start, due) <= due - start                      # never more than wall time
    assert cal.add(due, b) == cal.add(start, a + b)                    # additivity
    assert cal.add(start, min(a, b)) <= cal.add(start, max(a, b))      # monotonic in the duration


@settings(max_examples=150, deadline=None)
@given(calendars(), INSTANTS, INSTANTS, INSTANTS)
def test_elapsed_is_additive_and_bounded(cal: BusinessCalendar, x: datetime, y: datetime, z: datetime) -> None:
    a, b, c = sorted((x, y, z))
    assert cal.elapsed(a, c) == cal.elapsed(a, b) + cal.elapsed(b, c)
    assert timedelta(0) <= cal.elapsed(a, c) <= c - a
    assert cal.elapsed(c, a) == -cal.elapsed(a, c)
    assert cal.add(a, c - b) <= cal.add(b, c - b)                      # monotonic in the start


def _open_by_wall_clock(cal: BusinessCalendar, t: datetime) -> bool:
    local = t.astimezone(ZoneInfo(cal.timezone))
    if local.weekday() not in cal.days or local.date() in cal.holidays:
        return False
    return cal.opens <= local.time().replace(tzinfo=None) and (cal.closes == time(0) or local.time() < cal.closes)


@settings(max_examples=40, deadline=None)
@given(calendars(), st.datetimes(datetime(2026, 3, 26), datetime(2026, 4, 2)), st.integers(0, 4 * 24 * 60))
def test_elapsed_matches_a_minute_by_minute_oracle(cal: BusinessCalendar, naive: datetime, minutes: int) -> None:
    start = naive.replace(second=0, microsecond=0, tzinfo=UTC)
    steps = [start + timedelta(minutes=m) for m in range(minutes)]
    expected = timedelta(minutes=sum(_open_by_wall_clock(cal, t) for t in steps))
    assert cal.elapsed(start, start + timedelta(minutes=minutes)) == expected
    assert all(cal.is_open(t) == _open_by_wall_clock(cal, t) for t in steps[::37])


def test_from_workspace_settings() -> None:
    settings = {"business_days": "mon-fri", "business_hours": "09:00-17:00", "business_timezone": "Europe/Berlin",
                "business_holidays": "2026-12-25"}
    assert BusinessCalendar.from_settings(settings) == OFFICE
    evening = BusinessCalendar.from_settings({"business_hours": "20:00-24:00"})
    assert (evening.opens, evening.closes, evening.timezone) == (time(20), time(0), "UTC")


# Daytime hours only: with no clock change inside the working window, real business time equals the
# wall-clock business hours that the ticket metrics measure (an independent, vectorised implementation).
DAYTIME = st.sampled_from([time(6), time(7, 30), time(9), time(12), time(17), time(18, 45), time(22)])


@settings(max_examples=100, deadline=None)
@given(st.lists(DAYTIME, min_size=2, max_size=2, unique=True), st.booleans(), ZONES,
       st.frozensets(st.integers(0, 6), min_size=1), INSTANTS, DURATIONS)
def test_elapsed_agrees_with_ticket_business_hours(hours: list[time], to_midnight: bool, zone: str,
                                                   days: frozenset[int], start: datetime, span: timedelta) -> None:
    opens, closes = sorted(hours)
    cal = BusinessCalendar(zone, days, opens, time(0) if to_midnight else closes, frozenset({date(2026, 3, 30)}))
    other = ticket_calendar.BusinessCalendar(tuple(sorted(days)), opens, time.max if to_midnight else closes, zone,
                                             (date(2026, 3, 30),))
    end = start + span
    [expected] = ticket_calendar.business_hours_between([start.astimezone(UTC)], [end.astimezone(UTC)], other)
    assert cal.elapsed(start, end).total_seconds() / 3600 == pytest.approx(expected, abs=1e-9)
