"""``cxlens serve``: the web app and API on waitress, a production WSGI server.

One process with a pool of threads: the process owns the workspace's DuckDB file for as long as
it runs (DuckDB allows one writing process per file). While it runs, ``DIR/app/server.json``
(mode 0600) tells the CLI where it is and holds a key the CLI uses to send imports through the
API; the file and the key are removed when the server stops.
"""

from __future__ import annotations

import json
import os
import signal
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cxlens import workspace as ws_module
from cxlens.errors import WorkspaceError
from cxlens.web.client import SERVER_FILE
from cxlens.web.collector import CollectOptions

LOCAL_KEY_NAME = "cxlens command line (local)"


@dataclass(frozen=True)
class ServeOptions:
    workspace: Path
    host: str = "127.0.0.1"
    port: int = 8000
    threads: int = 32
    collect: CollectOptions | None = None  # a collector beside the server (cxlens serve --collect-port)


def prepare(workspace: Path, host: str) -> Any:
    """Configure Django for ``workspace``, migrate the app database, return the default project."""
    from cxlens.web import setup
    from cxlens.web.config import check_database, load_config

    ws_module.open_workspace(workspace).close()  # a clear error when it is not a workspace
    setup(check_database(load_config(workspace, host=host)), migrate=True)
    from cxlens.web.projects import ensure_project

    return ensure_project(workspace)


def _local_key(project: Any) -> str:
    from cxlens.web.models import ApiKey

    for old in ApiKey.objects.filter(project=project, name=LOCAL_KEY_NAME, revoked_at__isnull=True):
        old.revoke()
    return ApiKey.issue(project, LOCAL_KEY_NAME, ("ingest", "read")).secret


def write_server_file(workspace: Path, url: str, project: str, token: str) -> Path:
    path = workspace / "app" / SERVER_FILE
    tmp = path.with_suffix(".json.partial")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"url": url, "project": project, "token": token, "pid": os.getpid()}, fh)
    os.replace(tmp, path)
    return path


def serve(options: ServeOptions, echo: Callable[[str], None] = print) -> None:
    """Run the server until SIGINT/SIGTERM."""
    workspace = options.workspace.resolve()
    project = prepare(workspace, options.host)
    from django.contrib.auth import get_user_model
    from django.core.wsgi import get_wsgi_application

    from cxlens.web.models import ApiKey, Project
    from cxlens.web.projects import POOL
    from cxlens.web.surveys import fastpath

    with POOL.use(project) as ws:
        ws.warehouse  # take the warehouse now: this process owns it while it runs  # noqa: B018
    try:
        if options.collect is not None:
            check_port(options.collect.host, options.collect.port)
        server = _listen(fastpath.wrap(get_wsgi_application()), options)
    except BaseException:
        POOL.close()
        raise
    url = f"http://{url_host(options.host)}:{server.effective_port}"
    served = [p for p in Project.objects.all() if ws_module.is_workspace(Path(p.workspace_path))]
    # Every served workspace learns where the server is, so 'cxlens import' into any of them
    # goes through the API instead of waiting for the warehouse lock.
    files = [write_server_file(Path(p.workspace_path), url, p.slug, _local_key(p)) for p in served]
    signal.signal(signal.SIGTERM, _stop)
    others = f" and {len(served) - 1} more project(s)" if len(served) > 1 else ""
    echo(f"cxlens is serving {workspace} at {url}/ (project '{project.slug}'{others}). Stop with Ctrl+C.")
    if not get_user_model().objects.exists():
        echo(f"No accounts yet: create the first admin with: cxlens users create NAME --role admin --superuser "
             f"-w {workspace}")
    from cxlens.web import collector, jobs, mail

    mail.set_served_url(url)
    child = None
    try:
        if options.collect is not None:
            child = collector.start(options.collect, echo)
            collector.set_served_port(child.options.port)
            echo(f"Survey widget answers are collected at {child.options.url()}/s/SLUG/collect "
                 f"({child.options.workers} process(es)).")
        jobs.start_worker()
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        if child is not None:
            child.stop()
        jobs.stop_worker()
        for info in files:
            info.unlink(missing_ok=True)
        ApiKey.objects.filter(name=LOCAL_KEY_NAME, revoked_at__isnull=True).update(revoked_at=_now())
        server.close()
        POOL.close()
        echo("cxlens server stopped.")


def _listen(app: Any, options: ServeOptions) -> Any:
    from waitress.server import create_server

    check_port(options.host, options.port)
    return create_server(app, host=options.host, port=options.port, threads=options.threads, ident="cxlens")


def check_port(host: str, port: int) -> None:
    """Fail clearly when the address is taken (waitress would raise a bare OSError)."""
    if port == 0:
        return
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as waitress does
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise WorkspaceError(
                f"Cannot listen on {host}:{port} ({exc.strerror or exc}). Another program (maybe another "
                f"'cxlens serve') uses that port: choose another with --port, or stop it."
            ) from None


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _now() -> Any:
    from django.utils import timezone

    return timezone.now()


def url_host(host: str) -> str:
    if host in {"0.0.0.0", ""}:
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host
