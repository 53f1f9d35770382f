"""Line numbers of accepted and rejected rows equal the physical lines where records start."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cxlens
from conftest import NOW

RECORD = st.tuples(
    st.sampled_from(["good", "good", "good", "bad_nps", "too_few", "blank"]),
    st.integers(0, 2),  # line breaks inside the quoted comment
)


def build(records: list[tuple[str, int]]) -> tuple[str, dict[str, int], list[int]]:
    lines = ["response_id,submitted_at,nps,comment"]
    good: dict[str, int] = {}
    bad: list[int] = []
    for i, (kind, breaks) in enumerate(records):
        start = len(lines) + 1
        comment = '"' + "\n".join(["part"] * (breaks + 1)) + '"'
        if kind == "blank":
            lines.append("")
            continue
        if kind == "too_few":
            lines.append(f"R{i},2024-01-01")
            bad.append(start)
            continue
        nps = "12" if kind == "bad_nps" else str(i % 11)
        lines.extend(f"R{i},2024-01-01,{nps},{comment}".split("\n"))
        if kind == "good":
            good[f"R{i}"] = start
        else:
            bad.append(start)
    return "\n".join(lines) + "\n", good, bad


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=st.lists(RECORD, min_size=1, max_size=25))
def test_lines_match_the_file(ws: cxlens.Workspace, tmp_path: Path, records: list[tuple[str, int]]) -> None:
    text, good, bad = build(records)
    path = tmp_path / "r.csv"
    path.write_text(text)
    ws.warehouse.duckdb.execute("DELETE FROM responses")
    ws.warehouse.duckdb.execute("DELETE FROM _quarantine")
    report = ws.import_data("responses", path, now=NOW)
    assert report.accepted == len(good) and report.rejected == len(bad)
    rows = ws.table("responses").select("response_id", "_line").to_pyarrow().to_pylist()
    stored = {r["response_id"]: r["_line"] for r in rows}
    assert stored == good
    assert sorted(r["line"] for r in ws.quarantine("responses").to_pylist()) == bad
