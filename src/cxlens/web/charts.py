"""Server-side SVG charts: no JavaScript, no CDN, readable without scripts.

Only drawing happens here (mapping values to pixels); the values and their intervals come from
the metric results. Every text is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

PALETTE = ("#2563eb", "#db2777", "#059669", "#d97706", "#7c3aed", "#0891b2", "#dc2626", "#4b5563")


@dataclass(frozen=True)
class Point:
    label: str
    value: float | None
    low: float | None = None
    high: float | None = None
    #: Where a click on the point or bar leads (the rows behind the figure); None: not a link.
    href: str | None = None


@dataclass(frozen=True)
class Series:
    name: str
    points: tuple[Point, ...]


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.1f}"


def _bounds(values: Sequence[float]) -> tuple[float, float]:
    """The axis range: the values with a margin, never below zero when no value is (hours, rates)."""
    lo, hi = min(values), max(values)
    floor = 0.0 if lo >= 0 else None
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    pad = (hi - lo) * 0.08
    lo, hi = lo - pad, hi + pad
    return (lo if floor is None else max(lo, floor)), hi


def _label(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def _link(href: str | None, label: str, shape: str) -> str:
    """``shape`` wrapped in a keyboard-reachable link when ``href`` is set."""
    if not href:
        return shape
    return f'<a class="drill" href="{escape(href)}" aria-label="{escape(label)}">{shape}</a>'


def series_from_records(records: list[dict[str, Any]], by: Sequence[str],
                        links: Sequence[str | None] | None = None) -> tuple[Series, ...]:
    """One series per breakdown group, points per period (records of a MetricResult); ``links``
    (one per record) make the points links."""
    groups: dict[str, list[Point]] = {}
    for i, r in enumerate(records):
        name = " / ".join(str(r.get(b)) for b in by) or "all"
        groups.setdefault(name, []).append(Point(_label(r.get("period")), r.get("value"), r.get("ci_low"),
                                                 r.get("ci_high"), links[i] if links else None))
    return tuple(Series(k, tuple(v)) for k, v in list(groups.items())[: len(PALETTE)])


def line_chart(series: Sequence[Series], *, width: int = 720, height: int = 260, unit: str = "",
               title: str = "") -> SafeString:
    values = [v for s in series for p in s.points for v in (p.value, p.low, p.high) if v is not None]
    labels = list(dict.fromkeys(p.label for s in series for p in s.points))
    if not values or not labels:
        return mark_safe('<p class="empty">No data in this range.</p>')
    left, right, top, bottom = 56, 16, 16, 34
    lo, hi = _bounds(values)
    step = (width - left - right) / max(len(labels) - 1, 1)

    def x(label: str) -> float:
        return left + labels.index(label) * step if len(labels) > 1 else (left + width - right) / 2

    def y(v: float) -> float:
        return top + (hi - v) / (hi - lo) * (height - top - bottom)

    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">']
    for i in range(5):
        v = lo + (hi - lo) * i / 4
        parts.append(f'<line class="grid" x1="{left}" x2="{width - right}" y1="{y(v):.1f}" y2="{y(v):.1f}"/>'
                     f'<text class="axis" x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end">'
                     f'{escape(_fmt(v) + unit.strip())}</text>')
    ticks = {labels[0]: "start", labels[len(labels) // 2]: "middle", labels[-1]: "end"}
    for label, anchor in ticks.items():
        parts.append(f'<text class="axis" x="{x(label):.1f}" y="{height - 12}" text-anchor="{anchor}">'
                     f'{escape(label)}</text>')
    for i, s in enumerate(series):
        color = PALETTE[i % len(PALETTE)]
        band = [p for p in s.points if p.low is not None and p.high is not None]
        if len(band) > 1:
            pts = [f"{x(p.label):.1f},{y(p.high):.1f}" for p in band]  # type: ignore[arg-type]
            pts += [f"{x(p.label):.1f},{y(p.low):.1f}" for p in reversed(band)]  # type: ignore[arg-type]
            parts.append(f'<polygon class="band" fill="{color}" points="{" ".join(pts)}"/>')
        line = [f"{x(p.label):.1f},{y(p.value):.1f}" for p in s.points if p.value is not None]
        parts.append(f'<polyline class="line" stroke="{color}" points="{" ".join(line)}"/>')
        for p in s.points:
            if p.value is not None:
                text = f"{s.name} {p.label}: {_fmt(p.value)}"
                parts.append(_link(p.href, f"{text} (show the rows)",
                                   f'<circle cx="{x(p.label):.1f}" cy="{y(p.value):.1f}" r="{5 if p.href else 3}" '
                                   f'fill="{color}"><title>{escape(text)}</title></circle>'))
    parts.append("</svg>")
    return mark_safe("".join(parts))


def bar_chart(points: Sequence[Point], *, width: int = 720, unit: str = "", title: str = "",
              decimals: int | None = None) -> SafeString:
    """Horizontal bars with interval whiskers, one per group (values shown with ``decimals``; default: 0 from
    100 up, else 1)."""

    def fmt(v: float) -> str:
        return _fmt(v) if decimals is None else f"{v:,.{decimals}f}"

    values = [v for p in points for v in (p.value, p.low, p.high, 0.0) if v is not None]
    if not points or len(values) <= len(points):
        return mark_safe('<p class="empty">No data in this range.</p>')
    row, left, right, top = 28, 170, 70, 8
    height = top * 2 + row * len(points)
    lo, hi = min(values), max(values)
    hi = hi if hi > lo else lo + 1

    def x(v: float) -> float:
        return left + (v - lo) / (hi - lo) * (width - left - right)

    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
             f'<line class="zero" x1="{x(0.0):.1f}" x2="{x(0.0):.1f}" y1="0" y2="{height}"/>']
    for i, p in enumerate(points):
        cy = top + i * row + row / 2
        parts.append(f'<text class="axis" x="{left - 8}" y="{cy + 4:.1f}" text-anchor="end">'
                     f'{escape(p.label[:28])}</text>')
        if p.value is None:
            continue
        x0, x1 = sorted((x(0.0), x(p.value)))
        text = f"{p.label}: {fmt(p.value)}{unit.strip()}"
        parts.append(_link(p.href, f"{text} (show the rows)",
                           f'<rect class="bar" x="{x0:.1f}" y="{cy - 9:.1f}" width="{max(x1 - x0, 1):.1f}" '
                           f'height="18" fill="{PALETTE[0]}"><title>{escape(text)}</title></rect>'))
        if p.low is not None and p.high is not None:
            parts.append(f'<line class="whisker" x1="{x(p.low):.1f}" x2="{x(p.high):.1f}" '
                         f'y1="{cy:.1f}" y2="{cy:.1f}"/>')
        parts.append(f'<text class="value" x="{max(x1, x(p.high or p.value)) + 6:.1f}" y="{cy + 4:.1f}">'
                     f'{escape(fmt(p.value) + unit.strip())}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))


def sparkline(points: Sequence[Point], *, width: int = 160, height: int = 36) -> SafeString:
    vals = [p.value for p in points if p.value is not None]
    if len(vals) < 2:
        return mark_safe("")
    lo, hi = _bounds(vals)
    step = width / (len(points) - 1)
    coords = [f"{i * step:.1f},{(hi - p.value) / (hi - lo) * height:.1f}"
              for i, p in enumerate(points) if p.value is not None]
    return mark_safe(f'<svg class="spark" viewBox="0 0 {width} {height}" aria-hidden="true">'
                     f'<polyline points="{" ".join(coords)}"/></svg>')


# ------------------------------------------------------------------------------------------ page charts


def _pct(value: float | None) -> float | None:
    return None if value is None else 100 * value


def journey_charts(data: Any) -> dict[str, SafeString]:
    """The charts of the journeys page (a :class:`cxlens.web.pages.JourneysPage`)."""
    steps = data.funnel.groups[0].steps if data.funnel.groups else ()
    funnel = bar_chart([Point(name, _pct(s.conversion.value), _pct(s.conversion.ci_low), _pct(s.conversion.ci_high))
                        for name, s in zip(data.stages, steps, strict=False)], unit="%",
                       title="Customers reaching each stage (% of the first stage)", decimals=0)
    volume = bar_chart([Point(s.stage, float(s.customers)) for s in data.map.stages],
                       title="Customers per stage", decimals=0, width=480)
    feeling = bar_chart([Point(s.stage, s.emotion.sentiment) for s in data.map.stages
                         if s.emotion.sentiment is not None], title="Mean comment sentiment per stage (-1 to 1)",
                        decimals=2, width=480)
    return {"funnel": funnel, "volume": volume, "sentiment": feeling}


def text_charts(data: Any) -> dict[str, Any]:
    """The charts of the text page (a :class:`cxlens.web.pages.TextPage`)."""
    out: dict[str, Any] = {}
    if data.sentiment is not None:
        out["distribution"] = bar_chart([Point(label, float(n)) for label, n in data.sentiment.counts],
                                        title="Texts per sentiment", decimals=0, width=480)
        out["trend"] = line_chart([Series("mean sentiment", tuple(Point(m.period.isoformat(), m.mean)
                                                                   for m in data.sentiment.months))],
                                  title="Mean sentiment by month", height=220, width=480)
    if data.summary is not None:
        out["themes"] = [(t, sparkline([Point(p.period, _pct(p.share)) for p in t.trend]))
                         for t in data.summary.themes]
    return out
