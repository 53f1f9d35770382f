"""Keeping a workspace's text analyses current while the server owns its warehouse.

Once texts have been analysed (``cxlens text analyze``) or a theme model fitted (``cxlens text
themes``), the ``text-incremental`` job annotates the comments and tickets that arrived since and
assigns them to the existing themes (no refit), every few minutes. A workspace that was never
analysed is left alone: the first analysis is a choice (and for a large corpus a few minutes of
work), made with the commands above or, while the server runs, from the text page.
"""

from __future__ import annotations

import importlib.util
from datetime import datetime, timedelta
from typing import Any

from cxlens.text.annotate import ANNOTATIONS_TABLE
from cxlens.text.theme_model import has_model
from cxlens.web import jobs
from cxlens.web.models import Project
from cxlens.web.projects import POOL

EVERY = timedelta(minutes=5)


@jobs.job("text-incremental", every=EVERY)
def analyse_new_texts(project: Project, now: datetime) -> dict[str, Any]:
    """Annotate new texts and assign them to the fitted themes, where the project uses either."""
    done: dict[str, Any] = {}
    with POOL.use(project) as ws:
        if ANNOTATIONS_TABLE in set(ws.warehouse.backend.list_tables()):
            done["annotated"] = ws.annotate_texts(now=now).annotated
        if has_model(ws.path) and importlib.util.find_spec("torch") is not None:
            from cxlens.text.themes import assign_themes  # noqa: PLC0415 - needs the text extra

            done["assigned"] = sum(assign_themes(ws).written.values())
    return done
