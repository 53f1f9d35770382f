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

See ``docs/themes.md`` for the methods and the measurements behind the defaults.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cxlens.errors import CxlensInputError
from cxlens.text import theme_edits, theme_store
from cxlens.text.theme_fit import FitOptions, fit_model, prepare
from cxlens.text.theme_impact import ThemeSummary, summarise
from cxlens.text.theme_model import OTHER_ID, OTHER_LABEL, Theme, ThemeModel, has_model, load_model, save_model

DEFAULT_SOURCES = ("responses", "tickets")


@dataclass(frozen=True)
class TextTheme:
    """The theme of one input text (``theme_id`` is None for a skipped empty text)."""

    id: Any
    theme_id: str | None
    theme_label: str | None
    similarity: float | None

    def to_dict(self) -> dict[str, Any]:
        sim = None if self.similarity is None else round(self.similarity, 4)
        return {"id": self.id, "theme_id": self.theme_id, "theme_label": self.theme_label, "similarity": sim}


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
        return rows + [{"theme_id": OTHER_ID, "label": OTHER_LABEL, "keywords": "", "count": counts.get(OTHER_ID, 0)}]


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
    found = dict(zip(fit.prepared.positions, zip(fit.theme_ids, fit.similarities.tolist())))
    rows = []
    for i, key in enumerate(keys):
        if i in found:
            theme_id, sim = found[i]
            rows.append(TextTheme(key, theme_id, fit.model.label_of(theme_id), float(sim)))
        else:
            rows.append(TextTheme(key, None, None, None))
    return DiscoveryResult(fit.model, tuple(rows), tuple(fit.prepared.notes()))


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
                     tuple(fit.prepared.notes()))


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
        theme_ids = [fit.theme_ids[j] for j in mine]
        labels = [fit.model.label_of(t) for t in theme_ids]
        sims = [float(fit.similarities[j]) for j in mine]
        tables.append(theme_store.rows_table(d.source_table, ids, theme_ids, labels, sims, fit.model.version))
        written[d.source_table] = len(ids)
    rows = pa.concat_tables(tables) if tables else theme_store.SCHEMA.empty_table()
    theme_store.write(wh, rows, replace_all=True)
    return written


def assign_themes(ws: Any, *, sources: Sequence[str] = DEFAULT_SOURCES, everything: bool = False) -> RunReport:
    """Assign rows not yet assigned under the current model version (all rows with ``everything``)."""
    sources = theme_store.check_sources(sources)
    model = load_model(ws.path)
    wh = ws.warehouse
    version = None if everything else model.version
    data = [theme_store.read_texts(wh, s, unassigned_for=version) for s in sources]
    written = _write_all(wh, model, data, replace_all=everything)
    skipped = sum(len(d.texts) for d in data) - sum(written.values())
    return RunReport("assign", model.version, len(model.themes), written, skipped)


def _write_all(wh: Any, model: ThemeModel, data: Sequence[theme_store.SourceTexts], *,
               replace_all: bool) -> dict[str, int]:
    import pyarrow as pa  # noqa: PLC0415

    tables, written = [], {}
    for d in data:
        prepared = prepare(d.texts)
        assigned = model.assign(prepared.texts)
        ids = [d.ids[i] for i in prepared.positions]
        tables.append(theme_store.rows_table(d.source_table, ids, assigned.theme_ids, assigned.labels,
                                             assigned.similarities.tolist(), model.version))
        written[d.source_table] = len(ids)
    rows = pa.concat_tables(tables) if tables else theme_store.SCHEMA.empty_table()
    theme_store.write(wh, rows, replace_all=replace_all)
    return written


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
    """Give a theme a user label (kept across refits); assignments are relabelled."""
    return _save_and_reassign(ws, theme_edits.rename(load_model(ws.path), theme_id, label, now), "rename")


def merge_themes(ws: Any, keep: str, drop: str, *, now: datetime) -> RunReport:
    """Merge theme ``drop`` into ``keep`` (kept across refits); every text is re-assigned."""
    return _save_and_reassign(ws, theme_edits.merge(load_model(ws.path), keep, drop, now), "merge")


def split_theme(ws: Any, theme_id: str, *, sources: Sequence[str] = DEFAULT_SOURCES, now: datetime) -> RunReport:
    """Split a theme in two by its assigned texts (kept across refits); every text is re-assigned."""
    model = load_model(ws.path)
    model.theme(theme_id)
    texts = _assigned_texts(ws, theme_id, theme_store.check_sources(sources))
    vectors = model.encoder.transform(texts)
    return _save_and_reassign(ws, theme_edits.split(model, theme_id, texts, vectors, now), "split")


def _assigned_texts(ws: Any, theme_id: str, sources: Sequence[str]) -> list[str]:
    wh = ws.warehouse
    a = theme_store.assignments(wh)
    out: list[str] = []
    for s in sources:
        t = theme_store.text_expr(wh.table(s), s)
        mine = a.filter((a.source_table == s) & (a.theme_id == theme_id))
        joined = t.inner_join(mine, t.source_id == mine.source_id).select("source_id", "text").order_by("source_id")
        out.extend(prepare(joined.to_pyarrow()["text"].to_pylist()).texts)
    return out


def _save_and_reassign(ws: Any, model: ThemeModel, action: str) -> RunReport:
    a = theme_store.assignments(ws.warehouse)
    sources = sorted(a.select("source_table").distinct().to_pandas()["source_table"]) or list(DEFAULT_SOURCES)
    save_model(ws.path, model)
    report = assign_themes(ws, sources=sources, everything=True)
    return RunReport(action, report.model_version, report.themes, report.written, report.skipped_empty)


__all__ = [
    "DiscoveryResult", "FitOptions", "RunReport", "TextTheme", "Theme", "ThemeModel", "ThemeSummary",
    "assign_themes", "discover_themes", "ensure_themes", "fit_themes", "merge_themes", "rename_theme",
    "split_theme", "theme_assignments",
    "theme_model", "theme_summary",
]
