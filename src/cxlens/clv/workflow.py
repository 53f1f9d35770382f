"""Customer lifetime value from the warehouse: fit, save, predict.

``fit_clv`` summarises ``orders`` (:mod:`cxlens.clv.rfm`), fits the BG/NBD purchase model and,
when there are repeat buyers with positive spend, the Gamma-Gamma spend model. ``predict_clv``
gives, per customer, the probability of being alive, the expected purchases over a horizon and
the expected value (expected purchases × expected spend per purchase, undiscounted).
``simple_clv_table`` gives the simple formula, average order value × orders per year × expected
years, overall or per group.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import pandas as pd

from cxlens.clv.bgnbd import BetaGeoModel
from cxlens.clv.gammagamma import GammaGammaModel
from cxlens.clv.rfm import RfmSummary, rfm_summary, unit_days
from cxlens.clv.simple import simple_clv
from cxlens.errors import CxlensInputError, WorkspaceError

MODELS = ("bgnbd",)


@dataclass(frozen=True)
class ClvFit:
    """A fitted CLV model: parameters, fit quality and the calibration it was fitted on."""

    model: str
    unit: str
    until: date
    params: dict[str, float]
    log_likelihood: float
    customers: int
    repeat_customers: int
    spend_params: dict[str, float] | None
    spend_log_likelihood: float | None
    fitted_at: datetime

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["until"] = self.until.isoformat()
        out["fitted_at"] = self.fitted_at.isoformat()
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ClvFit:
        return cls(**{**data, "until": date.fromisoformat(data["until"]),
                      "fitted_at": datetime.fromisoformat(data["fitted_at"])})


def fit_clv(orders: ibis.Table, *, until: date, unit: str = "week", model: str = "bgnbd",
            now: datetime) -> ClvFit:
    """Fit BG/NBD (and Gamma-Gamma when possible) on orders up to ``until`` inclusive."""
    if model not in MODELS:
        raise CxlensInputError(f"The 'model' parameter must be one of {', '.join(MODELS)}. Got {model!r} instead.")
    summary = rfm_summary(orders, until=until, unit=unit)
    purchases = BetaGeoModel().fit(summary.frequency, summary.recency, summary.T)
    spend = _fit_spend(summary)
    return ClvFit(
        model=model, unit=unit, until=summary.until, params=dict(purchases.params_),
        log_likelihood=purchases.log_likelihood_, customers=len(summary),
        repeat_customers=int((summary.frequency > 0).sum()),
        spend_params=None if spend is None else dict(spend.params_),
        spend_log_likelihood=None if spend is None else spend.log_likelihood_,
        fitted_at=now,
    )


def _fit_spend(summary: RfmSummary) -> GammaGammaModel | None:
    keep = (summary.frequency > 0) & (summary.monetary_value > 0)
    if keep.sum() < 10:
        return None
    return GammaGammaModel().fit(summary.frequency[keep], summary.monetary_value[keep])


def restore(fit: ClvFit) -> tuple[BetaGeoModel, GammaGammaModel | None]:
    """The fitted models of a saved :class:`ClvFit`."""
    purchases = BetaGeoModel()
    purchases.params_ = dict(fit.params)
    purchases.log_likelihood_ = fit.log_likelihood
    purchases.n_customers_ = fit.customers
    spend = None
    if fit.spend_params is not None:
        spend = GammaGammaModel()
        spend.params_ = dict(fit.spend_params)
        spend.log_likelihood_ = fit.spend_log_likelihood or 0.0
        spend.n_customers_ = fit.repeat_customers
    return purchases, spend


_HORIZON = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([dwmy]?)\s*$")
_HORIZON_DAYS = {"d": 1.0, "w": 7.0, "m": 365.25 / 12, "y": 365.25}


def parse_horizon(text: str | float, unit: str) -> float:
    """A horizon such as '52w', '90d', '12m', '1y' (or a bare number of ``unit``s) in ``unit``s."""
    if isinstance(text, (int, float)):
        return float(text)
    m = _HORIZON.match(text)
    if m is None:
        raise CxlensInputError(
            f"The 'horizon' must be a number with an optional unit d, w, m or y (e.g. 52w, 12m). "
            f"Got {text!r} instead."
        )
    value, suffix = float(m.group(1)), m.group(2)
    return value if not suffix else value * _HORIZON_DAYS[suffix] / unit_days(unit)


@dataclass(frozen=True)
class ClvPrediction:
    horizon: float
    unit: str
    table: pd.DataFrame

    @property
    def total_expected_value(self) -> float:
        return float(self.table["expected_value"].sum())

    def to_pandas(self) -> pd.DataFrame:
        return self.table.copy()

    def to_records(self) -> list[dict[str, Any]]:
        return self.table.round(6).to_dict("records")


def predict_clv(orders: ibis.Table, fit: ClvFit, *, horizon: str | float) -> ClvPrediction:
    """Per-customer predictions over ``horizon`` from the calibration end of ``fit``."""
    h = parse_horizon(horizon, fit.unit)
    summary = rfm_summary(orders, until=fit.until, unit=fit.unit)
    purchases, spend = restore(fit)
    x, tx, T = summary.frequency, summary.recency, summary.T
    expected = np.atleast_1d(purchases.expected_purchases(h, x, tx, T))
    avg = (np.atleast_1d(spend.conditional_expected_average_profit(x, summary.monetary_value))
           if spend is not None else np.full(len(x), np.nan))
    table = summary.to_pandas().assign(
        probability_alive=np.atleast_1d(purchases.probability_alive(x, tx, T)),
        expected_purchases=expected,
        expected_spend_per_purchase=avg,
        expected_value=expected * avg,
    ).sort_values("expected_value", ascending=False, na_position="last").reset_index(drop=True)
    return ClvPrediction(h, fit.unit, table)


def simple_clv_table(orders: ibis.Table, customers: ibis.Table, *, until: date, expected_years: float,
                     by: str | None = None) -> pd.DataFrame:
    """Simple CLV = average order value × orders per customer per year × expected years.

    Measured over the year up to ``until``: average order value = revenue ÷ orders; orders per
    year = orders ÷ customers who ordered in that year.
    """
    end = datetime.combine(until + timedelta(days=1), datetime.min.time())
    o = orders.filter((orders.ordered_at >= end - timedelta(days=365)) & (orders.ordered_at < end))
    if by is not None:
        if by not in customers.columns:
            raise CxlensInputError(f"Unknown customer column '{by}'. Columns: {', '.join(customers.columns)}.")
        c = customers.select("customer_id", by)
        o = o.left_join(c, o.customer_id == c.customer_id).select(*o.columns, by)
    keys = [by] if by else []
    agg = {"orders": o.count(), "revenue": o.amount.sum(), "customers": o.customer_id.nunique()}
    df = (o.group_by(keys).aggregate(**agg) if keys else o.aggregate(**agg)).to_pandas()
    df = df[df["orders"] > 0]
    df["average_order_value"] = df["revenue"] / df["orders"]
    df["orders_per_year"] = df["orders"] / df["customers"]
    df["expected_years"] = expected_years
    df["clv"] = [simple_clv(a, f, expected_years) for a, f in zip(df["average_order_value"], df["orders_per_year"])]
    return df.reset_index(drop=True)


def save_fit(root: Path, fit: ClvFit) -> Path:
    folder = root / "models"
    folder.mkdir(exist_ok=True)
    path = folder / "clv.json"
    tmp = path.with_suffix(".json.partial")
    tmp.write_text(json.dumps(fit.to_dict(), indent=2), encoding="utf-8")
    tmp.replace(path)
    return path


def load_fit(root: Path) -> ClvFit:
    path = root / "models" / "clv.json"
    if not path.exists():
        raise WorkspaceError(
            "No CLV model has been fitted in this workspace yet. Run: cxlens clv fit --model bgnbd"
        )
    return ClvFit.from_dict(json.loads(path.read_text(encoding="utf-8")))
