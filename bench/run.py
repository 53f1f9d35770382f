"""Benchmarks of cxlens against named baselines, side by side in one run; writes BENCHMARKS.md.

    python bench/run.py                 # full size (10M-row import), writes BENCHMARKS.md
    python bench/run.py --rows 1000000  # smaller, quicker

Each measured step runs in its own subprocess so that peak memory (max RSS) is its own.
Machines here are noisy: the ratio of two runs made in the same session is what counts.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
SECTIONS = ("import", "demo", "nps", "clv", "funnel", "sentiment", "themes", "surveys", "web")
NPS_SCRIPT = (ROOT / "bench" / "nps.py").read_text(encoding="utf-8")
CLV_SCRIPT = (ROOT / "bench" / "clv.py").read_text(encoding="utf-8")

GENERATE = """
import duckdb, sys
con = duckdb.connect()
con.execute(f'''COPY (
  SELECT 'R' || i AS response_id,
         TIMESTAMP '2024-01-01' + INTERVAL (i % 31536000) SECOND AS submitted_at,
         'C' || (i % 1000000) AS customer_id,
         'S' || (i % 4) AS survey_id,
         ['web_checkout','app_login','phone_support','store_visit','email_support'][1 + i % 5] AS touchpoint,
         ['web','app','phone','store','email'][1 + i % 5] AS channel,
         'en' AS language,
         (hash(i) % 11)::INT AS nps,
         1 + (hash(i + 1) % 5)::INT AS csat,
         1 + (hash(i + 2) % 7)::INT AS ces,
         CASE WHEN i % 3 = 0 THEN 'delivery was late again, support was kind' END AS comment
  FROM range({int(sys.argv[2])}) t(i)) TO '{sys.argv[1]}' (HEADER)''')
print('{}')
"""

CXLENS_IMPORT = """
import sys, time, json, cxlens
ws = cxlens.init(sys.argv[1])
t = time.perf_counter()
r = ws.import_data('responses', sys.argv[2])
print(json.dumps({'seconds': time.perf_counter() - t, 'rows': r.accepted, 'rejected': r.rejected}))
"""

DUCKDB_IMPORT = """
import sys, time, json, duckdb
sys.path.insert(0, sys.argv[3])
from cxlens.schema import RESPONSES
con = duckdb.connect(sys.argv[1])
con.execute("SET enable_progress_bar = false")
cols = ', '.join(f'"{c.name}" {c.type.sql}' for c in RESPONSES.columns)
con.execute(f'CREATE TABLE responses ({cols})')
t = time.perf_counter()
con.execute("INSERT INTO responses SELECT * FROM read_csv(?, header = true)", [sys.argv[2]])
n = con.execute('SELECT count(*) FROM responses').fetchone()[0]
print(json.dumps({'seconds': time.perf_counter() - t, 'rows': n}))
"""

DEMO = """
import sys, time, json
from datetime import datetime, UTC
import cxlens
from cxlens.demo_loader import load_demo
from cxlens.demo import DemoCompany
n = int(sys.argv[2])
t = time.perf_counter()
rows = 0
for chunk in DemoCompany(n, 7, now=datetime(2026, 11, 1, tzinfo=UTC)).chunks():
    rows += sum(tb.num_rows for tb in chunk.tables.values())
