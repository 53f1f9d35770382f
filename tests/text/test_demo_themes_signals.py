"""On the demo company, the real theme model finds the planted themes and the emerging issue.

The demo plants 13 themes and makes ``login_codes`` emerge in the last 7 days before ``now``
(``cxlens.demo.design``). Here the workspace's comments and tickets are themed by
``fit_themes`` (no phrase rules), and ``detect_signals`` looks for emerging themes in the stored
assignments. A discovered theme "holds" a planted one when most of its texts contain one of that
theme's phrases (``cxlens.demo.language.match_terms``, every language of the generator).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pytest

import cxlens
from cxlens.demo.design import EMERGING_THEME, THEMES
from cxlens.demo.language import match_terms
from cxlens.demo_loader import load_demo
from cxlens.signals import detect_signals
from cxlens.text.themes import fit_themes

NOW = datetime(2026, 11, 1, tzinfo=UTC)
#: Negative planted themes with vocabulary of their own; the positive ones ("great speed", "good
#: value", "helpful staff") share their words with general praise and merge into it.
DISTINCT_THEMES = ("billing_errors", "connection_drops", "app_crashes", "login_codes", "checkout_failure",
                   "installation_delay")


@pytest.fixture(scope="module")
def themed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = cxlens.init(tmp_path_factory.mktemp("themes-demo") / "ws")
    load_demo(ws, customers=6000, seed=7, now=NOW, chunk_customers=3000)
    report = fit_themes(ws, now=NOW)
    assert report.written["responses"] > 1000 and report.written["tickets"] > 1000
    ws.close()
    return ws.path


def _texts_by_theme(ws: cxlens.Workspace) -> dict[str, list[str]]:
    rows = ws.warehouse.duckdb.execute("""
        SELECT a.theme_id, lower(coalesce(r.comment, concat_ws(' ', t.subject, t.description)))
        FROM text_theme_assignments a
        LEFT JOIN responses r ON a.source_table = 'responses' AND r.response_id = a.source_id
        LEFT JOIN tickets t ON a.source_table = 'tickets' AND t.ticket_id = a.source_id
    """).fetchall()
    out: dict[str, list[str]] = defaultdict(list)
    for theme_id, text in rows:
        out[theme_id].append(text)
    return out


def _purity(texts: list[str], planted: str) -> float:
    terms = [m for ms in match_terms(planted).values() for m in ms]
    return sum(any(t in x for t in terms) for x in texts) / len(texts)


def test_distinct_planted_themes_are_each_held_by_a_discovered_theme(themed: Path) -> None:
    with cxlens.open(themed) as ws:
        by_theme = _texts_by_theme(ws)
    assert {t.name for t in THEMES} >= set(DISTINCT_THEMES)
    for planted in DISTINCT_THEMES:
        best = max(_purity(texts, planted) for theme_id, texts in by_theme.items()
                   if theme_id != "other" and len(texts) >= 20)
        assert best >= 0.8, (planted, best)


def test_the_emerging_issue_is_the_top_emerging_theme(themed: Path) -> None:
    with cxlens.open(themed) as ws:
        result = detect_signals(ws, kind="emerging", now=NOW)
        by_theme = _texts_by_theme(ws)
    assert result.emerging is not None
    flagged = result.emerging.emerging
    assert flagged, "no emerging theme flagged"
    top = max(flagged, key=lambda t: t.difference or 0.0)
    assert _purity(by_theme[top.theme_id], EMERGING_THEME) >= 0.9
    assert top.recent_share is not None and top.baseline_share is not None
    assert top.recent_share > 5 * top.baseline_share and top.ci_low is not None and top.ci_low > 0
    # Every other flagged theme is far smaller than the planted one.
    others = Counter({t.theme_id: t.recent for t in flagged if t.theme_id != top.theme_id})
    assert all(n < top.recent / 3 for n in others.values())


def test_the_journey_map_shows_each_stages_top_themes(themed: Path) -> None:
    from cxlens.journey import build_journey_map

    with cxlens.open(themed) as ws:
        journey = build_journey_map(ws, now=NOW)
        # Independently: comments per stage and theme, by the touchpoints table, in plain SQL.
        expected = ws.warehouse.duckdb.execute("""
            SELECT tp.stage, a.theme_id, count(DISTINCT r.response_id) AS n
            FROM responses r
            JOIN touchpoints tp ON tp.touchpoint = r.touchpoint
            JOIN text_theme_assignments a ON a.source_table = 'responses' AND a.source_id = r.response_id
            WHERE r.submitted_at < ?
            GROUP BY ALL
        """, [NOW.replace(tzinfo=None)]).fetchall()
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for stage, theme_id, n in expected:
        counts[stage][theme_id] = n
    with_themes = [s for s in journey.stages if s.themes]
    assert len(with_themes) >= 2
    for s in with_themes:
        total = sum(counts[s.stage].values())
        top = sorted(((n, t) for t, n in counts[s.stage].items() if t != "other"), key=lambda x: (-x[0], x[1]))[:3]
        assert [(t.comments, t.theme_id) for t in s.themes] == top
        assert all(abs(t.share - t.comments / total) < 1e-12 for t in s.themes)
    html = journey.to_html()
    assert "Top themes" in html and with_themes[0].themes[0].label.split(" / ")[0] in html
