"""Theme discovery and assignment: what customers talk about, how much, and what it costs in NPS/CSAT.

Two ways in:

- :func:`discover_themes` on any list of texts (no workspace): fits a model and gives each text
  a theme id and label.
- On a workspace, :func:`fit_themes` fits a model on the comments of ``responses`` and the
  subject + description of ``tickets``, saves it as ``models/themes.json`` and writes one row per
  text to the warehouse table ``text_theme_assignments``; :func:`assign_themes` assigns rows that
  are new since (without refitting); :func:`theme_summary` reports per theme the count, share,
  trend, example verbatims (PII-redacted) and the impact on NPS and CSAT with 95% intervals;
  :func:`rename_theme`, :func:`merge_themes` and :func:`split_theme` are user edits that survive
  refits.

Large themes have sub-themes (``t3.1``, ``t3.2``; ``theme_subthemes``); texts in a language the
encoder does not handle get a theme per language (``lang-de``; ``theme_languages``).

See ``docs/themes.md`` for the methods and the measurements behind the defaults.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from cxlens.errors import CxlensInputError
from cxlens.text import theme_edits, theme_store
from cxlens.text import theme_languages as langs
from cxlens.text.theme_fit import FitOptions, fit_model, prepare
from cxlens.text.theme_impact import SubThemeFigures, ThemeSummary, summarise
from cxlens.text.theme_model import (
    OTHER_ID,
    OTHER_LABEL,
    Assignment,
    Theme,
    ThemeModel,
    has_model,
    load_model,
    save_model,
)
from cxlens.text.theme_subthemes import fit_children, sub_renames

DEFAULT_SOURCES = ("responses", "tickets")


@dataclass(frozen=True)
class TextTheme:
    """The theme of one input text (``theme_id`` is None for a skipped empty text).

    ``sub_theme_id``/``sub_theme_label`` are None when the theme has no sub-themes; ``similarity``
    is None for a text set apart by language (theme ``lang-xx``).
    """

    id: Any
    theme_id: str | None
    theme_label: str | None
    similarity: float | None
    sub_theme_id: str | None = None
    sub_theme_label: str | None = None

    def to_dict(self) -> dict[str, Any]:
        sim = None if self.similarity is None else round(self.similarity, 4)
        return {"id": self.id, "theme_id": self.theme_id, "theme_label": self.theme_label, "similarity": sim,
                "sub_theme_id": self.sub_theme_id, "sub_theme_label": self.sub_theme_label}


@dataclass(frozen=True)
class DiscoveryResult:
    """A fitted model and the theme of every input text, plus notes (skipped, truncated texts)."""

    model: ThemeModel
    texts: tuple[TextTheme, ...]
    notes: tuple[str, ...] = ()

    def to_records(self) -> list[dict[str, Any]]:
        return [t.to_dict() for t in self.texts]

    def themes(self) -> list[dict[str, Any]]:
        counts: dict[str, int] = {}
        for t in self.texts:
            if t.theme_id is not None:
                counts[t.theme_id] = counts.get(t.theme_id, 0) + 1
        rows = [{"theme_id": t.id, "label": t.display_label, "keywords": ", ".join(t.keywords),
                 "count": counts.get(t.id, 0)} for t in self.model.themes]
        languages = [{"theme_id": i, "label": langs.label(i), "keywords": "", "count": counts[i]}
                     for i in sorted(counts, key=langs.sort_key) if langs.is_language_theme(i)]
        return rows + languages + [{"theme_id": OTHER_ID, "label": OTHER_LABEL, "keywords": "",
                                    "count": counts.get(OTHER_ID, 0)}]

    def sub_themes(self) -> list[dict[str, Any]]:
        """One row per sub-theme: id, parent id, label, keywords, count and share of the parent's texts."""
        counts: dict[str | None, int] = {}
        for t in self.texts:
            for key in (t.theme_id, t.sub_theme_id):
                counts[key] = counts.get(key, 0) + 1
        return [{"sub_theme_id": c.id, "parent_id": t.id, "label": c.display_label, "keywords": ", ".join(c.keywords),
                 "count": counts.get(c.id, 0),
                 "share_of_parent": counts.get(c.id, 0) / counts[t.id] if counts.get(t.id) else None}
                for t in self.model.themes for c in t.children]


