"""CLV end to end: CDNOW transactions imported as orders, fitted from the warehouse."""

from __future__ import annotations

import os
from datetime import date

import pandas as pd
import pytest

import cxlens
from conftest import NOW
from cxlens.clv.workflow import parse_horizon
from cxlens.errors import CxlensInputError, WorkspaceError


def cdnow_orders() -> pd.DataFrame:
    import lifetimes

    path = os.path.join(os.path.dirname(lifetimes.__file__), "datasets", "CDNOW_sample.txt")
    raw = pd.read_csv(path, sep=r"\s+", header=None, names=["cid", "cid2", "date", "qty", "amount"],
                      dtype={"cid": str, "date": str})
    return pd.DataFrame({
        "order_id": [f"O{i}" for i in range(len(raw))], "customer_id": raw.cid,
        "ordered_at": pd.to_datetime(raw.date, format="%Y%m%d"), "amount": raw.amount,
    })


@pytest.fixture(scope="module")
def cdnow(tmp_path_factory: pytest.TempPathFactory) -> cxlens.Workspace:
    ws = cxlens.init(tmp_path_factory.mktemp("cdnow") / "ws")
    report = ws.import_data("orders", cdnow_orders(), now=NOW)
    assert report.accepted == 6919
    return ws


def test_bgnbd_and_gamma_gamma_match_the_papers(cdnow: cxlens.Workspace) -> None:
    fit = cdnow.clv_fit(until="1997-09-30", unit="week", now=NOW)
    assert (fit.customers, fit.repeat_customers) == (2357, 946)
    published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    for name, value in published.items():
        assert fit.params[name] == pytest.approx(value, rel=0.005), name
    assert fit.log_likelihood == pytest.approx(-9582.4, abs=0.5)
    assert fit.spend_params is not None
    for name, value in {"p": 6.25, "q": 3.74, "v": 15.44}.items():
        assert fit.spend_params[name] == pytest.approx(value, rel=0.01), name


def test_predictions_match_lifetimes(cdnow: cxlens.Workspace) -> None:
    from lifetimes import BetaGeoFitter
    from lifetimes.utils import summary_data_from_transaction_data

    cdnow.clv_fit(until="1997-09-30", unit="week", now=NOW)
    pred = cdnow.clv_predict(horizon="39w").to_pandas().set_index("customer_id")
    tx = cdnow_orders()
    summary = summary_data_from_transaction_data(tx, "customer_id", "ordered_at", observation_period_end="1997-09-30",
                                                 freq="D")
    summary[["recency", "T"]] /= 7
    assert len(summary) == len(pred)
    joined = summary.join(pred, rsuffix="_ours")
    assert (joined.frequency == joined.frequency_ours).all()
    assert (joined.recency - joined.recency_ours).abs().max() < 1e-9
    bgf = BetaGeoFitter().fit(summary.frequency, summary.recency, summary["T"])
    theirs = bgf.conditional_expected_number_of_purchases_up_to_time(39, joined.frequency, joined.recency, joined["T"])
    assert ((joined.expected_purchases - theirs).abs() / theirs).max() < 2e-3  # two independent fits


def test_simple_clv(cdnow: cxlens.Workspace) -> None:
    (row,) = cdnow.clv_simple(until="1997-09-30", expected_years=3).to_dict("records")
    orders = cdnow_orders()
    year = orders[(orders.ordered_at >= "1996-09-30") & (orders.ordered_at < "1997-10-01")]
    aov = year.amount.sum() / len(year)
    per_year = len(year) / year.customer_id.nunique()
    assert row["clv"] == pytest.approx(aov * per_year * 3)


def test_clv_without_orders_and_without_fit(ws: cxlens.Workspace) -> None:
    with pytest.raises(CxlensInputError, match="no orders up to 2024-01-01.*cxlens import orders"):
        ws.clv_fit(until=date(2024, 1, 1), now=NOW)
    with pytest.raises(WorkspaceError, match="cxlens clv fit"):
        ws.clv_predict()


def test_horizon_parsing() -> None:
    assert parse_horizon("52w", "week") == 52
    assert parse_horizon("14d", "week") == 2
    assert parse_horizon("1y", "day") == 365.25
    with pytest.raises(CxlensInputError, match="e.g. 52w"):
        parse_horizon("soon", "week")
