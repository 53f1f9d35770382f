"""``cxlens jobs``: the background jobs from the command line (for cron when no server runs)."""

from __future__ import annotations

import json
from pathlib import Path

import cxlens

from .conftest import Served, require_web, run_cli

require_web()


def test_jobs_list_and_run_once_on_a_workspace(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    cxlens.init(root).close()
    listed = run_cli("jobs", "list", "-w", str(root), "--format", "json")
    assert listed.returncode == 0, listed.stderr
    names = {row["job"] for row in json.loads(listed.stdout)}
    ran = run_cli("jobs", "run", "-w", str(root), "--format", "json", "--now", "2026-11-23T12:00:00Z")
    assert ran.returncode == 0, ran.stderr
    outcomes = json.loads(ran.stdout) if ran.stdout.strip() != "(no rows)" else []
    assert {o["job"] for o in outcomes} == names
    assert all(o["ok"] and o["project"] == "main" for o in outcomes)
    again = json.loads(run_cli("jobs", "list", "-w", str(root), "--format", "json").stdout)
    assert all(row["runs"] == 1 and row["last_run"].startswith("2026-11-23T12:00") for row in again)


def test_an_unknown_job_is_named(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    cxlens.init(root).close()
    ran = run_cli("jobs", "run", "--job", "no-such-job", "-w", str(root))
    assert ran.returncode != 0 and "No job named no-such-job" in ran.stderr


def test_jobs_run_while_the_server_runs_says_the_server_does_it(served: Served) -> None:
    ran = run_cli("jobs", "run", "-w", str(served.root))
    assert ran.returncode != 0 and "already runs the background jobs" in ran.stderr
