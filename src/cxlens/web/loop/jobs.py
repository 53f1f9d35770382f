"""Background jobs of the closed loop (registered when the app loads; see ``cxlens.web.jobs``).

Sorted by name they run in the order a new row needs them: escalate, reassign, rules (new rows
become cases), send (the outbox), snapshot (cases to the warehouse for the loop metrics).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from cxlens.web import jobs
from cxlens.web.loop import notify, service
from cxlens.web.models import Project


@jobs.job("loop-escalate", every=timedelta(minutes=1))
def escalate(project: Project, now: datetime) -> int:
    return service.escalate_overdue(project, now)


@jobs.job("loop-reassign", every=timedelta(minutes=1))
def reassign(project: Project, now: datetime) -> int:
    return service.reassign_inactive(project, now)


@jobs.job("loop-rules", every=timedelta(seconds=3))
def rules(project: Project, now: datetime) -> dict[str, Any]:
    return service.evaluate_rules(project, now).to_dict()


@jobs.job("loop-send", every=timedelta(seconds=5))
def send(project: Project, now: datetime) -> dict[str, int]:
    return notify.send_due(project, now).to_dict()


@jobs.job("loop-snapshot", every=timedelta(seconds=5))
def snapshot(project: Project, now: datetime) -> int:
    return service.snapshot_cases(project, now)


@jobs.job("loop-signals", every=timedelta(minutes=15))
def signals(project: Project, now: datetime) -> dict[str, Any]:
    return service.evaluate_signals(project, now).to_dict()


@jobs.job("loop-tickets", every=timedelta(minutes=5))
def open_tickets(project: Project, now: datetime) -> dict[str, Any]:
    return service.evaluate_open_tickets(project, now).to_dict()
