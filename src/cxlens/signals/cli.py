"""``cxlens signals``: metric anomalies and emerging themes of the workspace, with their evidence.

Register with ``main.add_command(signals)`` in ``cxlens.cli``. The command parses options, calls
:func:`cxlens.signals.detect_signals` and prints; no SQL or arithmetic here.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from cxlens import workspace as ws_module
from cxlens.cli_support import _run, format_option, parse_now, print_rows, workspace_option
from cxlens.signals.anomalies import FAMILIES
from cxlens.signals.emerging import EmergingSettings
from cxlens.signals.service import DEFAULT_METRICS, detect_signals


def _filters(where: tuple[str, ...]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for item in where:
        if "=" not in item:
            raise click.BadParameter(f"expected COL=VALUE, got {item!r}", param_hint="--where")
        col, value = item.split("=", 1)
        out.setdefault(col.strip(), []).append(value.strip())
    return out


@click.command(name="signals", context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--kind", type=click.Choice(["all", "anomalies", "emerging"]), default="all", show_default=True,
              help="Which signals: metric anomalies, emerging themes, or both.")
@click.option("--metric", "metrics", multiple=True, type=click.Choice(list(FAMILIES)),
              help=f"Metric to watch for anomalies (repeatable; default: {', '.join(DEFAULT_METRICS)}).")
@click.option("--grain", type=click.Choice(["day", "week", "month", "quarter", "year"]), default="day",
              show_default=True, help="Period of the anomaly series.")
@click.option("--since", help="First day whose period is tested (ISO date; earlier periods serve as baseline).")
@click.option("--until", help="Last day included (ISO date; default: now).")
@click.option("--now", "now_text", help="The reference time (ISO 8601; default: the current time).")
@click.option("--where", "where", multiple=True, metavar="COL=VALUE",
              help="Watch only rows where COL equals VALUE (repeatable; repeated COL means any of).")
@click.option("--by", "by", multiple=True, metavar="COL", help="One series per value of COL (repeatable).")
@click.option("--method", type=click.Choice(["fdr", "sigma"]), default="fdr", show_default=True,
              help="Flag by Benjamini-Hochberg false discovery rate, or by |z| >= --sigma.")
@click.option("--fdr", type=float, default=0.05, show_default=True, help="False discovery rate (both kinds).")
@click.option("--sigma", type=float, default=3.0, show_default=True, help="Limit in standard errors (--method sigma).")
@click.option("--direction", type=click.Choice(["both", "up", "down"]), default="both", show_default=True,
              help="Which anomalies: rises, falls or both.")
@click.option("--baseline-periods", type=click.IntRange(min=1),
              help="Periods before each point that form its baseline (default: 28 days, 12 weeks, 12 months...).")
@click.option("--min-n", type=click.IntRange(min=1),
              help="Answers a period and its baseline need before an NPS or share is tested "
                   "(default: the min_sample_size setting).")
@click.option("--source", type=click.Choice(["all", "responses", "tickets"]), default="all", show_default=True,
              help="Texts for emerging themes.")
@click.option("--theme-model", help="Theme model version to use (needed when several are stored).")
@click.option("--recent-days", type=click.IntRange(min=1), default=7, show_default=True,
              help="Emerging themes: length of the recent period ending at --now.")
@click.option("--baseline-days", type=click.IntRange(min=1), default=56, show_default=True,
              help="Emerging themes: length of the baseline period before the recent one.")
@format_option("table", "json", "csv")
@workspace_option
def signals(kind: str, metrics: tuple[str, ...], grain: str, since: str | None, until: str | None,
            now_text: str | None, where: tuple[str, ...], by: tuple[str, ...], method: str, fdr: float, sigma: float,
            direction: str, baseline_periods: int | None, min_n: int | None, source: str, theme_model: str | None,
            recent_days: int, baseline_days: int, fmt: str, workspace: Path | None) -> None:
    """Find anomalies in metric series and emerging themes in texts, with their evidence.

    The table lists the flagged signals: value, expected value, limits, n, z and p-value (for an
    emerging theme: its recent share, baseline share and the interval of the rise, in %).
    --format json gives every detail, including example texts (PII-redacted).
    """
    def run() -> None:
        emerging = EmergingSettings(recent_days=recent_days, baseline_days=baseline_days, fdr=fdr)
        with ws_module.open_workspace(workspace) as ws:
            result = detect_signals(
                ws, kind=kind, metrics=metrics or DEFAULT_METRICS, grain=grain, since=since, until=until,
                now=parse_now(now_text), where=_filters(where), by=by, source=source, theme_model=theme_model,
                emerging=emerging, method=method, fdr=fdr, sigma=sigma, direction=direction,
                baseline_periods=baseline_periods, min_n=min_n)
        for warning in result.warnings:
            click.echo(f"Warning: {warning}", err=True)
        if fmt == "json":
            click.echo(json.dumps(result.to_dict(), indent=2, default=str, ensure_ascii=False))
            return
        print_rows(result.to_records(), fmt)
    _run(run)


__all__ = ["signals"]
