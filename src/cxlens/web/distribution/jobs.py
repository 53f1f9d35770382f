"""Background jobs of survey distribution (registered when the app is ready)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from cxlens.web import jobs
from cxlens.web.distribution import service, triggers
from cxlens.web.models import Project


@jobs.job("distribution-triggers", every=timedelta(seconds=10))
def run_triggers(project: Project, now: datetime) -> list[dict[str, Any]]:
    """Turn new tickets, orders and interactions that match a trigger into invitations."""
    return [o.to_dict() for o in triggers.run_triggers(project, now)]


@jobs.job("distribution-send", every=timedelta(seconds=5))
def send(project: Project, now: datetime) -> dict[str, Any]:
    """Send the invitations that are due; failures are recorded and retried with backoff."""
    return service.send_due(project, now).to_dict()
