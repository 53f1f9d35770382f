"""Load on the survey collection endpoint: a real ``cxlens serve`` on a demo workspace, locust
posting widget answers to ``POST /s/SLUG/collect`` as fast as it can.

    python bench/surveys_load.py                      # 60 s, 100 users, 64 server threads
    python bench/surveys_load.py --seconds 15 --users 20 --out /tmp/surveys_load.json
    python bench/surveys_load.py --markdown /tmp/surveys_load.md
    CXLENS_SURVEY_FASTPATH=off python bench/surveys_load.py --seconds 15   # through Django only

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


def render(r: dict[str, object]) -> list[str]:
    """Rows for BENCHMARKS.md."""
    return ["", "## Survey collection under load", "",
            f"`bench/surveys_load.py`: a real `cxlens serve` ({r['server_threads']} threads) on a demo workspace, "
            f"locust ({r['client']}, {r['locust_processes']} processes, {r['users']} users, no think time) posting "
            f"widget answers to `POST /s/SLUG/collect` for {r['seconds']} s, on {r['cores']} cores shared with "
            f"locust (load average {r['load_before']} before, {r['load_after']} after); lean collection route "
            f"{r['fastpath']}. Baseline: one `import_data` per response (the earlier synchronous completion), in the "
            f"same run.", "",
            "| measure | value |", "|---|---|",
            f"| sustained responses/s | {r['rps']:.0f} |",
            f"| baseline (one import per response)/s | {r['baseline_sync_per_s']} |",
            f"| ratio | {r['ratio']}× |",
            f"| latency p50 / p99 | {r['p50_ms']:.0f} ms / {r['p99_ms']:.0f} ms |",
            f"| errors | {r['failures']} |",
            f"| acknowledged / in the warehouse / lost | {r['acknowledged']} / {r['warehouse_rows']} / {r['lost']} |",
            f"| warehouse caught up after the load | {r['catch_up_s']} s (backlog {r['backlog_at_stop']}) |",
            f"| server CPU per response | {r['server_cpu_ms_per_response']} ms |",
            f"| server peak memory (RSS) | {r['server_peak_rss_mb']} MB |", ""]


def _locust_stats(prefix: Path) -> dict[str, float]:
    with open(f"{prefix}_stats.csv", encoding="utf-8") as fh:
        row = next(r for r in csv.DictReader(fh) if r["Name"] == "Aggregated")
    return {"requests": int(row["Request Count"]), "failures": int(row["Failure Count"]),
            "rps": float(row["Requests/s"]), "p50_ms": float(row["50%"]), "p99_ms": float(row["99%"])}


def _acked(pattern: Path) -> set[str]:
    """The answers every locust process saw acknowledged."""
    return {line for f in pattern.parent.glob(pattern.name + ".*") for line in f.read_text(encoding="utf-8").split()}


def run(seconds: int, users: int, customers: int, threads: int, baseline_seconds: float = 10,
        processes: int = 2) -> dict[str, object]:
    tmp = Path(tempfile.mkdtemp(prefix="cxlens-surveys-load-"))
    root = tmp / "ws"
    key = prepare(root, customers)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "CXLENS_SECURE_COOKIES": "false", "CXLENS_SURVEY_LIMITS": "address=0,key=0,token=0"}
    log = (tmp / "server.log").open("w")
    server = subprocess.Popen([*_cxlens(), "serve", "--port", str(port), "--threads", str(threads), "-w", str(root)],
                              stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        _wait_ready(url, server)
        acked_file = tmp / "acked.txt"
        locust_env = {**env, "CXLENS_BENCH_ROLE": "locust", "CXLENS_BENCH_KEY": key,
                      "CXLENS_BENCH_ACKED": str(acked_file)}
        locust = Path(sys.executable).with_name("locust")
        server_cpu = _cpu_seconds(server.pid)
        load_before = round(os.getloadavg()[0], 2)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([str(locust), "-f", str(Path(__file__).resolve()), "--headless", "-u", str(users),
                        "-r", str(users), "-t", f"{seconds}s",
                        *(["--processes", str(processes)] if processes > 1 else []),
                        "--host", url, "--csv", str(tmp / "locust"),
                        "--only-summary", "--loglevel", "WARNING", "--exit-code-on-error", "0"],
                       env=locust_env, check=True, cwd=tmp, stdout=subprocess.DEVNULL)
        server_cpu = _cpu_seconds(server.pid) - server_cpu
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
    return {"seconds": seconds, "users": users, "server_threads": threads, "cores": os.cpu_count(),
            "client": "FastHttpUser", "locust_processes": processes,
            "fastpath": "on" if fastpath.enabled() else "off", "load_before": load_before, "load_after": load_after,
            **stats, "acknowledged": len(acked), "warehouse_rows": len(stored), "lost": len(acked - stored),
            "backlog_at_stop": backlog, "catch_up_s": round(catch_up, 2),
            "final_flush": final.to_dict(), "server_cpu_s": round(server_cpu, 1), "locust_cpu_s": round(locust_cpu, 1),
            "server_cpu_ms_per_response": round(1000 * server_cpu / max(1, stats["requests"]), 2),
            "server_peak_rss_mb": peak_rss, "baseline_sync_per_s": baseline,
            "ratio": round(stats["rps"] / baseline, 1) if baseline else None,
            "workspace": str(root)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--threads", type=int, default=64, help="waitress threads of cxlens serve (64)")
    parser.add_argument("--locust-processes", type=int, default=2,
                        help="locust processes generating the load (2; one cannot keep up past ~800/s)")
    parser.add_argument("--customers", type=int, default=300, help="size of the demo workspace")
    parser.add_argument("--baseline-seconds", type=float, default=10,
                        help="how long to run the one-import-per-response baseline (0: skip)")
    parser.add_argument("--out", type=Path, help="also write the figures as JSON here")
    parser.add_argument("--markdown", type=Path, help="also write BENCHMARKS.md rows here")
    parser.add_argument("--keep", action="store_true", help="keep the workspace and logs (path in the output)")
    args = parser.parse_args()
    result = run(args.seconds, args.users, args.customers, args.threads, args.baseline_seconds,
                 args.locust_processes)
    if not args.keep:
        shutil.rmtree(Path(str(result.pop("workspace"))).parent, ignore_errors=True)
    text = json.dumps(result, indent=2)
    print(text)
    print(f"\nsurveys collect: {result['rps']:.0f} responses/s sustained over {args.seconds} s "
          f"({args.users} users), p50 {result['p50_ms']:.0f} ms, p99 {result['p99_ms']:.0f} ms, "
          f"errors {result['failures']}, lost {result['lost']}; locust {result['client']} x "
          f"{result['locust_processes']} processes, lean route {result['fastpath']}, load average "
          f"{result['load_before']} -> {result['load_after']}")
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    if args.markdown:
        args.markdown.write_text("\n".join(render(result)), encoding="utf-8")


if __name__ == "__main__":
    main()
