"""End to end against a real ``cxlens serve`` process: health, login, API ingest moving the
dashboard, and the command line importing through the running server."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest

import cxlens

from .conftest import PASSWORD, UNTIL, Served, free_port, read_json, require_web, run_cli, web_command

require_web()


class Browser:
    """A cookie-keeping HTTP client, like a browser without JavaScript."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=60) as resp:
            return resp.read().decode()

    def post_form(self, path: str, fields: dict[str, str]) -> tuple[str, str]:
        data = urllib.parse.urlencode(fields).encode()
        req = urllib.request.Request(self.base + path, data=data, headers={"Referer": self.base + path})
        with self.opener.open(req, timeout=60) as resp:
            return resp.geturl(), resp.read().decode()


def nps_card(page: str) -> tuple[str, int]:
    card = re.search(r'data-metric="nps">(.*?)</article>', page, re.S)
    assert card
    value = re.search(r'<div class="value">([^<]+)', card.group(1))
    n = re.search(r'n = (\d+)', card.group(1))
    assert value and n
    return value.group(1).strip(), int(n.group(1))


def test_health_login_ingest_and_dashboard(served: Served) -> None:
    status, body = served.get("/healthz")
    assert status == 200 and read_json(body)["status"] == "ok"
    with urllib.request.urlopen(served.url + "/static/cxlens/app.css", timeout=30) as resp:  # whitenoise
        assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/css")
        assert b".kpi" in resp.read()

    browser = Browser(served.url)
    login_page = browser.get("/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page)
    assert token
    url, _ = browser.post_form("/login/", {"username": "sam", "password": PASSWORD,
                                           "csrfmiddlewaretoken": token.group(1)})
    assert url.endswith("/p/main/")
    with browser.opener.open(served.url + "/p/main/customers/", timeout=60) as resp:
        assert resp.headers["X-Frame-Options"] == "DENY"
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["Server"].startswith("cxlens") or "waitress" in resp.headers["Server"]
    before_value, before_n = nps_card(browser.get(f"/p/main/?period=30&until={UNTIL}"))

    rows = [{"response_id": f"e2e-{i}", "submitted_at": "2026-11-22T10:00:00", "nps": 10} for i in range(25)]
    req = urllib.request.Request(
        served.url + "/api/projects/main/ingest/responses", data=json.dumps({"rows": rows}).encode(),
        headers={"Authorization": f"Bearer {served.key}", "Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=60) as resp:
        report = json.loads(resp.read())
    assert report["accepted"] == 25

    after_value, after_n = nps_card(browser.get(f"/p/main/?period=30&until={UNTIL}"))
    assert after_n == before_n + 25
    assert float(after_value) > float(before_value)


def test_concurrent_ingests_all_land(served: Served) -> None:
    """Many clients at once: the server serialises warehouse writes, nobody sees a lock error."""
    from concurrent.futures import ThreadPoolExecutor

    def send(batch: int) -> int:
        rows = [{"event_id": f"conc-{batch}-{i}", "customer_id": "C0000001", "occurred_at": "2026-11-20T10:00:00",
                 "touchpoint": "tv_app"} for i in range(50)]
        req = urllib.request.Request(
            served.url + "/api/projects/main/ingest/interactions", data=json.dumps({"rows": rows}).encode(),
            headers={"Authorization": f"Bearer {served.key}", "Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(req, timeout=120) as resp:
            return int(json.loads(resp.read())["accepted"])

    def count() -> int:
        body = read_json(served.get("/api/projects/main/status", {"Authorization": f"Bearer {served.key}"})[1])
        return {t["table"]: t["rows"] for t in body["tables"]}["interactions"]

    before = count()
    with ThreadPoolExecutor(max_workers=6) as pool:
        accepted = list(pool.map(send, range(12)))
    assert accepted == [50] * 12
    assert count() == before + 600


def test_cli_imports_through_the_running_server(served: Served, tmp_path: Path) -> None:
    from cxlens.web.client import import_via_server, running_server

    info = served.root / "app" / "server.json"
    assert stat.S_IMODE(info.stat().st_mode) == 0o600
    server = running_server(served.root)
    assert server is not None and server.url == served.url
    data = tmp_path / "new customers.csv"
    data.write_text("customer_id,segment,created_at\nCLI-1,smb,2026-11-01\nCLI-2,smb,yesterday\n")
    report = import_via_server(served.root, "customers", data)
    assert report is not None
    assert (report.source, report.read, report.accepted, report.rejected) == ("new customers.csv", 2, 1, 1)
    again = import_via_server(served.root, "customers", data)
    assert again is not None and (again.accepted, again.duplicates, again.rejected) == (0, 1, 1)
    with pytest.raises(cxlens.CxlensInputError, match="missing.csv does not exist"):
        import_via_server(served.root, "customers", tmp_path / "missing.csv")
    with pytest.raises(cxlens.CxlensInputError, match=r"(?i)parquet"):  # the server's error, same words
        import_via_server(served.root, "customers", data, input_format="parquet")
    status, body = served.get("/api/projects/main/customers/CLI-1",
                              headers={"Authorization": f"Bearer {served.key}"})
    assert status == 200 and read_json(body)["customer_id"] == "CLI-1"


def test_cli_metrics_through_the_running_server(served: Served) -> None:
    from cxlens.web.client import metric_via_server

    now = datetime(2026, 11, 23, 12, tzinfo=UTC)
    rows = metric_via_server(served.root, "nps", now=now, by=("segment",), grain="quarter", since="2026-01-01",
                             where={"country": ["DE", "FR", "ES", "IE", "GB", "NL"]}, compare="previous")
    assert rows and {"segment", "period", "value", "ci_low", "ci_high", "n", "p_value"} <= set(rows[0])
    status, body = served.get("/api/projects/main/metrics/nps?by=segment&grain=quarter&since=2026-01-01"
                              "&compare=previous&now=2026-11-23T12:00:00%2B00:00&" + "&".join(
                                  f"where=country%3D{c}" for c in ("DE", "FR", "ES", "IE", "GB", "NL")),
                              headers={"Authorization": f"Bearer {served.key}"})
    assert status == 200 and read_json(body)["rows"] == rows
    with pytest.raises(cxlens.UnknownNameError, match="Unknown metric 'wow'"):
        metric_via_server(served.root, "wow")
    with pytest.raises(cxlens.UnknownNameError, match="shoe_size"):
        metric_via_server(served.root, "nps", by=("shoe_size",))


def test_cxlens_status_answers_through_the_server_without_waiting_for_the_lock(served: Served) -> None:
    # Opening the warehouse would wait for the server's lock and then fail; the server answers instead.
    started = subprocess.run([str(Path(sys.executable).with_name("cxlens")), "status", "-w", str(served.root),
                              "--format", "json"], capture_output=True, text=True, timeout=120, check=False)
    assert started.returncode == 0, started.stderr
    shown = json.loads(started.stdout)
    status, body = served.get("/api/projects/main/status", headers={"Authorization": f"Bearer {served.key}"})
    assert status == 200 and shown["tables"] == read_json(body)["tables"]
    assert shown["path"] == str(served.root) and shown["warehouse"].startswith("duckdb://")


def test_other_commands_say_at_once_that_the_server_holds_the_warehouse(served: Served, tmp_path: Path) -> None:
    # 'cxlens export' needs the warehouse itself: instead of waiting lock_timeout_seconds (30) for a lock the
    # server never gives back, it names the server and what to do.
    info = json.loads((served.root / "app" / "server.json").read_text())
    result = subprocess.run([str(Path(sys.executable).with_name("cxlens")), "export", "customers", "--out",
                             str(tmp_path / "c.csv"), "-w", str(served.root)], capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode != 0
    message = " ".join(result.stderr.split())
    assert f"belongs to 'cxlens serve' (process {info['pid']}, {served.url})" in message
    assert "stop the server" in message and f"use the web app at {served.url}" in message
    assert not (tmp_path / "c.csv").exists()


def test_serving_process_reads_only_a_live_other_server(served: Served, tmp_path: Path) -> None:
    import os

    from cxlens.warehouse import serving_process

    (tmp_path / "app").mkdir()
    path, info = tmp_path / "warehouse.duckdb", tmp_path / "app" / "server.json"
    assert serving_process(path) is None  # no file
    info.write_text("{not json")
    assert serving_process(path) is None
    info.write_text(json.dumps({"pid": 2**22 + 1, "url": "http://x"}))  # above Linux's largest pid: not alive
    assert serving_process(path) is None
    info.write_text(json.dumps({"pid": os.getpid(), "url": "http://x"}))
    assert serving_process(path) is None  # this process is the server
    info.write_text(json.dumps({"pid": served.process.pid, "url": served.url}))
    assert serving_process(path) == (served.process.pid, served.url)


def test_cxlens_import_command_goes_through_the_server(served: Served, tmp_path: Path) -> None:
    import inspect

    import cxlens.cli

    if "import_via_server" not in inspect.getsource(cxlens.cli):
        pytest.skip("'cxlens import' does not call cxlens.web.client.import_via_server yet (see docs/web.md)")
    data = tmp_path / "cmd.csv"
    data.write_text("customer_id,segment\nCMD-1,smb\n")
    cxlens_bin = str(Path(sys.executable).with_name("cxlens"))
    result = subprocess.run([cxlens_bin, "import", "customers", str(data), "-w", str(served.root), "--format", "json"],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["accepted"] == 1


def test_no_server_means_local_import(tmp_path: Path) -> None:
    from cxlens.web.client import import_via_server

    cxlens.init(tmp_path / "idle").close()
    data = tmp_path / "c.csv"
    data.write_text("customer_id\nX1\n")
    assert import_via_server(tmp_path / "idle", "customers", data) is None
    (tmp_path / "idle" / "app" / "server.json").write_text(json.dumps(
        {"url": "http://127.0.0.1:9", "project": "main", "token": "t", "pid": 2**22 + 12345}))
    assert import_via_server(tmp_path / "idle", "customers", data) is None  # stale file of a dead server


def test_server_stops_cleanly_and_removes_its_file(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    cxlens.init(root).close()
    second = tmp_path / "second"
    cxlens.init(second).close()
    port = free_port()
    env = {**os.environ, "CXLENS_SECURE_COOKIES": "false"}
    added = run_cli("projects", "add", "second", str(second), "-w", str(root), env=env)
    assert added.returncode == 0, added.stderr
    proc = subprocess.Popen([*web_command(), "serve", "--port", str(port), "-w", str(root)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    info = root / "app" / "server.json"
    deadline = time.monotonic() + 60
    while not info.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    assert info.exists(), proc.stdout.read().decode() if proc.stdout else ""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=30) as resp:
        assert resp.status == 200
    second_info = json.loads((second / "app" / "server.json").read_text())  # every project learns the URL
    assert (second_info["project"], second_info["url"]) == ("second", f"http://127.0.0.1:{port}")
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert not info.exists() and not (second / "app" / "server.json").exists()
    assert b"cxlens server stopped." in out
    assert b"No accounts yet: create the first admin with: cxlens users create" in out
    with cxlens.open(root) as ws:  # the warehouse is free again
        assert ws.status().tables


def test_a_busy_port_is_a_clear_error() -> None:
    import socket

    from cxlens.web.server import ServeOptions, _listen

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(cxlens.WorkspaceError, match=f"Cannot listen on 127.0.0.1:{port}.*--port"):
            _listen(lambda environ, start_response: [], ServeOptions(Path("."), "127.0.0.1", port))


def test_serve_refuses_a_folder_that_is_not_a_workspace(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cxlens.web.cli import serve

    result = CliRunner().invoke(serve, ["-w", str(tmp_path / "nothing")])
    assert result.exit_code == 2
    assert "does not exist" in result.output and "cxlens init" in result.output
