"""``cxlens text analyze``: annotate the workspace's texts and store the annotations in the warehouse.

Register with ``text.add_command(analyze)`` in ``cxlens.text.cli``. The command parses options, calls
:func:`cxlens.text.annotate.annotate` and prints the counts; the warehouse is open only while it runs.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click

from cxlens import workspace as ws_module
from cxlens.cli_support import _run, format_option, print_rows, workspace_option
from cxlens.text.annotate import DEFAULT_BATCH_SIZE, annotate


@click.command(name="analyze", context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--source", type=click.Choice(["all", "responses", "tickets"]), default="all", show_default=True,
              help="Which texts: response comments, ticket subjects and descriptions, or both.")
@click.option("--batch-size", type=click.IntRange(min=1), default=DEFAULT_BATCH_SIZE, show_default=True,
              help="Texts per batch; each batch is committed on its own, so an interrupted run resumes.")
@format_option("table", "json")
@workspace_option
def analyze(source: str, batch_size: int, fmt: str, workspace: Path | None) -> None:
    """Annotate new and changed texts (sentiment, emotions, language, redacted text) in the warehouse.

    Only texts that are new or changed since the last run are analysed; the results go to the
    warehouse table text_annotations (see docs/annotations.md).
    """
    def run() -> None:
        with ws_module.open_workspace(workspace) as ws:
            def report(table: str, batch: int, size: int) -> None:
                click.echo(f"  {table}: batch {batch} ({size} texts) stored", err=True)

            result = annotate(ws.warehouse, now=datetime.now(UTC), source=source, batch_size=batch_size,
                              progress=report if fmt == "table" else None)
        if fmt == "json":
            click.echo(json.dumps(result.to_dict(), indent=2))
            return
        print_rows(result.to_records(), "table")
    _run(run)


__all__ = ["analyze"]
