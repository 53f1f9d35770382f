"""Consumers of the warehouse's row feed inside the web app (alert rules, survey triggers…).

:func:`consume` hands a consumer the rows of a table that arrived since it last looked, batch by
batch, and moves the consumer's cursor (``FeedCursor``) in the same app-database transaction as
whatever the consumer writes. So each row is handled exactly once as far as the app database is
concerned: a crash before the commit leaves both the consumer's records and its cursor unchanged,
and the batch is handled again on the next run. Side effects outside the app database (email,
webhooks) belong in an outbox written in that transaction and delivered afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Literal

from django.db import transaction

from cxlens.feed import FeedBatch, FeedPosition
from cxlens.web.models import FeedCursor, Project
from cxlens.web.projects import POOL

Start = Literal["latest", "beginning"]


def cursor(project: Project, consumer: str, table: str, *, start: Start = "latest") -> FeedCursor:
    """The consumer's cursor, created at ``start`` on first use.

    ``latest`` (the default) means "rows that arrive from now on": a new alert rule does not act
    on years of history. ``beginning`` replays every stored row.
    """
    found = FeedCursor.objects.filter(project=project, consumer=consumer, table=table).first()
    if found is not None:
        return found
    position = FeedPosition()
    if start == "latest":
        with POOL.use(project) as ws:
            position = ws.latest_position(table)
    found, _ = FeedCursor.objects.get_or_create(
        project=project, consumer=consumer, table=table,
        defaults={"import_id": position.import_id, "line": position.line})
    return found


def consume(project: Project, consumer: str, table: str, handle: Callable[[FeedBatch], None], *,
            now: datetime, start: Start = "latest", limit: int = 1000, max_batches: int = 100) -> int:
    """Hand ``handle`` every new row of ``table`` in batches; return how many rows it was given."""
    seen = 0
    cursor(project, consumer, table, start=start)
    for _ in range(max_batches):
        with transaction.atomic():
            current = FeedCursor.objects.select_for_update().get(project=project, consumer=consumer, table=table)
            position = FeedPosition(current.import_id, current.line)
            with POOL.use(project) as ws:
                batch = ws.rows_after(table, position, limit=limit)
            if not batch.rows:
                return seen
            handle(batch)
            current.import_id, current.line, current.updated_at = batch.end.import_id, batch.end.line, now
            current.save(update_fields=["import_id", "line", "updated_at"])
        seen += len(batch)
        if not batch.more:
            break
    return seen
