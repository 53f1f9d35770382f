"""The rows behind a figure: their number equals the figure's n, for every row-counting metric.

A hand-made table pins which rows are listed; the small demo company checks the equality
``total == n`` across metrics, breakdowns, grains, filters and date ranges.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest

import cxlens
from cxlens.demo_loader import load_demo
from cxlens.errors import CxlensInputError
from cxlens.metrics.drill import NULL, group_text

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> cxlens.Workspace:
    ws = cxlens.init(tmp_path_factory.mktemp("drill") / "ws")
    ws.import_data("customers", pa.table({"customer_id": ["C1", "C2", "C3"], "segment": ["smb", "smb", None]}))
    ws.import_data("responses", pa.table({
        "response_id": ["R1", "R2", "R3", "R4", "R5", "R6"],
        "customer_id": ["C1", "C1", "C2", "C3", "C2", "C1"],
        "submitted_at": ["2026-01-05T10:00:00", "2026-01-20T10:00:00", "2026-02-03T10:00:00",
                         "2026-02-10T10:00:00", "2026-02-11T10:00:00", "2025-12-31T23:00:00"],
        "nps": ["10", "3", None, "8", "9", "7"],
        "comment": ["great", "slow", "ok", "fine", "", "meh"],
        "touchpoint": ["web", "web", "app", "app", "web", "web"],
    }))
    yield ws
    ws.close()


def ids(result: object) -> list[str]:
    return [r["response_id"] for r in result.rows]  # type: ignore[attr-defined]


def test_hand_computed_rows_per_group_and_month(small: cxlens.Workspace) -> None:
    opts = {"since": "2026-01-01", "until": "2026-02-28", "now": NOW}
    # NPS counts answered rows only: R3 has no NPS; R6 is before the range.
    everything = small.responses_behind("nps", **opts)
    assert ids(everything) == ["R5", "R4", "R2", "R1"]  # newest first
    assert everything.total == 4
    smb_feb = small.responses_behind("nps", by="segment", grain="month", group={"segment": "smb"},
                                     period="2026-02-01", **opts)
    assert ids(smb_feb) == ["R5"]
    null_feb = small.responses_behind("nps", by="segment", grain="month", group={"segment": NULL},
                                      period="2026-02-01", **opts)
    assert ids(null_feb) == ["R4"] and null_feb.group == (("segment", None),)
    # The response count counts every response, answered or not.
    assert ids(small.responses_behind("responses", by="touchpoint", group={"touchpoint": "app"}, **opts)) == \
        ["R4", "R3"]
    web = small.responses_behind("nps", where={"touchpoint": "web"}, **opts)
    assert ids(web) == ["R5", "R2", "R1"] and web.value_column == "nps"


def test_paging(small: cxlens.Workspace) -> None:
    first = small.responses_behind("responses", limit=2, now=NOW)
    second = small.responses_behind("responses", limit=2, offset=2, now=NOW)
    third = small.responses_behind("responses", limit=2, offset=4, now=NOW)
    assert first.total == second.total == 6
    assert ids(first) + ids(second) + ids(third) == ["R5", "R4", "R3", "R2", "R1", "R6"]
    assert first.has_next and not third.has_next


def test_bad_requests_say_what_to_do(small: cxlens.Workspace) -> None:
    with pytest.raises(CxlensInputError, match="churn.*not a count of rows"):
        small.responses_behind("churn", now=NOW)
    with pytest.raises(CxlensInputError, match="names no breakdown"):
        small.responses_behind("nps", group={"segment": "smb"}, now=NOW)
    with pytest.raises(CxlensInputError, match="needs a value for the breakdown 'segment'"):
        small.responses_behind("nps", by="segment", now=NOW)
    with pytest.raises(CxlensInputError, match="needs the 'grain'"):
        small.responses_behind("nps", period="2026-01-01", now=NOW)
    with pytest.raises(CxlensInputError, match="first day, like"):
        small.responses_behind("nps", grain="month", period="January", now=NOW)


def test_group_text() -> None:
    assert group_text(None) == NULL
    assert group_text(True) == "true"
    assert group_text(3) == "3"
    assert group_text("smb") == "smb"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> cxlens.Workspace:
    root: Path = tmp_path_factory.mktemp("drill-demo") / "ws"
    ws = cxlens.init(root)
    load_demo(ws, customers=300, seed=5, now=NOW)
    yield ws
    ws.close()


CASES = [
    ("nps", {"by": ("segment",), "grain": "month", "since": "2026-05-01"}),
    ("nps", {"by": ("touchpoint",), "since": "2026-01-01", "where": {"segment": ["smb", "enterprise"]}}),
    ("csat", {"grain": "week", "since": "2026-09-01"}),
    ("ces", {"by": ("channel",)}),
    ("responses", {"by": ("survey_id",), "grain": "quarter"}),
    ("first_response_time", {"by": ("channel",), "grain": "month", "since": "2026-06-01"}),
    ("resolution_time", {"by": ("segment",)}),
    ("resolution_time_business", {"grain": "quarter"}),
    ("resolution_rate", {"by": ("channel",)}),
    ("fcr", {"grain": "month", "since": "2026-03-01"}),
    ("reopen_rate", {"by": ("segment",)}),
    ("tickets", {"by": ("channel",), "grain": "day", "since": "2026-11-01"}),
]


@pytest.mark.parametrize(("metric", "options"), CASES, ids=[f"{m}-{i}" for i, (m, _) in enumerate(CASES)])
def test_rows_listed_equal_the_figures_n(demo: cxlens.Workspace, metric: str, options: dict) -> None:
    result = demo.metric(metric, now=NOW, **options)
    assert result.rows, "the case must have figures"
    checked = 0
    for row in result.rows[:12]:
        group = {col: group_text(value) for col, value in row.groups}
        behind = demo.responses_behind(metric, group=group, period=row.period, limit=5, now=NOW, **options)
        assert behind.total == row.n, (row.groups, row.period)
        assert len(behind.rows) == min(5, row.n)
        checked += row.n
    assert checked > 0
