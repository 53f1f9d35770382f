"""The text-incremental job: keeps analysed workspaces current, leaves the others alone."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

import cxlens

from .conftest import NOW, require_web

require_web()


def _comments(ids: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"response_id": ids, "submitted_at": ["2026-11-20T10:00:00Z"] * len(ids),
                         "customer_id": ["tj"] * len(ids), "nps": [3] * len(ids),
                         "comment": ["The refund never arrived, I am furious"] * len(ids)})


def test_new_comments_are_annotated_only_where_texts_were_analysed_before(app: object, tmp_path: Path) -> None:
    from cxlens.web import jobs
    from cxlens.web.projects import POOL, ensure_project

    root = tmp_path / "text-ws"
    with cxlens.init(root) as ws:
        ws.import_data("responses", _comments(["tj-1"]))
    project = ensure_project(root, "text-jobs", "Text jobs")
    try:
        [first] = jobs.run_all(project, NOW, ("text-incremental",))
        assert first.ok and first.result == {}  # never analysed: nothing is started on its own
        with POOL.use(project) as ws:
            assert ws.annotate_texts(now=NOW).annotated == 1  # the first analysis, by the user
            ws.import_data("responses", _comments(["tj-2", "tj-3"]))
        [later] = jobs.run_all(project, NOW, ("text-incremental",))
        assert later.ok and later.result == {"annotated": 2}
        with POOL.use(project) as ws:
            rows = ws.warehouse.duckdb.execute(
                "SELECT source_id, sentiment_score FROM text_annotations WHERE source_table = 'responses'").fetchall()
            rows = [{"source_id": i, "sentiment": s} for i, s in rows]
        assert sorted(r["source_id"] for r in rows) == ["tj-1", "tj-2", "tj-3"]
        assert all(r["sentiment"] < 0 for r in rows)
    finally:
        with POOL.use(project) as ws:
            ws.close()
        project.delete()