def discover_themes(texts: Sequence[Any], ids: Sequence[Any] | None = None, *,
                    options: FitOptions = FitOptions(), now: datetime) -> DiscoveryResult:
    """Fit themes on ``texts`` and assign each one; empty texts are skipped (theme None) and counted.

    >>> result = discover_themes(comments, now=datetime.now(UTC))  # doctest: +SKIP
    >>> result.themes()[0]["label"]  # doctest: +SKIP
    'charged twice / refund / bill'
    """
    keys = list(ids) if ids is not None else list(range(1, len(texts) + 1))
    if len(keys) != len(texts):
        raise CxlensInputError(f"ids must match texts one to one; got {len(keys)} ids for {len(texts)} texts.")
    fit = fit_model(texts, options=options, now=now)
    a = fit.assignment
    assert a is not None
    found = dict(zip(fit.prepared.positions, zip(a.theme_ids, a.labels, a.similarity_list(), a.sub_theme_ids,
                                                 a.sub_labels)))
    rows = [TextTheme(key, *found[i]) if i in found else TextTheme(key, None, None, None)
            for i, key in enumerate(keys)]
    return DiscoveryResult(fit.model, tuple(rows), tuple(fit.notes()))


@dataclass(frozen=True)
class RunReport:
    """What a fit, an assignment run or an edit did: rows written per source, notes, the model."""

    action: str
    model_version: str
    themes: int
    written: dict[str, int]
    skipped_empty: int
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {"action": self.action, "model_version": self.model_version, "themes": self.themes,
                "written": dict(self.written), "skipped_empty": self.skipped_empty, "notes": list(self.notes)}


def fit_themes(ws: Any, *, sources: Sequence[str] = DEFAULT_SOURCES, options: FitOptions = FitOptions(),
               now: datetime) -> RunReport:
    """Fit (or refit) the workspace's theme model and replace every assignment atomically.

    Ids of themes found again are kept and the user's edits are replayed (see ``theme_fit``).
    """
    sources = theme_store.check_sources(sources)
    wh = ws.warehouse
    data = [theme_store.read_texts(wh, s) for s in sources]
    all_texts = [t for d in data for t in d.texts]
    previous = load_model(ws.path) if has_model(ws.path) else None
    fit = fit_model(all_texts, options=options, previous=previous, now=now)
    save_model(ws.path, fit.model)
    written = _write_fitted(wh, fit, data)
    return RunReport("fit", fit.model.version, len(fit.model.themes), written, fit.prepared.skipped_empty,
                     tuple(fit.notes()))


def _write_fitted(wh: Any, fit: Any, data: Sequence[theme_store.SourceTexts]) -> dict[str, int]:
    """Write the fit's own assignments (no second encoding), all rows replaced at once."""
    import pyarrow as pa  # noqa: PLC0415

    offsets, start = [], 0
    for d in data:
        offsets.append((d, start, start + len(d.texts)))
        start += len(d.texts)
    tables, written = [], {}
    positions = list(fit.prepared.positions)
    for d, lo, hi in offsets:
        mine = [j for j, p in enumerate(positions) if lo <= p < hi]
        ids = [d.ids[positions[j] - lo] for j in mine]
        tables.append(_rows(d.source_table, ids, _take(fit.assignment, mine), fit.model.version))
        written[d.source_table] = len(ids)
    rows = pa.concat_tables(tables) if tables else theme_store.SCHEMA.empty_table()
    theme_store.write(wh, rows, replace_all=True)
    return written


