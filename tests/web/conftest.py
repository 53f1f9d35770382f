"""Fixtures of the web tests: one small demo workspace served in-process by Django's test client,
and (for end-to-end and browser tests) the same kind of workspace served by a real ``cxlens serve``.

Django is configured once per test process, only when a web test asks for it, so the rest of the
suite runs without Django.
"""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import cxlens

MISSING = [m for m in ("django", "ninja", "waitress", "whitenoise", "axes") if importlib.util.find_spec(m) is None]
SKIP_REASON = (f"the web extra is not installed (missing {', '.join(MISSING)}); "
               f"install it with: pip install 'cxlens[web]'")


def require_web() -> None:
    """Skip the calling test module when the web extra is missing (call at module level)."""
    if MISSING:
        pytest.skip(SKIP_REASON, allow_module_level=True)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
UNTIL = "2026-11-23"
PASSWORD = "Lens-test-password-7"
CUSTOMERS = 300


def make_demo(root: Path, seed: int = 7) -> Path:
    from cxlens.demo_loader import load_demo

    with cxlens.init(root) as ws:
        load_demo(ws, customers=CUSTOMERS, seed=seed, now=NOW)
    return root


@dataclass
class WebApp:
    root: Path
    other_root: Path
    users: dict[str, Any]
    keys: dict[str, str]
    projects: dict[str, Any]

    def client(self, user: str | None = None, **kwargs: Any) -> Any:
        from django.test import Client

        c = Client(**kwargs)
        if user is not None:
            c.force_login(self.users[user])
        return c


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebApp]:
    root = make_demo(tmp_path_factory.mktemp("web") / "ws")
    other = tmp_path_factory.mktemp("web-other") / "other"
    cxlens.init(other).close()

    from django.test.utils import setup_test_environment

    from cxlens.web import setup
    from cxlens.web.config import load_config

    setup(load_config(root, env={"CXLENS_SECURE_COOKIES": "true", "CXLENS_LOGIN_ATTEMPTS": "3"}), migrate=True)
    setup_test_environment()

    from django.contrib.auth import get_user_model

    from cxlens.web.models import ApiKey, Membership
    from cxlens.web.projects import POOL, ensure_project

    main = ensure_project(root)
    second = ensure_project(other, "other", "Other company")
    user_model = get_user_model()
    users = {}
    for name, project, role in (("ada", main, "admin"), ("ana", main, "analyst"), ("vic", main, "viewer"),
                                ("oscar", second, "admin")):
        users[name] = user_model.objects.create_user(name, f"{name}@example.com", PASSWORD)
        Membership.objects.create(user=users[name], project=project, role=role)
    keys = {
        "read": ApiKey.issue(main, "dashboards", ("read",)).secret,
        "ingest": ApiKey.issue(main, "collector", ("ingest",)).secret,
        "both": ApiKey.issue(main, "etl", ("ingest", "read")).secret,
        "other": ApiKey.issue(second, "other etl", ("ingest", "read")).secret,
    }
    yield WebApp(root, other, users, keys, {"main": main, "other": second})
    POOL.close()


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


# ------------------------------------------------------------------------ a real server process


def wait_for(what: str, probe: Callable[[], Any], timeout: float = 90.0) -> Any:
    """Poll ``probe`` until it returns something truthy (the outcome is asserted, never the time)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        found = probe()
        if found:
            return found
        time.sleep(0.3)
    pytest.fail(f"gave up waiting for {what} after {timeout:.0f} s")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def web_command() -> list[str]:
    """``cxlens`` when the web commands are registered in it, else ``python -m cxlens.web``."""
    from cxlens.cli import main

    if "serve" in main.commands:
        return [str(Path(sys.executable).with_name("cxlens"))]
    return [sys.executable, "-m", "cxlens.web"]


def run_cli(*args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*web_command(), *args], input=stdin, capture_output=True, text=True, timeout=120,
                          env=env, check=False)


@dataclass
class Served:
    root: Path
    url: str
    key: str
    process: subprocess.Popen

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        req = urllib.request.Request(self.url + path, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code, exc.read()


@contextmanager
def running_server(root: Path, env: dict[str, str]) -> Iterator[Served]:
    """A real ``cxlens serve`` of ``root`` with the admin 'sam', once it answers ``/healthz`` and has
    written ``app/server.json``; its ``key`` is the one the server made for the command line (scopes
    ingest and read). Stopped on leaving."""
    made = run_cli("users", "create", "sam", "--role", "admin", "--password-stdin", "-w", str(root),
                   stdin=PASSWORD + "\n", env=env)
    assert made.returncode == 0, made.stderr
    port = free_port()
    log_path = root / "server.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen([*web_command(), "serve", "--port", str(port), "-w", str(root)], stdout=log,
                                stderr=subprocess.STDOUT, env=env)
        server = Served(root, f"http://127.0.0.1:{port}", "", proc)
        try:
            def ready() -> bool:
                if proc.poll() is not None:
                    pytest.fail(f"cxlens serve exited: {log_path.read_text()}")
                try:
                    return server.get("/healthz")[0] == 200 and (root / "app" / "server.json").exists()
                except OSError:
                    return False

            wait_for("the server to answer /healthz", ready)
            server.key = json.loads((root / "app" / "server.json").read_text())["token"]
            yield server
        finally:
            proc.terminate()
            proc.wait(timeout=30)


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = make_demo(tmp_path_factory.mktemp("served") / "ws", seed=11)
    env = {**os.environ, "CXLENS_SECURE_COOKIES": "false"}
    env.pop("CXLENS_DATABASE_URL", None)
    with running_server(root, env) as server:
        yield server


def read_json(body: bytes) -> Any:
    return json.loads(body.decode("utf-8"))


# ------------------------------------------------------------------ real mail and webhook receivers


@dataclass
class Mailbox:
    """Messages received by a real SMTP server on loopback (aiosmtpd)."""

    host: str
    port: int
    messages: list[Any]

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    def to(self, address: str) -> list[Any]:
        return [m for m in self.messages if address in m["To"]]

    def settings(self) -> dict[str, Any]:
        """Django settings that send mail here (use with ``override_settings(**box.settings())``)."""
        return {"EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend", "EMAIL_HOST": self.host,
                "EMAIL_PORT": self.port, "EMAIL_USE_TLS": False, "EMAIL_USE_SSL": False,
                "EMAIL_HOST_USER": "", "EMAIL_HOST_PASSWORD": "", "CXLENS_MAIL_ENABLED": True}


@pytest.fixture
def smtp_server() -> Iterator[Mailbox]:
    """A real SMTP server on 127.0.0.1 collecting every message as an ``email.message.Message``."""
    pytest.importorskip("aiosmtpd", reason="aiosmtpd is not installed (pip install 'cxlens[dev]')")
    import email
    import email.policy

    from aiosmtpd.controller import Controller

    box = Mailbox("127.0.0.1", free_port(), [])

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            box.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
            return "250 Message accepted for delivery"

    controller = Controller(Handler(), hostname=box.host, port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


@dataclass
class Receiver:
    """A real HTTP server on loopback that records POSTs; ``down`` makes it answer 503."""

    url: str
    requests: list[dict[str, Any]]
    down: bool = False


@pytest.fixture
def http_receiver() -> Iterator[Receiver]:
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    receiver = Receiver(f"http://127.0.0.1:{server.server_address[1]}", [])

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if receiver.down:
                self.send_response(503)
                self.end_headers()
                return
            receiver.requests.append({"path": self.path, "headers": dict(self.headers.items()), "body": body})
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server.RequestHandlerClass = Handler
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
