"""The feed of newly imported rows: what arrived in a warehouse table after a position.

Every accepted row carries the id of the import that wrote it (``_import_id``, increasing) and
its line in that import's source (``_line``). A consumer (alert rules, survey triggers) keeps the
position of the last row it handled and asks for the rows after it; positions are ordered by
(import id, line), so each row is seen once, in arrival order, however the rows came in (the
CLI, the API, a survey page, a file dropped by a job).

A row replaced by ``--on-conflict update`` gets the new import's id, so it is seen again as a
change; consumers deduplicate by the row's key where that matters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ibis

from cxlens.errors import CxlensInputError
from cxlens.schema import TABLES


@dataclass(frozen=True, order=True)
class FeedPosition:
    """A place in a table's arrival order: after line ``line`` of import ``import_id``."""

    import_id: int = 0
    line: int = 0

    def to_dict(self) -> dict[str, int]:
        return {"import_id": self.import_id, "line": self.line}


@dataclass(frozen=True)
class FeedBatch:
    """Rows after ``start`` in arrival order, and the position after the last of them."""

    table: str
    start: FeedPosition
    end: FeedPosition
    rows: tuple[dict[str, Any], ...]
    more: bool

    def __len__(self) -> int:
        return len(self.rows)


def latest_position(table: ibis.Table) -> FeedPosition:
    """The position after the last row stored in ``table`` (where a new consumer starts)."""
    top = table.order_by([ibis.desc("_import_id"), ibis.desc("_line")]).select("_import_id", "_line").limit(1)
    rows = top.to_pyarrow().to_pylist()
    if not rows:
        return FeedPosition()
    return FeedPosition(int(rows[0]["_import_id"]), int(rows[0]["_line"]))


def rows_after(table_name: str, table: ibis.Table, start: FeedPosition, *, limit: int = 1000) -> FeedBatch:
    """Up to ``limit`` rows of ``table`` that arrived after ``start``, oldest first."""
    if table_name not in TABLES:
        raise CxlensInputError(f"The feed reads the tables {', '.join(TABLES)}. Got {table_name!r} instead.")
    if limit < 1:
        raise CxlensInputError(f"The feed's limit must be at least 1. Got {limit} instead.")
    after = (table._import_id > start.import_id) | (
        (table._import_id == start.import_id) & (table._line > start.line))
    expr = table.filter(after).order_by(["_import_id", "_line"]).limit(limit + 1)
    rows = expr.to_pyarrow().to_pylist()
    more = len(rows) > limit
    rows = rows[:limit]
    end = FeedPosition(int(rows[-1]["_import_id"]), int(rows[-1]["_line"])) if rows else start
    return FeedBatch(table_name, start, end, tuple(rows), more)