def _take(a: Assignment | None, rows: Sequence[int]) -> Assignment:
    assert a is not None
    pick = np.asarray(rows, dtype=np.int64)
    subs = a.sub_similarities if a.sub_similarities is not None else np.full(len(a.theme_ids), np.nan)
    return Assignment(tuple(a.theme_ids[j] for j in rows), tuple(a.labels[j] for j in rows), a.similarities[pick],
                      tuple(a.sub_theme_ids[j] for j in rows) if a.sub_theme_ids else (None,) * len(rows),
                      tuple(a.sub_labels[j] for j in rows) if a.sub_labels else (None,) * len(rows), subs[pick])


def _rows(source: str, ids: Sequence[str], a: Assignment, version: str) -> Any:
    return theme_store.rows_table(source, ids, a.theme_ids, a.labels, a.similarity_list(), version,
                                  sub_theme_ids=a.sub_theme_ids or None, sub_labels=a.sub_labels or None,
                                  sub_similarities=a.sub_similarity_list())


def assign_themes(ws: Any, *, sources: Sequence[str] = DEFAULT_SOURCES, everything: bool = False) -> RunReport:
    """Assign rows not yet assigned under the current model version (all rows with ``everything``).

    Texts in a language the model does not cluster get their language theme (a note counts them).
    """
    sources = theme_store.check_sources(sources)
    model = load_model(ws.path)
    wh = ws.warehouse
    version = None if everything else model.version
    data = [theme_store.read_texts(wh, s, unassigned_for=version) for s in sources]
    written, theme_ids = _write_all(wh, model, data, replace_all=everything)
    skipped = sum(len(d.texts) for d in data) - sum(written.values())
    notes = tuple(langs.notes(theme_ids, model.languages))
    return RunReport("assign", model.version, len(model.themes), written, skipped, notes)


def _write_all(wh: Any, model: ThemeModel, data: Sequence[theme_store.SourceTexts], *,
               replace_all: bool) -> tuple[dict[str, int], list[str]]:
    import pyarrow as pa  # noqa: PLC0415

    tables, written, theme_ids = [], {}, []
    for d in data:
        prepared = prepare(d.texts)
        assigned = model.assign(prepared.texts)
        ids = [d.ids[i] for i in prepared.positions]
        tables.append(_rows(d.source_table, ids, assigned, model.version))
        written[d.source_table] = len(ids)
        theme_ids.extend(assigned.theme_ids)
    rows = pa.concat_tables(tables) if tables else theme_store.SCHEMA.empty_table()
    theme_store.write(wh, rows, replace_all=replace_all)
    return written, theme_ids


def theme_assignments(ws: Any) -> Any:
    """Every stored assignment (a pyarrow table), ordered by source table and id."""
    a = theme_store.assignments(ws.warehouse)
    return a.order_by(["source_table", "source_id"]).to_pyarrow()


def ensure_themes(ws: Any, *, options: FitOptions = FitOptions(), now: datetime) -> RunReport:
    """Fit when the workspace has no model yet, else assign the rows that are new since."""
    if not has_model(ws.path):
        return fit_themes(ws, options=options, now=now)
    return assign_themes(ws)


def theme_model(ws: Any) -> ThemeModel:
    """The saved model of the workspace (a clear error when none was fitted)."""
    return load_model(ws.path)


def theme_summary(ws: Any, *, grain: str = "month", periods: int = 6, examples: int = 3,
                  confidence: float = 0.95, now: datetime) -> ThemeSummary:
    """Per theme: count, share, trend over the last ``periods`` grains, examples and NPS/CSAT impact."""
    return summarise(ws, load_model(ws.path), grain=grain, periods=periods, examples=examples,
                     confidence=confidence, now=now)


def rename_theme(ws: Any, theme_id: str, label: str, *, now: datetime) -> RunReport:
    """Give a theme or a sub-theme a user label (kept across refits); assignments are relabelled."""
    return _save_and_reassign(ws, theme_edits.rename(load_model(ws.path), theme_id, label, now), "rename")


