"""NPS with intervals by segment x month: cxlens vs hand-written DuckDB SQL vs pandas.

Run by bench/run.py; each engine computes the same table (n, promoters, detractors, NPS and the
adjusted-Wald interval per segment and month) and the results are checked equal before timing
is reported.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime

SQL = """
WITH j AS (
  SELECT c.segment, date_trunc('month', r.submitted_at)::DATE AS period, r.nps
  FROM responses r LEFT JOIN customers c ON c.customer_id = r.customer_id
  WHERE r.nps IS NOT NULL AND r.submitted_at < TIMESTAMP '2030-01-01'
), a AS (
  SELECT segment, period, count(*) AS n,
         count(*) FILTER (WHERE nps >= 9) AS promoters,
         count(*) FILTER (WHERE nps <= 6) AS detractors
  FROM j GROUP BY ALL
), w AS (
  SELECT *, (promoters + 0.75) / (n + 3) AS pp, (detractors + 0.75) / (n + 3) AS dd FROM a
)
SELECT segment, period, n, promoters, detractors,
       100.0 * (promoters - detractors) / n AS nps,
       100 * (pp - dd - 1.959963984540054 * sqrt((pp + dd - (pp - dd) ^ 2) / (n + 3))) AS ci_low,
       100 * (pp - dd + 1.959963984540054 * sqrt((pp + dd - (pp - dd) ^ 2) / (n + 3))) AS ci_high
FROM w ORDER BY segment, period
"""


def setup(path: str, rows: int) -> None:
    import cxlens

    ws = cxlens.init(path)
    con = ws.warehouse.duckdb
    customers = max(rows // 10, 1000)
    con.execute(f"""INSERT INTO customers (customer_id, segment)
        SELECT 'C' || i, ['consumer', 'smb', 'enterprise', 'public'][1 + i % 4] FROM range({customers}) t(i)""")
    con.execute(f"""INSERT INTO responses (response_id, submitted_at, customer_id, nps)
        SELECT 'R' || i, TIMESTAMP '2024-01-01' + INTERVAL (hash(i + 3) % 63072000) SECOND,
               'C' || (hash(i) % {customers}), (hash(i + 7) % 11)::INT
        FROM range({rows}) t(i)""")
    con.execute("CHECKPOINT")
    ws.close()


def run_cxlens(path: str) -> tuple[float, list[tuple]]:
    import cxlens

    ws = cxlens.open(path)
    t = time.perf_counter()
    res = ws.metric("nps", by="segment", grain="month", until="2029-12-31",
                    now=datetime(2030, 1, 1, tzinfo=UTC))
    secs = time.perf_counter() - t
    return secs, [(r["segment"], r["period"], r["n"], r["promoters"], r["detractors"], r["value"],
                   r["ci_low"], r["ci_high"]) for r in res.to_records()]


def run_sql(path: str) -> tuple[float, list[tuple]]:
    import duckdb

    con = duckdb.connect(path + "/warehouse.duckdb", read_only=True)
    t = time.perf_counter()
    rows = con.execute(SQL).fetchall()
    secs = time.perf_counter() - t
    return secs, [(s, p.isoformat(), n, pr, d, nps, lo, hi) for s, p, n, pr, d, nps, lo, hi in rows]


def run_pandas(path: str) -> tuple[float, list[tuple]]:
    import duckdb
    import numpy as np

    con = duckdb.connect(path + "/warehouse.duckdb", read_only=True)
    r = con.execute("SELECT customer_id, submitted_at, nps FROM responses").df()
    c = con.execute("SELECT customer_id, segment FROM customers").df()
    con.close()
    t = time.perf_counter()
    j = r[r.nps.notna()].merge(c, on="customer_id", how="left")
    j["period"] = j.submitted_at.dt.to_period("M").dt.start_time.dt.date
    j["promoter"] = j.nps >= 9
    j["detractor"] = j.nps <= 6
    g = j.groupby(["segment", "period"]).agg(n=("nps", "size"), promoters=("promoter", "sum"),
                                             detractors=("detractor", "sum")).reset_index()
    pp, dd = (g.promoters + 0.75) / (g.n + 3), (g.detractors + 0.75) / (g.n + 3)
    se = np.sqrt((pp + dd - (pp - dd) ** 2) / (g.n + 3))
    g["nps"] = 100 * (g.promoters - g.detractors) / g.n
    g["ci_low"], g["ci_high"] = 100 * (pp - dd - 1.959963984540054 * se), 100 * (pp - dd + 1.959963984540054 * se)
    secs = time.perf_counter() - t
    return secs, [(s, p.isoformat(), int(n), int(pr), int(d), nps, lo, hi)
                  for s, p, n, pr, d, nps, lo, hi in g.itertuples(index=False)]


def same(a: list[tuple], b: list[tuple]) -> bool:
    if len(a) != len(b):
        return False
    for x, y in zip(sorted(a), sorted(b)):
        if x[:5] != y[:5] or any(abs(float(u) - float(v)) > 1e-6 for u, v in zip(x[5:], y[5:])):
            return False
    return True


def best_of(fn, path: str, repeat: int) -> tuple[float, list[tuple]]:
    """The fastest of ``repeat`` runs in one process (the first one reads from a cold cache)."""
    runs = [fn(path) for _ in range(repeat)]
    return min(r[0] for r in runs), runs[-1][1]


if __name__ == "__main__":
    step, path = sys.argv[1], sys.argv[2]
    if step == "setup":
        setup(path, int(sys.argv[3]))
        print("{}")
    else:
        fn = {"cxlens": run_cxlens, "sql": run_sql, "pandas": run_pandas}[step]
        secs, rows = best_of(fn, path, int(sys.argv[3]) if len(sys.argv) > 3 else 3)
        print(json.dumps({"seconds": secs, "rows": rows}, default=str))
