"""Load the demo company into a workspace through the regular import pipeline."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cxlens.demo import DemoCompany
from cxlens.workspace import Workspace

#: Parents before children, so every chunk is consistent on its own.
LOAD_ORDER = ("customers", "subscriptions", "orders", "interactions", "tickets", "responses")


@dataclass(frozen=True)
class DemoResult:
    rows: dict[str, int]
    rejected: int
    truths_path: str
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "rejected": self.rejected, "truths": self.truths_path,
                "seconds": round(self.seconds, 3)}


def load_demo(
    ws: Workspace,
    *,
    customers: int,
    seed: int,
    now: datetime,
    chunk_customers: int = 25_000,
    progress: Callable[[str], None] | None = None,
) -> DemoResult:
    """Generate the demo company chunk by chunk and import every chunk (each one atomically)."""
    start = time.perf_counter()
    company = DemoCompany(customers, seed, now=now, chunk_customers=chunk_customers)
    rows = {t: 0 for t in ("touchpoints", *LOAD_ORDER)}
    rejected = _load(ws, "touchpoints", company.touchpoints, rows, now)
    done = 0
    for chunk in company.chunks():
        for table in LOAD_ORDER:
            data = chunk.tables.get(table)
            if data is not None and data.num_rows:
                rejected += _load(ws, table, data, rows, now)
        done += chunk.tables["customers"].num_rows if "customers" in chunk.tables else 0
        if progress is not None:
            progress(f"  {done}/{customers} customers loaded")
    path = write_truths(ws.path, company.truths())
    return DemoResult(rows, rejected, str(path), time.perf_counter() - start)


def _load(ws: Workspace, table: str, data: Any, rows: dict[str, int], now: datetime) -> int:
    report = ws.import_data(table, data, source_name=f"demo:{table}", now=now)
    rows[table] += report.accepted
    return report.rejected


def write_truths(root: Path, truths: dict[str, Any]) -> Path:
    """Write the planted truths to ``DIR/demo/truths.json`` atomically."""
    folder = root / "demo"
    folder.mkdir(exist_ok=True)
    path = folder / "truths.json"
    tmp = path.with_suffix(".json.partial")
    tmp.write_text(json.dumps(truths, indent=2, default=str, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)
    return path
