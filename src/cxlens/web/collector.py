"""``cxlens collect``: the survey widget's collection endpoint on processes of its own.

``cxlens serve`` is one Python process (it owns the workspace's DuckDB file), so every request
it answers shares one core. Widget answers are the one kind of request that can arrive by the
thousand per second, and they never touch the warehouse: ``POST /s/SLUG/collect`` validates
the answer and commits it to the app database; the server's ``surveys-flush`` job moves it to
the warehouse within a second or two. So they can be answered elsewhere.

A collector serves only the widget's routes: ``GET /s/widget.js``, ``GET|POST|OPTIONS
/s/SLUG/collect`` (the same code as the server's lean route, ``surveys.fastpath``, with the same
survey cache, CORS rules, key check, rate limits and group commit) and ``GET /healthz``; any
other address is a JSON 404 that says where the web app is. It runs on granian (an HTTP server
written in Rust: parsing, keep-alive and the socket work happen outside Python) with ``workers``
processes of ``threads`` threads each. It needs the app database only, so with a PostgreSQL app
database collectors can run on other machines.

``cxlens serve --collect-port PORT`` starts one next to the server (and stops it with the
server); widget snippets then point at it. ``cxlens collect --port PORT -w DIR`` runs one on its
own. ``CXLENS_COLLECT_URL`` is the collectors' public address when a proxy stands in front.

Rate limits are counted per process (Django's local-memory cache): with ``workers`` processes
an address may send up to ``workers`` times its limit.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cxlens.errors import CxlensInputError, WorkspaceError

log = logging.getLogger("cxlens.collector")
ENV_WORKSPACE = "CXLENS_COLLECT_WORKSPACE"
ENV_HOST = "CXLENS_COLLECT_HOST"
ENV_PARENT = "CXLENS_COLLECT_PARENT"  # set by 'cxlens serve' for the collector it starts
URLCONF = "cxlens.web.collector"
READY_TIMEOUT = 90.0
STOP_TIMEOUT = 30.0

_served_port: int | None = None  # set by 'cxlens serve' when it runs a collector


@dataclass(frozen=True)
class CollectOptions:
    workspace: Path
    host: str = "127.0.0.1"
    port: int = 8001
    workers: int = 1
    threads: int = 16

    def url(self) -> str:
        from cxlens.web.server import url_host

        return f"http://{url_host(self.host)}:{self.port}"


# ------------------------------------------------------------------------- the collector's routes

def _urlpatterns() -> list[Any]:
    from django.urls import path

    from cxlens.web import views
    from cxlens.web.surveys import widget

    return [
        path("healthz", views.healthz, name="healthz"),
        path("s/widget.js", widget.widget_js, name="survey_widget_js"),
        path("s/<slug:slug>/collect", widget.collect, name="survey_collect"),
    ]


def __getattr__(name: str) -> Any:  # ``urlpatterns`` is built when Django first resolves a URL
    if name == "urlpatterns":
        return _urlpatterns()
    raise AttributeError(name)


def not_found(request: Any, exception: Exception | None = None) -> Any:
    from django.conf import settings

    from cxlens.web.api import error_response

    where = settings.CXLENS_PUBLIC_URL or "the address of 'cxlens serve'"
    return error_response(404, "not_found", f"This address collects survey answers only (/s/widget.js and "
                          f"/s/SLUG/collect). The web app and its API are at {where}.")


def server_error(request: Any) -> Any:
    from cxlens.web.api import error_response

    return error_response(500, "server_error", "The answer could not be handled. Please send it again.")


handler404 = "cxlens.web.collector.not_found"
handler500 = "cxlens.web.collector.server_error"


def create_app() -> Any:
    """The collector's WSGI application (granian calls this in each worker process)."""
    from cxlens.web import setup
    from cxlens.web.config import django_settings, load_config

    workspace = Path(os.environ[ENV_WORKSPACE])
    config = load_config(workspace, host=os.environ.get(ENV_HOST, "127.0.0.1"))
    # The app's settings with the collection routes only, and no static files (whitenoise).
    middleware = [m for m in django_settings(config)["MIDDLEWARE"] if not m.startswith("whitenoise.")]
    setup(dataclasses.replace(config, urlconf=URLCONF, extra={**config.extra, "MIDDLEWARE": middleware}),
          migrate=False)
    # granian copies the process environment into every request's environ: keep the settings' secrets
    # (database and mail URLs, the secret key) out of request.META now that Django has read them.
    for name in [n for n in os.environ if n.startswith("CXLENS_")]:
        del os.environ[name]
    from django.core.wsgi import get_wsgi_application

    from cxlens.web.surveys import fastpath

    return fastpath.CollectApp(get_wsgi_application())


# ----------------------------------------------------------------------------- running a collector

