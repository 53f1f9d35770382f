"""Web app benchmarks: dashboard latency over a large warehouse, and the ingest API under load.

    python bench/web.py --rows 10000000 --seconds 60 --out /tmp/web.json

1. A workspace with ``--rows`` survey responses (the same generator as the import benchmark)
   is served by a real ``cxlens serve``. The overview and the metric explorer are requested once
   (cold) and ``--repeat`` times (warm); p50/p95 are reported next to two baselines measured in
   the same run: ``/healthz`` (the bare HTTP + Django round trip) and the runner's own time for
   the explorer's figure in-process (``ws.metric``), so the page's own overhead is visible.
2. locust (headless, library API, in its own process) posts batches of ``--batch`` new responses
   to ``POST /api/projects/main/ingest/responses`` for ``--seconds``; reported: responses/s,
   p50/p99 latency, failures, and *lost* = responses acknowledged but not in the warehouse
   afterwards (must be 0; requests in flight when the clock stops arrive without being counted).
   Baseline: the same batches imported in-process by ``ws.import_data``
   (no HTTP), one after another.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
CXLENS = str(Path(sys.executable).with_name("cxlens"))
PASSWORD = "Bench-password-2026"

LOCUST = r'''
import json, sys, itertools, threading
from locust import HttpUser, task, constant
from locust.env import Environment
import gevent

host, key, batch, seconds, users, prefix = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), \
    int(sys.argv[5]), sys.argv[6]
counter = itertools.count()
acknowledged = [0]

class Ingest(HttpUser):
    wait_time = constant(0)

    @task
    def post(self):
        n = next(counter)
        rows = [{"response_id": f"{prefix}-{n}-{i}", "submitted_at": "2026-11-20T10:00:00Z",
                 "customer_id": f"L{(n * batch + i) % 50000}", "survey_id": "load", "nps": (n + i) % 11,
                 "comment": "quick checkout" if i % 4 == 0 else None} for i in range(batch)]
        with self.client.post("/api/projects/main/ingest/responses", json={"rows": rows},
                              headers={"Authorization": f"Bearer {key}"}, catch_response=True,
                              name="ingest") as r:
            if r.status_code == 200 and r.json().get("accepted") == batch:
                acknowledged[0] += batch
                r.success()
            else:
                r.failure(f"{r.status_code} {r.text[:200]}")

env = Environment(user_classes=[Ingest], host=host)
runner = env.create_local_runner()
runner.start(users, spawn_rate=users)
gevent.spawn_later(seconds, runner.quit)
runner.greenlet.join()
s = env.stats.total
print(json.dumps({"requests": s.num_requests, "failures": s.num_failures, "seconds": seconds,
                  "rps": s.num_requests / seconds, "p50_ms": s.get_response_time_percentile(0.5),
                  "p99_ms": s.get_response_time_percentile(0.99), "acknowledged": acknowledged[0]}))
'''

DIRECT = r'''
import json, sys, time
import pandas as pd
import cxlens
ws = cxlens.open(sys.argv[1])
batch, batches = int(sys.argv[2]), int(sys.argv[3])
t = time.perf_counter()
for n in range(batches):
    rows = pd.DataFrame([{"response_id": f"D-{n}-{i}", "submitted_at": "2026-11-20T10:00:00Z",
                          "customer_id": f"L{(n * batch + i) % 50000}", "survey_id": "load", "nps": (n + i) % 11,
                          "comment": "quick checkout" if i % 4 == 0 else None} for i in range(batch)])
    ws.import_data("responses", rows)
s = time.perf_counter() - t
print(json.dumps({"seconds": s, "responses_per_s": batch * batches / s}))
'''

RUNNER_TIME = r'''
import json, sys, time
from datetime import datetime, UTC
import cxlens
ws = cxlens.open(sys.argv[1])
now = datetime(2025, 1, 1, tzinfo=UTC)
times = []
for _ in range(int(sys.argv[2])):
    t = time.perf_counter()
    ws.metric("nps", by=["channel"], grain="month", now=now, since="2024-01-01", until="2024-12-31")
    times.append(time.perf_counter() - t)
print(json.dumps({"times": times}))
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(*args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(list(args), input=stdin, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def build(root: Path, rows: int) -> None:
    from run import GENERATE  # the import benchmark's generator

    data = root.parent / "responses.csv"
    run(sys.executable, "-c", GENERATE, str(data), str(rows))
    run(CXLENS, "init", str(root))
    run(CXLENS, "import", "responses", str(data), "-w", str(root))
    data.unlink()
    run(CXLENS, "users", "create", "bench", "--role", "admin", "--superuser", "--password-stdin", "-w", str(root),
        stdin=PASSWORD + "\n")


class Browser:
    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path: str) -> tuple[int, bytes, float]:
        t = time.perf_counter()
        with self.opener.open(self.base + path, timeout=600) as resp:
            body = resp.read()
            return resp.status, body, time.perf_counter() - t

    def login(self) -> None:
        _, page, _ = self.get("/login/")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()
        data = urllib.parse.urlencode({"username": "bench", "password": PASSWORD,
                                       "csrfmiddlewaretoken": token}).encode()
        req = urllib.request.Request(self.base + "/login/", data=data, headers={"Referer": self.base + "/login/"})
        with self.opener.open(req, timeout=60) as resp:
            assert "/login/" not in resp.url, "login failed"


def latency(browser: Browser, path: str, repeat: int) -> dict:
    status, _, cold = browser.get(path)
    assert status == 200, (path, status)
    warm = sorted(browser.get(path)[2] for _ in range(repeat))
    return {"path": path, "cold_ms": cold * 1000, "p50_ms": statistics.median(warm) * 1000,
            "p95_ms": warm[min(len(warm) - 1, int(round(0.95 * (len(warm) - 1))))] * 1000}


def api_key(root: Path) -> str:
    out = run(CXLENS, "apikeys", "create", "load", "--scope", "ingest", "--scope", "read", "-w", str(root))
    return re.search(r"(cxl_[A-Za-z0-9_\-]+)", out).group(1)


def warehouse_rows(base: str, key: str) -> int:
    req = urllib.request.Request(base + "/api/projects/main/status", headers={"Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(req, timeout=120) as resp:
        tables = json.loads(resp.read())["tables"]
    return next(t["rows"] for t in tables if t["table"] == "responses")


def ingest_one(base: str, key: str, tag: str) -> None:
    row = {"response_id": f"warm-{tag}", "submitted_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
           "customer_id": "WARM", "nps": 9}
    req = urllib.request.Request(base + "/api/projects/main/ingest/responses", data=json.dumps({"rows": [row]})
                                 .encode(), method="POST", headers={"Authorization": f"Bearer {key}",
                                                                    "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as resp:
        assert resp.status == 200


def first_overview_after_import(browser: Browser, base: str, key: str, wait_s: float = 150) -> dict:
    """The landing page (the default overview) requested first after an import: at once (the figures
    of the new data version are computed by that request), and ``wait_s`` after the import (the
    ``overview-warm`` job, at most every 2 minutes, has computed them in the background)."""
    browser.get("/p/main/")  # someone looks at this project's overview (the job warms only those)
    ingest_one(base, key, "a")
    _, _, at_once = browser.get("/p/main/")
    ingest_one(base, key, "b")
    time.sleep(wait_s)
    _, _, later = browser.get("/p/main/")
    return {"at_once_ms": at_once * 1000, "after_wait_ms": later * 1000, "wait_s": wait_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--out", type=Path, required=True, help="JSON figures")
    parser.add_argument("--markdown", type=Path, help="also write BENCHMARKS.md rows here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cxlens-web-bench-") as tmp:
        root = Path(tmp) / "ws"
        t = time.perf_counter()
        build(root, args.rows)
        build_s = time.perf_counter() - t
        runner = json.loads(run(sys.executable, "-c", RUNNER_TIME, str(root), str(args.repeat)).strip()
                            .splitlines()[-1])["times"]
        key = api_key(root)
        port = free_port()
        env = {**os.environ, "CXLENS_API_RATE": "off"}
        server = subprocess.Popen([CXLENS, "serve", "--port", str(port), "-w", str(root)], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 300
            while True:
                try:
                    urllib.request.urlopen(base + "/healthz", timeout=5).read()
                    break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        server.kill()
                        raise SystemExit(f"the server did not start:\n{server.communicate()[0]}") from None
                    time.sleep(0.5)
            browser = Browser(base)
            browser.login()
            pages = [latency(browser, "/healthz", args.repeat),
                     latency(browser, "/p/main/?period=365&until=2024-12-31", args.repeat),
                     latency(browser, "/p/main/explore/?metric=nps&by=channel&grain=month&since=2024-01-01"
                                      "&until=2024-12-31", args.repeat)]
            before = warehouse_rows(base, key)
            out = run(sys.executable, "-c", LOCUST, base, key, str(args.batch), str(args.seconds), str(args.users),
                      f"L{int(time.time())}")
            load = json.loads(out.strip().splitlines()[-1])
            time.sleep(1)
            arrived = warehouse_rows(base, key) - before
            landing = first_overview_after_import(browser, base, key)
        finally:
            server.terminate()
            server.wait(60)
        direct_batches = max(1, int(load["acknowledged"] / args.batch / 4))
        direct = json.loads(run(sys.executable, "-c", DIRECT, str(root), str(args.batch), str(direct_batches))
                            .strip().splitlines()[-1])
    result = {
        "rows": args.rows, "build_s": build_s, "pages": pages,
        "runner_p50_ms": statistics.median(runner) * 1000, "load": load,
        "responses_per_s": load["acknowledged"] / args.seconds, "arrived": arrived,
        # Requests still in flight when locust stops are committed but not counted as acknowledged,
        # so arrived >= acknowledged; lost is what was acknowledged and never arrived.
        "repeat": args.repeat, "lost": max(0, load["acknowledged"] - arrived),
        "in_flight_at_stop": max(0, arrived - load["acknowledged"]),
        "direct": direct, "batch": args.batch, "users": args.users,
        "landing": landing, "load_avg": os.getloadavg(),
    }
    args.out.write_text(json.dumps(result, indent=2), encoding="utf-8")
    if args.markdown:
        args.markdown.write_text("\n".join(render(result)) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


def render(r: dict) -> list[str]:
    pages = {p["path"]: p for p in r["pages"]}
    load, direct = r["load"], r["direct"]
    return [
        "## Web app: dashboards over a large warehouse and the ingest API under load (issue: web app)",
        "",
        f"`bench/web.py`: {r['rows']:,} responses (2024) served by `cxlens serve` (waitress, default threads); "
        f"{r['repeat']} warm requests per page after one cold request; load average at the end "
        f"{r['load_avg'][0]:.1f}.",
        "",
        "| request | cold (ms) | warm p50 (ms) | warm p95 (ms) |",
        "|---|---|---|---|",
        *[f"| `{path}` | {p['cold_ms']:.0f} | {p['p50_ms']:.0f} | {p['p95_ms']:.0f} |" for path, p in pages.items()],
        f"| in-process runner, the explorer's figure (`ws.metric`, baseline) | | {r['runner_p50_ms']:.0f} | |",
        "",
        "Warm requests of the overview and the explorer are answered from a cache keyed by the project's data "
        "version (a new import recomputes at once); the cold request computes every figure.",
        "",
        f"The landing page (`/p/main/`, the default 90-day overview) requested first after an import: "
        f"{r['landing']['at_once_ms']:.0f} ms right after it (that request computes the figures of the new data "
        f"version), {r['landing']['after_wait_ms']:.0f} ms {r['landing']['wait_s']:.0f} s after it (the "
        f"`overview-warm` job computed them in the background).",
        "",
        f"Ingest API under locust ({r['users']} users, batches of {r['batch']} responses, {load['seconds']:.0f} s): "
        f"**{r['responses_per_s']:,.0f} responses/s** ({load['rps']:.1f} requests/s), p50 {load['p50_ms']:.0f} ms, "
        f"p99 {load['p99_ms']:.0f} ms, {load['failures']} failures, {r['lost']} lost "
        f"({load['acknowledged']:,} acknowledged, {r['arrived']:,} arrived; {r['in_flight_at_stop']} were in flight "
        f"when the clock stopped). Baseline, the same batches imported in-process one after another: "
        f"{direct['responses_per_s']:,.0f} responses/s (ratio {r['responses_per_s'] / direct['responses_per_s']:.2f}).",
        "",
    ]


if __name__ == "__main__":
    main()
