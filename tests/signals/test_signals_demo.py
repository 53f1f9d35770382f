"""The demo company's planted incidents are found by the signals (and shown by ``cxlens signals``).

Planted (``cxlens.demo.design``): the web checkout is broken for 21 days from 200 days before now
(70 % of web checkouts fail; 40 % of the failures open a 'checkout' ticket, against 6 % normally);
the login-code theme emerges in the last 7 days. With 6,000 customers the broken checkout leaves
about 4 'checkout' tickets a week against 0.2 normally: a ticket-volume anomaly. Its CES drop is
real but cannot be tested per week here (about 5 web-checkout CES answers a week).

Theme assignments come from the demo's own phrases (every comment clause of a theme contains one of
its match strings in every language); the real theme model will write the same table.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import cxlens
from cxlens.demo.design import THEMES
from cxlens.demo.language import match_terms
from cxlens.demo_loader import load_demo
from cxlens.signals import THEMES_TABLE, detect_signals
from cxlens.signals.cli import signals
from cxlens.text import redact
from cxlens.text.annotate import annotate

NOW = datetime(2026, 11, 1, tzinfo=UTC)
PHRASE_MODEL = "demo-phrases"


def _assign_themes_by_phrase(ws: cxlens.Workspace) -> None:
    con = ws.warehouse.duckdb
    con.execute(f"CREATE TABLE {THEMES_TABLE} (source_table VARCHAR, source_id VARCHAR, theme_id VARCHAR, "
                "theme_label VARCHAR, similarity DOUBLE, model_version VARCHAR)")
    terms = [(t.name, t.label, m) for t in THEMES for ms in match_terms(t.name).values() for m in ms]
    con.execute("CREATE TEMP TABLE _terms (theme_id VARCHAR, theme_label VARCHAR, term VARCHAR)")
    con.executemany("INSERT INTO _terms VALUES (?, ?, ?)", terms)
    con.execute(f"""
        INSERT INTO {THEMES_TABLE}
        SELECT DISTINCT 'responses', response_id, theme_id, theme_label, 1.0, '{PHRASE_MODEL}'
        FROM responses JOIN _terms ON contains(lower(comment), term)
        UNION ALL
        SELECT DISTINCT 'tickets', ticket_id, theme_id, theme_label, 1.0, '{PHRASE_MODEL}'
        FROM tickets JOIN _terms ON contains(lower(concat_ws(' ', subject, description)), term)
    """)
    con.execute("DROP TABLE _terms")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[cxlens.Workspace, dict[str, Any]]:
    ws = cxlens.init(tmp_path_factory.mktemp("signals-demo") / "ws")
    result = load_demo(ws, customers=6000, seed=7, now=NOW, chunk_customers=3000)
    assert result.rejected == 0
    annotate(ws.warehouse, now=NOW)
    _assign_themes_by_phrase(ws)
    truths = json.loads(Path(result.truths_path).read_text())["planted"]
    ws.close()
    return ws, truths


def _window(truths: dict[str, Any]) -> tuple[date, date]:
    b = truths["broken_touchpoint"]
    return datetime.fromisoformat(b["start"]).date(), datetime.fromisoformat(b["end"]).date()


def test_broken_checkout_shows_as_a_checkout_ticket_anomaly(demo: tuple[cxlens.Workspace, dict]) -> None:
    ws, truths = demo
    start, end = _window(truths)
    with cxlens.open(ws.path) as w:
        result = detect_signals(w, kind="anomalies", metrics=["tickets"], grain="week",
                                since=(NOW - timedelta(days=365)).date(), now=NOW, where={"topic": "checkout"})
    (tickets,) = result.anomalies
    points = tickets.series[0].points
    assert len(points) >= 52 and all(p.p_value is not None for p in points)
    flagged = [p for p in points if p.flagged]
    assert flagged, "the broken checkout must raise an anomaly"
    for p in flagged:  # every flagged week overlaps the broken window, and each is a rise
        assert start - timedelta(days=6) <= p.period < end and p.direction == "up"
        assert p.value > p.upper  # type: ignore[operator]
    assert truths["broken_touchpoint"]["ticket_topic"] == "checkout"


def test_login_codes_emerge_in_the_last_week(demo: tuple[cxlens.Workspace, dict]) -> None:
    ws, truths = demo
    with cxlens.open(ws.path) as w:
        result = detect_signals(w, kind="emerging", now=NOW).emerging
    assert result is not None and result.theme_model == PHRASE_MODEL
    first = result.themes[0]
    assert first.theme_id == truths["emerging_issue"]["theme"] == "login_codes"
    assert first.emerging and first.ci_low is not None and first.ci_low > 0.3
    assert first.recent_share > 20 * first.baseline_share  # type: ignore[operator]
    assert len(first.examples) == 3 and all(redact(e).text == e for e in first.examples)
    assert result.recent == (datetime(2026, 10, 25), datetime(2026, 11, 1))


def test_cli_lists_both_signals(demo: tuple[cxlens.Workspace, dict]) -> None:
    ws, truths = demo
    start, end = _window(truths)
    runner = CliRunner()
    args = ["--workspace", str(ws.path), "--now", "2026-11-01T00:00:00", "--metric", "tickets",
            "--where", "topic=checkout", "--grain", "week", "--since", "2025-11-01"]
    out = runner.invoke(signals, [*args, "--format", "json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    weeks = [date.fromisoformat(a["period"]) for a in doc["anomalies"][0]["anomalies"]]
    assert weeks and all(start - timedelta(days=6) <= w < end for w in weeks)
    assert doc["emerging"]["emerging"][0]["theme_id"] == "login_codes"
    table = runner.invoke(signals, args)
    assert table.exit_code == 0 and "emerging_theme" in table.stdout and "topic=checkout" in table.stdout
    bad = runner.invoke(signals, [*args, "--theme-model", "nope"])
    assert bad.exit_code == 2 and "Error: The 'theme_model' parameter" in bad.output and "Traceback" not in bad.output
    bad_where = runner.invoke(signals, ["--workspace", str(ws.path), "--where", "topic"])
    assert bad_where.exit_code == 2 and "expected COL=VALUE" in bad_where.output