def run(options: CollectOptions, echo: Callable[[str], None] = print) -> None:
    """Run a collector in the foreground until SIGINT/SIGTERM."""
    from granian import Granian
    from granian.constants import Interfaces
    from granian.log import LogLevels

    options = _checked(options)
    _prepare(options)
    parent = os.environ.pop(ENV_PARENT, "")
    if parent.isdigit():
        threading.Thread(target=_stop_with, args=(int(parent),), name="cxlens-collector-parent", daemon=True).start()
    os.environ[ENV_WORKSPACE] = str(options.workspace)
    os.environ[ENV_HOST] = options.host
    import multiprocessing

    # Each worker starts afresh and configures Django for the collection routes only (this process
    # has configured it for the whole app, to migrate the app database).
    multiprocessing.set_start_method("spawn", force=True)
    # Threads here mostly wait for the shared commit, so more of them than cores is the point.
    logging.getLogger("_granian").addFilter(_NotTooManyThreads())
    server = Granian(f"{__name__}:create_app", factory=True, address=options.host, port=options.port,
                     interface=Interfaces.WSGI, workers=options.workers, blocking_threads=options.threads,
                     websockets=False, log_level=LogLevels.warning, respawn_failed_workers=True,
                     workers_kill_timeout=int(STOP_TIMEOUT))
    echo(f"cxlens collects survey answers for {options.workspace} at {options.url()}/s/SLUG/collect "
         f"({options.workers} process(es) of {options.threads} threads). Stop with Ctrl+C.")
    server.serve()
    echo("cxlens collection stopped.")


def _stop_with(parent: int) -> None:
    """Stop this collector (as Ctrl+C would) when the server that started it is gone, even killed."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os.kill(os.getpid(), signal.SIGTERM)


class _NotTooManyThreads(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "seems quite high compared to the number of CPU cores" not in record.getMessage()


def _checked(options: CollectOptions) -> CollectOptions:
    from cxlens import workspace as ws_module
    from cxlens.web.server import check_port

    workspace = options.workspace.resolve()
    if not ws_module.is_workspace(workspace):
        raise WorkspaceError(f"{workspace} is not a cxlens workspace (no {ws_module.CONFIG_FILE}). Point -w at the "
                             f"folder 'cxlens init' made.")
    if not 1 <= options.port <= 65535:
        raise CxlensInputError(f"The collection port must be from 1 to 65535. Got {options.port}.")
    check_port(options.host, options.port)
    return dataclasses.replace(options, workspace=workspace)


def _prepare(options: CollectOptions) -> None:
    """Migrate the app database (the collector never opens the warehouse, which a running
    ``cxlens serve`` owns), then close this process's connections."""
    from cxlens.web import setup
    from cxlens.web.config import check_database, load_config

    setup(check_database(load_config(options.workspace, host=options.host)), migrate=True)
    from django.db import connections

    connections.close_all()


# --------------------------------------------------------------------- a collector beside the server

@dataclass
class Child:
    """A collector process started by ``cxlens serve``."""

    options: CollectOptions
    process: subprocess.Popen[bytes]
    stopping: bool = False

    def stop(self) -> None:
        self.stopping = True
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT + 5)  # granian gives its workers STOP_TIMEOUT
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):  # its whole process group: the workers too
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def start(options: CollectOptions, echo: Callable[[str], None] = print) -> Child:
    """Start a collector as a child process and wait until it answers ``/healthz``."""
    options = _checked(options)
    command = [sys.executable, "-m", "cxlens.web", "collect", "--host", options.host, "--port", str(options.port),
               "--workers", str(options.workers), "--threads", str(options.threads), "-w", str(options.workspace)]
    # Its messages go where the server's go. A process group of its own: Ctrl+C reaches the server,
    # which stops it (and could kill the group); it stops by itself if the server dies.
    env = {**os.environ, ENV_PARENT: str(os.getpid())}
    child = Child(options, subprocess.Popen(command, env=env, start_new_session=True))
    try:
        _wait_ready(child)
    except BaseException:
        child.stop()
        raise
    threading.Thread(target=_watch, args=(child, echo), name="cxlens-collector-watch", daemon=True).start()
    return child


def _wait_ready(child: Child) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    url = child.options.url() + "/healthz"
    while time.monotonic() < deadline:
        if child.process.poll() is not None:
            raise WorkspaceError(f"The collection endpoint on port {child.options.port} stopped at start (exit code "
                                 f"{child.process.returncode}); its messages are above.")
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                if resp.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            time.sleep(0.2)
    raise WorkspaceError(f"The collection endpoint did not answer {url} within {READY_TIMEOUT:.0f} s.")


def _watch(child: Child, echo: Callable[[str], None]) -> None:
    code = child.process.wait()
    if not child.stopping:
        echo(f"The collection endpoint at {child.options.url()} stopped (exit code {code}); widget answers sent "
             f"there are refused until cxlens serve is restarted. The web app goes on.")


def set_served_port(port: int | None) -> None:
    global _served_port
    _served_port = port


def public_url(request: Any) -> str | None:
    """Where web sites send widget answers: ``CXLENS_COLLECT_URL``; else the collector this server
    started, at the host name the person reached this server by (``request``); else ``None`` (the
    server itself)."""
    from django.conf import settings

    configured = getattr(settings, "CXLENS_COLLECT_URL", None)
    if configured or _served_port is None:
        return configured
    if request.is_secure():  # behind a TLS proxy: the collector's plain-HTTP port is not what browsers reach
        log.warning("Widget snippets use this server's own address: set CXLENS_COLLECT_URL to the collector's "
                    "public https address to send widget answers there.")
        return None
    host = request.get_host()
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host  # without the server's port ([::1] as is)
    return f"{request.scheme}://{name}:{_served_port}"
