"""``cxlens collect`` and ``cxlens serve --collect-port``: the widget's collection endpoint on
processes of its own (granian), writing only the app database.

A real collector process serves the test session's workspace while this process plays the server:
it edits surveys and flushes answers into the warehouse (the collector never opens it). Then a
real ``cxlens serve --collect-port`` with its collector, driven from Chromium: the builder's
snippet points at the collector, a page of another origin embeds it, and the answer reaches the
server's metrics through its flush job.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from .browser import needs_chromium
from .conftest import PASSWORD, Served, WebApp, free_port, make_demo, run_cli, web_command
from .test_surveys_widget import (
    HOST_PAGE,
    ORIGIN,
    _flush,
    _live,
    _nps_rows,
    _rows,
    browser,  # noqa: F401 - the module's Chromium, a fixture
    make_widget_survey,
    other_site,  # noqa: F401 - a fixture
)


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def send(url: str, method: str = "GET", body: Any = None, **headers: str) -> Reply:
    data = None if body is None else json.dumps(body).encode()
    if data is not None:
        headers.setdefault("Content-Type", "application/json")
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return Reply(resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return Reply(exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read())


def _env() -> dict[str, str]:
    env = {**os.environ, "CXLENS_SECURE_COOKIES": "false"}
    env.pop("CXLENS_DATABASE_URL", None)
    return env


def _wait(url: str, proc: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the process exited: {log.read_text()}")
        try:
            if send(url + "/healthz").status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    proc.terminate()
    pytest.fail(f"no answer from {url}/healthz within {timeout:.0f} s: {log.read_text()}")


def _refused(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


@dataclass
class Collector:
    url: str
    port: int
    process: subprocess.Popen
    log: Path


@pytest.fixture(scope="module")
def collector(app: WebApp, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Collector]:
    """``cxlens collect`` on the session's workspace (this process stays the server)."""
    port = free_port()
    log = tmp_path_factory.mktemp("collector") / "collector.log"
    with log.open("w") as out:
        proc = subprocess.Popen([*web_command(), "collect", "--port", str(port), "-w", str(app.root)], stdout=out,
                                stderr=subprocess.STDOUT, env=_env())
    url = f"http://127.0.0.1:{port}"
    _wait(url, proc, log)
    yield Collector(url, port, proc, log)
    proc.terminate()
    assert proc.wait(timeout=60) == 0, log.read_text()
    assert "cxlens collection stopped." in log.read_text()
    assert _refused(port)


def _answer(survey: Any, nps: int, **extra: Any) -> dict[str, Any]:
    return {"key": survey.public_key, "id": secrets.token_hex(16), "answers": {"nps": nps},
            "customer_id": "COL-1", **extra}


# ------------------------------------------------------------------------------ cxlens collect


def test_answers_sent_to_the_collector_reach_the_warehouse(app: WebApp, collector: Collector) -> None:
    survey = _live(app, "col-basic")
    first = _answer(survey, 9, answers={"nps": 9, "reason": "Quick <b>help</b>"})
    r = send(f"{collector.url}/s/col-basic/collect", "POST", first, Origin=ORIGIN)
    assert r.status == 201, r.body
    assert r.json() == {"response_id": f"col-basic-{first['id']}", "status": "accepted"}
    assert r.headers["access-control-allow-origin"] == ORIGIN and r.headers["vary"] == "Origin"
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["server"] == "granian"
    again = send(f"{collector.url}/s/col-basic/collect", "POST", first, Origin=ORIGIN)
    assert (again.status, again.json()["status"]) == (200, "duplicate")
    second = _answer(survey, 3)
    assert send(f"{collector.url}/s/col-basic/collect", "POST", second).status == 201  # a server: no Origin

    assert _rows(app, "col-basic") == []  # the collector never writes the warehouse
    report = _flush(app)
    assert report.accepted >= 2
    rows = {r["response_id"]: r for r in _rows(app, "col-basic")}
    assert set(rows) == {f"col-basic-{first['id']}", f"col-basic-{second['id']}"}
    assert rows[f"col-basic-{first['id']}"]["nps"] == 9 and rows[f"col-basic-{second['id']}"]["nps"] == 3
    assert rows[f"col-basic-{first['id']}"]["comment"] == "Quick <b>help</b>"
    assert rows[f"col-basic-{first['id']}"]["customer_id"] == "COL-1"


