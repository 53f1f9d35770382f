"""Business calendars: which hours of which days count as working time.

A :class:`BusinessCalendar` says which weekdays are business days, the daily opening hours, the
time zone those hours are in and the holidays (local dates). :func:`business_hours_between`
measures, for many intervals at once, how many business hours lie between a start and an end.

Timestamps without a time zone are UTC (the data model's convention); they are converted to the
calendar's zone and measured on the local wall clock. The opening hours are a single window per
day (``start`` before ``end``, no overnight shifts); ``end`` may be the end of the day
(``"24:00"`` in settings, ``time.max`` here) for round-the-clock desks.

Workspace settings (read with ``settings.get``, defaults when absent):

========================  =========================  ==========================================
setting                   example                    meaning
========================  =========================  ==========================================
``business_days``         ``"mon-fri"``              days, as names or ranges (``"sun-thu"``,
                                                     ``"mon,wed-fri"``) or a list of names
``business_hours``        ``"09:00-17:00"``          opening hours, local time
``business_timezone``     ``"Europe/Berlin"``        IANA zone of the opening hours
``business_holidays``     ``"2024-12-25,2024-12-26"`` closed dates (local), or a list of dates
========================  =========================  ==========================================
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

import numpy as np
import pandas as pd

from cxlens.errors import CxlensInputError

__all__ = ["DAY_NAMES", "BusinessCalendar", "business_hours_between", "parse_days", "parse_hours"]

#: Day names in Python's weekday order (Monday is 0).
DAY_NAMES: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_US_PER_DAY = 86_400_000_000
_US_PER_HOUR = 3_600_000_000


def _time_us(t: time, *, is_end: bool = False) -> int:
    """Microseconds since midnight; ``time.max`` as an end means the end of the day (24:00)."""
    if is_end and t == time.max:
        return _US_PER_DAY
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 1_000_000 + t.microsecond


def _fmt_time(t: time, *, is_end: bool = False) -> str:
    if is_end and t == time.max:
        return "24:00"
    return t.strftime("%H:%M") if t.second == 0 and t.microsecond == 0 else t.isoformat()


@dataclass(frozen=True)
class BusinessCalendar:
    """Business days, daily opening hours, their time zone and holidays.

    ``days`` are weekday numbers (Monday 0 … Sunday 6); ``start``/``end`` the local opening and
    closing times (``start < end``; ``end = time.max`` means midnight at the end of the day);
    ``timezone`` an IANA zone name; ``holidays`` local dates (``date`` objects or ISO strings)
    that are closed even on a business day. Invalid values raise :class:`CxlensInputError`.
    """

    days: tuple[int, ...] = (0, 1, 2, 3, 4)
    start: time = time(9)
    end: time = time(17)
    timezone: str = "UTC"
    holidays: tuple[date, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "days", _check_days(self.days))
        for name in ("start", "end"):
            value = getattr(self, name)
            if not isinstance(value, time) or value.tzinfo is not None:
                raise CxlensInputError(
                    f"The business calendar's '{name}' must be a time of day without a time zone "
                    f"(e.g. time(9, 0)). Got {value!r} instead; set the zone with 'timezone'."
                )
        if _time_us(self.start) >= _time_us(self.end, is_end=True):
            raise CxlensInputError(
                f"The business calendar's opening hours must start before they end. Got start "
                f"{_fmt_time(self.start)} and end {_fmt_time(self.end, is_end=True)}; overnight "
                "windows are not supported (use 00:00-24:00 for round-the-clock hours)."
            )
        _zone(self.timezone)
        object.__setattr__(self, "holidays", _check_holidays(self.holidays))

    # ------------------------------------------------------------------ derived

    @property
    def hours_per_day(self) -> float:
        """Business hours in one full business day."""
        return (_time_us(self.end, is_end=True) - _time_us(self.start)) / _US_PER_HOUR

    @property
    def weekmask(self) -> str:
        """The numpy weekmask ("1111100" for Monday to Friday)."""
        return "".join("1" if d in self.days else "0" for d in range(7))

    def busdaycalendar(self) -> np.busdaycalendar:
        return np.busdaycalendar(
            weekmask=self.weekmask, holidays=np.array(self.holidays, dtype="datetime64[D]")
        )

    def describe(self) -> str:
        """A short human description, e.g. ``"mon-fri 09:00-17:00 UTC"``."""
        text = (f"{_days_text(self.days)} {_fmt_time(self.start)}-{_fmt_time(self.end, is_end=True)} "
                f"{self.timezone}")
        if self.holidays:
            text += f", {len(self.holidays)} holiday(s)"
        return text

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> BusinessCalendar:
        """The calendar of the workspace settings ``business_days``, ``business_hours``,
        ``business_timezone`` and ``business_holidays``; defaults for those absent or empty."""
        default = cls()
        days = settings.get("business_days")
        hours = settings.get("business_hours")
        zone = settings.get("business_timezone")
        holidays = settings.get("business_holidays")
        start, end = parse_hours(hours) if _given(hours) else (default.start, default.end)
        return cls(
            days=parse_days(days) if _given(days) else default.days,
            start=start,
            end=end,
            timezone=str(zone) if _given(zone) else default.timezone,
            holidays=_split_holidays(holidays) if _given(holidays) else (),
        )


def _given(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _check_days(days: Any) -> tuple[int, ...]:
    try:
        values = list(days)
    except TypeError:
        values = None
    ok = values is not None and all(
        isinstance(d, (int, np.integer)) and not isinstance(d, bool) and 0 <= int(d) <= 6 for d in values
    )
    if not ok or not values:
        raise CxlensInputError(
            "The business calendar's 'days' must be a non-empty collection of weekday numbers "
            f"from 0 (Monday) to 6 (Sunday). Got {days!r} instead, e.g. use (0, 1, 2, 3, 4)."
        )
    return tuple(sorted({int(d) for d in values}))


def _zone(name: Any) -> zoneinfo.ZoneInfo:
    if not isinstance(name, str) or not name.strip():
        raise CxlensInputError(
            f"The business calendar's 'timezone' must be an IANA zone name such as 'UTC' or "
            f"'Europe/Berlin'. Got {name!r} instead."
        )
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise CxlensInputError(
            f"Unknown time zone {name!r} for the business calendar. Use an IANA zone name such as "
            "'UTC', 'Europe/Berlin' or 'America/New_York'."
        ) from None


def _check_holidays(holidays: Any) -> tuple[date, ...]:
    if isinstance(holidays, (str, date)):
        holidays = (holidays,)
    out = set()
    for h in holidays:
        if isinstance(h, datetime):
            raise CxlensInputError(
                f"The business calendar's holidays must be dates, not times. Got {h!r}; pass "
                f"{h.date().isoformat()!r} instead."
            )
        if isinstance(h, date):
            out.add(h)
            continue
        try:
            out.add(date.fromisoformat(str(h).strip()))
        except ValueError:
            raise CxlensInputError(
                f"The business calendar's holidays must be ISO dates such as 2024-12-25. Got {h!r} instead."
            ) from None
    return tuple(sorted(out))


def _split_holidays(value: Any) -> tuple[date, ...]:
    if isinstance(value, str):
        return _check_holidays(tuple(p for p in value.replace(";", ",").split(",") if p.strip()))
    return _check_holidays(value)


def _day_index(name: str, raw: Any) -> int:
    key = name.strip().lower()[:3]
    if len(name.strip()) < 3 or key not in DAY_NAMES:
        raise CxlensInputError(
            f"The 'business_days' setting must name weekdays such as 'mon-fri' or 'sun-thu' or "
            f"'mon,wed-fri'. Got {raw!r}; {name.strip()!r} is not a day (use mon, tue, wed, thu, "
            "fri, sat, sun)."
        )
    return DAY_NAMES.index(key)


def parse_days(value: str | Iterable[Any]) -> tuple[int, ...]:
    """Weekday numbers from ``"mon-fri"``, ``"sun-thu"`` (ranges wrap), ``"mon,wed-fri"`` or a list
    of day names or numbers."""
    parts: list[Any] = value.split(",") if isinstance(value, str) else list(value)
    days: set[int] = set()
    for part in parts:
        if isinstance(part, (int, np.integer)) and not isinstance(part, bool):
            days.update(_check_days([part]))
            continue
        text = str(part)
        if "-" in text:
            first, _, last = text.partition("-")
            a, b = _day_index(first, value), _day_index(last, value)
            days.update((a + i) % 7 for i in range((b - a) % 7 + 1))
        elif text.strip():
            days.add(_day_index(text, value))
    if not days:
        raise CxlensInputError(
            f"The 'business_days' setting must name at least one weekday, e.g. 'mon-fri'. Got {value!r} instead."
        )
    return tuple(sorted(days))


def _parse_clock(text: str, raw: Any) -> time:
    t = text.strip()
    if t in {"24", "24:00"}:
        return time.max
    try:
        if ":" not in t:
            return time(int(t))
        hh, mm = t.split(":", 1)
        return time(int(hh), int(mm))
    except ValueError:
        raise CxlensInputError(
            f"The 'business_hours' setting must look like '09:00-17:00' (local opening and closing "
            f"time, 24-hour clock). Got {raw!r} instead."
        ) from None


def parse_hours(value: str) -> tuple[time, time]:
    """``(start, end)`` from ``"09:00-17:00"`` (``"24:00"`` as the end means the end of the day)."""
    text = str(value)
    if text.count("-") != 1:
        raise CxlensInputError(
            f"The 'business_hours' setting must look like '09:00-17:00' (local opening and closing "
            f"time, 24-hour clock). Got {value!r} instead."
        )
    first, last = text.split("-")
    start, end = _parse_clock(first, value), _parse_clock(last, value)
    if start == time.max:
        raise CxlensInputError(
            f"The 'business_hours' setting cannot open at 24:00. Got {value!r}; use 00:00 instead."
        )
    return start, end


def _days_text(days: tuple[int, ...]) -> str:
    runs: list[list[int]] = []
    for d in days:
        if runs and d == runs[-1][-1] + 1:
            runs[-1].append(d)
        else:
            runs.append([d])
    if len(runs) > 1 and runs[0][0] == 0 and runs[-1][-1] == 6:  # a range across Sunday: sun-thu
        runs = [runs[-1] + runs[0], *runs[1:-1]]
    return ",".join(DAY_NAMES[r[0]] if len(r) == 1 else f"{DAY_NAMES[r[0]]}-{DAY_NAMES[r[-1]]}" for r in runs)


# --------------------------------------------------------------------------------------------------
# Business hours between two timestamps
# --------------------------------------------------------------------------------------------------


def _local_wall_clock(values: Any, zone: zoneinfo.ZoneInfo, name: str) -> np.ndarray:
    """``values`` as naive local wall-clock ``datetime64[us]`` in ``zone`` (naive input is UTC)."""
    if not isinstance(values, (pd.Series, pd.Index, np.ndarray)):
        values = np.asarray(list(values), dtype=object)
    try:
        idx = pd.DatetimeIndex(pd.to_datetime(np.ravel(values), utc=True, format="ISO8601"))
    except (TypeError, ValueError) as exc:
        raise CxlensInputError(
            f"The '{name}' parameter must hold timestamps (datetime64, pandas or datetime values, "
            f"or ISO 8601 text). Got values that cannot be read as times: {exc}."
        ) from None
    local = idx.tz_convert(zone).tz_localize(None)
    return local.to_numpy().astype("datetime64[us]")


def business_hours_between(starts: Any, ends: Any, calendar: BusinessCalendar) -> np.ndarray:
    """Business hours from each start to its end, as a float array (NaN where either is missing).

    For one interval [s, e) on local wall-clock times, with ``open``/``close`` the daily hours and
    ``clip(t) = min(max(time_of_day(t), open), close)``:

    - same day: ``busday(s) * (clip(e) - clip(s))``;
    - otherwise: ``busday(s) * (close - clip(s)) + busday_count(day(s) + 1, day(e)) * (close - open)
      + busday(e) * (clip(e) - open)``,

    where ``busday`` and ``busday_count`` (numpy's, with the calendar's weekmask and holidays) say
    whether a day is a business day and count the business days in a half-open range of days.
    All arithmetic is vectorised over the arrays. An end before its start is an error.
    """
    zone = _zone(calendar.timezone)
    s = _local_wall_clock(starts, zone, "starts")
    e = _local_wall_clock(ends, zone, "ends")
    if s.shape != e.shape:
        raise CxlensInputError(
            f"The 'starts' and 'ends' parameters must have the same length. Got {s.size} starts and "
            f"{e.size} ends."
        )
    missing = np.isnat(s) | np.isnat(e)
    filler = np.datetime64("2000-01-01T00:00:00", "us")
    s = np.where(missing, filler, s)
    e = np.where(missing, filler, e)
    backwards = e < s
    if backwards.any():
        i = int(np.flatnonzero(backwards)[0])
        raise CxlensInputError(
            f"Each end must not be before its start. At position {i} the end {e[i]} is before the "
            f"start {s[i]} (local time in {calendar.timezone})."
        )
    open_us, close_us = _time_us(calendar.start), _time_us(calendar.end, is_end=True)
    day_s, day_e = s.astype("datetime64[D]"), e.astype("datetime64[D]")
    tod_s = (s - day_s.astype("datetime64[us]")).astype(np.int64)
    tod_e = (e - day_e.astype("datetime64[us]")).astype(np.int64)
    clip_s = np.clip(tod_s, open_us, close_us)
    clip_e = np.clip(tod_e, open_us, close_us)
    cal = calendar.busdaycalendar()
    bus_s = np.is_busday(day_s, busdaycal=cal).astype(np.int64)
    bus_e = np.is_busday(day_e, busdaycal=cal).astype(np.int64)
    same = day_s == day_e
    next_day = day_s + np.timedelta64(1, "D")
    full_days = np.busday_count(next_day, np.maximum(day_e, next_day), busdaycal=cal).astype(np.int64)
    across = bus_s * (close_us - clip_s) + full_days * (close_us - open_us) + bus_e * (clip_e - open_us)
    within = bus_s * (clip_e - clip_s)
    total_us = np.where(same, within, across)
    hours = total_us / _US_PER_HOUR
    return np.where(missing, np.nan, hours).astype(float)
