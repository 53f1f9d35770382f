"""Background jobs of the surveys: ``surveys-flush`` writes completed responses to the warehouse."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from cxlens.web import jobs
from cxlens.web.models import Project
from cxlens.web.surveys import service


@jobs.job("surveys-flush", every=timedelta(seconds=1))
def flush_responses(project: Project, now: datetime) -> dict[str, Any]:
    """Every completed response not yet in the warehouse, in one import per batch."""
    return service.flush(project, now).to_dict()