def test_the_collector_keeps_the_endpoint_rules(app: WebApp, collector: Collector) -> None:
    survey = _live(app, "col-rules")
    url = f"{collector.url}/s/col-rules/collect"
    pre = send(url, "OPTIONS", Origin=ORIGIN, **{"Access-Control-Request-Method": "POST"})
    assert pre.status == 204 and pre.headers["access-control-allow-origin"] == ORIGIN
    assert "POST" in pre.headers["access-control-allow-methods"]

    other = send(url, "POST", _answer(survey, 5), Origin="https://evil.example.net")
    assert other.status == 403 and other.json()["error"]["code"] == "origin_not_allowed"
    assert "access-control-allow-origin" not in other.headers
    forged = send(url, "POST", {**_answer(survey, 5), "key": "pk_forged"}, Origin=ORIGIN)
    assert forged.status == 403 and forged.json()["error"]["code"] == "invalid_key"
    wrong = send(url, "POST", _answer(survey, 11), Origin=ORIGIN)
    assert wrong.status == 400 and wrong.json()["error"]["field"] == "answers.nps"
    huge = send(url, "POST", {**_answer(survey, 5), "answers": {"nps": 5, "reason": "x" * 20_000}}, Origin=ORIGIN)
    assert huge.status == 413
    missing = send(f"{collector.url}/s/no-such-survey/collect", "POST", _answer(survey, 5), Origin=ORIGIN)
    assert missing.status == 404 and missing.json()["error"]["code"] == "survey_not_found"
    asked = send(f"{url}?key={survey.public_key}&lang=en", Origin=ORIGIN)
    assert asked.status == 200 and asked.json()["question"]["type"] == "nps"
    _flush(app)
    assert _rows(app, "col-rules") == []  # nothing refused was kept


def test_the_collector_serves_the_widget_only(app: WebApp, collector: Collector) -> None:
    script = send(f"{collector.url}/s/widget.js")
    assert script.status == 200 and script.headers["content-type"].startswith("text/javascript")
    assert script.body == app.client().get("/s/widget.js").content  # the server's script, byte for byte
    assert send(f"{collector.url}/s/widget.js", "HEAD").status == 200
    assert send(f"{collector.url}/healthz").json()["status"] == "ok"
    _live(app, "col-only")
    for path in ("/", "/login/", "/p/main/", "/api/projects/main/metrics/nps", "/admin/", "/s/col-only/",
                 "/static/cxlens/widget.js"):
        r = send(collector.url + path)
        assert r.status == 404, path
        error = r.json()["error"]
        assert error["code"] == "not_found" and "collects survey answers only" in error["message"], path
    assert send(f"{collector.url}/api/projects/main/import/responses", "POST", {"rows": []}).status == 404


def test_a_survey_closed_on_the_server_is_refused_within_seconds(app: WebApp, collector: Collector) -> None:
    from cxlens.web.surveys import service

    survey = _live(app, "col-close")
    url = f"{collector.url}/s/col-close/collect"
    assert send(url, "POST", _answer(survey, 8), Origin=ORIGIN).status == 201
    service.close(survey, datetime.now(UTC))  # in this process; the collector reads surveys at most 1 s old
    deadline = time.monotonic() + 10
    while (r := send(url, "POST", _answer(survey, 8), Origin=ORIGIN)).status == 201:
        assert time.monotonic() < deadline, "the collector still takes answers for a closed survey"
        time.sleep(0.1)
    assert r.status == 410 and r.json()["error"]["code"] == "survey_closed"