def merge_themes(ws: Any, keep: str, drop: str, *, sources: Sequence[str] = DEFAULT_SOURCES,
                 now: datetime) -> RunReport:
    """Merge theme ``drop`` into ``keep`` (kept across refits); every text is re-assigned.

    The sub-themes of ``keep`` are fitted again on the texts of both (ids kept by overlap).
    """
    model = theme_edits.merge(load_model(ws.path), keep, drop, now)
    texts, old_sub = _assigned_texts(ws, (keep, drop), theme_store.check_sources(sources))
    vectors = model.encoder.transform(texts) if texts else np.zeros((0, 1), dtype=np.float32)
    return _save_and_reassign(ws, _refit_children(model, {keep: (vectors, texts, old_sub)}), "merge")


def split_theme(ws: Any, theme_id: str, *, sources: Sequence[str] = DEFAULT_SOURCES, now: datetime) -> RunReport:
    """Split a theme in two by its assigned texts (kept across refits); every text is re-assigned.

    Each part gets sub-themes of its own, fitted on its texts (new ids).
    """
    theme_edits.check_editable(theme_id, "split")
    model = load_model(ws.path)
    model.theme(theme_id)
    texts, _ = _assigned_texts(ws, (theme_id,), theme_store.check_sources(sources))
    vectors = model.encoder.transform(texts) if texts else np.zeros((0, 1), dtype=np.float32)
    edited = theme_edits.split(model, theme_id, texts, vectors, now)
    children = edited.edits[-1].children
    parts = (vectors @ np.vstack([edited.theme(c).centroid for c in children]).T).argmax(axis=1)
    groups = {c: (vectors[parts == i], [t for t, p in zip(texts, parts) if p == i], None)
              for i, c in enumerate(children)}
    return _save_and_reassign(ws, _refit_children(edited, groups), "split")


def _refit_children(model: ThemeModel, groups: dict[str, tuple[np.ndarray, list[str], list[str | None] | None]],
                    options: FitOptions = FitOptions()) -> ThemeModel:
    """The model with the sub-themes of the themes in ``groups`` fitted again on (vectors, texts, old sub ids)."""
    from dataclasses import replace  # noqa: PLC0415

    renames = sub_renames(model.edits)
    themes = tuple(
        fit_children(t, groups[t.id][0], groups[t.id][1], min_texts=options.sub_min_texts, most=options.sub_max,
                     min_size=options.min_size, seed=options.seed, old_sub_ids=groups[t.id][2],
                     next_child=t.next_child, renames=renames) if t.id in groups else t
        for t in model.themes)
    return replace(model, themes=themes)


def _assigned_texts(ws: Any, theme_ids: Sequence[str], sources: Sequence[str]) -> tuple[list[str], list[str | None]]:
    """The texts assigned to any of ``theme_ids`` and their stored sub-theme ids."""
    wh = ws.warehouse
    a = theme_store.assignments(wh)
    texts: list[str] = []
    subs: list[str | None] = []
    for s in sources:
        t = theme_store.text_expr(wh.table(s), s)
        mine = a.filter((a.source_table == s) & a.theme_id.isin(list(theme_ids)))
        joined = t.inner_join(mine, t.source_id == mine.source_id).select("source_id", "text", "sub_theme_id")
        df = joined.order_by("source_id").to_pyarrow()
        prepared = prepare(df["text"].to_pylist())
        column = df["sub_theme_id"].to_pylist()
        texts.extend(prepared.texts)
        subs.extend(column[i] for i in prepared.positions)
    return texts, subs


def _save_and_reassign(ws: Any, model: ThemeModel, action: str) -> RunReport:
    a = theme_store.assignments(ws.warehouse)
    sources = sorted(a.select("source_table").distinct().to_pandas()["source_table"]) or list(DEFAULT_SOURCES)
    save_model(ws.path, model)
    report = assign_themes(ws, sources=sources, everything=True)
    return RunReport(action, report.model_version, report.themes, report.written, report.skipped_empty)


__all__ = [
    "DiscoveryResult", "FitOptions", "RunReport", "SubThemeFigures", "TextTheme", "Theme", "ThemeModel",
    "ThemeSummary",
    "assign_themes", "discover_themes", "ensure_themes", "fit_themes", "merge_themes", "rename_theme",
    "split_theme", "theme_assignments",
    "theme_model", "theme_summary",
]
