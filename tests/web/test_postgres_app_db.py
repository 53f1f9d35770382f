"""The web app on a PostgreSQL app database, against a real PostgreSQL server.

A throwaway cluster (``tests/web/pg.py``) runs for this module. Django is configured once per test
process (on SQLite, by the other web tests), so the app runs as real ``cxlens serve`` processes
with ``CXLENS_DATABASE_URL=postgresql://...``: the migrations run on PostgreSQL at start, the
command line creates an account and an API key in it, a person logs in and opens pages, a machine
ingests over the API, the background jobs write their records and open a case, a survey is
answered on its hosted page; every stored fact is read back from PostgreSQL with psycopg, and
survives a restart of the server. A wrong URL or an unreachable server is a clear error at start.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import cxlens

from .conftest import PASSWORD, free_port, require_web, run_cli, wait_for, web_command
from .pg import SUPERUSER_PASSWORD, PostgresServer, start_postgres

require_web()

USER = "pgadmin"


class Browser:
    """A cookie-keeping HTTP client that fills Django forms (CSRF token included)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def open(self, path: str, data: dict[str, str] | None = None) -> tuple[int, str, str]:
        """(status, final URL, body) after redirects."""
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(path if path.startswith("http") else self.base + path, data=body)
        try:
            with self.opener.open(req, timeout=60) as resp:
                return resp.status, resp.geturl(), resp.read().decode()
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code, exc.geturl(), exc.read().decode()

    def submit(self, path: str, fields: dict[str, str]) -> tuple[int, str, str]:
        """Open the form at ``path`` and post it back with ``fields`` plus its hidden inputs."""
        status, url, page = self.open(path)
        assert status == 200, page[:500]
        hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
        return self.open(url, {**hidden, **fields})