def test_answers_arriving_together_are_all_kept_once(app: WebApp, collector: Collector) -> None:
    survey = _live(app, "col-many")
    bodies = [_answer(survey, i % 11) for i in range(240)]
    replies: list[int] = []
    lock = threading.Lock()

    def post(chunk: list[dict[str, Any]]) -> None:
        for body in chunk:
            status = send(f"{collector.url}/s/col-many/collect", "POST", body, Origin=ORIGIN).status
            with lock:
                replies.append(status)

    threads = [threading.Thread(target=post, args=(bodies[i::24],)) for i in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert replies == [201] * 240
    # Sent again while the server flushes: duplicates, never a second row.
    flusher = threading.Thread(target=_flush, args=(app,))
    flusher.start()
    again = [send(f"{collector.url}/s/col-many/collect", "POST", b, Origin=ORIGIN).status for b in bodies[:40]]
    flusher.join()
    assert again == [200] * 40
    _flush(app)
    rows = _rows(app, "col-many")
    assert sorted(r["response_id"] for r in rows) == sorted(f"col-many-{b['id']}" for b in bodies)
    assert sorted(r["nps"] for r in rows) == sorted(b["answers"]["nps"] for b in bodies)


def test_collect_refuses_clearly(app: WebApp, collector: Collector, tmp_path: Path) -> None:
    taken = run_cli("collect", "--port", str(collector.port), "-w", str(app.root), env=_env())
    assert taken.returncode != 0
    assert f"Cannot listen on 127.0.0.1:{collector.port}" in taken.stderr and "--port" in taken.stderr
    nowhere = run_cli("collect", "--port", str(free_port()), "-w", str(tmp_path), env=_env())
    assert nowhere.returncode != 0 and "is not a cxlens workspace" in nowhere.stderr
    zero = run_cli("collect", "--port", "0", "-w", str(app.root), env=_env())
    assert zero.returncode == 2 and "--port" in zero.stderr


# ---------------------------------------------------------------- cxlens serve --collect-port


@pytest.fixture(scope="module")
def serving(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, int]]:
    """``cxlens serve --collect-port``: the server and its collector."""
    root = make_demo(tmp_path_factory.mktemp("serve-collect") / "ws", seed=13)
    made = run_cli("users", "create", "sam", "--role", "admin", "--password-stdin", "-w", str(root),
                   stdin=PASSWORD + "\n", env=_env())
    assert made.returncode == 0, made.stderr
    port, collect_port = free_port(), free_port()
    log = root / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen([*web_command(), "serve", "--port", str(port), "--collect-port", str(collect_port),
                                 "-w", str(root)], stdout=out, stderr=subprocess.STDOUT, env=_env())
    url = f"http://127.0.0.1:{port}"
    _wait(url, proc, log)
    deadline = time.monotonic() + 30
    while not (root / "app" / "server.json").exists():
        assert time.monotonic() < deadline
        time.sleep(0.2)
    served = Served(root, url, json.loads((root / "app" / "server.json").read_text())["token"], proc)
    yield served, collect_port
    proc.terminate()
    assert proc.wait(timeout=60) == 0, log.read_text()
    text = log.read_text()
    assert f"Survey widget answers are collected at http://127.0.0.1:{collect_port}/s/SLUG/collect" in text
    assert "cxlens collection stopped." in text and "cxlens server stopped." in text
    assert _refused(collect_port)  # the collector stops with the server


