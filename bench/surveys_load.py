"""Load on the survey collection endpoint: a real ``cxlens serve`` on a demo workspace, locust
posting widget answers to ``POST /s/SLUG/collect`` as fast as it can.

    python bench/surveys_load.py                      # both routes, 60 s each, 100 users
    python bench/surveys_load.py --route collector --seconds 15 --users 20 --out /tmp/surveys_load.json
    python bench/surveys_load.py --markdown /tmp/surveys_load.md
    CXLENS_SURVEY_FASTPATH=off python bench/surveys_load.py --route server --seconds 15   # through Django only

Two routes, one after the other in the same run, each on a fresh workspace: ``collector`` (``cxlens
serve --collect-port``: the widget's endpoint on a collector process, granian, the answers flushed
to the warehouse by the server) and ``server`` (the endpoint on the server's own waitress port).

Reports sustained responses/s, p50/p99 latency, errors, and ``lost``: answers the server
acknowledged (201) whose row is not in the warehouse after the server stopped and a final flush
ran (must be 0; the warehouse may hold a few more rows than acknowledged: answers stored while
locust was stopping, whose reply it no longer read). Also: how long the warehouse took to catch
up after the load stopped.
Locust runs in its own processes (``locust -f bench/surveys_load.py --headless --processes N``;
this file is its locustfile too) with ``FastHttpUser`` (geventhttpclient, keep-alive), so the
figures include the load generator sharing the machine's cores; the output names the client, the
number of locust processes, whether the lean collection route was on, and the machine's load.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SLUG = "load-test"
ORIGIN = "https://shop.example.com"
COMMENTS = ("Fast delivery, friendly support.", "The app keeps logging me out.", "Prices went up again.", "")

if os.environ.get("CXLENS_BENCH_ROLE") == "locust":  # imported by locust as its locustfile
    from locust import FastHttpUser, events, task

    ACKED: list[str] = []

    class Respondent(FastHttpUser):
        """One browser after another answering the widget (no think time: the server's limit)."""

        key = os.environ.get("CXLENS_BENCH_KEY", "")

        @task
        def answer(self) -> None:
            answers: dict[str, object] = {"nps": random.randint(0, 10)}
            comment = random.choice(COMMENTS)
            if comment:
                answers["reason"] = comment
            body = {"key": self.key, "id": secrets.token_hex(16), "answers": answers,
                    "customer_id": f"C{random.randint(1, 300):04d}", "language": "en"}
            with self.client.post(f"/s/{SLUG}/collect", json=body, headers={"Origin": ORIGIN},
                                  catch_response=True, name="collect") as resp:
                if resp.status_code == 201:
                    ACKED.append(f"{SLUG}-{body['id']}")
                    resp.success()
                else:
                    resp.failure(f"HTTP {resp.status_code}")

    @events.quitting.add_listener
    def _write_acked(environment: object, **_: object) -> None:
        # One file per locust process (--processes forks workers; each knows only its own answers).
        Path(f"{os.environ['CXLENS_BENCH_ACKED']}.{os.getpid()}").write_text("\n".join(ACKED), encoding="utf-8")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cxlens() -> list[str]:
    exe = Path(sys.executable).with_name("cxlens")
    from cxlens.cli import main

    return [str(exe)] if "serve" in main.commands else [sys.executable, "-m", "cxlens.web"]


def prepare(root: Path, customers: int) -> str:
    """A demo workspace with a live relationship-NPS survey that allows ORIGIN; its widget key."""
    import cxlens
    from cxlens.demo_loader import load_demo

    with cxlens.init(root) as ws:
        load_demo(ws, customers=customers, seed=7, now=datetime(2026, 11, 23, tzinfo=UTC))
    from cxlens.web import setup
    from cxlens.web.config import load_config

    setup(load_config(root), migrate=True)
    from django.db import connections

    from cxlens.web.projects import ensure_project
    from cxlens.web.surveys import service

    survey = service.create_survey(ensure_project(root), "relationship_nps", "Load", SLUG)
    service.update_settings(survey, {"title": "Load", "hidden_fields": "customer_id", "allowed_origins": ORIGIN})
    service.publish(survey, datetime.now(UTC))
    connections.close_all()
    return survey.public_key


def _pending() -> int:
    from cxlens.web.surveys.models import Response

    return Response.objects.filter(survey__slug=SLUG, completed_at__isnull=False, import_id__isnull=True).count()


def _wait_ready(url: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("cxlens serve exited before answering")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("cxlens serve did not answer /healthz")


def _cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a running process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8").rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _descendants(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text(encoding="utf-8").split():
            found += [int(child), *_descendants(int(child))]
    return found


def _tree_cpu(pid: int) -> dict[int, float]:
    """CPU seconds of ``pid`` and every process below it (the collector and its workers)."""
    out = {}
    for p in [pid, *_descendants(pid)]:
        try:
            out[p] = _cpu_seconds(p)
        except OSError:  # ended meanwhile
            pass
    return out


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text(encoding="utf-8").splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def sync_baseline(ws: object, seconds: float) -> float:
    """The earlier way, as the baseline: one ``import_data`` of one row per completed response
    (what the thank-you page used to wait for), in a loop for ``seconds``; rows per second."""
    from cxlens.web.api import rows_to_arrow

    if seconds <= 0:
        return 0.0
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        row = {"response_id": f"baseline-{secrets.token_hex(16)}", "submitted_at": datetime.now(UTC).isoformat(),
               "survey_id": "baseline", "customer_id": "C0001", "channel": "web", "language": "en",
               "nps": random.randint(0, 10), "comment": random.choice(COMMENTS) or None, "survey_version": 1,
               "answers": "{}"}
        ws.import_data("responses", rows_to_arrow([row]), source_name="survey:baseline")  # type: ignore[attr-defined]
        done += 1
    return round(done / (time.perf_counter() - start), 1)


def render(results: list[dict[str, object]], baseline: float) -> list[str]:
    """Rows for BENCHMARKS.md: one column per route."""
    r0 = results[0]
    names = {"collector": "collector (`--collect-port`, granian)", "server": "server's own port (waitress)"}

    def row(label: str, fmt: Callable[[dict[str, object]], str]) -> str:
        return f"| {label} | " + " | ".join(fmt(r) for r in results) + " |"

    return ["", "## Survey collection under load", "",
            f"`bench/surveys_load.py`: a real `cxlens serve` ({r0['server_threads']} waitress threads) on a demo "
            f"workspace, locust ({r0['client']}, {r0['locust_processes']} processes, {r0['users']} users, no think "
            f"time) posting widget answers to `POST /s/SLUG/collect` for {r0['seconds']} s per route, on "
            f"{r0['cores']} cores shared with locust; the routes one after the other in one run, each on a fresh "
            f"workspace; lean collection route {r0['fastpath']}. Baseline: one `import_data` per response (the "
            f"earlier synchronous completion), in the same run: {baseline} responses/s.", "",
            "| measure | " + " | ".join(names[str(r["route"])] for r in results) + " |",
            "|---|" + "---|" * len(results),
            row("sustained responses/s", lambda r: f"**{r['rps']:.0f}**"),
            row("ratio to the baseline", lambda r: f"{r['rps'] / baseline:.1f}x" if baseline else "-"),
            row("latency p50 / p99", lambda r: f"{r['p50_ms']:.0f} / {r['p99_ms']:.0f} ms"),
            row("errors", lambda r: str(r["failures"])),
            row("acknowledged / in the warehouse / lost",
                lambda r: f"{r['acknowledged']} / {r['warehouse_rows']} / {r['lost']}"),
            row("warehouse caught up after the load",
                lambda r: f"{r['catch_up_s']} s (backlog {r['backlog_at_stop']})"),
            row("server CPU per response (all its processes)", lambda r: f"{r['server_cpu_ms_per_response']} ms"),
            row("of which the server process (flush to the warehouse)",
                lambda r: f"{1000 * float(r['server_process_cpu_s']) / max(1, int(r['requests'])):.2f} ms"),
            row("locust CPU per response",
                lambda r: f"{1000 * float(r['locust_cpu_s']) / max(1, int(r['requests'])):.2f} ms"),
            row("load average before / after", lambda r: f"{r['load_before']} / {r['load_after']}"),
            row("collector processes x threads",
                lambda r: f"{r['collect_workers']} x {r['collect_threads']}" if r["route"] == "collector" else "-"),
            ""]


def _locust_stats(prefix: Path) -> dict[str, float]:
    with open(f"{prefix}_stats.csv", encoding="utf-8") as fh:
        row = next(r for r in csv.DictReader(fh) if r["Name"] == "Aggregated")
    return {"requests": int(row["Request Count"]), "failures": int(row["Failure Count"]),
            "rps": float(row["Requests/s"]), "p50_ms": float(row["50%"]), "p99_ms": float(row["99%"])}


def _acked(pattern: Path) -> set[str]:
    """The answers every locust process saw acknowledged."""
    return {line for f in pattern.parent.glob(pattern.name + ".*") for line in f.read_text(encoding="utf-8").split()}


def run(seconds: int, users: int, customers: int, threads: int, baseline_seconds: float = 10,
        processes: int = 2, route: str = "collector", collect_workers: int = 1,
        collect_threads: int = 16) -> dict[str, object]:
    tmp = Path(tempfile.mkdtemp(prefix="cxlens-surveys-load-"))
    root = tmp / "ws"
    key = prepare(root, customers)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "CXLENS_SECURE_COOKIES": "false", "CXLENS_SURVEY_LIMITS": "address=0,key=0,token=0"}
    log = (tmp / "server.log").open("w")
    command = [*_cxlens(), "serve", "--port", str(port), "--threads", str(threads), "-w", str(root)]
    target = url
    if route == "collector":
        collect_port = _free_port()
        command += ["--collect-port", str(collect_port), "--collect-workers", str(collect_workers),
                    "--collect-threads", str(collect_threads)]
        target = f"http://127.0.0.1:{collect_port}"
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        _wait_ready(url, server)
        _wait_ready(target, server)
        acked_file = tmp / "acked.txt"
        locust_env = {**env, "CXLENS_BENCH_ROLE": "locust", "CXLENS_BENCH_KEY": key,
                      "CXLENS_BENCH_ACKED": str(acked_file)}
        locust = Path(sys.executable).with_name("locust")
        server_cpu_before = _tree_cpu(server.pid)
        load_before = round(os.getloadavg()[0], 2)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([str(locust), "-f", str(Path(__file__).resolve()), "--headless", "-u", str(users),
                        "-r", str(users), "-t", f"{seconds}s",
                        *(["--processes", str(processes)] if processes > 1 else []),
                        "--host", target, "--csv", str(tmp / "locust"),
                        "--only-summary", "--loglevel", "WARNING", "--exit-code-on-error", "0"],
                       env=locust_env, check=True, cwd=tmp, stdout=subprocess.DEVNULL)
        server_cpu_after = _tree_cpu(server.pid)
        server_cpu = sum(v - server_cpu_before.get(p, 0.0) for p, v in server_cpu_after.items())
        main_cpu = server_cpu_after[server.pid] - server_cpu_before[server.pid]
        load_after = round(os.getloadavg()[0], 2)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        locust_cpu = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
        stats = _locust_stats(tmp / "locust")
        acked = _acked(acked_file)
        stopped = time.monotonic()
        backlog = _pending()
        while _pending() and time.monotonic() - stopped < 300:  # the server's flush job catching up
            time.sleep(0.2)
        catch_up = time.monotonic() - stopped
        peak_rss = _peak_rss_mb(server.pid)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        log.close()
    from cxlens.web.projects import POOL, ensure_project
    from cxlens.web.surveys import fastpath, service

    project = ensure_project(root)
    final = service.flush(project, datetime.now(UTC))
    with POOL.use(project) as ws:
        t = ws.table("responses")
        stored = set(t.filter(t.survey_id == SLUG).select("response_id").execute()["response_id"])
        baseline = sync_baseline(ws, baseline_seconds)
    POOL.close()
    return {"route": route, "collect_workers": collect_workers if route == "collector" else None,
            "collect_threads": collect_threads if route == "collector" else None,
            "seconds": seconds, "users": users, "server_threads": threads, "cores": os.cpu_count(),
            "client": "FastHttpUser", "locust_processes": processes,
            "fastpath": "on" if fastpath.enabled() else "off", "load_before": load_before, "load_after": load_after,
            **stats, "acknowledged": len(acked), "warehouse_rows": len(stored), "lost": len(acked - stored),
            "backlog_at_stop": backlog, "catch_up_s": round(catch_up, 2),
            "final_flush": final.to_dict(), "server_cpu_s": round(server_cpu, 1),
            "server_process_cpu_s": round(main_cpu, 1), "locust_cpu_s": round(locust_cpu, 1),
            "server_cpu_ms_per_response": round(1000 * server_cpu / max(1, stats["requests"]), 2),
            "server_peak_rss_mb": peak_rss, "baseline_sync_per_s": baseline,
            "ratio": round(stats["rps"] / baseline, 1) if baseline else None,
            "workspace": str(root)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--route", choices=("both", "collector", "server"), default="both",
                        help="where locust sends the answers (both: the collector, then the server's own port)")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--threads", type=int, default=64, help="waitress threads of cxlens serve (64)")
    parser.add_argument("--collect-workers", type=int, default=1, help="collector processes (1)")
    parser.add_argument("--collect-threads", type=int, default=16, help="threads per collector process (16)")
    parser.add_argument("--locust-processes", type=int, default=2,
                        help="locust processes generating the load (2; one cannot keep up past ~800/s)")
    parser.add_argument("--customers", type=int, default=300, help="size of the demo workspace")
    parser.add_argument("--baseline-seconds", type=float, default=10,
                        help="how long to run the one-import-per-response baseline (0: skip)")
    parser.add_argument("--out", type=Path, help="also write the figures as JSON here")
    parser.add_argument("--markdown", type=Path, help="also write BENCHMARKS.md rows here")
    parser.add_argument("--keep", action="store_true", help="keep the workspace and logs (path in the output)")
    args = parser.parse_args()
    if args.route == "both":  # one process per route: a process configures the web app for one workspace
        results = []
        for route, baseline_s in (("collector", 0), ("server", args.baseline_seconds)):
            out = Path(tempfile.mkstemp(suffix=".json")[1])
            subprocess.run([sys.executable, __file__, "--route", route, "--seconds", str(args.seconds),
                            "--users", str(args.users), "--threads", str(args.threads),
                            "--collect-workers", str(args.collect_workers), "--collect-threads",
                            str(args.collect_threads), "--locust-processes", str(args.locust_processes),
                            "--customers", str(args.customers), "--baseline-seconds", str(baseline_s),
                            "--out", str(out), *(["--keep"] if args.keep else [])], check=True)
            results += json.loads(out.read_text(encoding="utf-8"))
            out.unlink()
    else:
        result = run(args.seconds, args.users, args.customers, args.threads, args.baseline_seconds,
                     args.locust_processes, args.route, args.collect_workers, args.collect_threads)
        if not args.keep:
            shutil.rmtree(Path(str(result.pop("workspace"))).parent, ignore_errors=True)
        results = [result]
    baseline = float(results[-1]["baseline_sync_per_s"] or 0)
    text = json.dumps(results, indent=2)
    print(text)
    for result in results:
        print(f"\nsurveys collect ({result['route']}): {result['rps']:.0f} responses/s sustained over "
              f"{args.seconds} s ({args.users} users), p50 {result['p50_ms']:.0f} ms, p99 {result['p99_ms']:.0f} ms, "
              f"errors {result['failures']}, lost {result['lost']}; locust {result['client']} x "
              f"{result['locust_processes']} processes, lean route {result['fastpath']}, load average "
              f"{result['load_before']} -> {result['load_after']}")
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    if args.markdown:
        args.markdown.write_text("\n".join(render(results, baseline)), encoding="utf-8")


if __name__ == "__main__":
    main()
