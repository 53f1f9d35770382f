"""The web app's background machinery: feed consumers (exactly once), jobs, outgoing mail."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from .conftest import NOW, Mailbox, WebApp, require_web

require_web()


def _ticket_rows(ids: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"ticket_id": ids, "customer_id": ["feed-c"] * len(ids),
                         "created_at": ["2026-11-20T09:00:00Z"] * len(ids), "status": ["open"] * len(ids)})


def test_a_consumer_sees_each_new_row_once_and_a_failed_batch_again(app: WebApp) -> None:
    from cxlens.web.feeds import consume
    from cxlens.web.models import FeedCursor
    from cxlens.web.projects import POOL

    project = app.projects["main"]
    seen: list[str] = []
    consume(project, "test-once", "tickets", lambda b: seen.extend(r["ticket_id"] for r in b.rows), now=NOW)
    assert seen == []  # a new consumer starts at the latest row: history is not replayed
    with POOL.use(project) as ws:
        ws.import_data("tickets", _ticket_rows(["feed-t1", "feed-t2"]))

    def fail(batch: Any) -> None:
        FeedCursor.objects.create(project=project, consumer="written-by-failing-handler", table="tickets")
        raise RuntimeError("handler crashed")

    with pytest.raises(RuntimeError):
        consume(project, "test-once", "tickets", fail, now=NOW)
    assert not FeedCursor.objects.filter(consumer="written-by-failing-handler").exists()  # rolled back together
    n = consume(project, "test-once", "tickets", lambda b: seen.extend(r["ticket_id"] for r in b.rows), now=NOW)
    assert (n, seen) == (2, ["feed-t1", "feed-t2"])
    assert consume(project, "test-once", "tickets", lambda b: seen.extend(["again"]), now=NOW) == 0


def test_a_consumer_from_the_beginning_replays_history_in_batches(app: WebApp) -> None:
    from cxlens.web.feeds import consume
    from cxlens.web.projects import POOL

    project = app.projects["main"]
    with POOL.use(project) as ws:
        stored = ws.table("tickets").count().to_pyarrow().as_py()
    sizes: list[int] = []
    n = consume(project, "test-replay", "tickets", lambda b: sizes.append(len(b)), now=NOW, start="beginning",
                limit=97)
    assert n == stored == sum(sizes) and max(sizes) <= 97


def test_jobs_record_failures_and_keep_running(app: WebApp) -> None:
    from cxlens.web import jobs
    from cxlens.web.models import JobRun

    project = app.projects["main"]
    calls: list[Any] = []
    jobs.job("test-ok", timedelta(minutes=5))(lambda p, now: calls.append((p.slug, now)) or len(calls))
    jobs.job("test-broken", timedelta(minutes=5))(lambda p, now: 1 / 0)
    try:
        outcomes = {o.job: o for o in jobs.run_all(project, NOW, ("test-ok", "test-broken"))}
        assert outcomes["test-ok"].ok and calls == [("main", NOW)]
        assert not outcomes["test-broken"].ok and "ZeroDivisionError" in outcomes["test-broken"].error
        record = JobRun.objects.get(project=project, name="test-broken")
        assert (record.failures, record.runs) == (1, 1) and "division by zero" in record.last_error
        ok = JobRun.objects.get(project=project, name="test-ok")
        assert jobs.due(jobs._JOBS["test-ok"], project, NOW + timedelta(minutes=4)) is False
        assert jobs.due(jobs._JOBS["test-ok"], project, NOW + timedelta(minutes=5)) is True
        assert ok.last_error == ""
    finally:
        jobs._JOBS.pop("test-ok", None)
        jobs._JOBS.pop("test-broken", None)


def test_the_worker_thread_runs_a_kicked_job_at_once(app: WebApp) -> None:
    from cxlens.web import jobs

    ran: list[str] = []
    jobs.job("test-kick", timedelta(hours=1))(lambda p, now: ran.append(p.slug))
    worker = jobs.Worker(tick=3600)  # only a kick can wake it within this test
    worker.start()
    try:
        worker.kick()
        deadline = time.monotonic() + 20
        while "main" not in ran and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "main" in ran
    finally:
        worker.stop()
        jobs._JOBS.pop("test-kick", None)
    assert not worker.is_alive()


def test_mail_reaches_a_real_smtp_server(app: WebApp, smtp_server: Mailbox) -> None:
    from django.test import override_settings

    from cxlens.web import mail

    with override_settings(**smtp_server.settings(), DEFAULT_FROM_EMAIL="cx@example.com"):
        mail.send(["kim@example.com"], "Thanks for your feedback", "Hello <Kim>", html="<p>Hello &lt;Kim&gt;</p>",
                  headers={"List-Unsubscribe": "<https://cx.example.com/u/x/>"})
    [msg] = smtp_server.to("kim@example.com")
    assert msg["Subject"] == "Thanks for your feedback" and msg["From"] == "cx@example.com"
    assert msg["List-Unsubscribe"] == "<https://cx.example.com/u/x/>"
    assert msg.get_body(("plain",)).get_content().strip() == "Hello <Kim>"


def test_mail_without_a_server_says_how_to_configure_it(app: WebApp) -> None:
    from django.test import override_settings

    from cxlens.web import mail

    with override_settings(CXLENS_MAIL_ENABLED=False, EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend"):
        with pytest.raises(mail.MailNotConfigured, match="CXLENS_SMTP_URL"):
            mail.send(["kim@example.com"], "s", "t")


@pytest.mark.parametrize(("url", "expected"), [
    ("smtp://mail.example.com", {"EMAIL_HOST": "mail.example.com", "EMAIL_PORT": 25, "EMAIL_USE_TLS": False}),
    ("smtp://u%40x:p%3Aw@mail.example.com:587?starttls=true",
     {"EMAIL_PORT": 587, "EMAIL_USE_TLS": True, "EMAIL_HOST_USER": "u@x", "EMAIL_HOST_PASSWORD": "p:w"}),
    ("smtps://mail.example.com", {"EMAIL_PORT": 465, "EMAIL_USE_SSL": True, "EMAIL_USE_TLS": False}),
])
def test_smtp_urls(url: str, expected: dict[str, Any]) -> None:
    from cxlens.web.config import email_settings

    got = email_settings(url, "cx@example.com")
    assert got["CXLENS_MAIL_ENABLED"] and got["DEFAULT_FROM_EMAIL"] == "cx@example.com"
    assert {k: got[k] for k in expected} == expected


def test_a_bad_smtp_url_is_refused_without_showing_its_password(tmp_path: Path) -> None:
    from cxlens.errors import CxlensInputError
    from cxlens.web.config import email_settings

    with pytest.raises(CxlensInputError) as err:
        email_settings("imap://kim:s3cret@mail.example.com", None)
    assert "s3cret" not in str(err.value) and "smtp://" in str(err.value)
    assert email_settings(None, None) == {"DEFAULT_FROM_EMAIL": "cxlens@localhost", "EMAIL_TIMEOUT": 20,
                                          "CXLENS_MAIL_ENABLED": False}