gen = time.perf_counter() - t
ws = cxlens.init(sys.argv[1])
t = time.perf_counter()
res = load_demo(ws, customers=n, seed=7, now=datetime(2026, 11, 1, tzinfo=UTC))
print(json.dumps({'generate_seconds': gen, 'rows': rows, 'load_seconds': time.perf_counter() - t}))
"""


def peak_rss_child(code: str, *args: str) -> tuple[dict, float]:
    """Run ``code`` in a fresh interpreter; return its JSON output and its own peak RSS (MiB).

    Output goes to files, not pipes: a child that prints a lot (DuckDB's progress bar) must not
    block on a full pipe while we wait for it.
    """
    import os

    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=out, stderr=err, text=True, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0:
        raise SystemExit(f"benchmark step failed:\n{stderr}")
    return json.loads(stdout.strip().splitlines()[-1]), usage.ru_maxrss / 1024


def bench_import(rows: int, tmp: Path) -> dict:
    data = tmp / "responses.csv"
    t = time.perf_counter()
    peak_rss_child(GENERATE, str(data), str(rows))
    gen_s = time.perf_counter() - t
    size_mb = data.stat().st_size / 2**20
    base, base_mem = peak_rss_child(DUCKDB_IMPORT, str(tmp / "baseline.duckdb"), str(data), str(ROOT / "src"))
    ours, our_mem = peak_rss_child(CXLENS_IMPORT, str(tmp / "ws"), str(data))
    assert ours["rows"] == base["rows"] == rows, (ours, base)
    return {
        "rows": rows, "file_mb": size_mb, "generate_s": gen_s,
        "duckdb_s": base["seconds"], "duckdb_mem": base_mem,
        "cxlens_s": ours["seconds"], "cxlens_mem": our_mem,
    }


def bench_demo(customers: int, tmp: Path) -> dict | None:
    try:
        out, mem = peak_rss_child(DEMO, str(tmp / "demo-ws"), str(customers))
    except SystemExit as exc:
        print(f"demo benchmark skipped: {exc}", file=sys.stderr)
        return None
    return {"customers": customers, "mem": mem, **out}


def bench_nps(rows: int, tmp: Path, with_pandas: bool) -> dict:
    path = tmp / f"nps-{rows}"
    peak_rss_child(NPS_SCRIPT, "setup", str(path), str(rows))
    out: dict = {"rows": rows}
    for step in ("sql", "cxlens") + (("pandas",) if with_pandas else ()):
        res, mem = peak_rss_child(NPS_SCRIPT, step, str(path), "3")
        out[step] = {"seconds": res["seconds"], "mem": mem, "rows": res["rows"]}
    sys.path.insert(0, str(ROOT / "bench"))
    from nps import same

    for step in ("cxlens", "pandas"):
        if step in out and not same(out["sql"]["rows"], out[step]["rows"]):
            raise SystemExit(f"NPS benchmark: {step} and SQL disagree")
    out["groups"] = len(out["sql"]["rows"])
    for step in ("sql", "cxlens", "pandas"):
        if step in out:
            out[step].pop("rows")
    import shutil

    shutil.rmtree(path, ignore_errors=True)
    return out


def render_nps(results: list[dict]) -> list[str]:
    lines = [
        "## NPS with intervals by segment × month (issue: CX metrics engine)",
        "",
        "The same table — n, promoters, detractors, NPS and the adjusted-Wald 95% interval for every",
        "segment and month, responses joined to customers for the segment — computed by",
        "`ws.metric(\"nps\", by=\"segment\", grain=\"month\")`, by a hand-written DuckDB SQL query,",
        "and by pandas on data already in memory (loading not timed). Results are checked equal",
        "before the times are reported. Best of 3 runs in one process each (warm cache).",
        "",
        "| responses | groups | DuckDB SQL (s) | cxlens (s) | cxlens ÷ SQL (target ≤ 1.3) | pandas (s) "
        "| pandas ÷ cxlens | peak MiB SQL / cxlens / pandas |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        pandas = r.get("pandas")
        sql, ours = r["sql"], r["cxlens"]
        cells = [f"{r['rows']:,}", str(r["groups"]), f"{sql['seconds']:.2f}", f"{ours['seconds']:.2f}",
                 f"{ours['seconds'] / sql['seconds']:.2f}"]
        if pandas:
            cells += [f"{pandas['seconds']:.2f}", f"{pandas['seconds'] / ours['seconds']:.1f}×",
                      f"{sql['mem']:.0f} / {ours['mem']:.0f} / {pandas['mem']:.0f}"]
        else:
            cells += ["not run (see below)", "", f"{sql['mem']:.0f} / {ours['mem']:.0f} / –"]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "pandas is run up to 10M responses: at 100M its string keys alone need more memory than "
              "this 24 GB machine has.", ""]
    return lines


def bench_clv(customers: int) -> dict:
    out, mem = peak_rss_child(CLV_SCRIPT, str(customers))
    return {**out, "mem": mem}


def render_clv(r: dict) -> list[str]:
    ours, theirs = r["cxlens"], r["lifetimes"]
    rows = [
        "## BG/NBD fit and prediction (issue: CX metrics engine)",
        "",
        f"{r['customers']:,} customers simulated from the BG/NBD process with the CDNOW parameters "
        "(r = 0.243, α = 4.414, a = 0.793, b = 2.426); both libraries fit the same arrays in the same "
        "process, then predict expected purchases over 39 weeks and P(alive) for every customer.",
        "",
        "| | fit (s) | predict (s) | r | α | a | b |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, x in (("lifetimes 0.11.3 (baseline)", theirs), ("cxlens", ours)):
        p = x["params"]
        rows.append(f"| {name} | {x['fit']:.2f} | {x['predict']:.2f} | {p['r']:.4f} | {p['alpha']:.4f} | "
                    f"{p['a']:.4f} | {p['b']:.4f} |")
    rows += ["", f"**cxlens fits {theirs['fit'] / ours['fit']:.1f}× faster** than lifetimes with the same "
             "parameters (target: faster, same parameters).", ""]
    return rows


def render(imp: dict | None, demo: dict | None, nps: list[dict], clv: dict | None = None,
           extra: list[str] | None = None) -> str:
    head = [
        "# Benchmarks",
        "",
        "Written by `python bench/run.py` (see its docstring). Every ratio compares two runs made",
        "side by side in the same session on the same machine; absolute times drift between",
        "machines and runs.",
        "",
        f"Last run: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}, Python "
        f"{platform.python_version()}, {platform.machine()}, 2 cores.",
        "",
    ]
    body = (render_import(imp) if imp else []) + (render_demo(demo) if demo else []) + (
        render_nps(nps) if nps else []) + (render_clv(clv) if clv else []) + (extra or [])
    return "\n".join(head + body)


def render_import(imp: dict) -> list[str]:
    ratio = imp["duckdb_s"] / imp["cxlens_s"]
    return [
        "## Import throughput (issue: foundation)",
        "",
        f"A {imp['rows']:,}-row responses CSV ({imp['file_mb']:.0f} MiB) imported into a new "
        "workspace, against DuckDB's own `read_csv` + `INSERT` into a table of the same schema "
        "(no validation, no quarantine, no duplicate check: the physical-limit anchor).",
        "",
        "| | seconds | rows/s | peak memory (MiB) |",
        "|---|---|---|---|",
        f"| DuckDB `read_csv` + `INSERT` (baseline) | {imp['duckdb_s']:.2f} | "
        f"{imp['rows'] / imp['duckdb_s']:,.0f} | {imp['duckdb_mem']:.0f} |",
        f"| `cxlens import` (validate, classify, quarantine, atomic commit) | {imp['cxlens_s']:.2f} | "
        f"{imp['rows'] / imp['cxlens_s']:,.0f} | {imp['cxlens_mem']:.0f} |",
        "",
        f"**cxlens reaches {ratio:.0%} of the baseline's throughput** (target: at least 50%).",
        "",
    ]


def render_demo(demo: dict) -> list[str]:
    return [
            "## Demo company generation (issue: foundation)",
            "",
            "| customers | rows generated | generate (s) | customers/s | generate + import (s) | peak MiB |",
            "|---|---|---|---|---|---|",
            f"| {demo['customers']:,} | {demo['rows']:,} | {demo['generate_seconds']:.2f} | "
            f"{demo['customers'] / demo['generate_seconds']:,.0f} | {demo['load_seconds']:.2f} | "
            f"{demo['mem']:.0f} |",
            "",
        ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--demo-customers", type=int, default=100_000)
    parser.add_argument("--nps-rows", default="10000000,100000000",
                        help="Comma-separated response counts for the NPS benchmark.")
    parser.add_argument("--pandas-max", type=int, default=10_000_000,
                        help="Largest NPS size also run with pandas.")
    parser.add_argument("--clv-customers", type=int, default=1_000_000)
    parser.add_argument("--funnel-rows", type=int, default=10_000_000)
    parser.add_argument("--themes-comments", type=int, default=100_000)
    parser.add_argument("--surveys-seconds", type=int, default=60)
    parser.add_argument("--web-rows", type=int, default=10_000_000)
    parser.add_argument("--web-seconds", type=int, default=60)
    parser.add_argument("--web-batch", type=int, default=1000)
    parser.add_argument("--only", default=",".join(SECTIONS), help="Sections to run (comma-separated).")
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    args = parser.parse_args()
    only = set(args.only.split(","))
    unknown = only - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections {sorted(unknown)}; choose from {', '.join(SECTIONS)}")
    extra: list[str] = []
    imp = demo = clv = None
    nps: list[dict] = []
    with tempfile.TemporaryDirectory(dir=ROOT / "bench", prefix=".data-") as tmp:
        if "import" in only:
            imp = bench_import(args.rows, Path(tmp))
            print(json.dumps(imp), file=sys.stderr)
        if "demo" in only:
            demo = bench_demo(args.demo_customers, Path(tmp))
            print(json.dumps(demo), file=sys.stderr)
        if "nps" in only:
            for n in (int(x) for x in args.nps_rows.split(",") if x):
                nps.append(bench_nps(n, Path(tmp), with_pandas=n <= args.pandas_max))
                print(json.dumps(nps[-1]), file=sys.stderr)
        if "clv" in only:
            clv = bench_clv(args.clv_customers)
            print(json.dumps(clv), file=sys.stderr)
        if "funnel" in only:
            import funnel as funnel_bench  # noqa: PLC0415 - bench/ is on sys.path

            result = funnel_bench.bench(args.funnel_rows, Path(tmp), repeat=3, with_pandas=True)
            print(json.dumps(result), file=sys.stderr)
            extra += funnel_bench.render([result])
        if "sentiment" in only:
            import text_sentiment  # noqa: PLC0415

            if text_sentiment.DATA.is_dir():
                result = text_sentiment.run(text_sentiment.DATA)
                print(json.dumps(result), file=sys.stderr)
                extra += text_sentiment.render(result)
            else:
                print(f"sentiment: {text_sentiment.DATA} is absent; section skipped", file=sys.stderr)
        if "themes" in only:
            out = Path(tmp) / "themes.md"
            subprocess.run([sys.executable, str(ROOT / "bench" / "text_themes.py"), "--comments",
                            str(args.themes_comments), "--out", str(out)], check=True, cwd=ROOT)
            extra += ["", *out.read_text(encoding="utf-8").splitlines(), ""]
        if "surveys" in only:
            # Its own process: the benchmark configures Django for its workspace.
            out = Path(tmp) / "surveys.md"
            subprocess.run([sys.executable, str(ROOT / "bench" / "surveys_load.py"), "--seconds",
                            str(args.surveys_seconds), "--users", "100", "--threads", "64", "--markdown", str(out)],
                           check=True, cwd=ROOT)
            extra += ["", *out.read_text(encoding="utf-8").splitlines(), ""]
        if "web" in only:
            out = Path(tmp) / "web.md"
            subprocess.run([sys.executable, str(ROOT / "bench" / "web.py"), "--rows", str(args.web_rows),
                            "--seconds", str(args.web_seconds), "--batch", str(args.web_batch),
                            "--out", str(Path(tmp) / "web.json"), "--markdown", str(out)], check=True, cwd=ROOT)
            extra += ["", *out.read_text(encoding="utf-8").splitlines(), ""]
    args.out.write_text(render(imp, demo, nps, clv, extra), encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
