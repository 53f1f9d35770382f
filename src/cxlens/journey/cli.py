"""``cxlens journey``: funnels, paths, stuck customers, pain points and the journey map.

Register with ``main.add_command(journey)``. Commands parse options, call ``cxlens.journey`` and
print; errors the user can fix exit with code 2 and an ``Error: ...`` line on stderr.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from cxlens import workspace as ws_module
from cxlens.cli_support import _run, format_option, parse_now, print_rows, workspace_option
from cxlens.errors import CxlensInputError
from cxlens.journey import api
from cxlens.journey.definition import compare_journeys, journey_from_dict, list_journeys, load_journey, save_journey
from cxlens.journey.map import check_output

_GRAINS = click.Choice(["day", "week", "month", "quarter", "year"])



def _period_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("--journey", "journey_name", help="Saved journey (DIR/journeys/NAME.toml; default: the "
                     "default template)."),
        click.option("--since", help="First day included (ISO date)."),
        click.option("--until", help="Last day included (ISO date; default: now)."),
        click.option("--now", "now_text", help="The reference time (ISO 8601; default: the current time)."),
        workspace_option,
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _emit(data: dict[str, Any], rows: list[dict[str, Any]], fmt: str) -> None:
    if fmt == "json":
        click.echo(json.dumps(data, indent=2, default=str, ensure_ascii=False))
    else:
        print_rows(rows, fmt)


@click.group(name="journey", context_settings={"help_option_names": ["-h", "--help"]})
def journey() -> None:
    """Journey analytics: funnels, paths, stuck customers, pain points and the journey map.

    Steps and anchors are touchpoints (web_checkout), stages (stage:Onboarding) or event filters
    (touchpoint=web_checkout&channel=web). Journeys live in DIR/journeys/NAME.toml.
    """


@journey.command()
@click.option("--steps", required=True, help="Comma-separated steps in order, e.g. plans_page,web_checkout,"
              "stage:Onboarding.")
@click.option("--window", default="14d", show_default=True, help="Conversion window from step 1 (30m, 36h, 14d, 2w).")
@click.option("--order", type=click.Choice(["sequential", "strict", "any"]), default="sequential", show_default=True,
              help="sequential: in order, other events between allowed; strict: consecutive events; any: steps "
                   "after the first in any order.")
@click.option("--by", help="Break down by an interactions column (value at step 1) or a customers column.")
@click.option("--attribution", type=click.Choice(["first_touch", "customer"]), default="first_touch",
              show_default=True, help="Where the breakdown value comes from.")
@click.option("--exclude", multiple=True, help="Leave out customers with this step between step 1 and the last "
              "step (repeatable).")
@click.option("--grain", type=_GRAINS, help="Also print the conversion trend by this grain (of the step-1 time).")
@click.option("--confidence", type=float, default=0.95, show_default=True, help="Interval confidence level.")
@_period_options
@format_option("table", "json", "csv")
def funnel(steps: str, window: str, order: str, by: str | None, attribution: str, exclude: tuple[str, ...],
           grain: str | None, confidence: float, journey_name: str | None, since: str | None, until: str | None,
           now_text: str | None, workspace: Path | None, fmt: str) -> None:
    """Customers reaching each step, conversion with Wilson intervals, drop-off and time to convert."""
    def run() -> None:
        with ws_module.open_workspace(workspace) as ws:
            result = api.run_funnel(ws, steps, journey=journey_name, now=parse_now(now_text), window=window,
                                    order=order, by=by, attribution=attribution, exclude=list(exclude),
                                    grain=grain, since=since, until=until, confidence=confidence)
        _emit(result.to_dict(), result.to_records(trend=grain is not None), fmt)
        for w in result.warnings if fmt == "table" else ():
            click.echo(f"Note: {w}", err=True)
    _run(run)


@journey.command()
@click.option("--from", "anchor", required=True, help="The anchor touchpoint.")
@click.option("--direction", type=click.Choice(["after", "before"]), default="after", show_default=True,
              help="Paths after or before the anchor.")
@click.option("--depth", type=click.IntRange(1, 10), default=3, show_default=True, help="Touchpoints per path.")
@click.option("--top", type=click.IntRange(min=1), default=10, show_default=True, help="Paths to list.")
@click.option("--keep-repeats", is_flag=True, help="Count repeated touchpoints in a row separately.")
@click.option("--sankey", is_flag=True, help="Print the Sankey links (source, target, customers) instead.")
@_period_options
@format_option("table", "json", "csv")
def paths(anchor: str, direction: str, depth: int, top: int, keep_repeats: bool, sankey: bool,
          journey_name: str | None, since: str | None, until: str | None, now_text: str | None,
          workspace: Path | None, fmt: str) -> None:
    """The most frequent paths after (or before) a touchpoint, and Sankey data."""
    def run() -> None:
        with ws_module.open_workspace(workspace) as ws:
            result = api.top_paths(ws, anchor, journey=journey_name, since=since, until=until,
                                   now=parse_now(now_text), direction=direction, depth=depth, top=top,
                                   collapse=not keep_repeats)
        rows = result.sankey()["links"] if sankey else result.to_records()
        _emit(result.to_dict(), rows, fmt)
    _run(run)


@journey.command()
@click.option("--days", type=float, required=True, help="Stuck when in the current stage for more than this.")
@click.option("--stage", help="Only this stage.")
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True, help="Customers to list.")
@click.option("--summary", is_flag=True, help="Print counts per stage instead of the customers.")
@click.option("--journey", "journey_name", help="Saved journey (default: the default template).")
@click.option("--now", "now_text", help="The reference time (ISO 8601; default: the current time).")
@workspace_option
@format_option("table", "json", "csv")
def stuck(days: float, stage: str | None, limit: int, summary: bool, journey_name: str | None,
          now_text: str | None, workspace: Path | None, fmt: str) -> None:
    """Customers stuck in their furthest stage for more than --days days."""
    def run() -> None:
        with ws_module.open_workspace(workspace) as ws:
            result = api.stuck_customers(ws, days, journey=journey_name, stage=stage, limit=limit,
                                         now=parse_now(now_text))
        rows = result.to_dict()["stages"] if summary else result.to_records()
        _emit(result.to_dict(), rows, fmt)
    _run(run)


@journey.command()
@click.option("--by", help="Rank within groups: channel, stage or a customers column.")
@click.option("--min-responses", type=click.IntRange(min=1), default=10, show_default=True,
              help="Responses a touchpoint needs to be judged.")
@click.option("--poor-threshold", type=float, default=0.3, show_default=True,
              help="Share of poor responses that makes a touchpoint a pain point.")
@click.option("--drop-threshold", type=float, default=0.2, show_default=True,
              help="Drop-off that makes a touchpoint a pain point.")
@_period_options
@format_option("table", "json", "csv")
def painpoints(by: str | None, min_responses: int, poor_threshold: float, drop_threshold: float,
               journey_name: str | None, since: str | None, until: str | None, now_text: str | None,
               workspace: Path | None, fmt: str) -> None:
    """Touchpoints with poor scores and high drop-off, ranked by customers affected, with evidence."""
    def run() -> None:
        with ws_module.open_workspace(workspace) as ws:
            result = api.pain_point_ranking(ws, journey=journey_name, by=by, since=since, until=until,
                                            now=parse_now(now_text), min_responses=min_responses,
                                            poor_threshold=poor_threshold, drop_threshold=drop_threshold)
        rows = [{k: v for k, v in r.items() if not k.endswith(("ci_low", "ci_high"))} for r in result.to_records()]
        _emit(result.to_dict(), rows, fmt)
        if not result.pain_points and fmt != "json":
            click.echo("No touchpoint passes both thresholds in this period.", err=True)
    _run(run)


@journey.command(name="map")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the map to FILE: .html (a self-contained page) or .json.")
@click.option("--min-responses", type=click.IntRange(min=1), default=10, show_default=True,
              help="Responses a touchpoint needs to be judged a pain point or a delight.")
@_period_options
@format_option("table", "json", "csv")
def map_command(out: Path | None, min_responses: int, journey_name: str | None, since: str | None,
                until: str | None, now_text: str | None, workspace: Path | None, fmt: str) -> None:
    """The journey map: stages x touchpoints, channels, volume, conversion, time, scores, pain points."""
    def run() -> None:
        if out is not None:
            check_output(out)
        with ws_module.open_workspace(workspace) as ws:
            result = api.build_journey_map(ws, journey=journey_name, since=since, until=until,
                                           now=parse_now(now_text), min_responses=min_responses)
        if out is not None:
            click.echo(f"Wrote {result.write(out)}")
            return
        frame = result.to_pandas()
        _emit(result.to_dict(), frame.astype(object).where(frame.notna(), None).to_dict("records"), fmt)
    _run(run)


@journey.command(name="list")
@workspace_option
def list_command(workspace: Path | None) -> None:
    """The journeys saved in the workspace."""
    def run() -> None:
        ws = ws_module.open_workspace(workspace)
        names = list_journeys(ws.path)
        rows = [{"journey": n, "version": load_journey(ws.path, n).version,
                 "stages": len(load_journey(ws.path, n).stages)} for n in names]
        if not rows:
            click.echo("No saved journeys; the default template is used.")
            return
        print_rows(rows, "table")
    _run(run)


@journey.command(name="save")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@workspace_option
def save_command(file: Path, workspace: Path | None) -> None:
    """Save the journey defined in FILE (TOML) into the workspace (a change makes a new version)."""
    def run() -> None:
        ws = ws_module.open_workspace(workspace)
        if not file.is_file():
            raise CxlensInputError(f"{file} does not exist: give the path of a journey TOML file.")
        try:
            doc = tomllib.loads(file.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise CxlensInputError(f"{file} is not valid TOML ({exc}).") from None
        saved = save_journey(ws.path, journey_from_dict(doc, source=str(file)))
        click.echo(f"Saved journey '{saved.name}' version {saved.version}.")
    _run(run)


@journey.command(name="diff")
@click.argument("name")
@click.option("--old", "old_version", type=click.IntRange(min=1), required=True, help="The older version.")
@click.option("--new", "new_version", type=click.IntRange(min=1), help="The newer version (default: current).")
@workspace_option
def diff_command(name: str, old_version: int, new_version: int | None, workspace: Path | None) -> None:
    """What changed between two versions of a saved journey."""
    def run() -> None:
        ws = ws_module.open_workspace(workspace)
        diff = compare_journeys(load_journey(ws.path, name, old_version), load_journey(ws.path, name, new_version))
        click.echo(json.dumps(diff.to_dict(), indent=2, ensure_ascii=False))
    _run(run)
