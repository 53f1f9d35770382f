"""The demo company's planted effects are visible through cxlens's own metrics.

The demo generator records what it planted (``demo/truths.json``); these tests load a demo
workspace through the import pipeline and check that the metrics engine finds each effect.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import cxlens
from cxlens.demo_loader import load_demo

NOW = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[cxlens.Workspace, dict[str, Any]]:
    ws = cxlens.init(tmp_path_factory.mktemp("demo") / "ws")
    result = load_demo(ws, customers=6000, seed=7, now=NOW, chunk_customers=2000)
    assert result.rejected == 0, "the demo company must pass the import validation"
    truths = json.loads(Path(result.truths_path).read_text())
    return ws, truths["planted"]


def by(rows: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    return {r[key]: r for r in rows}


def test_enterprise_recommends_more_than_consumers(demo: tuple[cxlens.Workspace, dict]) -> None:
    ws, planted = demo
    expected = planted["segment_channel"]["expected_relationship_nps_by_segment"]
    rows = by(ws.metric("nps", by="segment", where={"survey_id": "nps-relationship"}, now=NOW).to_records(),
              "segment")
    assert rows["enterprise"]["ci_low"] > rows["consumer"]["ci_high"]
    assert expected["enterprise"] > expected["consumer"]
    for segment, value in expected.items():  # the designed NPS is within 4 standard errors
        half_width = (rows[segment]["ci_high"] - rows[segment]["ci_low"]) / 2
        assert abs(rows[segment]["value"] - value) < 2 * half_width, segment


def test_phone_support_satisfies_less_than_chat(demo: tuple[cxlens.Workspace, dict]) -> None:
    ws, planted = demo
    rows = by(ws.metric("csat", by="channel", where={"survey_id": "csat-support"}, now=NOW).to_records(), "channel")
    assert rows["phone"]["ci_high"] < rows["chat"]["ci_low"]
    assert planted["segment_channel"]["phone_minus_chat_top_box"] < 0


def test_detractors_churn_more(demo: tuple[cxlens.Workspace, dict]) -> None:
    ws, planted = demo
    truth = planted["detractor_churn"]
    window = timedelta(days=truth["window_days"])
    r = ws.table("responses")
    r = r.filter((r.survey_id == truth["survey_id"]) & (r.submitted_at < (NOW - window).replace(tzinfo=None)))
    s = ws.table("subscriptions")
    last_end = s.group_by("customer_id").aggregate(ended_at=s.ended_at.max(), active=s.ended_at.isnull().any())
    j = r.left_join(last_end, r.customer_id == last_end.customer_id)
    churned = (~j.active.fill_null(False)) & (j.ended_at >= j.submitted_at) & (
        j.ended_at < j.submitted_at + window)
    category = (j.nps >= 9).ifelse("promoter", (j.nps <= 6).ifelse("detractor", "passive"))
    df = j.group_by(category=category).aggregate(n=j.count(), churned=churned.cast("int64").sum()).to_pandas()
    rate = {row.category: row.churned / row.n for row in df.itertuples()}
    assert rate["detractor"] > 2 * rate["promoter"]
    assert rate["detractor"] - rate["promoter"] > truth["designed_margin"] / 2


def test_login_issue_emerges_in_the_last_week(demo: tuple[cxlens.Workspace, dict]) -> None:
    ws, planted = demo
    truth = planted["emerging_issue"]
    start = datetime.fromisoformat(truth["start"]).date()
    recent = by(ws.metric("tickets", by="topic", since=start.isoformat(), now=NOW).to_records(), "topic")
    before = by(ws.metric("tickets", by="topic", since="2024-11-01", until=(start - timedelta(days=1)).isoformat(),
                          now=NOW).to_records(), "topic")
    share_recent = recent[truth["ticket_topic"]]["value"] / sum(r["value"] for r in recent.values())
    share_before = before.get(truth["ticket_topic"], {"value": 0})["value"] / sum(r["value"] for r in before.values())
    assert share_recent > 10 * max(share_before, 0.001)


def test_broken_checkout_raises_checkout_tickets(demo: tuple[cxlens.Workspace, dict]) -> None:
    ws, planted = demo
    truth = planted["broken_touchpoint"]
    start, end = (datetime.fromisoformat(truth[k]) for k in ("start", "end"))
    days_inside = (end - start).days

    def per_day(since: datetime, until: datetime) -> float:
        rows = ws.metric("tickets", where={"topic": truth["ticket_topic"]}, since=since.date().isoformat(),
                         until=(until - timedelta(days=1)).date().isoformat(), now=NOW).to_records()
        return rows[0]["value"] / max((until - since).days, 1)

    inside = per_day(start, end)
    outside = per_day(start - timedelta(days=120), start)
    assert inside > 2 * outside and days_inside > 0


def test_clv_models_recover_the_planted_purchase_process(demo: tuple[cxlens.Workspace, dict]) -> None:
    ws, _ = demo
    truths = json.loads((ws.path / "demo" / "truths.json").read_text())["clv"]
    fit = ws.clv_fit(until=NOW.date(), unit="day", now=NOW)
    bgnbd = truths["bgnbd"]
    # Population means are estimated far more precisely than the individual parameters.
    assert fit.params["r"] / fit.params["alpha"] == pytest.approx(bgnbd["r"] / bgnbd["alpha"], rel=0.15)
    designed_dropout = bgnbd["a"] / (bgnbd["a"] + bgnbd["b"])
    assert fit.params["a"] / (fit.params["a"] + fit.params["b"]) == pytest.approx(designed_dropout, rel=0.25)
    gg = truths["gamma_gamma"]
    assert fit.spend_params is not None
    fitted_mean = fit.spend_params["p"] * fit.spend_params["v"] / (fit.spend_params["q"] - 1)
    assert fitted_mean == pytest.approx(gg["p"] * gg["gamma"] / (gg["q"] - 1), rel=0.15)
