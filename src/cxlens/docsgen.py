"""Reference pages generated from the code, so the docs cannot drift from it.

``python -m cxlens.docsgen`` rewrites ``docs/data-model.md`` and ``docs/settings.md``; a test
fails when the committed pages differ from what this module generates.
"""

from __future__ import annotations

import sys
from pathlib import Path

from cxlens.schema import LINEAGE_COLUMNS, TABLES, TableSpec
from cxlens.settings import settings_markdown

_INTRO = """# The data model

Experience data lives in these tables. Their column names are a contract: a file whose headers
are exactly these names imports with no mapping (`cxlens import TABLE FILE`). Headers are
normalised first (trimmed, lower case, spaces and dashes become underscores), so `Response ID`
matches `response_id`. Columns that are not in the contract are kept as **attribute columns**
(stored as text, named after the normalised header) and can be used for breakdowns. A mapping
file (`--mapping`, see `docs/importing.md`) imports files with other headers.

Timestamps are ISO 8601 (`2024-05-31T14:02:00Z`, `2024-05-31 14:02:00+02:00`, `2024-05-31`); a
timestamp without an offset means UTC. All timestamps are stored in UTC.

Every table also has the bookkeeping columns {lineage}: the import that wrote the row and the
row's line in its source file.

Generated from `cxlens.schema` by `python -m cxlens.docsgen`; a test keeps it current.
"""


def _table_section(spec: TableSpec) -> list[str]:
    lines = [f"## `{spec.name}`", "", spec.help, "", f"Key: `{spec.key}` (unique; re-imports of the same key "
             "are duplicates or conflicts).", ""]
    lines += ["| column | type | required | rule | meaning |", "|---|---|---|---|---|"]
    for c in spec.columns:
        lines.append(f"| `{c.name}` | {c.type.value} | {'yes' if c.required else ''} | {_rule(c)} | {c.help} |")
    for rule in spec.order_rules:
        lines += ["", f"Rule: `{rule.later}` must not be before `{rule.earlier}` (code `{rule.code}`)."]
    return lines + [""]


def _rule(c: object) -> str:
    if c.allowed:
        return "one of " + ", ".join(f"`{v}`" for v in c.allowed)
    lo, hi = c.minimum, c.maximum
    if lo is None and hi is None:
        return "PII" if c.pii else ""
    hi_text = f"setting `{hi}`" if isinstance(hi, str) else ("" if hi is None else f"{hi:g}")
    if hi is None:
        return f"≥ {lo:g}"
    return f"{lo:g} … {hi_text}"


def data_model_markdown() -> str:
    lineage = ", ".join(f"`{name}`" for name, _ in LINEAGE_COLUMNS)
    lines = [_INTRO.format(lineage=lineage)]
    for spec in TABLES.values():
        lines += _table_section(spec)
    return "\n".join(lines).rstrip() + "\n"


def cli_markdown() -> str:
    """The command reference: the --help text of every command."""
    import click

    from cxlens.cli import main

    lines = ["# Command reference", "", "Generated from `cxlens --help` by `python -m cxlens.docsgen`.", ""]
    for path, command in _walk(main, ("cxlens",)):
        with click.Context(command, info_name=" ".join(path), terminal_width=100, max_content_width=100,
                           help_option_names=["-h", "--help"]) as ctx:
            text = command.get_help(ctx)
        lines += [f"## `{' '.join(path)}`", "", "```text", text.rstrip(), "```", ""]
    return "\n".join(lines).rstrip() + "\n"


def _walk(command: object, path: tuple[str, ...]) -> list[tuple[tuple[str, ...], object]]:
    out: list[tuple[tuple[str, ...], object]] = [(path, command)]
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        out += _walk(sub, (*path, name))
    return out


PAGES = {"data-model.md": data_model_markdown, "settings.md": settings_markdown, "cli.md": cli_markdown}


def write(docs: Path) -> None:
    for name, render in PAGES.items():
        (docs / name).write_text(render(), encoding="utf-8")


if __name__ == "__main__":  # pragma: no cover
    write(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs"))
