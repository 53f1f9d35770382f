"""Background jobs of the web app: work that runs on a clock rather than on a request.

Apps register jobs with :func:`job` (in their ``AppConfig.ready``); each runs for every project
at most every ``every`` (e.g. alert rules on new responses, webhook retries, SLA escalations,
delayed survey invitations). ``cxlens serve`` runs them in one background thread
(:class:`Worker`); :func:`kick` wakes it at once (e.g. after an API ingest) so new data is acted
on within about a second. Without a server, ``cxlens jobs run`` runs every job once (for cron).
Tests call :func:`run_all` with an explicit ``now``.

A job that raises is recorded (``JobRun.last_error``, logged) and retried at its next turn; it
never stops the others or the thread.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import close_old_connections
from django.utils import timezone

from cxlens.web.models import JobRun, Project

log = logging.getLogger("cxlens.jobs")

JobFunction = Callable[[Project, datetime], Any]


@dataclass(frozen=True)
class Job:
    name: str
    every: timedelta
    run: JobFunction


@dataclass(frozen=True)
class JobOutcome:
    job: str
    project: str
    ok: bool
    result: Any = None
    error: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"job": self.job, "project": self.project, "ok": self.ok,
                "result": self.result if isinstance(self.result, (int, float, str, dict, list)) else None,
                "error": self.error}


_JOBS: dict[str, Job] = {}


def job(name: str, every: timedelta) -> Callable[[JobFunction], JobFunction]:
    """Register ``fn(project, now)`` as the background job ``name``, run at most every ``every``."""

    def register(fn: JobFunction) -> JobFunction:
        _JOBS[name] = Job(name, every, fn)
        return fn

    return register


def registered() -> tuple[Job, ...]:
    return tuple(_JOBS[name] for name in sorted(_JOBS))


def run_job(found: Job, project: Project, now: datetime) -> JobOutcome:
    record, _ = JobRun.objects.get_or_create(project=project, name=found.name)
    record.last_started_at = now
    record.runs += 1
    try:
        result = found.run(project, now)
    except Exception as exc:  # a job's failure is recorded and retried, never fatal
        record.failures += 1
        record.last_error = f"{type(exc).__name__}: {exc}"
        record.save()
        log.error("job %s failed for project %s: %s\n%s", found.name, project.slug, exc, traceback.format_exc())
        return JobOutcome(found.name, project.slug, False, error=record.last_error)
    record.last_finished_at = timezone.now()
    record.last_error = ""
    record.save()
    return JobOutcome(found.name, project.slug, True, result)


def run_all(project: Project, now: datetime, names: tuple[str, ...] = ()) -> list[JobOutcome]:
    """Run every registered job (or those named) once for ``project``."""
    return [run_job(j, project, now) for j in registered() if not names or j.name in names]


def due(found: Job, project: Project, now: datetime) -> bool:
    record = JobRun.objects.filter(project=project, name=found.name).first()
    return record is None or record.last_started_at is None or record.last_started_at + found.every <= now


def run_due(now: datetime, *, force: bool = False) -> list[JobOutcome]:
    """Run every job that is due (all of them when ``force``) for every project."""
    outcomes = []
    for project in Project.objects.all():
        for found in registered():
            if force or due(found, project, now):
                outcomes.append(run_job(found, project, now))
    return outcomes


class Worker(threading.Thread):
    """The server's job thread: runs due jobs every ``tick`` seconds, or at once when kicked."""

    def __init__(self, tick: float = 1.0, clock: Callable[[], datetime] = timezone.now) -> None:
        super().__init__(name="cxlens-jobs", daemon=True)
        self.tick = tick
        self.clock = clock
        self._wake = threading.Event()
        self._halt = threading.Event()

    def kick(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        self._halt.set()
        self._wake.set()
        self.join(timeout)

    def run(self) -> None:
        while not self._halt.is_set():
            kicked = self._wake.wait(self.tick)
            self._wake.clear()
            if self._halt.is_set():
                break
            try:
                close_old_connections()
                run_due(self.clock(), force=kicked)
            except Exception:  # never let the thread die (e.g. the app database briefly locked)
                log.exception("background jobs failed; retrying at the next tick")
            finally:
                close_old_connections()


_worker: Worker | None = None


def start_worker(tick: float = 1.0) -> Worker:
    global _worker
    _worker = Worker(tick)
    _worker.start()
    return _worker


def stop_worker() -> None:
    global _worker
    if _worker is not None:
        _worker.stop()
        _worker = None


def kick() -> None:
    """Wake the job thread (no-op when none runs, e.g. in tests or the CLI)."""
    if _worker is not None:
        _worker.kick()
