"""The demo company's planted themes are found, theme ids are stable, and user edits survive a refit.

Planted themes are checked on comments composed by the demo generator's own grammar
(``cxlens.demo.language.compose_comments``: each comment is about one theme of
``cxlens.demo.design.THEMES``, so the truth of every comment is known). The workspace tests run on a
small demo workspace. The fast static encoder keeps this module quick; the contextual and adapted
encoders are compared in ``bench/text_themes.py``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
import pytest

import cxlens
from cxlens.demo.design import THEMES
from cxlens.demo.language import compose_comments
from cxlens.demo_loader import load_demo
from cxlens.text.themes import (
    FitOptions,
    assign_themes,
    discover_themes,
    fit_themes,
    merge_themes,
    rename_theme,
    split_theme,
    theme_assignments,
    theme_model,
    theme_summary,
)

NOW = datetime(2026, 11, 1, tzinfo=UTC)
OPTIONS = FitOptions(encoder="static")
MIN_PURITY = 0.7


def planted_comments(n: int, seed: int) -> tuple[list[str], list[str]]:
    """``n`` English comments of the demo grammar, each about one planted theme (and that theme)."""
    rng = np.random.default_rng(seed)
    names = [t.name for t in THEMES]
    truth = [names[i] for i in rng.integers(0, len(names), n)]
    tones = np.array([0 if THEMES[names.index(t)].polarity == "negative" else 4 for t in truth])
    return compose_comments(rng, ["en"] * n, [[t] for t in truth], tones), truth


def test_planted_themes_are_found() -> None:
    texts, truth = planted_comments(2000, seed=1)
    # Sub-themes never change a text's theme (they are fitted after); skip them here for speed.
    first = discover_themes(texts, options=replace(OPTIONS, sub_min_texts=None), now=NOW)
    groups: dict[str, list[str]] = {}
    for row, planted in zip(first.texts, truth):
        groups.setdefault(str(row.theme_id), []).append(planted)
    best = {}
    for theme_id, members in groups.items():
        if theme_id == "other" or len(members) < 10:
            continue
        planted, count = Counter(members).most_common(1)[0]
        best[planted] = max(best.get(planted, 0.0), count / len(members))
    assert {t.name for t in THEMES} <= set(best), set(best)
    assert min(best.values()) >= MIN_PURITY, best


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[cxlens.Workspace]:
    ws = cxlens.init(tmp_path_factory.mktemp("demo") / "ws")
    load_demo(ws, customers=1200, seed=7, now=NOW, chunk_customers=1200)
    fit_themes(ws, options=OPTIONS, now=NOW)
    yield ws
    ws.close()


def test_demo_comments_in_other_languages_get_their_language_theme(demo: cxlens.Workspace) -> None:
    # The demo records the language each response was answered in; comments are written in it.
    rows = demo.warehouse.duckdb.execute("""
        SELECT r.language, a.theme_id, a.sub_theme_id, r.comment FROM text_theme_assignments a
        JOIN responses r ON a.source_table = 'responses' AND a.source_id = r.response_id
    """).fetchall()
    english = Counter(t.startswith("lang-") for language, t, _, _ in rows if language == "en")
    assert english[False] / sum(english.values()) >= 0.99  # English comments are clustered
    others = [(language, t, text) for language, t, _, text in rows if language != "en"]
    assert {language for language, _, _ in others} == {"de", "es", "fr"}
    apart = [(language, t) for language, t, _ in others if t.startswith("lang-")]
    assert all(t in (f"lang-{language}", "lang-und") for language, t in apart)  # never the wrong language
    for language in ("de", "es", "fr"):
        mine = [t for lang, t, _ in others if lang == language]
        assert sum(t.startswith("lang-") for t in mine) / len(mine) >= 0.45, (language, Counter(mine))
    # What stays clustered are short remarks the detector cannot tell ("Top", "Naja. Eher enttäuschend.").
    assert all(len(text.split()) <= 8 for _, t, text in others if not t.startswith("lang-"))
    set_apart = Counter(t for _, t, _, _ in rows if t.startswith("lang-"))
    summary = {t.theme_id: t for t in theme_summary(demo, now=NOW).themes}
    assert {t: summary[t].count for t in set_apart} == {t: n + _tickets(demo, t) for t, n in set_apart.items()}
    assert all(s is None for _, t, s, _ in rows if t.startswith("lang-"))
    assert any(t.children for t in theme_model(demo).themes), "some demo theme has sub-themes"


def _tickets(ws: cxlens.Workspace, theme_id: str) -> int:
    return ws.warehouse.duckdb.execute("SELECT count(*) FROM text_theme_assignments WHERE source_table = 'tickets' "
                                       "AND theme_id = ?", [theme_id]).fetchone()[0]


def test_assignment_is_stable_and_edits_survive_a_refit(demo: cxlens.Workspace) -> None:
    assert assign_themes(demo).written == {"responses": 0, "tickets": 0}  # nothing new to assign
    model = theme_model(demo)
    first, second, third, fourth = (t.id for t in sorted(model.themes, key=lambda t: -t.size)[:4])
    rename_theme(demo, first, "Billing trouble", now=NOW)
    merge_themes(demo, second, third, now=NOW)
    split_theme(demo, fourth, now=NOW)
    children = next(e.children for e in theme_model(demo).edits if e.kind == "split")
    assert fourth not in {t.id for t in theme_model(demo).themes} and len(children) == 2
    before = theme_assignments(demo).to_pandas().set_index(["source_table", "source_id"]).theme_id
    fit_themes(demo, options=OPTIONS, now=NOW)
    after = theme_assignments(demo).to_pandas().set_index(["source_table", "source_id"]).theme_id
    assert len(after) == len(before) and after.index.is_unique
    assert (after == before.reindex(after.index)).mean() >= 0.9  # the same ids for nearly every text
    refit = theme_model(demo)
    ids = {t.id for t in refit.themes}
    assert refit.theme(first).display_label == "Billing trouble"
    assert second in ids and third not in ids
    assert set(children) <= ids and fourth not in ids
    a = theme_assignments(demo).to_pandas()
    assert set(a.theme_label[a.theme_id == first]) == {"Billing trouble"}


def test_summary_reports_counts_and_impacts(demo: cxlens.Workspace) -> None:
    summary = theme_summary(demo, grain="month", now=NOW)
    counts = theme_assignments(demo).to_pandas().theme_id.value_counts()
    assert {t.theme_id: t.count for t in summary.themes if t.count} == counts.to_dict()
    assert summary.total == int(counts.sum())
    assert len(summary.themes[0].trend) == 6
    negative = [t for t in summary.themes if t.nps.difference is not None and t.nps.significant]
    assert negative, "some theme moves NPS significantly in the demo"
    for t in negative:
        assert t.nps.ci_low <= t.nps.difference <= t.nps.ci_high


def test_workspace_commands(demo: cxlens.Workspace) -> None:
    from click.testing import CliRunner

    from cxlens.text.cli_themes import themes

    where = ["--workspace", str(demo.path)]
    demo.close()  # the commands open the workspace themselves
    summary = CliRunner().invoke(themes, [*where, "--format", "json"])
    assert summary.exit_code == 0, summary.output
    doc = json.loads(summary.stdout)
    assert doc["model_version"] == theme_model(demo).version and doc["themes"][-1]["theme_id"] == "other"
    table = CliRunner().invoke(themes, where)
    assert table.exit_code == 0 and "nps_impact" in table.stdout.splitlines()[0]
    listing = CliRunner().invoke(themes, [*where, "--assignments", "--format", "csv"])
    assert listing.stdout.splitlines()[0] == ("source_table,source_id,theme_id,theme_label,similarity,model_version,"
                                              "sub_theme_id,sub_theme_label,sub_similarity")
    renamed = CliRunner().invoke(themes, ["rename", "nope", "X", *where])
    assert renamed.exit_code == 2 and "Unknown theme id 'nope'" in renamed.output
    other = CliRunner().invoke(themes, ["merge", "other", "t1", *where])
    assert other.exit_code == 2 and "cannot be edited" in other.output