@dataclass
class App:
    """A workspace served with a PostgreSQL app database by real ``cxlens serve`` processes."""

    root: Path
    env: dict[str, str]
    postgres: PostgresServer
    database: str
    url: str = ""
    key: str = ""
    process: subprocess.Popen | None = None
    logs: list[Path] = field(default_factory=list)

    def cli(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        return run_cli(*args, "-w", str(self.root), stdin=stdin, env=self.env)

    def start(self) -> None:
        port = free_port()
        log_path = self.root / f"server-{len(self.logs)}.log"
        self.logs.append(log_path)
        with log_path.open("w") as log:
            self.process = subprocess.Popen([*web_command(), "serve", "--port", str(port), "-w", str(self.root)],
                                            stdout=log, stderr=subprocess.STDOUT, env=self.env)
        self.url = f"http://127.0.0.1:{port}"
        wait_for("the server to answer /healthz", self._ready, timeout=90)

    def _ready(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            pytest.fail(f"cxlens serve exited: {self.logs[-1].read_text()}")
        try:
            with urllib.request.urlopen(self.url + "/healthz", timeout=10) as resp:
                return resp.status == 200 and (self.root / "app" / "server.json").exists()
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=60)
        self.process = None

    def api(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Authorization": f"Bearer {self.key}",
                                              "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                raw = resp.read()
                return resp.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code, json.loads(exc.read() or b"null")

    def sql(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        """Rows of ``query`` run on the app database, straight from PostgreSQL."""
        with self.postgres.connect(self.database) as conn:
            return conn.execute(query, params).fetchall()

    def login(self, username: str = USER, password: str = PASSWORD) -> Browser:
        browser = Browser(self.url)
        status, url, page = browser.submit("/login/", {"username": username, "password": password})
        assert status == 200 and url == self.url + "/p/main/", page[:800]
        return browser


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    with start_postgres() as server:
        yield server


@pytest.fixture(scope="module")
def app(postgres: PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    root = tmp_path_factory.mktemp("pg-app") / "ws"
    with cxlens.init(root) as ws:
        ws.import_data("customers", pa.table({"customer_id": ["P1", "P2", "P3"],
                                              "email": ["p1@example.com", "p2@example.com", "p3@example.com"],
                                              "segment": ["smb", "smb", "enterprise"]}))
    env = {**os.environ, "CXLENS_SECURE_COOKIES": "false", "CXLENS_DATABASE_URL": postgres.create_database("cx_app")}
    env.pop("CXLENS_SMTP_URL", None)
    served = App(root, env, postgres, "cx_app")
    # The first command migrates the empty PostgreSQL database.
    made = served.cli("users", "create", USER, "--email", "pg@example.com", "--role", "admin", "--superuser",
                      "--password-stdin", stdin=PASSWORD + "\n")
    assert made.returncode == 0, made.stderr
    key = served.cli("apikeys", "create", "pg etl", "--scope", "ingest", "--scope", "read")
    assert key.returncode == 0, key.stderr
    served.key = key.stdout.strip()
    served.start()
    try:
        yield served
    finally:
        served.stop()


def test_migrations_and_cli_write_to_postgresql(app: App) -> None:
    import hashlib

    tables = {r[0] for r in app.sql("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    # Every app's tables, Django's own and django-axes' are in PostgreSQL.
    assert {"auth_user", "django_session", "django_migrations", "axes_accessattempt", "cxweb_project",
            "cxweb_membership", "cxweb_apikey", "cxweb_feedcursor", "cxweb_jobrun", "cxsurveys_survey",
            "cxsurveys_response", "distribution_contact", "distribution_invitation", "loop_alertrule", "loop_case",
            "loop_caseevent"} <= tables
    applied = {r[0] for r in app.sql("SELECT DISTINCT app FROM django_migrations")}
    assert {"auth", "axes", "cxweb", "cxsurveys", "distribution", "loop"} <= applied
    assert app.sql("SELECT username, email, is_superuser, password LIKE 'pbkdf2_sha256$%%' FROM auth_user") == [
        (USER, "pg@example.com", True, True)]
    assert app.sql("SELECT p.slug, p.workspace_path, m.role FROM cxweb_membership m JOIN cxweb_project p "
                   "ON p.id = m.project_id JOIN auth_user u ON u.id = m.user_id WHERE u.username = %s", USER) == [
        ("main", str(app.root.resolve()), "admin")]
    prefix = app.key.split("_")[1]
    rows = app.sql("SELECT name, digest, scopes, revoked_at FROM cxweb_apikey WHERE prefix = %s", prefix)
    # Only the SHA-256 digest is stored, the scopes as JSON (jsonb in PostgreSQL).
    assert rows == [("pg etl", hashlib.sha256(app.key.encode()).hexdigest(), ["ingest", "read"], None)]
    assert app.sql("SELECT data_type FROM information_schema.columns WHERE table_name = 'cxweb_apikey' "
                   "AND column_name = 'scopes'") == [("jsonb",)]
    assert app.sql("SELECT count(*) FROM cxweb_apikey WHERE digest LIKE %s", f"%{app.key}%") == [(0,)]
    listed = app.cli("apikeys", "list", "--format", "json")
    assert listed.returncode == 0 and [k["prefix"] for k in json.loads(listed.stdout) if k["name"] == "pg etl"] == [
        prefix]


def test_login_pages_and_sessions(app: App) -> None:
    browser = app.login()
    session = {c.name: c.value for c in browser.jar}["sessionid"]
    # The session lives in PostgreSQL.
    assert app.sql("SELECT count(*) FROM django_session WHERE session_key = %s", session) == [(1,)]
    for path, marker in (("/p/main/", "<h1>Overview</h1>"), ("/p/main/surveys/", 'id="create-survey"'),
                         ("/p/main/cases/", 'id="cases"'), ("/p/main/loop/", "Closing the loop"),
                         ("/p/main/settings/", "pg etl")):
        status, _, page = browser.open(path)
        assert status == 200 and marker in page, (path, page[:500])
    # A failed login is recorded by django-axes in PostgreSQL.
    status, _, page = Browser(app.url).submit("/login/", {"username": USER, "password": "not the password"})
    assert status == 200 and "/login/" in page
    assert app.sql("SELECT username, failures_since_start FROM axes_accessattempt") == [(USER, 1)]


def test_ingest_jobs_and_a_case(app: App) -> None:
    status, rule = app.api("POST", "/api/projects/main/loop/rules", {
        "name": "pg detractors", "condition": {"field": "nps", "op": "<=", "value": 6}, "reason": "detractor",
        "priority": "high"})
    assert status == 201, rule
    assert app.sql("SELECT name, condition FROM loop_alertrule") == [
        ("pg detractors", {"field": "nps", "op": "<=", "value": 6})]
    rows = [{"response_id": "PG-1", "customer_id": "P1", "submitted_at": "2026-11-20T10:00:00Z", "nps": 2,
             "comment": "Late again"},
            {"response_id": "PG-2", "customer_id": "P2", "submitted_at": "2026-11-20T11:00:00Z", "nps": 10}]
    status, report = app.api("POST", "/api/projects/main/ingest/responses", {"rows": rows, "source": "pg test"})
    assert status == 200 and (report["accepted"], report["rejected"]) == (2, 0), report
    status, again = app.api("POST", "/api/projects/main/ingest/responses", {"rows": rows})
    assert status == 200 and again["duplicates"] == 2

    # The job thread reads the new rows through its feed cursor and opens one case (the detractor).
    cases = wait_for("the case", lambda: app.sql("SELECT customer_id, reason, priority, status, evidence, "
                                                 "source_id FROM loop_case"))
    assert cases == [("P1", "detractor", "high", "new", ["nps 2 ≤ 6"], "PG-1")]
    assert app.sql("SELECT kind FROM loop_caseevent e JOIN loop_case c ON c.id = e.case_id") == [("opened",)]
    cursor = app.sql("SELECT consumer, \"table\", import_id, line FROM cxweb_feedcursor WHERE consumer = 'loop-rules'")
    assert cursor == [("loop-rules", "responses", report["import_id"], 2)]
    runs = dict(app.sql("SELECT name, runs FROM cxweb_jobrun WHERE failures = 0 AND last_error = '' "
                        "AND last_finished_at >= last_started_at"))
    assert {"loop-rules", "loop-send", "surveys-flush", "distribution-send", "distribution-triggers"} <= set(runs)
    assert app.sql("SELECT count(*) FROM cxweb_jobrun WHERE failures > 0") == [(0,)]
    status, listed = app.api("GET", "/api/projects/main/loop/cases?customer_id=P1")
    assert status == 200 and [c["source_id"] for c in listed] == ["PG-1"]


def test_survey_answered_on_its_hosted_page(app: App) -> None:
    browser = app.login()
    status, url, page = browser.submit("/p/main/surveys/", {"template": "relationship_nps", "title": "PG loyalty",
                                                            "slug": "pg-loyalty"})
    assert status == 200 and url.endswith("/p/main/surveys/pg-loyalty/"), page[:500]
    status, _, page = browser.submit("/p/main/surveys/pg-loyalty/", {"action": "publish"})
    assert status == 200
    assert app.sql("SELECT status, jsonb_array_length(hidden_fields) FROM cxsurveys_survey WHERE slug = "
                   "'pg-loyalty'") == [("live", 1)]

    respondent = Browser(app.url)
    status, url, page = respondent.submit("/s/pg-loyalty/?customer_id=P3", {"a_nps": "9"})
    assert status == 200 and "/r/" in url, page[:800]
    status, url, page = respondent.submit(url, {"a_reason": "Quick delivery, kind people"})
    assert status == 200 and url.endswith("/thanks/"), page[:800]

    stored = app.sql("SELECT hidden, answers, completed_at IS NOT NULL FROM cxsurveys_response r JOIN "
                     "cxsurveys_survey s ON s.id = r.survey_id WHERE s.slug = 'pg-loyalty'")
    assert stored == [({"customer_id": "P3"}, {"nps": 9, "reason": "Quick delivery, kind people"}, True)]
    # The surveys-flush job writes it to the warehouse and records the import in PostgreSQL.
    wait_for("the response in the warehouse", lambda: app.sql(
        "SELECT import_id FROM cxsurveys_response WHERE import_id IS NOT NULL"))
    status, nps = app.api("GET", "/api/projects/main/metrics/nps?where=survey_id=pg-loyalty")
    assert status == 200 and nps["rows"][0]["n"] == 1, nps


def test_two_collector_processes_on_postgresql(app: App) -> None:
    """``cxlens collect --workers 2`` beside the server, both on the PostgreSQL app database: every
    acknowledged widget answer is stored once and reaches the warehouse through the server's flush."""
    import secrets
    import threading

    [(key,)] = app.sql("SELECT public_key FROM cxsurveys_survey WHERE slug = 'pg-loyalty'")
    port = free_port()
    log_path = app.root / "collector.log"
    with log_path.open("w") as log:
        collector = subprocess.Popen([*web_command(), "collect", "--port", str(port), "--workers", "2", "--threads",
                                      "8", "-w", str(app.root)], stdout=log, stderr=subprocess.STDOUT, env=app.env)
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        if collector.poll() is not None:
            pytest.fail(f"cxlens collect exited: {log_path.read_text()}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=10) as resp:
                return resp.status == 200
        except OSError:
            return False

    try:
        wait_for("the collector to answer /healthz", ready, timeout=90)
        ids = [secrets.token_hex(16) for _ in range(200)]
        statuses: list[int] = []

        def score(answer_id: str) -> int:  # 7 to 10: no detractor, so the loop rule of the test above stays quiet
            return 7 + int(answer_id[:2], 16) % 4

        def post(chunk: list[str]) -> None:
            for answer_id in chunk:
                body = json.dumps({"key": key, "id": answer_id, "answers": {"nps": score(answer_id)},
                                   "customer_id": "P2"}).encode()
                req = urllib.request.Request(f"{url}/s/pg-loyalty/collect", data=body, method="POST",
                                             headers={"Content-Type": "application/json"})
                with urllib.request.urlopen(req, timeout=60) as resp:
                    statuses.append(resp.status)

        threads = [threading.Thread(target=post, args=(ids[i::16],)) for i in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert statuses == [201] * 200
    finally:
        collector.terminate()
        collector.wait(timeout=60)
    assert "cxlens collection stopped." in log_path.read_text()
    stored = app.sql("SELECT public_id, (answers->>'nps')::int FROM cxsurveys_response r JOIN cxsurveys_survey s "
                     "ON s.id = r.survey_id WHERE s.slug = 'pg-loyalty' AND r.hidden->>'customer_id' = 'P2'")
    assert sorted(stored) == sorted((i, score(i)) for i in ids)
    wait_for("every answer in the warehouse", lambda: app.sql(
        "SELECT count(*) FROM cxsurveys_response WHERE import_id IS NULL AND completed_at IS NOT NULL")[0][0] == 0)
    status, nps = app.api("GET", "/api/projects/main/metrics/nps?where=survey_id=pg-loyalty")
    assert status == 200 and nps["rows"][0]["n"] == 201, nps


def test_data_survives_a_restart(app: App) -> None:
    before = {table: app.sql(f"SELECT count(*) FROM {table}")[0][0]  # noqa: S608 (fixed table names)
              for table in ("auth_user", "cxweb_apikey", "loop_case", "cxsurveys_response", "cxweb_feedcursor")}
    assert before["auth_user"] == 1 and before["cxweb_apikey"] >= 2
    app.stop()
    # The server revoked the key it made for the command line; the user's key is live.
    assert app.sql("SELECT count(*) FROM cxweb_apikey WHERE revoked_at IS NULL AND name LIKE 'cxlens command%%'") == [
        (0,)]
    app.start()
    after = {table: app.sql(f"SELECT count(*) FROM {table}")[0][0]  # noqa: S608
             for table in before}
    # Same rows, plus the new key the restarted server made for the command line.
    assert after == {**before, "cxweb_apikey": before["cxweb_apikey"] + 1}
    browser = app.login()  # the account made before the restart
    status, _, page = browser.open("/p/main/cases/")
    assert status == 200 and "detractor" in page
    status, listed = app.api("GET", "/api/projects/main/loop/cases?customer_id=P1")  # the key made before
    assert status == 200 and len(listed) == 1
    runs = app.sql("SELECT runs FROM cxweb_jobrun WHERE name = 'surveys-flush'")[0][0]
    wait_for("the restarted job thread", lambda: app.sql(
        "SELECT runs FROM cxweb_jobrun WHERE name = 'surveys-flush'")[0][0] > runs)


# ---------------------------------------------------------------------------------- clear errors


def _assert_clear(message: str, expected: list[str]) -> None:
    for part in expected:
        assert part in message, (part, message)
    for secret in ("secret-pw", "wrong-secret", SUPERUSER_PASSWORD):
        assert secret not in message  # passwords are never shown


def test_unreachable_server_stops_the_start_with_a_clear_error(postgres: PostgresServer, tmp_path: Path) -> None:
    root = tmp_path / "ws"
    cxlens.init(root).close()
    closed_port = free_port()
    for command, url, expected in (
        (["serve", "--port", "0"], f"postgresql://cx:secret-pw@127.0.0.1:{closed_port}/cx",
         [f"127.0.0.1:{closed_port}", "Connection refused", "CXLENS_DATABASE_URL"]),
        (["users", "list"], postgres.url("no_such_db"),
         ['"no_such_db" does not exist', "createdb -O cxlens no_such_db"]),
    ):
        env = {**os.environ, "CXLENS_DATABASE_URL": url}
        done = subprocess.run([*web_command(), *command, "-w", str(root)], capture_output=True, text=True,
                              timeout=120, env=env, check=False)
        assert done.returncode == 2, (url, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr and done.stderr.startswith("Error: Cannot connect"), done.stderr
        _assert_clear(done.stderr, expected)
    assert not (root / "app" / "server.json").exists()


def test_connection_problems_name_the_cause(postgres: PostgresServer, tmp_path: Path) -> None:
    from cxlens.errors import WorkspaceError
    from cxlens.web.config import check_database, load_config

    root = tmp_path / "ws"
    cxlens.init(root).close()
    for url, expected in (
        (f"postgresql://cxlens:wrong-secret@127.0.0.1:{postgres.port}/postgres",
         ["password authentication failed for user \"cxlens\"", "127.0.0.1:" + str(postgres.port)]),
        ("postgresql://cx:secret-pw@no-such-host.invalid:5432/cx", ["no-such-host.invalid"]),
    ):
        config = load_config(root, env={"CXLENS_DATABASE_URL": url})
        with pytest.raises(WorkspaceError) as failed:
            check_database(config)
        _assert_clear(str(failed.value), expected)
    good = load_config(root, env={"CXLENS_DATABASE_URL": postgres.url("postgres") + "?application_name=cxlens"})
    assert check_database(good) is good
    assert good.database["OPTIONS"] == {"connect_timeout": 10, "application_name": "cxlens"}


@pytest.mark.parametrize(("url", "expected"), [
    ("postgresql://cx:secret-pw@127.0.0.1:port/cx", ["port", "a number", "postgresql://cx:***@127.0.0.1:port/cx"]),
    ("postgresql://cx:secret-pw@127.0.0.1:5432/", ["name the database"]),
    ("postgresql://cx:secret-pw@db/cx?sslmod=require", ["Unknown parameter sslmod", "sslmode"]),
    ("mysql://cx:secret-pw@db/cx", ["sqlite:// or postgresql://", "cx:***@db"]),
])
def test_bad_database_urls_are_named(tmp_path: Path, url: str, expected: list[str]) -> None:
    pytest.importorskip("psycopg", reason="psycopg is not installed; install it with: pip install 'psycopg[binary]'")
    from cxlens.errors import CxlensInputError
    from cxlens.web.config import database_settings

    with pytest.raises(CxlensInputError) as failed:
        database_settings(url, tmp_path)
    _assert_clear(str(failed.value), expected)


def test_postgresql_url_forms(tmp_path: Path) -> None:
    pytest.importorskip("psycopg", reason="psycopg is not installed; install it with: pip install 'psycopg[binary]'")
    from cxlens.web.config import database_settings

    socket_db = database_settings("postgres://cx@/cxlens?host=/run/postgresql&sslmode=disable", tmp_path)
    assert (socket_db["HOST"], socket_db["PORT"], socket_db["USER"], socket_db["PASSWORD"]) == (
        "/run/postgresql", "", "cx", "")
    assert socket_db["OPTIONS"] == {"connect_timeout": 10, "sslmode": "disable"}
    tcp = database_settings("postgresql://c%40x:p%2Fw@db.example.com:6543/cx%20app", tmp_path)
    assert (tcp["USER"], tcp["PASSWORD"], tcp["HOST"], tcp["PORT"], tcp["NAME"]) == (
        "c@x", "p/w", "db.example.com", "6543", "cx app")
    assert tcp["ENGINE"] == "django.db.backends.postgresql" and tcp["CONN_HEALTH_CHECKS"] is True
