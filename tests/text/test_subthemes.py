"""Sub-themes: the split rule, stable ids, labels within the parent, incremental assignment, storage, CLI.

The corpus is composed here: three topics (billing, the app, installation visits), each with two
planted sub-topics, so the truth of every text is known. The fast static encoder keeps it quick.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import cxlens
from cxlens.errors import CxlensInputError
from cxlens.text import theme_store
from cxlens.text.cli_themes import themes as themes_command
from cxlens.text.theme_fit import FitOptions, fit_model
from cxlens.text.theme_labels import theme_keywords
from cxlens.text.theme_model import Theme, load_model, save_model
from cxlens.text.theme_subthemes import choose_sub_k, fit_children
from cxlens.text.themes import (
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
OPTIONS = FitOptions(encoder="static", n_themes=3)
TOPICS = {
    "billing": (["my bill and invoice are wrong", "billing problem with my invoice", "my monthly bill is a mess"],
                {"twice": ["I was charged twice", "a double charge on my card"],
                 "refund": ["the refund never arrived", "still waiting for the refund"]}),
    "app": (["the mobile app on my phone", "your app on the phone", "the phone app"],
            {"crash": ["crashes on startup", "keeps crashing and closing"],
             "login": ["will not let me log in, no login code", "login fails, the code never comes"]}),
    "install": (["the engineer for the installation", "installation visit by the engineer",
                 "the engineer installing"],
                {"late": ["arrived five hours late", "came very late in the evening"],
                 "noshow": ["never showed up at all", "did not turn up, no show"]}),
}


def corpus(per_sub: int = 40, seed: int = 0) -> tuple[list[str], list[tuple[str, str]]]:
    """Texts "<topic intro>: <sub-topic phrase>" and their (topic, sub-topic), shuffled."""
    rng = np.random.default_rng(seed)
    texts, truth = [], []
    for topic, (intros, subs) in TOPICS.items():
        for sub, phrases in subs.items():
            for _ in range(per_sub):
                texts.append(f"{intros[rng.integers(len(intros))]}: {phrases[rng.integers(len(phrases))]}")
                truth.append((topic, sub))
    order = rng.permutation(len(texts))
    return [texts[i] for i in order], [truth[i] for i in order]


def _blob(rng: np.random.Generator, centre: np.ndarray, n: int, spread: float) -> np.ndarray:
    x = centre + spread * rng.standard_normal((n, len(centre)))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_a_split_is_kept_only_when_it_beats_a_structureless_cloud() -> None:
    rng = np.random.default_rng(0)
    centre = np.eye(32)[0]
    one = _blob(rng, centre, 120, 0.15)
    assert choose_sub_k(one, most=6, min_size=5) is None  # a single cloud: no sub-themes
    two = np.vstack([_blob(rng, np.eye(32)[0] + 0.5 * np.eye(32)[1], 60, 0.1),
                     _blob(rng, np.eye(32)[0] + 0.5 * np.eye(32)[2], 60, 0.1)])
    assert choose_sub_k(two, most=6, min_size=5) == 2
    parent = Theme("t3", "x", ("x",), centre, 120)
    assert fit_children(parent, one, ["a b c"] * 120, min_texts=40, most=6, min_size=5).children == ()
    assert fit_children(parent, two[:30], ["a b c"] * 30, min_texts=40, most=6, min_size=5).children == ()
    assert len(fit_children(parent, two, ["a b c"] * 120, min_texts=40, most=6, min_size=5).children) == 2


def test_sub_ids_follow_the_texts_of_the_previous_sub_themes() -> None:
    rng = np.random.default_rng(1)
    two = np.vstack([_blob(rng, np.eye(16)[0] + 0.5 * np.eye(16)[1], 50, 0.1),
                     _blob(rng, np.eye(16)[0] + 0.5 * np.eye(16)[2], 50, 0.1)])
    texts = ["refund late again"] * 50 + ["charged twice again"] * 50
    parent = Theme("t3", "bill", ("bill",), np.eye(16)[0], 100)
    old = ["t3.7"] * 45 + ["t2.1"] * 5 + ["t3.4"] * 50  # other parents' sub-ids never match
    got = fit_children(parent, two, texts, min_texts=40, most=2, min_size=5, old_sub_ids=old, next_child=9,
                       renames={"t3.4": "Double charges"})
    assert {c.id: c.size for c in got.children} == {"t3.4": 50, "t3.7": 50}
    assert {c.id: c.display_label for c in got.children}["t3.4"] == "Double charges"
    assert got.next_child == 9
    fresh = fit_children(parent, two, texts, min_texts=40, most=2, min_size=5, next_child=9)
    assert sorted(c.id for c in fresh.children) == ["t3.10", "t3.9"] and fresh.next_child == 11


def test_sub_labels_skip_the_parent_label_terms() -> None:
    texts = ["charged twice refund", "charged twice refund", "charged twice card", "charged twice card"]
    labels = np.array([0, 0, 1, 1])
    assert theme_keywords(texts, labels, [0, 1], top=1, exclude=("charged twice",)) == {0: ("refund",),
                                                                                       1: ("card",)}
    assert theme_keywords(texts, labels, [0, 1], top=1) == {0: ("twice refund",), 1: ("twice card",)}


@pytest.fixture(scope="module")
def fitted() -> tuple[list[str], list[tuple[str, str]], object]:
    texts, truth = corpus()
    return texts, truth, fit_model(texts, options=OPTIONS, now=NOW)


def test_each_planted_sub_topic_is_held_by_pure_sub_themes(fitted: tuple) -> None:
    texts, truth, fit = fitted
    a = fit.assignment
    by_sub: dict[str, Counter] = {}
    for theme_id, sub_id, planted in zip(a.theme_ids, a.sub_theme_ids, truth):
        if sub_id is not None:
            assert sub_id.startswith(theme_id + ".")
            by_sub.setdefault(sub_id, Counter())[planted] += 1
    assert all(len(t.children) >= 2 for t in fit.model.themes)
    for counts in by_sub.values():  # every sub-theme is one planted sub-topic
        assert counts.most_common(1)[0][1] / sum(counts.values()) >= 0.9, counts
    held = {c.most_common(1)[0][0] for c in by_sub.values()}
    assert held == {(topic, sub) for topic, (_, subs) in TOPICS.items() for sub in subs}
    for t in fit.model.themes:
        parent_terms = set(t.label.split(" / "))
        for c in t.children:
            assert c.label != t.label and not set(c.label.split(" / ")) <= parent_terms
            assert c.parent_id == t.id


def test_incremental_assignment_gives_the_fitted_sub_theme(fitted: tuple, tmp_path: Path) -> None:
    texts, _, fit = fitted
    save_model(tmp_path, fit.model)
    loaded = load_model(tmp_path)
    assert loaded.version == fit.model.version
    assert [len(t.children) for t in loaded.themes] == [len(t.children) for t in fit.model.themes]
    again = loaded.assign(texts)
    assert again.theme_ids == fit.assignment.theme_ids
    assert again.sub_theme_ids == fit.assignment.sub_theme_ids
    np.testing.assert_allclose(again.sub_similarities, fit.assignment.sub_similarities, atol=1e-5)
    doc = json.loads((tmp_path / "models" / "themes.json").read_text())
    child = doc["themes"][0]["children"][0]
    assert child["id"].startswith(doc["themes"][0]["id"] + ".") and len(child["centroid"]) > 0


def test_sub_theme_ids_are_stable_across_a_refit(fitted: tuple) -> None:
    texts, _, fit = fitted
    more, _ = corpus(per_sub=10, seed=5)
    refit = fit_model(texts[::-1] + more, options=OPTIONS, previous=fit.model, now=NOW)
    n = len(texts)
    before = dict(zip(texts, fit.assignment.sub_theme_ids))
    after = refit.assignment.sub_theme_ids[:n][::-1]
    same = np.mean([before[t] == s for t, s in zip(texts, after)])
    assert same >= 0.9, same
    assert {t.id for t in refit.model.themes} == {t.id for t in fit.model.themes}


def test_options_and_discovery_rows() -> None:
    with pytest.raises(CxlensInputError, match="sub_min_texts"):
        FitOptions(sub_min_texts=3).check()
    with pytest.raises(CxlensInputError, match="sub_max"):
        FitOptions(sub_max=1).check()
    texts, _ = corpus(per_sub=12)
    none = discover_themes(texts, options=FitOptions(encoder="static", n_themes=3, sub_min_texts=None), now=NOW)
    assert all(not t.children for t in none.model.themes) and none.sub_themes() == []
    assert {r["sub_theme_id"] for r in none.to_records()} == {None}


def _workspace(tmp_path: Path) -> cxlens.Workspace:
    texts, _ = corpus()
    ws = cxlens.init(tmp_path / "ws")
    ws.import_data("responses", pd.DataFrame({
        "response_id": [f"r{i:03d}" for i in range(len(texts))],
        "submitted_at": pd.Timestamp("2026-10-15"), "nps": [i % 11 for i in range(len(texts))],
        "comment": texts}), now=NOW)
    return ws


def test_workspace_sub_themes_are_stored_summarised_and_edited(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    try:
        fit_themes(ws, sources=("responses",), options=OPTIONS, now=NOW)
        a = theme_assignments(ws).to_pandas()
        model = theme_model(ws)
        themed = a[a.theme_id != "other"]
        assert themed.sub_theme_id.notna().all() and a.sub_theme_id[a.theme_id == "other"].isna().all()
        assert (themed.sub_theme_id.str.rsplit(".", n=1).str[0] == themed.theme_id).all()
        summary = theme_summary(ws, now=NOW)
        counts = a.groupby("sub_theme_id").size().to_dict()
        for t in summary.themes:
            if t.kind != "theme":
                continue
            assert [s.sub_theme_id for s in t.sub_themes] == [c.id for c in model.theme(t.theme_id).children]
            assert sum(s.count for s in t.sub_themes) == t.count
            for s in t.sub_themes:
                assert s.count == counts[s.sub_theme_id]
                assert s.share_of_parent == pytest.approx(s.count / t.count)
                assert len(s.examples) == 3
        doc = summary.to_dict()
        assert doc["themes"][0]["sub_themes"][0]["parent_id"] == doc["themes"][0]["theme_id"]
        assert len(summary.sub_theme_rows()) == sum(len(t.children) for t in model.themes)

        first = model.themes[0]
        child = first.children[0].id
        rename_theme(ws, child, "Double charges", now=NOW)
        renamed = theme_assignments(ws).to_pandas()
        assert set(renamed.sub_theme_label[renamed.sub_theme_id == child]) == {"Double charges"}
        fit_themes(ws, sources=("responses",), options=OPTIONS, now=NOW)
        assert theme_model(ws).find(child).display_label == "Double charges"

        second, third = (t.id for t in theme_model(ws).themes[1:3])
        merge_themes(ws, second, third, now=NOW)
        merged = theme_model(ws).theme(second)
        assert len(merged.children) >= 2  # fitted again on the texts of both
        after = theme_assignments(ws).to_pandas()
        assert (after.sub_theme_id[after.theme_id == second].str.startswith(second + ".")).all()
        with pytest.raises(CxlensInputError, match="is a sub-theme"):
            split_theme(ws, child, now=NOW)
        split_theme(ws, first.id, now=NOW)
        parts = next(e.children for e in theme_model(ws).edits if e.kind == "split")
        rows = theme_assignments(ws).to_pandas()
        for part in parts:
            mine = rows.sub_theme_id[rows.theme_id == part].dropna()
            assert mine.str.startswith(part + ".").all()
    finally:
        ws.close()


def test_an_older_assignments_table_gets_the_new_columns(ws: cxlens.Workspace) -> None:
    con = ws.warehouse.duckdb
    con.execute(f'CREATE TABLE "{theme_store.TABLE}" (source_table VARCHAR, source_id VARCHAR, theme_id VARCHAR, '
                "theme_label VARCHAR, similarity DOUBLE, model_version VARCHAR)")
    con.execute(f"INSERT INTO \"{theme_store.TABLE}\" VALUES ('responses', 'r1', 't1', 'old', 0.5, 'v0')")
    rows = theme_store.assignments(ws.warehouse).to_pandas()
    assert list(rows.columns) == theme_store.SCHEMA.names
    assert rows.sub_theme_id.isna().all() and rows.theme_label.tolist() == ["old"]
    new = theme_store.rows_table("responses", ["r2"], ["t2"], ["new"], [0.7], "v1", sub_theme_ids=["t2.1"],
                                 sub_labels=["part"], sub_similarities=[0.9])
    theme_store.write(ws.warehouse, new, replace_all=False)
    got = theme_store.assignments(ws.warehouse).order_by("source_id").to_pandas()
    assert got[["source_id", "sub_theme_id", "sub_theme_label"]].values.tolist() == [
        ["r1", None, None], ["r2", "t2.1", "part"]]


def test_cli_prints_sub_themes(tmp_path: Path) -> None:
    texts, _ = corpus()
    path = tmp_path / "c.csv"
    pd.DataFrame({"id": [f"c{i}" for i in range(len(texts))], "comment": texts}).to_csv(path, index=False)
    args = [str(path), "--text-column", "comment", "--id-column", "id", "--encoder", "static", "--themes", "3"]
    plain = CliRunner().invoke(themes_command, [*args, "--format", "csv"])
    assert plain.exit_code == 0, plain.output
    assert plain.stdout.splitlines()[0] == "id,theme_id,theme_label"
    result = CliRunner().invoke(themes_command, [*args, "--format", "json", "--sub-themes"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert set(out[0]) == {"id", "theme_id", "theme_label", "sub_theme_id", "sub_theme_label"}
    assert all(r["sub_theme_id"].startswith(r["theme_id"] + ".") for r in out if r["theme_id"] != "other")

    ws = _workspace(tmp_path)
    fit_themes(ws, sources=("responses",), options=OPTIONS, now=NOW)
    n_children = sum(len(t.children) for t in theme_model(ws).themes)
    ws.close()
    where = ["--workspace", str(ws.path)]
    table = CliRunner().invoke(themes_command, [*where, "--sub-themes"])
    assert table.exit_code == 0, table.output
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["id", "parent", "count", "share_of_parent", "label", "example"]
    assert len(lines) == 2 + n_children
    doc = json.loads(CliRunner().invoke(themes_command, [*where, "--format", "json", "--sub-themes"]).stdout)
    assert sum(len(t["sub_themes"]) for t in doc["themes"]) == n_children
    listing = CliRunner().invoke(themes_command, [*where, "--assignments", "--format", "csv"])
    assert listing.stdout.splitlines()[0].endswith("model_version,sub_theme_id,sub_theme_label,sub_similarity")
