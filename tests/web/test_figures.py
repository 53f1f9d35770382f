"""The overview's figures: cached under the data version, and computed by the ``overview-warm`` job
ahead of the first visitor after an import, only for projects someone looks at."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

import cxlens

from .conftest import NOW, require_web

require_web()


def _responses(ids: list[str], nps: int) -> pd.DataFrame:
    return pd.DataFrame({"response_id": ids, "submitted_at": [f"{NOW.date()}T09:00:00Z"] * len(ids),
                         "customer_id": ["fw"] * len(ids), "nps": [nps] * len(ids)})


def test_the_overview_is_ready_before_its_next_visitor(app: object, tmp_path: Path) -> None:
    from django.core.cache import cache

    from cxlens.web import figures, jobs, pages
    from cxlens.web.projects import POOL, ensure_project

    root = tmp_path / "fig-ws"
    with cxlens.init(root) as ws:
        ws.import_data("responses", _responses(["fw-1", "fw-2"], 10))
    project = ensure_project(root, "fig-warm", "Figures")
    window = pages.Window.parse(None, None, NOW)
    try:
        [idle] = jobs.run_all(project, NOW, ("overview-warm",))
        assert idle.ok and idle.result == {"skipped": "nobody opened the overview in the last day"}
        first = figures.overview(project, window)  # a person opens the overview
        version = figures.data_version(project)
        assert cache.get(figures.overview_key(project, version, window)) == first
        [warm] = jobs.run_all(project, NOW, ("overview-warm",))
        assert warm.result == {"computed": False}  # nothing changed since

        with POOL.use(project) as ws:  # new data: a new version, whose figures nobody computed yet
            ws.import_data("responses", _responses(["fw-3", "fw-4"], 0))
        new_version = figures.data_version(project)
        assert new_version > version
        assert cache.get(figures.overview_key(project, new_version, window)) is None
        [warmed] = jobs.run_all(project, NOW, ("overview-warm",))
        assert warmed.ok and warmed.result["computed"] is True
        cached = cache.get(figures.overview_key(project, new_version, window))
        with POOL.use(project) as ws:
            assert cached == pages.overview(ws, window)  # the same figures a visitor would compute
        nps = next(f for f in cached.headline if f.metric == "nps")
        assert nps.n == 4 and nps.value == 0.0  # 2 promoters, 2 detractors of today
        assert figures.overview(project, window, viewed=False) == cached
    finally:
        with POOL.use(project) as ws:
            ws.close()
        project.delete()
