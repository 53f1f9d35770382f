"""Emerging themes: the pure detector on literal counts, the warehouse runner on a hand-made workspace."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

import cxlens
from cxlens.errors import CxlensInputError, WorkspaceError
from cxlens.signals import EmergingSettings, ThemeCounts, detect_emerging, detect_signals
from cxlens.signals.emerging import THEMES_TABLE
from cxlens.text.annotate import annotate


def test_literal_counts_two_of_three_themes_emerge() -> None:
    counts = [ThemeCounts("a", "Login codes", 12, 20), ThemeCounts("b", "Billing", 6, 10),
              ThemeCounts("c", "Speed", 5, 30), ThemeCounts("d", "Rare", 4, 0)]
    out = {t.theme_id: t for t in detect_emerging(counts, 100, 500)}
    a = out["a"]
    # p1 = 0.12, p0 = 0.04; pooled P = 32/600; z = 0.08 / sqrt(P(1-P)(1/100 + 1/500)) = 3.250135
    assert (a.recent_share, a.baseline_share, a.difference) == (0.12, 0.04, pytest.approx(0.08))
    assert a.z == pytest.approx(3.250135, abs=1e-6) and a.p_value == pytest.approx(0.000576750, rel=1e-5)
    # Newcombe method 10 from the Wilson limits of 12/100 and 20/500
    assert (a.ci_low, a.ci_high) == (pytest.approx(0.025774, abs=1e-6), pytest.approx(0.159358, abs=1e-6))
    b = out["b"]  # 6/100 vs 10/500: z = 2.266492, one-sided p = 0.0117106
    assert b.p_value == pytest.approx(0.0117106, rel=1e-5)
    # BH over the three tested themes at 0.05: 0.000577 <= 0.0167, 0.0117 <= 0.0333 -> a and b; c falls
    assert (a.emerging, b.emerging, out["c"].emerging) == (True, True, False)
    assert b.q_value == pytest.approx(3 * 0.0117106 / 2, rel=1e-4)  # m p / rank
    assert out["d"].p_value is None and out["d"].note == "only 4 recent text(s); 5 needed to test"
    assert [t.theme_id for t in detect_emerging(counts, 100, 500)] == ["a", "b", "c", "d"]
    (other,) = detect_emerging([ThemeCounts("other", "Other", 30, 50)], 100, 500)
    assert other.emerging and other.note is not None and "new topic" in other.note


def test_counts_must_fit_their_totals() -> None:
    with pytest.raises(CxlensInputError, match="Theme 'a' has 12 recent"):
        detect_emerging([ThemeCounts("a", "A", 12, 0)], 10, 10)
    with pytest.raises(CxlensInputError, match="'fdr' parameter"):
        detect_emerging([], 10, 10, EmergingSettings(fdr=0))
    with pytest.raises(CxlensInputError, match="'recent_days' parameter"):
        detect_emerging([], 10, 10, EmergingSettings(recent_days=0))


# ------------------------------------------------------------------------------------------ runner

NOW = datetime(2026, 3, 29, tzinfo=UTC)


def _at(days_before: float) -> str:
    return (NOW - timedelta(days=days_before)).replace(tzinfo=None).isoformat()


def _fill(ws: cxlens.Workspace) -> list[tuple[str, str, str, str]]:
    """20 recent and 40 baseline texts; theme A: 8 recent, 2 baseline; theme B: 3 recent, 10 baseline."""
    responses = [(f"r{i}", _at(1 + i * 0.5), f"recent comment {i}") for i in range(10)]
    responses += [(f"b{i}", _at(8 + i * 0.3), f"older comment {i}") for i in range(40)]
    responses += [("blank", _at(2), "  "), ("old", _at(40), "too old to count")]
    responses[0] = ("r0", _at(1), "Login code never came, mail me at anna@example.com")
    tickets = [(f"t{i}", _at(2 + i * 0.4), f"Ticket {i}", "details") for i in range(10)]
    ws.import_data("responses", pd.DataFrame(responses, columns=["response_id", "submitted_at", "comment"]), now=NOW)
    ws.import_data("tickets", pd.DataFrame(tickets, columns=["ticket_id", "created_at", "subject", "description"]),
                   now=NOW)
    rows = [("responses", f"r{i}", "A", "Login codes") for i in range(5)]
    rows += [("tickets", f"t{i}", "A", "Login codes") for i in range(3)]
    rows += [("responses", f"b{i}", "A", "Login codes") for i in range(2)]
    rows += [("responses", "old", "A", "Login codes"), ("responses", "blank", "A", "Login codes")]  # not counted
    rows += [("tickets", f"t{i}", "B", "Billing") for i in range(5, 8)]
    rows += [("responses", f"b{i}", "B", "Billing") for i in range(10, 20)]
    return rows


def _write_themes(ws: cxlens.Workspace, rows: list[tuple[str, str, str, str]], model: str = "m1") -> None:
    con = ws.warehouse.duckdb
    con.execute(f"CREATE TABLE IF NOT EXISTS {THEMES_TABLE} (source_table VARCHAR, source_id VARCHAR, "
                "theme_id VARCHAR, theme_label VARCHAR, similarity DOUBLE, model_version VARCHAR)")
    con.executemany(f"INSERT INTO {THEMES_TABLE} VALUES (?, ?, ?, ?, ?, ?)",
                    [(*r, 1.0 - 0.01 * i, model) for i, r in enumerate(rows)])


def test_runner_counts_texts_per_period_and_shows_redacted_examples(ws: cxlens.Workspace) -> None:
    _write_themes(ws, _fill(ws))
    settings = EmergingSettings(recent_days=7, baseline_days=14, examples=2)
    result = detect_signals(ws, kind="emerging", now=NOW, emerging=settings).emerging
    assert result is not None and (result.recent_total, result.baseline_total) == (20, 40)
    themes = {t.theme_id: t for t in result.themes}
    a = themes["A"]
    assert (a.recent, a.baseline) == (8, 2)
    assert a.z == pytest.approx(3.429286, abs=1e-6) and a.p_value == pytest.approx(0.000302586, rel=1e-5)
    assert (a.ci_low, a.ci_high) == (pytest.approx(0.135372, abs=1e-6), pytest.approx(0.566463, abs=1e-6))
    assert a.emerging and result.emerging == (a,)
    assert a.examples == ("Login code never came, mail me at [EMAIL]", "recent comment 1")
    assert (themes["B"].recent, themes["B"].baseline, themes["B"].p_value) == (3, 10, None)
    record = detect_signals(ws, kind="emerging", now=NOW, emerging=settings).to_records()
    assert [(r["kind"], r["subject"], r["n"], r["value"], r["expected"]) for r in record] == [
        ("emerging_theme", "Login codes", 8, 40.0, 5.0)]


def test_runner_uses_stored_redactions_and_one_source(ws: cxlens.Workspace) -> None:
    _write_themes(ws, _fill(ws))
    annotate(ws.warehouse, now=NOW)
    ws.warehouse.duckdb.execute("UPDATE text_annotations SET redacted_text = 'stored: ' || redacted_text")
    settings = EmergingSettings(recent_days=7, baseline_days=14, examples=1)
    result = detect_signals(ws, kind="emerging", now=NOW, source="responses", emerging=settings).emerging
    assert result is not None and (result.recent_total, result.baseline_total) == (10, 40)
    a = next(t for t in result.themes if t.theme_id == "A")
    assert (a.recent, a.baseline) == (5, 2) and a.examples == ("stored: Login code never came, mail me at [EMAIL]",)


def test_runner_errors_say_what_to_do(ws: cxlens.Workspace) -> None:
    with pytest.raises(WorkspaceError, match="no table text_theme_assignments"):
        detect_signals(ws, kind="emerging", now=NOW)
    all_kinds = detect_signals(ws, kind="all", now=NOW, metrics=["tickets"])
    assert all_kinds.emerging is None and "were not checked" in all_kinds.warnings[0]
    rows = _fill(ws)
    _write_themes(ws, rows, "m1")
    _write_themes(ws, rows[:3], "m2")
    with pytest.raises(CxlensInputError, match=r"several theme models \(m1, m2\).*--theme-model"):
        detect_signals(ws, kind="emerging", now=NOW)
    with pytest.raises(CxlensInputError, match="'theme_model' parameter must name a model version.*m1, m2"):
        detect_signals(ws, kind="emerging", now=NOW, theme_model="m3")
    only = detect_signals(ws, kind="emerging", now=NOW, theme_model="m2",
                          emerging=EmergingSettings(baseline_days=14)).emerging
    assert only is not None and only.theme_model == "m2"
    with pytest.raises(CxlensInputError, match="'kind' parameter must be one of anomalies, emerging, all"):
        detect_signals(ws, kind="alerts", now=NOW)
