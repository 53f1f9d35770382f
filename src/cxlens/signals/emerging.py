"""Emerging themes: themes whose share of texts in the latest period rose above their baseline share.

The detector (:func:`detect_emerging`) is a pure function over per-theme counts; the runner
(:func:`emerging_themes`) counts texts per theme and period in the warehouse from the theme
assignments (table ``text_theme_assignments``: ``source_table``, ``source_id``, ``theme_id``,
``theme_label``, ``similarity``, ``model_version``) joined to ``responses`` (``submitted_at``) and
``tickets`` (``created_at``) for the time.

Method
------
Periods (``now`` explicit): the **recent** period is the ``recent_days`` days before ``now``; the
**baseline** is the ``baseline_days`` days before that. The denominators are every non-empty text
(response comments, ticket subjects and descriptions) of each period, whether or not a theme was
assigned; a text with several themes counts once in each.

For each theme with ``x1`` of ``n1`` recent texts and ``x0`` of ``n0`` baseline texts:

- shares ``p1 = x1 / n1`` and ``p0 = x0 / n0``; the difference ``p1 - p0`` with Newcombe's hybrid
  score interval (method 10, from Wilson intervals; :func:`cxlens.stats.intervals.newcombe_difference`);
- the one-sided p-value of the pooled two-proportion z-test ``z = (p1 - p0) / sqrt(P (1 - P) (1/n1 + 1/n0))``
  (``P`` the pooled share): the chance of a rise at least this large if the share had not changed;
- a theme is tested only when ``x1 >= min_recent`` (default 5): a handful of texts is not a signal;
- multiple testing: the Benjamini–Hochberg procedure over the tested themes at false discovery
  rate ``fdr`` (default 0.05); ``q_value`` is the BH-adjusted p-value.

A theme is **emerging** when BH rejects its test and the Newcombe interval lies above 0.
The evidence carries up to ``examples`` recent texts of the theme (highest similarity first),
always PII-redacted: the stored ``redacted_text`` of ``text_annotations`` when the text was
annotated, else redacted on the fly.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import ibis
import pandas as pd
from scipy import stats

from cxlens.errors import CxlensInputError, WorkspaceError
from cxlens.signals.fdr import benjamini_hochberg, check_rate
from cxlens.stats.intervals import newcombe_difference
from cxlens.text.annotate import TextSource, check_source
from cxlens.text.pii import redact

THEMES_TABLE = "text_theme_assignments"
THEME_COLUMNS = ("source_table", "source_id", "theme_id", "theme_label", "similarity", "model_version")
EXAMPLE_CHARS = 280
#: The theme id the theme model gives to texts no theme fits (below its similarity floor).
UNASSIGNED_THEME = "other"
UNASSIGNED_NOTE = "texts no theme fits: a rise suggests a new topic (refit the theme model to name it)"


@dataclass(frozen=True)
class ThemeCounts:
    """Texts of one theme in the recent and the baseline period."""

    theme_id: str
    theme_label: str
    recent: int
    baseline: int


@dataclass(frozen=True)
class EmergingSettings:
    """Periods and test parameters (see the module docstring)."""

    recent_days: int = 7
    baseline_days: int = 56
    min_recent: int = 5
    fdr: float = 0.05
    confidence: float = 0.95
    examples: int = 3

    def check(self) -> EmergingSettings:
        for name in ("recent_days", "baseline_days", "min_recent"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise CxlensInputError(f"The '{name}' parameter must be a whole number of 1 or more. "
                                       f"Got {value!r} instead.")
        if isinstance(self.examples, bool) or not isinstance(self.examples, int) or self.examples < 0:
            raise CxlensInputError(f"The 'examples' parameter must be a whole number of 0 or more. "
                                   f"Got {self.examples!r} instead.")
        check_rate("fdr", self.fdr)
        check_rate("confidence", self.confidence)
        return self


@dataclass(frozen=True)
class EmergingTheme:
    """The evidence for one theme: counts, shares, the difference with its interval, the test."""

    theme_id: str
    theme_label: str
    recent: int
    recent_total: int
    baseline: int
    baseline_total: int
    recent_share: float | None
    baseline_share: float | None
    difference: float | None
    ci_low: float | None
    ci_high: float | None
    z: float | None
    p_value: float | None
    q_value: float | None
    emerging: bool
    note: str | None = None
    examples: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in ("theme_id", "theme_label", "recent", "recent_total", "baseline", "baseline_total"):
            out[name] = getattr(self, name)
        for name in ("recent_share", "baseline_share", "difference", "ci_low", "ci_high", "z"):
            out[name] = _r(getattr(self, name))
        out.update(p_value=_sig(self.p_value), q_value=_sig(self.q_value), emerging=self.emerging,
                   note=self.note, examples=list(self.examples))
        return out


def _r(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else round(float(value), 6)


def _sig(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else float(f"{value:.4g}")


# --------------------------------------------------------------------------------------------------
# The detector (pure)
# --------------------------------------------------------------------------------------------------


def detect_emerging(counts: Sequence[ThemeCounts], recent_total: int, baseline_total: int,
                    settings: EmergingSettings = EmergingSettings()) -> list[EmergingTheme]:
    """Test each theme's rise in share (see the module docstring); ordered by p-value, untested last."""
    settings = settings.check()
    for c in counts:
        if c.recent > recent_total or c.baseline > baseline_total or min(c.recent, c.baseline) < 0:
            raise CxlensInputError(
                f"Theme {c.theme_id!r} has {c.recent} recent and {c.baseline} baseline texts, but the periods "
                f"hold {recent_total} and {baseline_total} texts: a theme's count must be between 0 and its "
                f"period's total."
            )
    tests = [_test(c, recent_total, baseline_total, settings) for c in counts]
    tests = [_with(t, note=UNASSIGNED_NOTE) if t.theme_id == UNASSIGNED_THEME and t.note is None else t
             for t in tests]
    tested = [i for i, t in enumerate(tests) if t.p_value is not None]
    decision = benjamini_hochberg([tests[i].p_value for i in tested], settings.fdr)  # type: ignore[misc]
    out = list(tests)
    for k, i in enumerate(tested):
        t = tests[i]
        emerging = decision.rejected[k] and t.ci_low is not None and t.ci_low > 0
        out[i] = _with(t, q_value=decision.adjusted[k], emerging=emerging)
    return sorted(out, key=lambda t: (t.p_value is None, t.p_value if t.p_value is not None else 0.0, t.theme_id))


