"""A killed import leaves the warehouse exactly as before; a finished one is durable."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

import cxlens

ROWS = 1_500_000


def big_csv(path: Path, rows: int) -> Path:
    con = duckdb.connect()
    con.execute(
        f"""COPY (SELECT 'R' || i AS response_id,
                        TIMESTAMP '2024-01-01' + INTERVAL (i % 100000) SECOND AS submitted_at,
                        'C' || (i % 50000) AS customer_id, i % 11 AS nps,
                        'comment number ' || i AS comment
                 FROM range({rows}) t(i)) TO '{path}' (HEADER)"""
    )
    con.close()
    return path


def counts(path: Path) -> tuple[int, int, int]:
    with cxlens.open(path) as ws:
        return (ws.warehouse.row_count("responses"), ws.imports().num_rows,
                ws.quarantine("responses").num_rows)


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "cxlens.cli", *args]


@pytest.mark.slow
def test_sigkill_during_import_changes_nothing(tmp_path: Path) -> None:
    ws_path = tmp_path / "ws"
    cxlens.init(ws_path).close()
    small = tmp_path / "small.csv"
    small.write_text("response_id,submitted_at,nps\nS1,2024-01-01,9\nS2,2024-01-01,42\n")
    subprocess.run(cli("import", "responses", str(small), "-w", str(ws_path)), check=True,
                   capture_output=True)
    before = counts(ws_path)
    data = big_csv(tmp_path / "big.csv", ROWS)
    proc = subprocess.Popen(cli("import", "responses", str(data), "-w", str(ws_path)),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not any((ws_path / "tmp").glob("import-*")) and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.5)
    assert proc.poll() is None, "the import finished before it could be killed; make the file larger"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert counts(ws_path) == before
    done = subprocess.run(cli("import", "responses", str(data), "-w", str(ws_path), "--format", "json"),
                          capture_output=True, text=True, check=True)
    assert '"accepted": 1500000' in done.stdout
    assert counts(ws_path)[0] == before[0] + ROWS


def test_acknowledged_import_survives_sigkill(tmp_path: Path) -> None:
    ws_path = tmp_path / "ws"
    cxlens.init(ws_path).close()
    path = tmp_path / "c.csv"
    path.write_text("customer_id,segment\nC1,smb\nC2,enterprise\n")
    # The child imports, prints the acknowledgement, then dies without closing anything.
    script = (
        "import os, signal, sys, cxlens\n"
        "ws = cxlens.open(sys.argv[1])\n"
        "print(ws.import_data('customers', sys.argv[2]).accepted, flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    out = subprocess.run([sys.executable, "-c", script, str(ws_path), str(path)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == -signal.SIGKILL and out.stdout.strip() == "2"
    assert counts_of(ws_path, "customers") == 2


def counts_of(path: Path, table: str) -> int:
    with cxlens.open(path) as ws:
        return ws.warehouse.row_count(table)


@pytest.mark.slow
def test_memory_stays_bounded_by_the_memory_limit(tmp_path: Path) -> None:
    """A file several times larger than the memory limit streams through (DuckDB spills)."""
    data = big_csv(tmp_path / "big.csv", 3_000_000)
    size_mib = data.stat().st_size / 2**20
    # The child reports its own high-water mark (VmHWM of its address space after exec): the
    # rusage of a child also counts the parent's pages it shared between fork and exec.
    code = (
        "import cxlens, re, sys\n"
        "ws = cxlens.init(sys.argv[1], {'memory_limit': '96MB'})\n"
        "accepted = ws.import_data('responses', sys.argv[2]).accepted\n"
        "status = open('/proc/self/status').read()\n"
        "print(accepted, int(re.search(r'VmHWM:\\s+(\\d+) kB', status).group(1)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "ws"), str(data)],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    accepted, peak_kib = (int(x) for x in out.stdout.split())
    assert accepted == 3_000_000
    peak_mib = peak_kib / 1024
    # Python, DuckDB and Arrow themselves take ~150 MiB; the data must not be held in memory.
    assert size_mib > 150 and peak_mib < 600, (size_mib, peak_mib)
