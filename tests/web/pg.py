"""A throwaway PostgreSQL server for tests: its own cluster in a temporary folder, on loopback.

The cluster is made with the machine's PostgreSQL binaries (``initdb``, ``pg_ctl``: on the PATH or
in Debian's ``/usr/lib/postgresql/VERSION/bin``; ``bash scripts/setup-postgres.sh`` installs them
when missing). PostgreSQL refuses to run as root, so under root the cluster belongs to an
unprivileged account (``postgres`` or ``cxlens-test``) and every PostgreSQL program runs as it.
Connections use password authentication (SCRAM) on 127.0.0.1 and a free port; the unix socket
lives in the cluster's folder so that no system-wide PostgreSQL is disturbed.

Use :func:`start_postgres` (a context manager) from a module-scoped fixture; it skips the module
with a clear message when no binaries are found.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

#: Accounts tried, in order, to own the cluster when the tests run as root.
SERVICE_USERS = ("postgres", "cxlens-test")
SUPERUSER = "cxlens"
#: Characters that must be percent-encoded in a URL, to check that they survive the round trip.
SUPERUSER_PASSWORD = "pg-test:pass@word/7"
SKIP_REASON = ("PostgreSQL binaries (initdb, pg_ctl) are not installed; install them with: "
               "bash scripts/setup-postgres.sh")


def find_bin_dir() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl`` (PATH first, then the newest Debian version)."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)
    for folder in map(Path, candidates):
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    return None


def _version_key(path: str) -> tuple[int, ...]:
    part = Path(path).parent.name
    return tuple(int(p) for p in part.split(".") if p.isdigit())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class RunAs:
    """Who runs the PostgreSQL programs: nobody special (not root), or an unprivileged account."""

    uid: int | None = None
    gid: int | None = None
    name: str = ""

    def kwargs(self) -> dict[str, Any]:
        if self.uid is None:
            return {}
        return {"user": self.uid, "group": self.gid, "extra_groups": []}


def service_account() -> RunAs:
    """An unprivileged account when running as root (created as ``cxlens-test`` when none exists)."""
    if os.geteuid() != 0:
        return RunAs()
    for name in SERVICE_USERS:
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return RunAs(entry.pw_uid, entry.pw_gid, name)
    made = subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                           SERVICE_USERS[-1]], capture_output=True, text=True, check=False)
    if made.returncode != 0:
        pytest.skip(f"PostgreSQL refuses to run as root and no unprivileged account exists; creating "
                    f"'{SERVICE_USERS[-1]}' failed: {made.stderr.strip()}. Run: bash scripts/setup-postgres.sh")
    entry = pwd.getpwnam(SERVICE_USERS[-1])
    return RunAs(entry.pw_uid, entry.pw_gid, entry.pw_name)


@dataclass
class PostgresServer:
    """A running cluster: ``url(db)`` for cxlens, ``connect(db)`` for checks with psycopg."""

    bin_dir: Path
    folder: Path
    port: int
    run_as: RunAs
    host: str = "127.0.0.1"
    user: str = SUPERUSER
    password: str = SUPERUSER_PASSWORD

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def log(self) -> Path:
        return self.folder / "server.log"

    def url(self, database: str) -> str:
        return (f"postgresql://{quote(self.user, safe='')}:{quote(self.password, safe='')}@{self.host}:{self.port}"
                f"/{database}")

    def connect(self, database: str = "postgres", **kwargs: Any) -> Any:
        import psycopg

        return psycopg.connect(host=self.host, port=self.port, user=self.user, password=self.password,
                               dbname=database, connect_timeout=10, **kwargs)

    def create_database(self, name: str) -> str:
        """A new empty database; returns its URL."""
        from psycopg import sql

        with self.connect(autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def pg(self, program: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        """Run one of the PostgreSQL programs as the cluster's owner; fail the test on an error."""
        done = subprocess.run([str(self.bin_dir / program), *args], capture_output=True, text=True, timeout=timeout,
                              check=False, cwd=self.folder, **self.run_as.kwargs())
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""
            pytest.fail(f"{program} {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}\n{log}")
        return done

    def start(self) -> None:
        options = " ".join([
            "-c listen_addresses=127.0.0.1", f"-p {self.port}", f"-c unix_socket_directories={self.folder}",
            # A test cluster: durability is not needed, speed is.
            "-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off",
        ])
        self.pg("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "60", "start")

    def stop(self) -> None:
        self.pg("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")


def _initdb(server: PostgresServer) -> None:
    pwfile = server.folder / "pwfile"
    pwfile.write_text(server.password + "\n", encoding="utf-8")
    _give(pwfile, server.run_as)
    server.pg("initdb", "-D", str(server.data), "-U", server.user, f"--pwfile={pwfile}", "--auth-local=trust",
              "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync")
    pwfile.unlink()


def _give(path: Path, run_as: RunAs) -> None:
    if run_as.uid is not None:
        os.chown(path, run_as.uid, run_as.gid if run_as.gid is not None else -1)


@contextmanager
def start_postgres() -> Iterator[PostgresServer]:
    """Make, start, and finally stop and remove a PostgreSQL cluster (skips when none can be made)."""
    pytest.importorskip("psycopg", reason="psycopg is not installed; install it with: pip install 'psycopg[binary]'")
    bin_dir = find_bin_dir()
    if bin_dir is None:
        pytest.skip(SKIP_REASON)
    run_as = service_account()
    # Not under pytest's tmp_path: that folder is private to root, and the cluster's owner must reach it.
    folder = Path(tempfile.mkdtemp(prefix="cxlens-pg-"))
    os.chmod(folder, 0o700)
    _give(folder, run_as)
    server = PostgresServer(bin_dir, folder, _free_port(), run_as)
    try:
        _initdb(server)
        server.start()
        try:
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