def _with(t: EmergingTheme, **changes: Any) -> EmergingTheme:
    return EmergingTheme(**{**t.__dict__, **changes})


def _test(c: ThemeCounts, n1: int, n0: int, s: EmergingSettings) -> EmergingTheme:
    share1 = c.recent / n1 if n1 else None
    share0 = c.baseline / n0 if n0 else None
    base = dict(theme_id=c.theme_id, theme_label=c.theme_label, recent=c.recent, recent_total=n1,
                baseline=c.baseline, baseline_total=n0, recent_share=share1, baseline_share=share0)
    if n1 == 0 or n0 == 0:
        note = "no texts in the recent period" if n1 == 0 else "no texts in the baseline period"
        return EmergingTheme(**base, difference=None, ci_low=None, ci_high=None, z=None, p_value=None,  # type: ignore[arg-type]
                             q_value=None, emerging=False, note=note)
    d = newcombe_difference(c.recent, n1, c.baseline, n0, s.confidence)
    if c.recent < s.min_recent:
        return EmergingTheme(**base, difference=d.estimate, ci_low=d.ci_low, ci_high=d.ci_high, z=d.z,  # type: ignore[arg-type]
                             p_value=None, q_value=None, emerging=False,
                             note=f"only {c.recent} recent text(s); {s.min_recent} needed to test")
    p_up = float(stats.norm.sf(d.z)) if d.z is not None else None
    return EmergingTheme(**base, difference=d.estimate, ci_low=d.ci_low, ci_high=d.ci_high, z=d.z,  # type: ignore[arg-type]
                         p_value=p_up, q_value=None, emerging=False)


