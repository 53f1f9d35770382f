"""The same metric query gives identical results on DuckDB and on a second real engine (SQLite)."""

from __future__ import annotations

from pathlib import Path

import ibis
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cxlens
from conftest import NOW
from cxlens.metrics import MetricQuery, run_metric

CHANNELS = ["web", "app", "phone"]


def copy_to_sqlite(ws: cxlens.Workspace, path: Path) -> dict[str, ibis.Table]:
    con = ibis.sqlite.connect(str(path))
    out = {}
    columns = {"responses": ["response_id", "submitted_at", "customer_id", "channel", "nps", "csat", "ces"],
               "customers": ["customer_id", "segment"]}
    for name, cols in columns.items():
        out[name] = con.create_table(name, ws.table(name).select(*cols).to_pyarrow(), overwrite=True)
    return out


@pytest.mark.parametrize("options", [
    {"metric": "nps"},
    {"metric": "nps", "by": ("channel",), "grain": "month"},
    {"metric": "csat", "by": ("segment",)},
    {"metric": "ces", "grain": "quarter"},
    {"metric": "nps", "grain": "month", "since": "2024-03-01", "until": "2024-06-30", "compare": "previous"},
    {"metric": "responses", "by": ("channel",), "where": {"segment": ["smb"]}},
])
def test_duckdb_and_sqlite_agree(ws: cxlens.Workspace, tmp_path: Path, options: dict) -> None:
    fill(ws, seed=3, n=400)
    sqlite_tables = copy_to_sqlite(ws, tmp_path / "copy.sqlite")
    query = MetricQuery.build(now=NOW, **options)
    duck = run_metric({n: ws.table(n) for n in ("responses", "customers")}, ws.settings, query)
    lite = run_metric(sqlite_tables, ws.settings, query)
    assert duck.to_records() == lite.to_records()
    assert duck.rows


def fill(ws: cxlens.Workspace, seed: int, n: int) -> None:
    import random

    import pyarrow as pa

    rng = random.Random(seed)
    ws.import_data("customers", pa.table({
        "customer_id": [f"C{i}" for i in range(50)],
        "segment": [rng.choice(["smb", "enterprise"]) for _ in range(50)],
    }), now=NOW)
    ws.import_data("responses", pa.table({
        "response_id": [f"R{i}" for i in range(n)],
        "submitted_at": [f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:00:00Z"
                         for _ in range(n)],
        "customer_id": [f"C{rng.randint(0, 49)}" for _ in range(n)],
        "channel": [rng.choice(CHANNELS) for _ in range(n)],
        "nps": [rng.randint(0, 10) for _ in range(n)],
        "csat": [rng.randint(1, 5) for _ in range(n)],
        "ces": [rng.randint(1, 7) for _ in range(n)],
    }), now=NOW)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000))
def test_engines_agree_on_random_data(tmp_path_factory: pytest.TempPathFactory, seed: int) -> None:
    root = tmp_path_factory.mktemp("agree")
    with cxlens.init(root / "ws") as ws:
        fill(ws, seed=seed, n=120)
        lite = copy_to_sqlite(ws, root / "copy.sqlite")
        query = MetricQuery.build("nps", now=NOW, by=("channel",), grain="month")
        duck = run_metric({n: ws.table(n) for n in ("responses", "customers")}, ws.settings, query)
        assert duck.to_records() == run_metric(lite, ws.settings, query).to_records()
