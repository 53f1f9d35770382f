"""A journey map as one self-contained HTML page (inline CSS and SVG; nothing loaded from anywhere).

Formatting only: every number comes from :class:`cxlens.journey.map.JourneyMap`.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cxlens.journey.experience import PainPoint, TouchpointExperience
    from cxlens.journey.map import JourneyMap, StageMap

CHANNEL_COLORS = {
    "web": "#2563eb", "app": "#7c3aed", "phone": "#0891b2", "email": "#ca8a04", "store": "#16a34a",
    "chat": "#db2777", "social": "#ea580c", "courier": "#64748b", "field": "#475569",
}
_CSS = """
*{box-sizing:border-box}body{font:13px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1f2937;
margin:24px;background:#fff}h1{font-size:22px;margin:0 0 4px}.sub{color:#6b7280;margin-bottom:16px}
table{border-collapse:separate;border-spacing:6px 0;width:100%;table-layout:fixed}
th.row{width:120px;text-align:right;color:#6b7280;font-weight:600;font-size:11px;text-transform:uppercase;
letter-spacing:.04em;padding:8px 6px;vertical-align:top}
td{vertical-align:top;padding:8px;background:#f8fafc;border-bottom:1px solid #e5e7eb}
tr.stages td{background:none;padding:0}.chev{background:#1e3a8a;color:#fff;font-weight:700;padding:10px 14px;
clip-path:polygon(0 0,92% 0,100% 50%,92% 100%,0 100%,8% 50%);text-align:center;min-height:44px}
.chev small{display:block;font-weight:400;opacity:.8}
.chip{display:inline-block;margin:0 4px 4px 0;padding:2px 6px;border-radius:10px;background:#fff;
border:1px solid #d1d5db;font-size:11px;white-space:nowrap}.chip i{display:inline-block;width:8px;height:8px;
border-radius:50%;margin-right:4px}.chip.indirect{border-style:dashed}.num{font-size:18px;font-weight:700}
.ci{color:#6b7280;font-size:11px}.good{color:#15803d}.bad{color:#b91c1c}.muted{color:#9ca3af}
.pain{background:#fef2f2;border-left:4px solid #dc2626;padding:6px;margin-bottom:6px;border-radius:3px}
.pain b{color:#991b1b}.pain q{display:block;color:#4b5563;font-style:italic;margin-top:4px;font-size:11px}
.theme{padding:2px 0}
.delight{background:#f0fdf4;border-left:4px solid #16a34a;padding:6px;margin-bottom:6px;border-radius:3px}
.legend{color:#6b7280;font-size:11px;margin-top:10px}svg text{font:11px system-ui,sans-serif;fill:#374151}
@media print{body{margin:8mm}@page{size:A3 landscape}}
"""


def render_map(m: JourneyMap) -> str:
    n = len(m.stages)
    head = (f"<h1>Customer journey: {escape(m.journey)} <span class='muted'>v{m.version}</span></h1>"
            f"<div class='sub'>{escape(m.description)} · period {_period(m)}{_segment(m)}</div>")
    rows = [
        _row("", [f"<div class='chev'>{escape(s.stage)}<small>{s.customers:,} customers</small></div>"
                  for s in m.stages], "stages"),
        _row("Emotion", [_curve_cell(m)], colspan=n),
        _row("Touchpoints", [_chips(s) for s in m.stages]),
        _row("Channels", [escape(", ".join(s.channels)) or _none() for s in m.stages]),
        _row("Events", [f"{s.events:,}" for s in m.stages]),
        _row("To next stage", [_conversion(s) for s in m.stages]),
        _row("Days in stage", [_days(s) for s in m.stages]),
        _row("Scores", [_scores(s) for s in m.stages]),
        _row("Sentiment", [_sentiment(s) for s in m.stages]),
        _row("Pain points", [_pains(s.pain_points) for s in m.stages]),
        _row("Top themes", [_themes(s) for s in m.stages]),
        _row("Delights", [_delights(s.delights) for s in m.stages]),
    ]
    legend = ("<div class='legend'>Conversion: share of customers entering the stage in the period who reached "
              "the next stage (within the stage's window; 95% Wilson interval). Sentiment: mean comment sentiment "
              "(-1..1) against the stage's target (dashed). Pain points: poor scores and high drop-off, ranked by "
              "customers affected. Dashed chips are indirect touchpoints.</div>")
    body = f"{head}<table>{''.join(rows)}</table>{legend}"
    title = f"Journey map: {escape(m.journey)}"
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
            f"<meta name='viewport' content='width=device-width,initial-scale=1'><style>{_CSS}</style></head>"
            f"<body>{body}</body></html>\n")


def _period(m: JourneyMap) -> str:
    scope = m.scope.to_dict()
    return f"{escape(scope['since'] or 'start')} – {escape(scope['until'] or '')}"


def _segment(m: JourneyMap) -> str:
    if not m.segment:
        return ""
    return f" · customers with {escape(m.segment['column'])} in {escape(', '.join(m.segment['values']))}"


def _row(label: str, cells: list[str], cls: str = "", colspan: int = 1) -> str:
    tds = "".join(f"<td colspan='{colspan}'>{c}</td>" if colspan > 1 else f"<td>{c}</td>" for c in cells)
    return f"<tr class='{cls}'><th class='row'>{escape(label)}</th>{tds}</tr>"


def _none() -> str:
    return "<span class='muted'>–</span>"


def _chips(s: StageMap) -> str:
    if not s.touchpoints:
        return _none()
    out = []
    for t in s.touchpoints:
        color = CHANNEL_COLORS.get(t.channel or "", "#9ca3af")
        cls = "chip indirect" if t.direct is False else "chip"
        out.append(f"<span class='{cls}' title='{escape(t.channel or '')}'><i style='background:{color}'></i>"
                   f"{escape(t.touchpoint)} <span class='muted'>{t.customers:,}</span></span>")
    return "".join(out)


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{100 * v:.0f}%"


def _conversion(s: StageMap) -> str:
    c = s.conversion
    if c is None or c.value is None:
        return _none()
    return (f"<div class='num'>{_pct(c.value)}</div><div class='ci'>{_pct(c.ci_low)}–{_pct(c.ci_high)} · "
            f"{c.successes:,}/{c.n:,}</div>")


def _days(s: StageMap) -> str:
    if s.median_days_in_stage is None:
        return _none()
    return f"<div class='num'>{duration_text(s.median_days_in_stage)}</div><div class='ci'>median to next stage</div>"


def duration_text(days: float) -> str:
    """A readable duration: days from one day up, else hours, else minutes."""
    if days >= 1:
        return f"{days:.1f} days"
    if days * 24 >= 1:
        return f"{days * 24:.1f} hours"
    return f"{days * 1440:.0f} min"


def _scores(s: StageMap) -> str:
    e = s.emotion
    parts = []
    if e.nps is not None:
        parts.append(f"NPS <b>{e.nps:+.0f}</b>")
    if e.csat_top_box is not None:
        parts.append(f"CSAT <b>{_pct(e.csat_top_box)}</b>")
    if e.ces_easy is not None:
        parts.append(f"CES easy <b>{_pct(e.ces_easy)}</b>")
    if not parts:
        return _none()
    return "<br>".join(parts) + f"<div class='ci'>{e.responses:,} responses</div>"


def _sentiment(s: StageMap) -> str:
    e = s.emotion
    if e.sentiment is None:
        return _none()
    gap = e.gap
    gap_html = "" if gap is None else f" <span class='{'good' if gap >= 0 else 'bad'}'>({gap:+.2f} vs target)</span>"
    return f"<b>{e.sentiment:+.2f}</b>{gap_html}<div class='ci'>{e.comments:,} comments</div>"


def _pains(pains: tuple[PainPoint, ...]) -> str:
    if not pains:
        return _none()
    out = []
    for p in pains:
        e = p.experience
        quote = f"<q>{escape(e.evidence[0].text[:140])}</q>" if e.evidence else ""
        out.append(f"<div class='pain'><b>#{p.rank} {escape(e.touchpoint)}</b><br>{e.affected:,} customers affected"
                   f"<br>drop-off {_pct(e.drop_off.value)} · poor {_pct(e.poor_share.value)}{quote}</div>")
    return "".join(out)


def _themes(s: StageMap) -> str:
    if not s.themes:
        return _none()
    return "".join(f"<div class='theme'>{escape(t.label)} <span class='muted'>{t.comments:,} · {_pct(t.share)}"
                   f"</span></div>" for t in s.themes)


def _delights(items: tuple[TouchpointExperience, ...]) -> str:
    if not items:
        return _none()
    return "".join(f"<div class='delight'><b>{escape(e.touchpoint)}</b><br>poor {_pct(e.poor_share.value)}"
                   f"{'' if e.sentiment is None else f' · sentiment {e.sentiment:+.2f}'}</div>" for e in items)


def _curve_cell(m: JourneyMap) -> str:
    """Actual mean sentiment per stage (solid) against the targets (dashed), on -1..1.

    x positions are percentages so that each point sits above its stage's column at any width.
    """
    n = len(m.stages)
    height, pad = 150, 22

    def x(i: int) -> str:
        return f"{100 * (i + 0.5) / n:.3f}%"

    def y(v: float) -> float:
        return pad + (1 - (v + 1) / 2) * (height - 2 * pad)

    parts = [f"<svg width='100%' height='{height}' role='img' aria-label='Emotion curve: sentiment per stage'>",
             f"<line x1='0' x2='100%' y1='{y(0):.1f}' y2='{y(0):.1f}' stroke='#d1d5db'/>",
             f"<text x='2' y='{y(0) - 4:.1f}'>neutral</text><text x='2' y='{y(1) + 4:.1f}'>+1</text>"
             f"<text x='2' y='{y(-1):.1f}'>−1</text>"]
    for key, style in (("target", "stroke='#9ca3af' stroke-dasharray='6 4'"), ("sentiment", "stroke='#1e3a8a'")):
        values = [(i, getattr(s.emotion, key)) for i, s in enumerate(m.stages)]
        known = [(i, v) for i, v in values if v is not None]
        for (i, a), (j, b) in zip(known, known[1:], strict=False):
            parts.append(f"<line x1='{x(i)}' y1='{y(a):.1f}' x2='{x(j)}' y2='{y(b):.1f}' stroke-width='2.5' {style}/>")
    for i, s in enumerate(m.stages):
        e = s.emotion
        if e.sentiment is None:
            parts.append(f"<text x='{x(i)}' y='{y(0) + 16:.1f}' text-anchor='middle' fill='#9ca3af'>no comments</text>")
            continue
        color = "#15803d" if (e.gap or 0) >= 0 else "#dc2626"
        parts.append(f"<circle cx='{x(i)}' cy='{y(e.sentiment):.1f}' r='6' fill='{color}'/>"
                     f"<text x='{x(i)}' dx='10' y='{y(e.sentiment) + 4:.1f}'>{e.sentiment:+.2f}</text>")
    parts.append("</svg>")
    return "".join(parts)