# --------------------------------------------------------------------------------------------------
# The runner (warehouse)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EmergingQuery:
    """Which texts, which theme model, which periods (ending at ``now``) and test settings."""

    now: datetime
    source: str = "all"
    theme_model: str | None = None
    settings: EmergingSettings = field(default_factory=EmergingSettings)

    def periods(self) -> tuple[datetime, datetime, datetime]:
        """(baseline start, recent start, end) as naive UTC datetimes."""
        end = self.now.astimezone(UTC).replace(tzinfo=None) if self.now.tzinfo else self.now
        recent = end - timedelta(days=self.settings.recent_days)
        return recent - timedelta(days=self.settings.baseline_days), recent, end


@dataclass(frozen=True)
class EmergingResult:
    """Every tested theme with its evidence; ``emerging`` lists the flagged ones."""

    theme_model: str
    recent: tuple[datetime, datetime]
    baseline: tuple[datetime, datetime]
    recent_total: int
    baseline_total: int
    themes: tuple[EmergingTheme, ...]
    method: str

    @property
    def emerging(self) -> tuple[EmergingTheme, ...]:
        return tuple(t for t in self.themes if t.emerging)

    def to_records(self, emerging_only: bool = False) -> list[dict[str, Any]]:
        return [t.to_dict() for t in self.themes if t.emerging or not emerging_only]

    def to_pandas(self) -> pd.DataFrame:
        return pd.DataFrame.from_records(self.to_records())

    def to_dict(self) -> dict[str, Any]:
        return {"theme_model": self.theme_model, "method": self.method,
                "recent": [d.isoformat() for d in self.recent], "baseline": [d.isoformat() for d in self.baseline],
                "recent_total": self.recent_total, "baseline_total": self.baseline_total,
                "emerging": self.to_records(emerging_only=True)}


def emerging_themes(tables: Mapping[str, ibis.Table], assignments: ibis.Table | None,
                    annotations: ibis.Table | None, query: EmergingQuery) -> EmergingResult:
    """Count texts per theme and period in the warehouse, test them, attach redacted examples."""
    s = query.settings.check()
    if assignments is None:
        raise WorkspaceError(
            f"The warehouse has no table {THEMES_TABLE}: emerging themes need theme assignments. Assign "
            f"themes to the texts first (the theme model writes {THEMES_TABLE})."
        )
    _check_columns(assignments)
    model = _theme_model(assignments, query.theme_model)
    start, recent, end = query.periods()
    texts = _texts(tables, check_source(query.source), start, recent, end)
    themed = _assigned(assignments, model, texts)
    totals = dict(texts.group_by("period").aggregate(n=texts.count()).to_pandas().itertuples(index=False))
    counts = _theme_counts(themed)
    n1, n0 = int(totals.get("recent", 0)), int(totals.get("baseline", 0))
    tested = detect_emerging(counts, n1, n0, s)
    flagged = [t.theme_id for t in tested if t.emerging]
    examples = _examples(themed, annotations, flagged, s.examples) if flagged and s.examples else {}
    themes = tuple(_with(t, examples=examples.get(t.theme_id, ())) if t.emerging else t for t in tested)
    method = (f"one-sided pooled two-proportion z-test, Newcombe interval, Benjamini-Hochberg at FDR {s.fdr:g}; "
              f"recent {s.recent_days} days vs the {s.baseline_days} days before")
    return EmergingResult(model, (recent, end), (start, recent), n1, n0, themes, method)


def _check_columns(assignments: ibis.Table) -> None:
    missing = [c for c in THEME_COLUMNS if c not in assignments.columns]
    if missing:
        raise WorkspaceError(
            f"The table {THEMES_TABLE} lacks the column(s) {', '.join(missing)}; it needs "
            f"{', '.join(THEME_COLUMNS)}. Re-create it with the theme model."
        )


def _theme_model(assignments: ibis.Table, requested: str | None) -> str:
    found = assignments.select("model_version").distinct().to_pandas()["model_version"].dropna()
    versions = sorted(str(v) for v in found)
    if requested is not None:
        if requested not in versions:
            raise CxlensInputError(
                f"The 'theme_model' parameter must name a model version present in {THEMES_TABLE}: "
                f"{', '.join(versions) or '(none: the table is empty)'}. Got {requested!r} instead."
            )
        return requested
    if len(versions) == 1:
        return versions[0]
    if not versions:
        raise WorkspaceError(f"The table {THEMES_TABLE} is empty: assign themes to the texts first.")
    raise CxlensInputError(
        f"The table {THEMES_TABLE} holds several theme models ({', '.join(versions)}). Choose one with "
        f"theme_model= (CLI: --theme-model)."
    )


