"""A 5-step window funnel: cxlens vs hand-written DuckDB SQL vs pandas.

    python bench/funnel.py --rows 10000000            # prints a Markdown section
    python bench/funnel.py --rows 1000000 --json out.json --no-pandas

Interactions are generated inside DuckDB (like bench/run.py's GENERATE): ``rows`` events of
``rows / 10`` customers (ten events each, about a day apart, mostly moving down the funnel) over
one year on ten touchpoints, five of which are the funnel's steps.
Each engine computes, for the sequential funnel search_ad → plans_page → web_checkout →
welcome_email → app_activation within 14 days, the customers reaching each step and the median
time from step 1 to each step; the results are checked equal before the times are reported.
Every step runs in its own subprocess (peak memory is its own); each takes the best of
``--repeat`` runs (the first reads a cold cache).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STEPS = ("search_ad", "plans_page", "web_checkout", "welcome_email", "app_activation")
NOISE = ("tv_app", "monthly_bill", "help_center", "account_login", "support_chat")
WINDOW = 14 * 86400
NOW = datetime(2026, 1, 1, tzinfo=UTC)

# The hand-written baseline: the same semantics as cxlens (greedy chains from every step-1 event,
# best chain per customer, window from step 1, order by occurred_at then event_id).
SQL = f"""
WITH e AS (
  SELECT customer_id, event_id, occurred_at, epoch(occurred_at)::BIGINT AS sec,
         touchpoint = 'search_ad' AS m1, touchpoint = 'plans_page' AS m2, touchpoint = 'web_checkout' AS m3,
         touchpoint = 'welcome_email' AS m4, touchpoint = 'app_activation' AS m5
  FROM interactions
  WHERE touchpoint IN ('search_ad', 'plans_page', 'web_checkout', 'welcome_email', 'app_activation')
    AND occurred_at < TIMESTAMP '2026-01-15'
), l4 AS (
  SELECT *, CASE WHEN m4 THEN min(CASE WHEN m5 THEN sec END) OVER w END AS a4_5 FROM e
  WINDOW w AS (PARTITION BY customer_id ORDER BY occurred_at, event_id ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING)
), l3 AS (
  SELECT *, CASE WHEN m3 THEN min(CASE WHEN m4 THEN sec END) OVER w END AS a3_4,
            CASE WHEN m3 THEN min(a4_5) OVER w END AS a3_5 FROM l4
  WINDOW w AS (PARTITION BY customer_id ORDER BY occurred_at, event_id ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING)
), l2 AS (
  SELECT *, CASE WHEN m2 THEN min(CASE WHEN m3 THEN sec END) OVER w END AS a2_3,
            CASE WHEN m2 THEN min(a3_4) OVER w END AS a2_4, CASE WHEN m2 THEN min(a3_5) OVER w END AS a2_5 FROM l3
  WINDOW w AS (PARTITION BY customer_id ORDER BY occurred_at, event_id ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING)
), l1 AS (
  SELECT customer_id, event_id, occurred_at, sec,
         min(CASE WHEN m2 THEN sec END) OVER w AS t2, min(a2_3) OVER w AS t3, min(a2_4) OVER w AS t4,
         min(a2_5) OVER w AS t5, m1 FROM l2
  WINDOW w AS (PARTITION BY customer_id ORDER BY occurred_at, event_id ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING)
), lv AS (
  SELECT *, 1 + (t2 <= sec + {WINDOW})::INT + (t3 <= sec + {WINDOW})::INT + (t4 <= sec + {WINDOW})::INT
             + (t5 <= sec + {WINDOW})::INT AS level
  FROM (SELECT customer_id, event_id, occurred_at, sec, coalesce(t2, 9e18)::BIGINT AS t2,
               coalesce(t3, 9e18)::BIGINT AS t3, coalesce(t4, 9e18)::BIGINT AS t4, coalesce(t5, 9e18)::BIGINT AS t5
        FROM l1 WHERE m1 AND occurred_at < TIMESTAMP '2026-01-01')
), best AS (
  SELECT * FROM lv QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY level DESC, occurred_at, event_id) = 1
)
SELECT count(*) AS n1, count(*) FILTER (WHERE level >= 2) AS n2, count(*) FILTER (WHERE level >= 3) AS n3,
       count(*) FILTER (WHERE level >= 4) AS n4, count(*) FILTER (WHERE level >= 5) AS n5,
       median(t2 - sec) FILTER (WHERE level >= 2) AS m2, median(t3 - sec) FILTER (WHERE level >= 3) AS m3,
       median(t4 - sec) FILTER (WHERE level >= 4) AS m4, median(t5 - sec) FILTER (WHERE level >= 5) AS m5
