"""An import that replaces rows (``on_conflict='update'``) drops their stored theme assignments,
found from the old text, in the same transaction; nothing else is touched."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa

import cxlens
from cxlens.text import theme_store


def _responses(comments: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({"response_id": list(comments), "submitted_at": ["2026-11-20T10:00:00Z"] * len(comments),
                         "customer_id": ["C1"] * len(comments), "nps": [3] * len(comments),
                         "comment": list(comments.values())})


def _assigned(ws: cxlens.Workspace) -> dict[tuple[str, str], str]:
    rows = ws.warehouse.duckdb.execute(f'SELECT source_table, source_id, theme_id FROM "{theme_store.TABLE}"')
    return {(t, i): theme for t, i, theme in rows.fetchall()}


def test_updated_rows_lose_their_theme_others_keep_it(tmp_path: Path) -> None:
    with cxlens.init(tmp_path / "ws") as ws:
        ws.import_data("responses", _responses({"r1": "Late delivery", "r2": "Refund missing", "r3": "Nice staff"}))
        # The tickets table shares the key "r1" by chance: its assignment must stay.
        theme_store.write(ws.warehouse, pa_rows([("responses", "r1", "t1"), ("responses", "r2", "t2"),
                                                 ("responses", "r3", "t3"), ("tickets", "r1", "t9")]),
                          replace_all=True)
        same = ws.import_data("responses", _responses({"r3": "Nice staff"}), on_conflict="update")
        assert same.duplicates == 1 and len(_assigned(ws)) == 4  # an identical row is no update

        refused = ws.import_data("responses", _responses({"r1": "Refund missing"}))  # on_conflict='reject'
        assert refused.conflicts == 1 and len(_assigned(ws)) == 4

        report = ws.import_data("responses", _responses({"r1": "Refund missing", "r2": "Refund still missing",
                                                         "r4": "New one"}), on_conflict="update")
        assert (report.updated, report.accepted) == (2, 3)
        assert _assigned(ws) == {("responses", "r3"): "t3", ("tickets", "r1"): "t9"}


def test_no_assignments_table_no_change(tmp_path: Path) -> None:
    with cxlens.init(tmp_path / "ws") as ws:
        ws.import_data("responses", _responses({"r1": "Late delivery"}))
        report = ws.import_data("responses", _responses({"r1": "Early delivery"}), on_conflict="update")
        assert report.updated == 1
        assert theme_store.TABLE not in set(ws.warehouse.backend.list_tables())


def pa_rows(rows: list[tuple[str, str, str]]) -> pa.Table:
    return pa.concat_tables([theme_store.rows_table(t, [i], [theme], [f"label {theme}"], [0.9], "v1")
                             for t, i, theme in rows])

