"""Helpers shared by every command group: error handling, common options, output."""

from __future__ import annotations

import csv as csv_module
import io
import json
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from cxlens import workspace as ws_module
from cxlens.errors import CxlensError


def _fail(exc: Exception) -> None:
    click.echo(f"Error: {exc}", err=True)
    sys.exit(2)


def _run(fn: Callable[[], None]) -> None:
    try:
        fn()
    except CxlensError as exc:
        _fail(exc)


def workspace_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--workspace", "-w",
        type=click.Path(file_okay=False, path_type=Path),
        envvar=ws_module.ENV_VAR,
        help=f"Workspace folder (default: ${ws_module.ENV_VAR}, else the current folder).",
    )(fn)


def format_option(*choices: str) -> Callable[..., Any]:
    return click.option(
        "--format", "fmt", type=click.Choice(list(choices)), default=choices[0], show_default=True,
        help="Output format.",
    )


def print_rows(rows: Sequence[dict[str, Any]], fmt: str) -> None:
    """Print dict rows as an aligned table, JSON or CSV."""
    if fmt == "json":
        click.echo(json.dumps(list(rows), indent=2, default=str, ensure_ascii=False))
        return
    if not rows:
        click.echo("(no rows)")
        return
    headers = list(rows[0])
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv_module.DictWriter(buf, fieldnames=headers)  # type: ignore[arg-type]
        writer.writeheader()
        writer.writerows(rows)
        click.echo(buf.getvalue(), nl=False)
        return
    cells = [[_cell(r.get(h)) for h in headers] for r in rows]
    names = [str(h) for h in headers]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(names)]
    click.echo("  ".join(h.ljust(w) for h, w in zip(names, widths)))
    click.echo("  ".join("-" * w for w in widths))
    for c in cells:
        click.echo("  ".join(v.ljust(w) for v, w in zip(c, widths)))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = str(value).replace("\n", " ")
    return text if len(text) <= 80 else text[:77] + "..."


def parse_now(text: str | None) -> datetime:
    """The ``--now`` option: an ISO 8601 time (UTC when it has no offset), or the current second."""
    if text is None:
        return datetime.now(UTC).replace(microsecond=0)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"expected an ISO 8601 time such as 2026-01-31T12:00:00, got {text!r}",
                                 param_hint="--now") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
