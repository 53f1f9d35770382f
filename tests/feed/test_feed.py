"""The feed of newly imported rows: arrival order, positions, batches, every row exactly once."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cxlens
from cxlens.errors import CxlensInputError
from cxlens.feed import FeedPosition


def _responses(ids: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"response_id": ids, "submitted_at": ["2026-11-01T10:00:00Z"] * len(ids),
                         "customer_id": [f"c{i}" for i in ids], "nps": [5] * len(ids)})


def test_rows_after_follow_arrival_order_across_imports(tmp_path: Path) -> None:
    with cxlens.init(tmp_path / "ws") as ws:
        assert ws.latest_position("responses") == FeedPosition()
        ws.import_data("responses", _responses(["a", "b", "c"]))
        start = ws.latest_position("responses")
        assert start == FeedPosition(1, 3)  # a data frame's rows are lines 1, 2, 3
        ws.import_data("responses", _responses(["d", "e"]))
        batch = ws.rows_after("responses", start)
        assert [r["response_id"] for r in batch.rows] == ["d", "e"]
        assert batch.end == FeedPosition(2, 2) and not batch.more
        everything = ws.rows_after("responses", FeedPosition())
        assert [r["response_id"] for r in everything.rows] == ["a", "b", "c", "d", "e"]
        assert ws.rows_after("responses", batch.end).rows == ()


def test_duplicates_and_rejects_never_enter_the_feed(tmp_path: Path) -> None:
    with cxlens.init(tmp_path / "ws") as ws:
        ws.import_data("responses", _responses(["a"]))
        bad = _responses(["a", "x"])
        bad.loc[1, "nps"] = 11  # out of range: quarantined
        report = ws.import_data("responses", bad)
        assert (report.duplicates, report.rejected) == (1, 1)
        rows = ws.rows_after("responses", FeedPosition()).rows
        assert [r["response_id"] for r in rows] == ["a"]


@settings(max_examples=15, deadline=None)
@given(sizes=st.lists(st.integers(1, 7), min_size=1, max_size=4), limit=st.integers(1, 5))
def test_paging_with_any_limit_sees_every_row_once(tmp_path_factory: pytest.TempPathFactory, sizes: list[int],
                                                   limit: int) -> None:
    with cxlens.init(tmp_path_factory.mktemp("feed") / "ws") as ws:
        expected = []
        for n, size in enumerate(sizes):
            ids = [f"{n}-{i}" for i in range(size)]
            ws.import_data("responses", _responses(ids))
            expected += ids
        seen, position = [], FeedPosition()
        while True:
            batch = ws.rows_after("responses", position, limit=limit)
            assert len(batch) <= limit
            seen += [r["response_id"] for r in batch.rows]
            position = batch.end
            if not batch.more:
                break
        assert seen == expected


def test_bad_feed_arguments_say_what_is_allowed(tmp_path: Path) -> None:
    with cxlens.init(tmp_path / "ws") as ws:
        with pytest.raises(CxlensInputError, match="limit must be at least 1"):
            ws.rows_after("responses", FeedPosition(), limit=0)
