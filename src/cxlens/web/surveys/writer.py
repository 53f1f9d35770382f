"""Group commit of widget answers: many requests, one app-database transaction.

Each answer must be durable before its request is answered, and a commit costs a disk flush
(milliseconds). So request threads hand their new :class:`Response` to one writer thread and
wait; the writer inserts everything that queued up meanwhile in one transaction and then wakes
each waiting request with its outcome. Under load a commit carries as many answers as there are
waiting requests; alone, an answer is written at once (no added delay).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from django.db import IntegrityError, connection, transaction

from cxlens.errors import CxlensError
from cxlens.web.surveys.models import Response

log = logging.getLogger("cxlens.surveys")
MAX_BATCH = 1000
WAIT = 30.0


class StoreError(CxlensError):
    """The answer could not be written to the app database."""


@dataclass
class _Item:
    response: Response
    done: threading.Event = field(default_factory=threading.Event)
    outcome: str = ""  # new, duplicate, conflict
    error: BaseException | None = None


class Writer:
    def __init__(self) -> None:
        self._queue: list[_Item] = []
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def store(self, response: Response) -> str:
        """Insert ``response`` (committed when this returns): ``new``; ``duplicate`` when its
        public id exists for the same survey; ``conflict`` when it exists for another survey."""
        item = _Item(response)
        with self._cond:
            self._start()
            self._queue.append(item)
            self._cond.notify()
        if not item.done.wait(WAIT):
            raise StoreError("The answer could not be stored in time; please send it again (same id).")
        if item.error is not None:
            raise StoreError(f"The answer could not be stored: {item.error}") from item.error
        return item.outcome

    def _start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="cxlens-survey-writer", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue:
                    self._cond.wait()
                batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            try:
                write(batch)
            except Exception as exc:  # every waiting request learns it failed; the thread goes on
                log.exception("surveys: writing %d answers failed", len(batch))
                for item in batch:
                    item.error = item.error or exc
                _reconnect()
            finally:
                for item in batch:
                    item.done.set()


def _reconnect() -> None:
    """Drop this thread's database connection after a failure; the next batch opens a new one.

    The writer keeps its connection between batches on purpose: opening one per batch (what
    ``close_old_connections`` does with ``CONN_MAX_AGE = 0``) costs more than the batch itself."""
    try:
        connection.close()
    except Exception:  # already broken: the next batch connects again anyway
        log.debug("surveys: closing the writer's connection failed", exc_info=True)


def write(batch: list[_Item]) -> None:
    """Insert the batch in one transaction; outcomes ``new``, ``duplicate`` or ``conflict``.

    Retries of a stored answer are rare, so the batch is inserted at once (one statement, no read
    before it); only when the database refuses it (a public id stored already, or twice in the
    batch) are the duplicates sorted out first (:func:`_write_sorted`)."""
    try:
        with transaction.atomic():
            Response.objects.bulk_create([item.response for item in batch])
    except IntegrityError:
        for item in batch:
            item.response.pk = None  # nothing of the refused statement was kept
        _write_sorted(batch)
        return
    for item in batch:
        item.outcome = "new"


def _write_sorted(batch: list[_Item]) -> None:
    """Insert the answers whose public id is new; the others are duplicates (same survey) or
    conflicts (another survey's id)."""
    ids = [item.response.public_id for item in batch]
    existing = dict(Response.objects.filter(public_id__in=ids).values_list("public_id", "survey_id"))
    fresh: dict[str, _Item] = {}
    for item in batch:
        pid = item.response.public_id
        if pid in existing or pid in fresh:
            owner = existing.get(pid, fresh[pid].response.survey_id if pid in fresh else None)
            item.outcome = "duplicate" if owner == item.response.survey_id else "conflict"
        else:
            fresh[pid] = item
    try:
        with transaction.atomic():
            Response.objects.bulk_create([item.response for item in fresh.values()])
    except IntegrityError:  # written meanwhile by another process: one by one
        for item in fresh.values():
            item.response.pk = None
            try:
                with transaction.atomic():
                    item.response.save(force_insert=True)
            except IntegrityError as exc:
                item.outcome = _refused(item, exc)
                continue
            item.outcome = "new"
        return
    for item in fresh.values():
        item.outcome = "new"


def _refused(item: _Item, exc: IntegrityError) -> str:
    """Why the database refused one answer: its public id is stored already (``duplicate`` for the
    same survey, ``conflict`` for another); anything else (say, its survey was deleted meanwhile) is
    an error for the request, never reported as stored."""
    owner = Response.objects.filter(public_id=item.response.public_id).values_list("survey_id", flat=True).first()
    if owner is None:
        item.error = exc
        return ""
    return "duplicate" if owner == item.response.survey_id else "conflict"


WRITER = Writer()
