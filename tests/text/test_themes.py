"""Theme building blocks against literal expectations: labels, id matching, assignment, impact, storage, CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import cxlens
from cxlens.errors import CxlensInputError
from cxlens.stats.intervals import newcombe_difference, nps_difference
from cxlens.text import theme_store
from cxlens.text.cli_themes import themes as themes_command
from cxlens.text.theme_fit import MAX_CHARS, MIN_TEXTS, match_ids, prepare, replay_edits
from cxlens.text.theme_labels import label_from, theme_keywords
from cxlens.text.theme_model import OTHER_ID, ContextualEncoder, Edit, Theme, ThemeModel
from cxlens.text.themes import discover_themes, theme_summary

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def _model(centroids: list[list[float]], floor: float) -> ThemeModel:
    themes = tuple(Theme(f"t{i + 1}", f"label {i + 1}", (), np.asarray(c, dtype=np.float32), 1)
                   for i, c in enumerate(centroids))
    return ThemeModel(themes, ContextualEncoder(), floor)


def test_keywords_are_the_distinctive_words_of_each_theme() -> None:
    texts = ["charged twice", "charged twice", "charged twice refund", "app crashing", "app crashing",
             "app crashing evening", "the bill is fine"]
    labels = np.array([0, 0, 0, 1, 1, 1, -1])
    assert theme_keywords(texts, labels, [0, 1], top=1) == {0: ("charged twice",), 1: ("app crashing",)}
    assert label_from(("charged twice", "bill", "refund", "late"), "t1") == "charged twice / bill / refund"
    assert label_from((), "t7") == "t7"


def test_nearest_centroid_with_a_floor() -> None:
    model = _model([[1, 0], [0, 1]], floor=0.5)
    s = np.sqrt(0.5)
    vectors = np.array([[1, 0], [0.6, 0.8], [s, s], [-1, 0]], dtype=np.float32)
    got = model.assign_vectors(vectors)
    assert got.theme_ids == ("t1", "t2", "t1", OTHER_ID)
    assert got.labels == ("label 1", "label 2", "label 1", "Other")
    np.testing.assert_allclose(got.similarities, [1.0, 0.8, s, 0.0], atol=1e-6)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.floats(-1, 1), st.floats(-1, 1)), min_size=1, max_size=20))
def test_assignment_never_below_the_floor(points: list[tuple[float, float]]) -> None:
    model = _model([[1, 0], [0, 1]], floor=0.3)
    vectors = np.array(points, dtype=np.float32)
    got = model.assign_vectors(vectors)
    for theme_id, sim in zip(got.theme_ids, got.similarities):
        assert (theme_id == OTHER_ID) == (sim < 0.3)


def test_new_clusters_keep_the_ids_of_the_themes_they_share_texts_with() -> None:
    new = np.array([0, 0, 0, 1, 1, 1, 2, 2])
    old = ["t4", "t4", "t2", "t2", "t2", "t2", "other", "other"]
    mapping, next_id = match_ids(new, old, start_id=5)
    assert mapping == {0: "t4", 1: "t2", 2: "t5"}
    assert next_id == 6


def test_merges_and_splits_are_replayed_on_new_ids() -> None:
    ids = np.array(["t1", "t1", "t2", "t3", "t3", "t3"], dtype=object)
    old = ["t1", "t1", "t2", "t5", "t6", "t5"]
    edits = [Edit("merge", "t1", other="t2"), Edit("split", "t3", children=("t5", "t6"))]
    out = replay_edits(ids, old, edits)
    assert out.tolist() == ["t1", "t1", "t1", "t5", "t6", "t5"]


def test_prepare_skips_blanks_and_truncates_long_texts() -> None:
    prepared = prepare(["ok", "", "   ", None, float("nan"), "x" * (MAX_CHARS + 10)])
    assert prepared.positions == (0, 5)
    assert prepared.skipped_empty == 4 and prepared.truncated == 1
    assert len(prepared.texts[1]) == MAX_CHARS
    assert prepared.notes() == ["4 empty or blank texts were skipped",
                                f"1 texts longer than {MAX_CHARS} characters were truncated"]


def test_too_few_texts_is_a_clear_error() -> None:
    with pytest.raises(CxlensInputError, match=f"at least {MIN_TEXTS} non-empty texts; got 2"):
        discover_themes(["a refund please", "", "app crashes"], now=NOW)


def test_impact_matches_the_interval_functions(ws: cxlens.Workspace) -> None:
    # Ten responses, themes assigned by hand: t1 = four detractors, t2 = promoters, other = mixed.
    nps = [0, 3, 5, 6, 9, 10, 10, 7, 9, 2]
    csat = [1, 2, 2, 3, 5, 5, 4, 4, 5, 1]
    theme = ["t1", "t1", "t1", "t1", "t2", "t2", "t2", "other", "other", "other"]
    ids = [f"r{i}" for i in range(10)]
    ws.import_data("responses", pd.DataFrame({
        "response_id": ids, "submitted_at": pd.Timestamp("2026-10-15"), "nps": nps, "csat": csat,
        "comment": [f"comment {i}" for i in range(10)]}), now=NOW)
    model = _model([[1, 0], [0, 1]], floor=0.0)
    theme_store.write(ws.warehouse, theme_store.rows_table("responses", ids, theme, theme, [1.0] * 10, "v"),
                      replace_all=True)
    from cxlens.text.theme_model import save_model

    save_model(ws.path, model)
    summary = theme_summary(ws, grain="month", periods=2, now=NOW)
    t1 = {t.theme_id: t for t in summary.themes}["t1"]
    assert (t1.count, t1.share) == (4, 0.4)
    expected = nps_difference((4, 1, 1), (0, 0, 4))  # without t1: 4 promoters, 1 passive, 1 detractor
    assert t1.nps.difference == pytest.approx(-100.0 - 100 * (4 - 1) / 6)  # -100 with, +50 without
    assert (t1.nps.ci_low, t1.nps.ci_high) == pytest.approx((expected.ci_low, expected.ci_high))
    top = newcombe_difference(0, 4, 5, 6)  # CSAT >= 4: none of t1, five of the other six
    assert t1.csat.difference == pytest.approx(100 * top.estimate)
    assert (t1.csat.ci_low, t1.csat.ci_high) == pytest.approx((100 * top.ci_low, 100 * top.ci_high))
    assert [(p.period, p.count, p.share) for p in t1.trend] == [("2026-10-01", 4, 0.4), ("2026-11-01", 0, None)]
    assert t1.examples == ("comment 0", "comment 1", "comment 2")


def test_assignments_are_replaced_atomically(ws: cxlens.Workspace) -> None:
    wh = ws.warehouse
    theme_store.write(wh, theme_store.rows_table("responses", ["a", "b"], ["t1", "t2"], ["x", "y"], [0.9, 0.8], "v1"),
                      replace_all=True)
    theme_store.write(wh, theme_store.rows_table("responses", ["b", "c"], ["t1", "t1"], ["x", "x"], [0.7, 0.6], "v2"),
                      replace_all=False)
    rows = theme_store.assignments(wh).order_by("source_id").to_pandas()
    assert rows[["source_id", "theme_id", "model_version"]].values.tolist() == [
        ["a", "t1", "v1"], ["b", "t1", "v2"], ["c", "t1", "v2"]]
    bad = theme_store.rows_table("responses", ["z"], ["t1"], ["x"], [0.5], "v3")
    with pytest.raises(duckdb.Error):
        theme_store.write(wh, bad.drop_columns(["similarity"]), replace_all=True)
    assert theme_store.assignments(wh).count().execute() == 3  # the failed write changed nothing


def test_cli_on_a_file_without_the_text_column(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("id,body\n1,hello\n", encoding="utf-8")
    result = CliRunner().invoke(themes_command, [str(path), "--text-column", "comment"])
    assert result.exit_code == 2
    assert "column 'comment' is not in" in result.output and "id, body" in result.output
    result = CliRunner().invoke(themes_command, [str(path)])
    assert result.exit_code == 2 and "--text-column is required" in result.output


def test_cli_on_a_file_too_small(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("id,comment\n1,refund please\n2,\n", encoding="utf-8")
    result = CliRunner().invoke(themes_command, [str(path), "--text-column", "comment", "--encoder", "static"])
    assert result.exit_code == 2
    assert "needs at least 20 non-empty texts; got 1 (of 2)" in result.output


def test_cli_on_a_file_prints_every_text_with_its_theme(tmp_path: Path) -> None:
    rows = ["id,comment"] + [f"c{i},{text}" for i, text in enumerate(
        ["I was charged twice this month", "Charged twice again on my bill", "the app keeps crashing",
         "App crashes every evening", "no signal at home", "the signal drops all the time"] * 5)]
    rows.append("blank,")
    path = tmp_path / "c.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = CliRunner().invoke(themes_command, [str(path), "--text-column", "comment", "--id-column", "id",
                                                 "--encoder", "static", "--themes", "3", "--format", "json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert [r["id"] for r in out] == [f"c{i}" for i in range(30)] + ["blank"]
    assert out[-1]["theme_id"] is None
    by_text = {}
    for r, text in zip(out, [line.split(",", 1)[1] for line in rows[1:]]):
        by_text.setdefault(text, set()).add(r["theme_id"])
    assert all(len(ids) == 1 for ids in by_text.values())  # the same text always gets the same theme
    assert len({r["theme_id"] for r in out[:30]} - {"other"}) == 3
    assert "1 empty or blank texts were skipped" in result.stderr
