"""Periods: one definition of grains, date ranges and comparisons, with ``now`` explicit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

import ibis
import pandas as pd

from cxlens.errors import CxlensInputError


class Grain(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"

    @classmethod
    def parse(cls, value: str | Grain | None) -> Grain | None:
        if value is None or isinstance(value, Grain):
            return value
        try:
            return cls(value)
        except ValueError:
            raise CxlensInputError(
                f"The 'grain' parameter must be one of {', '.join(g.value for g in cls)}. "
                f"Got {value!r} instead."
            ) from None

    @property
    def offset(self) -> pd.DateOffset:
        return {
            Grain.DAY: pd.DateOffset(days=1), Grain.WEEK: pd.DateOffset(weeks=1),
            Grain.MONTH: pd.DateOffset(months=1), Grain.QUARTER: pd.DateOffset(months=3),
            Grain.YEAR: pd.DateOffset(years=1),
        }[self]


_UNITS = {Grain.DAY: "D", Grain.WEEK: "W", Grain.MONTH: "M", Grain.QUARTER: "Q", Grain.YEAR: "Y"}


def truncate(ts: ibis.Value, grain: Grain, week_start: str = "monday") -> ibis.Value:
    """The start of the period containing ``ts`` (weeks start on ``week_start``)."""
    if grain is Grain.WEEK and week_start == "sunday":
        shifted = ts + ibis.interval(days=1)
        return (shifted.truncate("W") - ibis.interval(days=1)).cast("date")
    return ts.truncate(_UNITS[grain]).cast("date")


def period_start(ts: datetime, grain: Grain, week_start: str = "monday") -> date:
    """The first day of the period containing ``ts``: the Python twin of :func:`truncate`."""
    d = ts.date()
    if grain is Grain.DAY:
        return d
    if grain is Grain.WEEK:
        back = (d.weekday() + 1) % 7 if week_start == "sunday" else d.weekday()
        return d - timedelta(days=back)
    if grain is Grain.MONTH:
        return d.replace(day=1)
    if grain is Grain.QUARTER:
        return d.replace(month=3 * ((d.month - 1) // 3) + 1, day=1)
    return d.replace(month=1, day=1)


class Compare(StrEnum):
    PREVIOUS = "previous"
    YEAR = "year"

    @classmethod
    def parse(cls, value: str | Compare | None) -> Compare | None:
        if value is None or isinstance(value, Compare):
            return value
        try:
            return cls(value)
        except ValueError:
            raise CxlensInputError(
                f"The 'compare' parameter must be 'previous' or 'year'. Got {value!r} instead."
            ) from None


@dataclass(frozen=True)
class DateRange:
    """A half-open range [start, end) in UTC; ``None`` means unbounded."""

    start: datetime | None
    end: datetime | None

    @classmethod
    def from_dates(cls, since: date | datetime | str | None, until: date | datetime | str | None,
                   now: datetime) -> DateRange:
        """``since`` and ``until`` are inclusive days (a bare date covers the whole day);
        ``until`` defaults to ``now``."""
        start = _parse(since, "since")
        end = _end(_parse(until, "until"), until) if until is not None else _naive(now)
        if start is not None and end is not None and end <= start:
            raise CxlensInputError(
                f"The date range is empty or reversed: since {since} is not before until "
                f"{until or now.date()}. Give a 'since' earlier than 'until'."
            )
        return cls(start, end)

    def shifted(self, compare: Compare) -> DateRange:
        """The comparison range: the equally long range before, or the same range a year earlier."""
        if self.start is None or self.end is None:
            raise CxlensInputError(
                "A comparison needs a bounded date range: pass since (and until) so that the "
                "previous period is defined."
            )
        if compare is Compare.YEAR:
            return DateRange(_minus_year(self.start), _minus_year(self.end))
        length = self.end - self.start
        return DateRange(self.start - length, self.start)

    def filter(self, ts: ibis.Value) -> ibis.Value | None:
        conds = []
        if self.start is not None:
            conds.append(ts >= self.start)
        if self.end is not None:
            conds.append(ts < self.end)
        if not conds:
            return None
        return conds[0] if len(conds) == 1 else conds[0] & conds[1]


def _naive(ts: datetime) -> datetime:
    return ts.astimezone(UTC).replace(tzinfo=None) if ts.tzinfo is not None else ts


def _parse(value: date | datetime | str | None, name: str) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return _naive(value)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    try:
        return _naive(datetime.fromisoformat(value))
    except ValueError:
        raise CxlensInputError(
            f"The '{name}' parameter must be an ISO date such as 2024-05-31. Got {value!r} instead."
        ) from None


def _end(parsed: datetime | None, raw: object) -> datetime | None:
    """An 'until' given as a bare date includes that whole day."""
    if parsed is None:
        return None
    is_bare_date = (isinstance(raw, date) and not isinstance(raw, datetime)) or (
        isinstance(raw, str) and len(raw.strip()) == 10
    )
    return parsed + timedelta(days=1) if is_bare_date else parsed


def _minus_year(ts: datetime) -> datetime:
    return (pd.Timestamp(ts) - pd.DateOffset(years=1)).to_pydatetime()


def previous_period(period: date, grain: Grain, compare: Compare) -> date:
    """The period a grain row is compared with."""
    step = grain.offset if compare is Compare.PREVIOUS else pd.DateOffset(years=1)
    if compare is Compare.YEAR and grain is Grain.WEEK:
        step = pd.DateOffset(weeks=52)
    return (pd.Timestamp(period) - step).date()