def _has_text(t: ibis.Table, src: TextSource) -> ibis.Value:
    conds = [(t[c].strip().length() > 0).fill_null(False) for c in src.text_columns]
    out = conds[0]
    for c in conds[1:]:
        out = out | c
    return out


def _text_expr(t: ibis.Table, src: TextSource) -> ibis.Value:
    parts = [t[c].fill_null("") for c in src.text_columns]
    out = parts[0]
    for p in parts[1:]:
        out = out + "\n" + p
    return out.strip()


def _texts(tables: Mapping[str, ibis.Table], sources: Sequence[TextSource], start: datetime, recent: datetime,
           end: datetime) -> ibis.Table:
    """One row per non-empty text of the two periods: source_table, source_id, period, text."""
    parts = []
    for src in sources:
        t = tables[src.table]
        ts = t[src.time_column]
        t = t.filter(_has_text(t, src) & (ts >= start) & (ts < end))
        parts.append(t.select(source_table=ibis.literal(src.table), source_id=t[src.key].cast("string"),
                              period=(t[src.time_column] >= recent).ifelse("recent", "baseline"),
                              text=_text_expr(t, src)))
    return parts[0] if len(parts) == 1 else ibis.union(*parts)


def _assigned(assignments: ibis.Table, model: str, texts: ibis.Table) -> ibis.Table:
    a = assignments.filter(assignments.model_version == model)
    a = a.group_by("source_table", "source_id", "theme_id").aggregate(
        theme_label=a.theme_label.max(), similarity=a.similarity.max())
    j = a.join(texts, [a.source_table == texts.source_table, a.source_id == texts.source_id])
    return j.select("source_table", "source_id", "theme_id", "theme_label", "similarity", "period", "text")


def _theme_counts(themed: ibis.Table) -> list[ThemeCounts]:
    recent = (themed.period == "recent").cast("int64")
    agg = themed.group_by("theme_id").aggregate(theme_label=themed.theme_label.max(), recent=recent.sum(),
                                                baseline=(1 - recent).sum())
    df = agg.to_pandas()
    return [ThemeCounts(str(r.theme_id), str(r.theme_label), int(r.recent), int(r.baseline))
            for r in df.itertuples(index=False)]


def _examples(themed: ibis.Table, annotations: ibis.Table | None, themes: Sequence[str],
              k: int) -> dict[str, tuple[str, ...]]:
    t = themed.filter((themed.period == "recent") & themed.theme_id.isin(list(themes)))
    rank = ibis.row_number().over(group_by=t.theme_id, order_by=[ibis.desc(t.similarity), t.source_id])
    t = t.mutate(_rank=rank).filter(lambda x: x._rank < k)
    if annotations is not None:
        a = annotations.group_by("source_table", "source_id").aggregate(
            redacted_text=annotations.redacted_text.max())
        t = t.left_join(a, [t.source_table == a.source_table, t.source_id == a.source_id]).select(
            "theme_id", "similarity", "source_id", "text", "redacted_text", "_rank")
    else:
        t = t.mutate(redacted_text=ibis.null("string"))
    df = t.order_by(["theme_id", "_rank"]).to_pandas()
    out: dict[str, list[str]] = {}
    for r in df.itertuples(index=False):
        shown = r.redacted_text if isinstance(r.redacted_text, str) else redact(str(r.text)).text
        out.setdefault(str(r.theme_id), []).append(_shorten(shown))
    return {key: tuple(v) for key, v in out.items()}


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXAMPLE_CHARS else text[:EXAMPLE_CHARS - 1] + "…"


__all__ = [
    "THEMES_TABLE", "THEME_COLUMNS", "EmergingQuery", "EmergingResult", "EmergingSettings",
    "EmergingTheme", "ThemeCounts", "detect_emerging", "emerging_themes",
]
