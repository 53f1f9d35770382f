"""A business-hours clock and SLA timers.

A :class:`BusinessCalendar` says when a team works: a time zone, the working weekdays, one
opening and one closing time per working day, and holidays (local dates). Business time is the
real time (what a stopwatch shows) that falls inside working hours; everything else — nights,
weekends, holidays — does not count. Working hours are read on the wall clock of the calendar's
zone, so on a daylight-saving day a 09:00–17:00 day is still eight hours, while a 24/7 calendar's
day is 23 or 25 hours long. An opening or closing time skipped on a spring-forward day (02:30 in
Berlin) is the moment of the change (03:00); one that occurs twice on a fall-back day is its
first occurrence.

Working hours never span midnight: ``closes`` is after ``opens``, or ``00:00`` meaning the end
of the day (``24:00``). :meth:`BusinessCalendar.always` is the 24/7 calendar.

Every instant must be timezone-aware (any zone); results are returned in the zone of the instant
given. A clock started outside working hours starts at the next opening.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cxlens.errors import CxlensInputError

DAY_NAMES: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_NUMBERS = {name: i for i, full in enumerate(
    ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")) for name in (full, full[:3])}
_ZERO = timedelta(0)
_MIDNIGHT = time(0)
_CALENDAR_KEYS = ("timezone", "days", "opens", "closes", "holidays")


@dataclass(frozen=True)
class BusinessCalendar:
    """Working hours: ``days`` (0 = Monday … 6 = Sunday) from ``opens`` to ``closes`` in ``timezone``.

    ``closes == time(0)`` means midnight at the end of the day; ``holidays`` are local dates on
    which the team does not work.
    """

    timezone: str = "UTC"
    days: frozenset[int] = frozenset(range(7))
    opens: time = _MIDNIGHT
    closes: time = _MIDNIGHT
    holidays: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        _zone(self.timezone)
        if not self.days or not all(isinstance(d, int) and 0 <= d <= 6 for d in self.days):
            raise CxlensInputError(f"Calendar 'days' must be a non-empty set of weekdays 0 (Monday) to 6 (Sunday). "
                                   f"Got {sorted(self.days, key=str)} instead.")
        for name in ("opens", "closes"):
            value = getattr(self, name)
            if not isinstance(value, time) or value.tzinfo is not None:
                raise CxlensInputError(f"Calendar '{name}' must be a local time of day such as 09:00 (no zone: "
                                       f"the calendar's timezone applies). Got {value!r} instead.")
        if self.closes != _MIDNIGHT and self.closes <= self.opens:
            raise CxlensInputError(
                f"Calendar 'closes' must be after 'opens' (working hours never span midnight; use 24:00 for the "
                f"end of the day). Got opens {self.opens:%H:%M} and closes {self.closes:%H:%M} instead.")
        if not all(type(h) is date for h in self.holidays):
            raise CxlensInputError(f"Calendar 'holidays' must be dates. Got {sorted(self.holidays, key=str)} instead.")

    @classmethod
    def always(cls, timezone: str = "UTC") -> BusinessCalendar:
        """The 24/7 calendar: every instant is business time."""
        return cls(timezone=timezone)

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> BusinessCalendar:
        """The workspace's business calendar (settings ``business_days``, ``business_hours``,
        ``business_timezone``, ``business_holidays``; see :mod:`cxlens.metrics.calendar`)."""
        from cxlens.metrics.calendar import BusinessCalendar as WorkspaceHours

        hours = WorkspaceHours.from_settings(settings)
        closes = _MIDNIGHT if hours.end == time.max else hours.end
        return cls(hours.timezone, frozenset(hours.days), hours.start, closes, frozenset(hours.holidays))

    @property
    def zone(self) -> tzinfo:
        return _zone(self.timezone)

    @property
    def hours_per_day(self) -> timedelta:
        """Nominal length of a working day (ignoring daylight-saving changes)."""
        end = timedelta(days=1) if self.closes == _MIDNIGHT else _as_delta(self.closes)
        return end - _as_delta(self.opens)

    def is_open(self, t: datetime) -> bool:
        """True when ``t`` falls in working hours (opening included, closing excluded)."""
        utc = _utc(t, "t")
        window = self._window(utc.astimezone(self.zone).date())
        return window is not None and window[0] <= utc < window[1]

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The instant when ``duration`` of business time has passed after ``start`` (a due time).

        A zero duration returns ``start``. When the duration ends exactly at a closing time, the
        closing time is returned (not the next opening).
        """
        _check_duration(duration)
        utc = _utc(start, "start")
        if duration == _ZERO:
            return start
        left = duration
        for opens, closes in self._windows_from(utc):
            begin = max(opens, utc)
            if begin >= closes:
                continue
            if left <= closes - begin:
                return (begin + left).astimezone(start.tzinfo)
            left -= closes - begin
        raise AssertionError("unreachable: a calendar always opens again")  # pragma: no cover

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Business time between ``start`` and ``end``; negative when ``end`` is before ``start``."""
        a, b = _utc(start, "start"), _utc(end, "end")
        if b < a:
            return -self.elapsed(end, start)
        total = _ZERO
        for opens, closes in self._windows_from(a):
            if opens >= b:
                break
            total += max(_ZERO, min(closes, b) - max(opens, a))
        return total

    def next_open(self, t: datetime) -> datetime:
        """``t`` itself when open, else the next opening (in ``t``'s zone)."""
        utc = _utc(t, "t")
        for opens, closes in self._windows_from(utc):
            if closes > utc:
                return max(opens, utc).astimezone(t.tzinfo)
        raise AssertionError("unreachable")  # pragma: no cover

    def to_dict(self) -> dict[str, Any]:
        return {
            "timezone": self.timezone,
            "days": [DAY_NAMES[d] for d in sorted(self.days)],
            "opens": f"{self.opens:%H:%M}",
            "closes": "24:00" if self.closes == _MIDNIGHT else f"{self.closes:%H:%M}",
            "holidays": [h.isoformat() for h in sorted(self.holidays)],
        }

    def _windows_from(self, utc: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working windows (UTC) of every local date from the one containing ``utc`` onwards."""
        day = utc.astimezone(self.zone).date()
        while True:
            window = self._window(day)
            if window is not None:
                yield window
            day += timedelta(days=1)

    def _window(self, day: date) -> tuple[datetime, datetime] | None:
        if day.weekday() not in self.days or day in self.holidays:
            return None
        return _window(self.timezone, day, self.opens, self.closes)


@functools.lru_cache(maxsize=4096)
def _window(timezone: str, day: date, opens: time, closes: time) -> tuple[datetime, datetime]:
    zone = _zone(timezone)
    end_day = day + timedelta(days=1) if closes == _MIDNIGHT else day
    return _instant(datetime.combine(day, opens), zone), _instant(datetime.combine(end_day, closes), zone)


def _instant(wall: datetime, zone: tzinfo) -> datetime:
    """The first UTC instant at which the wall clock of ``zone`` shows ``wall`` or later.

    For a wall time that occurs twice (fall back) that is its first occurrence; for one skipped
    by a spring-forward change it is the moment of the change (02:30 on a day that jumps from
    02:00 to 03:00 opens at 03:00).
    """
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == wall:
        return first
    # Skipped wall time: the change lies between the readings with the offset after (fold=1,
    # earlier) and before (fold=0, later) it; bisect to the microsecond.
    low, high = wall.replace(tzinfo=zone, fold=1).astimezone(UTC), first
    while high - low > timedelta(microseconds=1):
        mid = low + (high - low) / 2
        if mid.astimezone(zone).replace(tzinfo=None) >= wall:
            high = mid
        else:
            low = mid
    return high


@functools.lru_cache(maxsize=256)
def _zone(name: str) -> tzinfo:
    if not isinstance(name, str) or not name:
        raise CxlensInputError(f"Calendar 'timezone' must be an IANA zone name such as 'Europe/Berlin'. "
                               f"Got {name!r} instead.")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CxlensInputError(f"Calendar 'timezone' must be an IANA zone name such as 'Europe/Berlin' or 'UTC'. "
                               f"Got {name!r} instead.") from None


def _utc(t: datetime, name: str) -> datetime:
    if not isinstance(t, datetime):
        raise CxlensInputError(f"'{name}' must be a datetime. Got {t!r} instead.")
    if t.tzinfo is None or t.utcoffset() is None:
        raise CxlensInputError(f"'{name}' must be timezone-aware (for example 2026-03-27T16:00:00+01:00); "
                               f"got the naive {t.isoformat()}. Attach a zone, e.g. t.replace(tzinfo=UTC).")
    return t.astimezone(UTC)


def _check_duration(duration: timedelta) -> None:
    if not isinstance(duration, timedelta) or duration < _ZERO:
        raise CxlensInputError(f"The duration must be a timedelta of zero or more business time. "
                               f"Got {duration!r} instead.")


def _as_delta(t: time) -> timedelta:
    return timedelta(hours=t.hour, minutes=t.minute, seconds=t.second, microseconds=t.microsecond)


# --- parsing from JSON / TOML ----------------------------------------------------------------


def parse_calendar(mapping: Mapping[str, Any] | None) -> BusinessCalendar:
    """Build a calendar from its JSON/TOML form; an empty or missing mapping is the 24/7 UTC calendar.

    ``{"timezone": "Europe/Berlin", "days": ["mon-fri"], "opens": "09:00", "closes": "17:00",
    "holidays": ["2026-12-25"]}``. ``days`` takes names (``mon``…``sun``), ranges (``mon-fri``) or
    numbers 0 (Monday) … 6; ``closes`` may be ``24:00``; TOML times and dates are accepted as such.
    """
    if mapping is None:
        return BusinessCalendar.always()
    if not isinstance(mapping, Mapping):
        raise CxlensInputError(f"A business calendar must be a mapping with keys {', '.join(_CALENDAR_KEYS)}. "
                               f"Got {mapping!r} instead.")
    unknown = sorted(str(k) for k in mapping if k not in _CALENDAR_KEYS)
    if unknown:
        raise CxlensInputError(f"Unknown business calendar key '{unknown[0]}'. The keys are: "
                               f"{', '.join(_CALENDAR_KEYS)}.")
    return BusinessCalendar(
        timezone=mapping.get("timezone", "UTC"),
        days=_parse_days(mapping.get("days", list(DAY_NAMES))),
        opens=_parse_time(mapping.get("opens", "00:00"), "opens"),
        closes=_parse_time(mapping.get("closes", "24:00"), "closes"),
        holidays=frozenset(_parse_date(h, f"holidays[{i}]") for i, h in enumerate(_as_list(
            mapping.get("holidays", []), "holidays"))),
    )


def _as_list(value: Any, name: str) -> list[Any]:
    if isinstance(value, str):
        return [p for p in re.split(r"[,\s]+", value) if p]
    if isinstance(value, list | tuple | set | frozenset):
        return list(value)
    raise CxlensInputError(f"Calendar '{name}' must be a list. Got {value!r} instead.")


def _parse_days(value: Any) -> frozenset[int]:
    out: set[int] = set()
    for i, item in enumerate(_as_list(value, "days")):
        out |= _parse_day_item(item, f"days[{i}]")
    return frozenset(out)


def _parse_day_item(item: Any, where: str) -> set[int]:
    if isinstance(item, int) and not isinstance(item, bool) and 0 <= item <= 6:
        return {item}
    if isinstance(item, str):
        parts = [_DAY_NUMBERS.get(p.strip()) for p in item.strip().lower().split("-")]
        if len(parts) in (1, 2) and None not in parts and parts[0] <= parts[-1]:  # type: ignore[operator]
            return set(range(parts[0], parts[-1] + 1))  # type: ignore[arg-type]
    raise CxlensInputError(f"Calendar '{where}' must be a weekday name (mon … sun), a range such as 'mon-fri' or "
                           f"a number 0 (Monday) to 6 (Sunday). Got {item!r} instead.")


def _parse_time(value: Any, name: str) -> time:
    if isinstance(value, time) and value.tzinfo is None:
        return value
    if isinstance(value, str):
        text = value.strip()
        if text in ("24:00", "24:00:00"):
            return _MIDNIGHT
        try:
            return time.fromisoformat(text)
        except ValueError:
            pass
    raise CxlensInputError(f"Calendar '{name}' must be a local time such as '09:00' ('24:00' for the end of the "
                           f"day). Got {value!r} instead.")


def _parse_date(value: Any, where: str) -> date:
    if type(value) is date:
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise CxlensInputError(f"Calendar '{where}' must be a date such as '2026-12-25'. Got {value!r} instead.")


# --- SLA policy and status -------------------------------------------------------------------


@dataclass(frozen=True)
class SlaDue:
    """The due times of a case opened at ``opened_at``."""

    acknowledge_by: datetime
    resolve_by: datetime

    def to_dict(self) -> dict[str, Any]:
        return {"acknowledge_by": self.acknowledge_by.isoformat(), "resolve_by": self.resolve_by.isoformat()}


@dataclass(frozen=True)
class SlaTimer:
    """One SLA timer (acknowledge or resolve) as seen at ``now``.

    ``state`` is ``met`` (done by the due time), ``breached`` (done late, or not done and past due),
    ``at_risk`` (not done, less than the policy's at-risk fraction of its business time left) or
    ``on_track``. ``remaining`` is the business time from ``now`` to the due time (negative when
    overdue); ``None`` once done. ``used`` is the business time from opening to done (or ``now``).
    """

    name: str
    due_at: datetime
    done_at: datetime | None
    breached: bool
    at_risk: bool
    remaining: timedelta | None
    used: timedelta

    @property
    def done(self) -> bool:
        return self.done_at is not None

    @property
    def state(self) -> str:
        if self.breached:
            return "breached"
        if self.done:
            return "met"
        return "at_risk" if self.at_risk else "on_track"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "due_at": self.due_at.isoformat(),
            "done_at": None if self.done_at is None else self.done_at.isoformat(),
            "state": self.state,
            "breached": self.breached,
            "at_risk": self.at_risk,
            "remaining_seconds": None if self.remaining is None else self.remaining.total_seconds(),
            "used_seconds": self.used.total_seconds(),
        }


@dataclass(frozen=True)
class SlaStatus:
    """Both timers of a case at ``now``."""

    acknowledge: SlaTimer
    resolve: SlaTimer

    @property
    def breached(self) -> bool:
        return self.acknowledge.breached or self.resolve.breached

    @property
    def at_risk(self) -> bool:
        return self.acknowledge.at_risk or self.resolve.at_risk

    def to_dict(self) -> dict[str, Any]:
        return {"acknowledge": self.acknowledge.to_dict(), "resolve": self.resolve.to_dict(),
                "breached": self.breached, "at_risk": self.at_risk}


@dataclass(frozen=True)
class SlaPolicy:
    """Acknowledge within ``acknowledge`` and resolve within ``resolve`` business time of ``calendar``.

    A timer is *at risk* when it is not done, not yet breached and less than ``at_risk_fraction``
    of its business time remains.
    """

    acknowledge: timedelta
    resolve: timedelta
    calendar: BusinessCalendar = field(default_factory=BusinessCalendar.always)
    at_risk_fraction: float = 0.25

    def __post_init__(self) -> None:
        for name in ("acknowledge", "resolve"):
            value = getattr(self, name)
            if not isinstance(value, timedelta) or value <= _ZERO:
                raise CxlensInputError(f"SLA '{name}' must be a positive duration of business time. "
                                       f"Got {value!r} instead.")
        if not 0 <= self.at_risk_fraction < 1:
            raise CxlensInputError(f"SLA 'at_risk_fraction' must be from 0 up to (not including) 1. "
                                   f"Got {self.at_risk_fraction!r} instead.")

    def due_times(self, opened_at: datetime) -> SlaDue:
        """When the case must be acknowledged and resolved."""
        return SlaDue(self.calendar.add(opened_at, self.acknowledge), self.calendar.add(opened_at, self.resolve))

    def status(self, opened_at: datetime, acknowledged_at: datetime | None, resolved_at: datetime | None,
               now: datetime) -> SlaStatus:
        """Both timers as seen at ``now`` (a timer done after ``now`` counts as not yet done)."""
        due = self.due_times(opened_at)
        return SlaStatus(
            acknowledge=self._timer("acknowledge", opened_at, due.acknowledge_by, self.acknowledge,
                                    acknowledged_at, now),
            resolve=self._timer("resolve", opened_at, due.resolve_by, self.resolve, resolved_at, now),
        )

    def _timer(self, name: str, opened_at: datetime, due_at: datetime, budget: timedelta,
               done_at: datetime | None, now: datetime) -> SlaTimer:
        now_utc = _utc(now, "now")
        if done_at is not None and _utc(done_at, f"{name}d_at") > now_utc:
            done_at = None
        end = now if done_at is None else done_at
        used = max(_ZERO, self.calendar.elapsed(opened_at, end))
        if done_at is not None:
            return SlaTimer(name, due_at, done_at, done_at > due_at, False, None, used)
        remaining = self.calendar.elapsed(now, due_at)
        breached = now_utc > due_at
        at_risk = not breached and remaining < budget * self.at_risk_fraction
        return SlaTimer(name, due_at, None, breached, at_risk, remaining, used)