FROM best
"""


def setup(path: str, rows: int) -> None:
    import cxlens
    from cxlens.demo.events import touchpoints_table

    ws = cxlens.init(path)
    ws.import_data("touchpoints", touchpoints_table(), now=NOW)
    con = ws.warehouse.duckdb
    names = ", ".join(f"'{t}'" for t in (*STEPS, *NOISE))
    # ten events per customer, about a day apart from a random first day; event k is most often
    # step k // 2 + 1 (so customers move down the funnel and drop out at random), else noise
    con.execute(f"""INSERT INTO interactions (event_id, customer_id, occurred_at, touchpoint)
        SELECT 'E' || i, 'C' || (i // 10),
               TIMESTAMP '2025-01-01' + INTERVAL (hash(i // 10) % 31000000 + (i % 10) * 86400
                                                   + hash(i + 1) % 172800) SECOND,
               CASE WHEN hash(i + 2) % 100 < 55 THEN [{names}][1 + (i % 10) // 2]
                    ELSE [{names}][1 + (hash(i + 3) % 10)::INT] END
        FROM range({rows}) t(i)""")
    con.execute("CHECKPOINT")
    ws.close()


def run_cxlens(path: str) -> tuple[float, list]:
    import cxlens
    from cxlens.journey import run_funnel

    ws = cxlens.open(path)
    t = time.perf_counter()
    res = run_funnel(ws, list(STEPS), window="14d", until="2025-12-31", now=NOW)
    secs = time.perf_counter() - t
    steps = res.groups[0].steps
    return secs, [s.customers for s in steps] + [s.median_seconds for s in steps[1:]]


def run_sql(path: str) -> tuple[float, list]:
    import duckdb

    con = duckdb.connect(path + "/warehouse.duckdb", read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    t = time.perf_counter()
    row = con.execute(SQL).fetchone()
    secs = time.perf_counter() - t
    return secs, [int(v) for v in row[:5]] + [None if v is None else float(v) for v in row[5:]]


def run_pandas(path: str) -> tuple[float, list]:
    """The same algorithm with vectorised pandas on the events already in memory (loading not timed)."""
    import duckdb
    import numpy as np
    import pandas as pd

    con = duckdb.connect(path + "/warehouse.duckdb", read_only=True)
    df = con.execute("SELECT customer_id, event_id, occurred_at, touchpoint FROM interactions").df()
    con.close()
    t = time.perf_counter()
    e = df[df.touchpoint.isin(STEPS) & (df.occurred_at < pd.Timestamp("2026-01-15"))]
    e = e.sort_values(["customer_id", "occurred_at", "event_id"], ignore_index=True)
    sec = e.occurred_at.astype("datetime64[s]").astype("int64").to_numpy()
    cust = e.customer_id.to_numpy()
    m = {k: (e.touchpoint == s).to_numpy() for k, s in enumerate(STEPS, 1)}
    grp = pd.Series(cust)

    def following_min(values: np.ndarray) -> np.ndarray:
        """Minimum over the later rows of the same customer (NaN when none)."""
        rev = pd.Series(values[::-1])
        cm = rev.groupby(grp[::-1].to_numpy()).cummin()
        shifted = cm.groupby(grp[::-1].to_numpy()).shift(1)
        return shifted.to_numpy()[::-1]

    inf = np.inf
    a = {(5, 5): np.where(m[5], sec, inf)}
    for k in range(4, 0, -1):
        a[(k, k)] = np.where(m[k], sec, inf)
        for j in range(k + 1, 6):
            nxt = following_min(a[(k + 1, j)])
            a[(k, j)] = np.where(m[k], np.nan_to_num(nxt, nan=inf), inf)
    start = m[1] & (e.occurred_at < pd.Timestamp("2026-01-01")).to_numpy()
    lv = pd.DataFrame({"customer_id": cust, "occurred_at": e.occurred_at, "event_id": e.event_id, "sec": sec})
    level = np.ones(len(lv), dtype=np.int64)
    ok = np.ones(len(lv), dtype=bool)
    for j in range(2, 6):
        ok &= a[(1, j)] <= sec + WINDOW
        level += ok
        lv[f"d{j}"] = a[(1, j)] - sec
    lv["level"] = level
    lv = lv[start].sort_values(["customer_id", "level", "occurred_at", "event_id"],
                               ascending=[True, False, True, True])
    best = lv.drop_duplicates("customer_id")
    counts = [int((best.level >= k).sum()) for k in range(1, 6)]
    medians = [float(best.loc[best.level >= j, f"d{j}"].median()) for j in range(2, 6)]
    secs = time.perf_counter() - t
    return secs, counts + medians


def best_of(fn, path: str, repeat: int) -> tuple[float, list]:
    runs = [fn(path) for _ in range(repeat)]
    return min(r[0] for r in runs), runs[-1][1]


def same(a: list, b: list) -> bool:
    return a[:5] == b[:5] and all((x is None and y is None) or abs(float(x) - float(y)) < 1e-6
                                  for x, y in zip(a[5:], b[5:], strict=True))


def child(step: str, *args: str) -> tuple[dict, float]:
    """Run one step in a fresh interpreter; its JSON output and its own peak RSS (MiB)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([sys.executable, __file__, step, *args], stdout=out, stderr=err, text=True,
                                cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        out.seek(0)
        err.seek(0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"funnel benchmark step {step} failed:\n{err.read()}")
        return json.loads(out.read().strip().splitlines()[-1]), usage.ru_maxrss / 1024


def bench(rows: int, tmp: Path, repeat: int = 3, with_pandas: bool = True) -> dict:
    path = tmp / f"funnel-{rows}"
    t = time.perf_counter()
    child("setup", str(path), str(rows))
    result: dict = {"rows": rows, "repeat": repeat, "generate_s": time.perf_counter() - t}
    for step in ("sql", "cxlens") + (("pandas",) if with_pandas else ()):
        res, mem = child(step, str(path), str(repeat))
        result[step] = {"seconds": res["seconds"], "mem": mem, "values": res["values"]}
    for step in ("cxlens", "pandas"):
        if step in result and not same(result["sql"]["values"], result[step]["values"]):
            raise SystemExit(f"funnel benchmark: {step} and SQL disagree: {result[step]['values']} vs "
                             f"{result['sql']['values']}")
    result["counts"] = result["sql"]["values"][:5]
    shutil.rmtree(path, ignore_errors=True)
    return result


def render(results: list[dict]) -> list[str]:
    lines = [
        "## 5-step window funnel (issue: journey analytics)",
        "",
        "search_ad → plans_page → web_checkout → welcome_email → app_activation within 14 days (sequential,",
        "every step-1 event a candidate start, best chain per customer): customers per step and the median",
        "time to each step, computed by `cxlens.journey.run_funnel` (Ibis on the embedded DuckDB), by a",
        "hand-written DuckDB SQL query of the same algorithm, and by vectorised pandas on events already in",
        f"memory (loading not timed). Results are checked equal first. Best of {results[0].get('repeat', 3)} runs,",
        "each engine in its own process.",
        "",
        "| interactions | customers per step | DuckDB SQL (s) | cxlens (s) | cxlens ÷ SQL (target ≤ 1.5) "
        "| pandas (s) | pandas ÷ cxlens | peak MiB SQL / cxlens / pandas |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        sql, ours, pandas = r["sql"], r["cxlens"], r.get("pandas")
        cells = [f"{r['rows']:,}", " / ".join(f"{c:,}" for c in r["counts"]), f"{sql['seconds']:.2f}",
                 f"{ours['seconds']:.2f}", f"{ours['seconds'] / sql['seconds']:.2f}"]
        if pandas:
            cells += [f"{pandas['seconds']:.2f}", f"{pandas['seconds'] / ours['seconds']:.1f}×",
                      f"{sql['mem']:.0f} / {ours['mem']:.0f} / {pandas['mem']:.0f}"]
        else:
            cells += ["not run", "", f"{sql['mem']:.0f} / {ours['mem']:.0f} / –"]
        lines.append("| " + " | ".join(cells) + " |")
    return lines + [""]


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000_000], help="Interactions to generate.")
    parser.add_argument("--repeat", type=int, default=3, help="Runs per engine (the best counts).")
    parser.add_argument("--no-pandas", action="store_true", help="Skip the pandas baseline.")
    parser.add_argument("--json", type=Path, help="Also write the raw results to this file.")
    parser.add_argument("--tmp", type=Path, help="Scratch folder (default: a new temporary folder).")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        results = [bench(rows, Path(tmp), args.repeat, not args.no_pandas) for rows in args.rows]
    print("\n".join(render(results)))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return results


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in ("setup", "sql", "cxlens", "pandas"):
        step, path = sys.argv[1], sys.argv[2]
        if step == "setup":
            setup(path, int(sys.argv[3]))
            print("{}")
        else:
            fn = {"cxlens": run_cxlens, "sql": run_sql, "pandas": run_pandas}[step]
            seconds, values = best_of(fn, path, int(sys.argv[3]) if len(sys.argv) > 3 else 3)
            print(json.dumps({"seconds": seconds, "values": values}))
    else:
        main()
