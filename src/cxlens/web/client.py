"""The command line talking to a running ``cxlens serve`` of the same workspace.

While the server runs it owns the warehouse file, so ``cxlens import`` sends the file through
the server's API instead of opening the warehouse (which would wait for the lock and fail).
:func:`import_via_server` and :func:`metric_via_server` return None when no server runs; the
caller then opens the workspace itself.
"""

from __future__ import annotations

import http.client
import json
import mimetypes
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlparse

from cxlens.errors import CxlensInputError, ImportFileError, UnknownNameError, WorkspaceError
from cxlens.ingest.report import ImportReport

SERVER_FILE = "server.json"
CHUNK = 1 << 20


@dataclass(frozen=True)
class RunningServer:
    url: str
    project: str
    token: str
    pid: int


def running_server(workspace: Path, timeout: float = 3.0) -> RunningServer | None:
    """The server serving ``workspace`` if its file exists, its process lives and it answers."""
    path = workspace / "app" / SERVER_FILE
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        server = RunningServer(str(info["url"]), str(info["project"]), str(info["token"]), int(info["pid"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not _alive(server.pid):
        return None
    try:
        status, _ = _request(server, "GET", "/healthz", timeout=timeout)
    except OSError:
        return None
    return server if status == 200 else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _connection(server: RunningServer, timeout: float) -> http.client.HTTPConnection:
    u = urlparse(server.url)
    cls = http.client.HTTPSConnection if u.scheme == "https" else http.client.HTTPConnection
    return cls(u.hostname or "127.0.0.1", u.port, timeout=timeout)


def _request(server: RunningServer, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
             timeout: float = 3600.0) -> tuple[int, bytes]:
    conn = _connection(server, timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _multipart(fields: dict[str, str], files: dict[str, Path], boundary: str) -> tuple[list[Any], int]:
    """Parts of a multipart/form-data body (files streamed from disk) and its total length."""
    parts: list[Any] = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, path in files.items():
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        safe = path.name.replace('"', "_")
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{safe}"\r\n'
                     f"Content-Type: {kind}\r\n\r\n".encode())
        parts.append(path)
        parts.append(b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    length = sum(p.stat().st_size if isinstance(p, Path) else len(p) for p in parts)
    return parts, length


def _stream(parts: list[Any]) -> Iterator[bytes]:
    for part in parts:
        if isinstance(part, Path):
            with part.open("rb") as fh:
                while chunk := fh.read(CHUNK):
                    yield chunk
        else:
            yield part


def import_via_server(
    workspace: Path,
    table: str,
    file: Path,
    *,
    mapping: Path | None = None,
    on_conflict: str = "reject",
    input_format: str | None = None,
    delimiter: str | None = None,
    encoding: str | None = None,
) -> ImportReport | None:
    """Import ``file`` through the running server of ``workspace``; None when no server runs.

    Same options and the same report as :meth:`Workspace.import_data`; the report comes back
    after the server has committed the import.
    """
    server = running_server(workspace)
    if server is None:
        return None
    if not file.is_file():
        raise ImportFileError(f"The file {file} does not exist. Check the path and try again.")
    fields = {"table": table, "on_conflict": on_conflict, "source": file.name}
    fields.update({k: v for k, v in (("input_format", input_format), ("delimiter", delimiter),
                                     ("encoding", encoding)) if v})
    files = {"file": file, **({"mapping": mapping} if mapping is not None else {})}
    boundary = "cxlens" + secrets.token_hex(12)
    parts, length = _multipart(fields, files, boundary)
    headers = {"Authorization": f"Bearer {server.token}", "Content-Length": str(length),
               "Content-Type": f"multipart/form-data; boundary={boundary}"}
    status, body = _request(server, "POST", f"/api/projects/{server.project}/imports", _stream(parts), headers)
    return _report(status, body, server)


def _report(status: int, body: bytes, server: RunningServer) -> ImportReport:
    data = _json(status, body, server)
    data["warnings"] = tuple(data.get("warnings", ()))
    data["new_columns"] = tuple(data.get("new_columns", ()))
    known = {f.name for f in fields(ImportReport)}  # a newer server may add fields
    return ImportReport(**{k: v for k, v in data.items() if k in known})


def metric_via_server(workspace: Path, metric: str, *, now: datetime | None = None, by: tuple[str, ...] = (),
                      grain: str | None = None, since: str | None = None, until: str | None = None,
                      where: dict[str, list[str]] | None = None, compare: str | None = None,
                      confidence: float = 0.95) -> list[dict[str, Any]] | None:
    """``MetricResult.to_records()`` of the metric computed by the running server; None without one."""
    server = running_server(workspace)
    if server is None:
        return None
    query: list[tuple[str, str]] = [("by", b) for b in by]
    query += [(k, str(v)) for k, v in (("grain", grain), ("since", since), ("until", until), ("compare", compare),
                                       ("now", now.isoformat() if now else None)) if v is not None]
    query += [("where", f"{col}={v}") for col, values in (where or {}).items() for v in values]
    query.append(("confidence", str(confidence)))
    path = f"/api/projects/{server.project}/metrics/{quote(metric, safe='')}?{urlencode(query)}"
    status, body = _request(server, "GET", path, headers={"Authorization": f"Bearer {server.token}"})
    return list(_json(status, body, server)["rows"])


def status_via_server(workspace: Path) -> list[dict[str, Any]] | None:
    """The per-table status rows computed by the running server; None without one."""
    server = running_server(workspace)
    if server is None:
        return None
    status, body = _request(server, "GET", f"/api/projects/{server.project}/status",
                            headers={"Authorization": f"Bearer {server.token}"})
    return list(_json(status, body, server)["tables"])


def _json(status: int, body: bytes, server: RunningServer) -> dict[str, Any]:
    """The JSON body of a success, or the server's error raised as the matching cxlens error."""
    try:
        data = json.loads(body)
    except ValueError:
        raise WorkspaceError(f"The cxlens server at {server.url} answered {status} with a non-JSON body; "
                             f"see the server's log.") from None
    if status == 200:
        return data
    error = data.get("error", {}) if isinstance(data, dict) else {}
    message = error.get("message") or f"The server answered {status}."
    code = error.get("code")
    if code in {"unknown_name", "unknown_metric"}:
        raise UnknownNameError(message)
    if code == "import_error":
        raise ImportFileError(message)
    if 400 <= status < 500:
        raise CxlensInputError(message)
    raise WorkspaceError(f"The cxlens server at {server.url} failed: {message}")
