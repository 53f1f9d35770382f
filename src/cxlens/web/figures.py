"""Dashboard figures cached by data version, and computed before the first visitor asks.

The overview runs about twenty metric queries over the whole warehouse: seconds on ten million
rows. Its figures are cached under the project's data version (the id of its newest import) and
the window, so they stay right after any import; but then the first person to open the overview
after an import would wait for all of them. The ``overview-warm`` job computes the default
overview (the one people land on) as soon as the data changed, for projects whose overview
someone opened in the last day, so that person gets it from the cache.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from django.core.cache import cache

from cxlens.web import jobs, pages
from cxlens.web.models import Project
from cxlens.web.projects import POOL

CACHE_SECONDS = 24 * 3600  # keys carry the data version and the day: an entry is never stale, only unused
VIEWED_FOR = timedelta(days=1)


def data_version(project: Project) -> int:
    """The id of the project's newest import (0 when it has none): changes with every import."""
    with POOL.use(project) as ws:
        latest = ws.table("_imports").import_id.max().execute()
    return int(latest) if latest is not None else 0


def overview_key(project: Project, version: int, window: pages.Window) -> str:
    return f"overview:{project.pk}:{version}:{window.days}:{window.until}"


def _viewed_key(project: Project) -> str:
    return f"overview-viewed:{project.pk}"


def overview(project: Project, window: pages.Window, *, viewed: bool = True) -> pages.Overview:
    """The overview's figures for ``window``, from the cache when the data has not changed since.
    ``viewed``: a person asked (the warm-up job keeps this project's default overview ready)."""
    if viewed:
        cache.set(_viewed_key(project), True, int(VIEWED_FOR.total_seconds()))
    key = overview_key(project, data_version(project), window)
    data = cache.get(key)
    if data is None:
        with POOL.use(project) as ws:
            data = cache.get(key)  # computed meanwhile (e.g. by the warm-up job) while this waited
            if data is None:
                data = pages.overview(ws, window)
                cache.set(key, data, CACHE_SECONDS)
    return data


# At most every two minutes: while widget answers arrive, the surveys' flush makes an import every
# second or so, and the overview need not follow each one in the background.
@jobs.job("overview-warm", every=timedelta(minutes=2))
def warm_overview(project: Project, now: datetime) -> dict[str, Any]:
    """Compute the default overview ahead of its next visitor, when the data changed since."""
    if not cache.get(_viewed_key(project)):
        return {"skipped": "nobody opened the overview in the last day"}
    window = pages.Window.parse(None, None, now)
    if cache.get(overview_key(project, data_version(project), window)) is not None:
        return {"computed": False}
    started = time.perf_counter()
    overview(project, window, viewed=False)
    return {"computed": True, "seconds": round(time.perf_counter() - started, 2)}