@needs_chromium
def test_serve_with_a_collector_in_chromium(browser: Any, serving: tuple[Served, int],  # noqa: F811
                                            other_site: tuple[Path, int]) -> None:  # noqa: F811
    served, collect_port = serving
    collect_url = f"http://127.0.0.1:{collect_port}"
    folder, port = other_site
    slug = "collector-widget"
    allowed = f"http://127.0.0.1:{port}"
    key = make_widget_survey(browser, served, slug, allowed)

    # The builder's snippet points at the collector.
    context = browser.new_context()
    page = context.new_page()
    from .test_surveys_widget import login

    login(page, served)
    page.goto(f"{served.url}/p/main/surveys/{slug}/")
    snippet = page.inner_text("#widget-snippet")
    context.close()
    assert re.search(rf'src="{re.escape(collect_url)}/s/widget.js"', snippet), snippet

    (folder / "index.html").write_text(HOST_PAGE.format(server=collect_url, slug=slug, key=key), encoding="utf-8")
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    sent_to: list[str] = []
    page.on("request", lambda req: sent_to.append(req.url) if req.method == "POST" else None)
    page.goto(f"{allowed}/index.html")
    page.wait_for_selector(f"#cxw-{slug}", timeout=30_000)
    page.click(f"#cxw-{slug} [data-score='10']")
    page.fill(f"#cxw-c-{slug}", "Answered through the collector")
    page.click(f"#cxw-{slug} .cxw-send")
    page.wait_for_selector(f"#cxw-{slug}[data-state=sent]", timeout=30_000)
    context.close()
    assert sent_to == [f"{collect_url}/s/{slug}/collect"]

    [row] = _nps_rows(served, slug, 1)  # the server's flush job moved it into the warehouse
    assert (row["n"], row["value"]) == (1, 100.0)


def test_serve_refuses_a_taken_collect_port(serving: tuple[Served, int], tmp_path: Path) -> None:
    import cxlens

    _, collect_port = serving
    cxlens.init(tmp_path / "ws").close()
    taken = run_cli("serve", "--port", str(free_port()), "--collect-port", str(collect_port), "-w",
                    str(tmp_path / "ws"), env=_env())
    assert taken.returncode != 0
    assert f"Cannot listen on 127.0.0.1:{collect_port}" in taken.stderr


def test_snippets_point_at_the_collector_by_the_name_people_use(app: WebApp) -> None:
    from django.test import RequestFactory, override_settings

    from cxlens.web import collector

    def at(host: str, secure: bool = False) -> str | None:
        return collector.public_url(RequestFactory().get("/p/main/surveys/x/", HTTP_HOST=host, secure=secure))

    with override_settings(ALLOWED_HOSTS=["*"]):
        assert at("cx.example.com:8000") is None  # no collector: the server itself
        collector.set_served_port(8001)
        try:
            assert at("cx.example.com:8000") == "http://cx.example.com:8001"
            # Reached over https (a TLS proxy in front): the collector's plain port is not for browsers.
            assert at("cx.example.com", secure=True) is None
            assert at("[::1]:8000") == "http://[::1]:8001" and at("[::1]") == "http://[::1]:8001"
            with override_settings(CXLENS_COLLECT_URL="https://collect.example.com"):
                assert at("cx.example.com:8000") == "https://collect.example.com"  # a proxy's address wins
        finally:
            collector.set_served_port(None)


def test_the_collector_stops_when_its_server_is_killed(tmp_path: Path) -> None:
    import signal

    import cxlens

    cxlens.init(tmp_path / "ws").close()
    port, collect_port = free_port(), free_port()
    log = tmp_path / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen([*web_command(), "serve", "--port", str(port), "--collect-port", str(collect_port),
                                 "-w", str(tmp_path / "ws")], stdout=out, stderr=subprocess.STDOUT, env=_env())
    try:
        _wait(f"http://127.0.0.1:{port}", proc, log)
        assert send(f"http://127.0.0.1:{collect_port}/healthz").status == 200
    finally:
        proc.send_signal(signal.SIGKILL)  # no clean-up of its own
        proc.wait(timeout=30)
    deadline = time.monotonic() + 60
    while not _refused(collect_port) or "cxlens collection stopped." not in log.read_text():
        assert time.monotonic() < deadline, f"the collector outlived its server: {log.read_text()}"
        time.sleep(0.3)
