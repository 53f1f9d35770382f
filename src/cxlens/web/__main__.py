"""``python -m cxlens.web serve|users|projects|apikeys``: the web commands on their own."""

from __future__ import annotations

import click

from cxlens.web.cli import COMMANDS


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """cxlens web app: serve, users, projects, apikeys (also available as 'cxlens <command>')."""


for _command in COMMANDS:
    main.add_command(_command)

if __name__ == "__main__":  # pragma: no cover
    main()
