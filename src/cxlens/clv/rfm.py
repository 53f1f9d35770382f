"""Recency–frequency–monetary summaries of the ``orders`` table, the input of the CLV models.

For each customer with at least one order up to and including the calibration end ``until``:

- purchases on the same calendar day (UTC) are merged into one purchase (amounts summed);
- ``frequency`` = number of purchase days − 1 (repeat purchases);
- ``recency`` = time from the first to the last purchase day, in ``unit``s;
- ``T`` = time from the first purchase day to ``until``, in ``unit``s;
- ``monetary_value`` = mean amount of the repeat purchase days (0 without repeats), as in
  Fader, Hardie & Lee (2005) and the ``lifetimes`` package.

Orders whose ``status`` is ``cancelled`` or ``refunded`` are left out. The per-customer aggregation
runs in the warehouse (one Ibis expression); only one row per customer is fetched.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import ibis
import numpy as np
import pandas as pd

from cxlens.errors import CxlensInputError

UNITS = {"day": 1.0, "week": 7.0, "month": 365.25 / 12, "year": 365.25}
EXCLUDED_STATUSES = ("cancelled", "canceled", "refunded")


@dataclass(frozen=True)
class RfmSummary:
    customer_id: np.ndarray
    frequency: np.ndarray
    recency: np.ndarray
    T: np.ndarray
    monetary_value: np.ndarray
    until: date
    unit: str

    def to_pandas(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "customer_id": self.customer_id,
                "frequency": self.frequency,
                "recency": self.recency,
                "T": self.T,
                "monetary_value": self.monetary_value,
            }
        )

    def __len__(self) -> int:
        return len(self.customer_id)


def unit_days(unit: str) -> float:
    try:
        return UNITS[unit]
    except KeyError:
        raise CxlensInputError(
            f"The 'unit' parameter must be one of {', '.join(UNITS)}. Got {unit!r} instead."
        ) from None


def rfm_summary(orders: ibis.Table, *, until: date | datetime, unit: str = "week") -> RfmSummary:
    """Summarise ``orders`` per customer up to ``until`` (inclusive); see the module docstring."""
    days_per_unit = unit_days(unit)
    end = until.date() if isinstance(until, datetime) else until
    o = orders.filter(orders.ordered_at < datetime.combine(end + timedelta(days=1), datetime.min.time()))
    o = o.filter(o.status.isnull() | ~o.status.lower().isin(list(EXCLUDED_STATUSES)))
    daily = o.group_by(customer_id=o.customer_id, day=o.ordered_at.date()).aggregate(amount=o.amount.sum())
    per = daily.group_by("customer_id").aggregate(
        first=daily.day.min(),
        last=daily.day.max(),
        days=daily.count(),
        total=daily.amount.sum(),
        first_amount=daily.amount.argmin(daily.day),
    )
    df = per.to_pandas()
    if df.empty:
        raise CxlensInputError(
            f"There are no orders up to {end.isoformat()}, so no customer lifetime value can be "
            f"estimated. Import orders first (cxlens import orders FILE) or choose a later 'until'."
        )
    return _summary(df, end, unit, days_per_unit)


def _summary(df: pd.DataFrame, end: date, unit: str, days_per_unit: float) -> RfmSummary:
    first = pd.to_datetime(df["first"])
    last = pd.to_datetime(df["last"])
    frequency = df["days"].to_numpy(dtype=float) - 1
    repeat_total = df["total"].to_numpy(dtype=float) - df["first_amount"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        monetary = np.where(frequency > 0, repeat_total / np.maximum(frequency, 1), 0.0)
    return RfmSummary(
        customer_id=df["customer_id"].to_numpy(dtype=object),
        frequency=frequency,
        recency=((last - first).dt.days.to_numpy(dtype=float)) / days_per_unit,
        T=((pd.Timestamp(end) - first).dt.days.to_numpy(dtype=float)) / days_per_unit,
        monetary_value=monetary,
        until=end,
        unit=unit,
    )
