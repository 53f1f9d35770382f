"""Survey distribution end to end: invitations delivered to a real SMTP server, answered through the
hosted pages, counted in the response rate; unsubscribing; contact rules; retries when SMTP is down."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import cxlens

from .conftest import Mailbox, WebApp, free_port, require_web

require_web()


@dataclass
class Dist:
    project: Any
    root: Path


CUSTOMERS = pd.DataFrame({
    "customer_id": [f"dc{i}" for i in range(1, 9)],
    "created_at": ["2026-01-05T10:00:00Z"] * 8,
    "email": [f"dc{i}@example.com" for i in range(1, 9)],
})


def make_project(app: WebApp, tmp_path_factory: pytest.TempPathFactory, slug: str,
                 customers: pd.DataFrame = CUSTOMERS) -> Dist:
    """A project of its own (empty workspace plus ``customers``), with ada admin, ana analyst, vic viewer."""
    from cxlens.web.models import Membership
    from cxlens.web.projects import POOL, ensure_project

    root = tmp_path_factory.mktemp(slug) / "ws"
    cxlens.init(root).close()
    project = ensure_project(root, slug, f"Project {slug}")
    for name, role in (("ada", "admin"), ("ana", "analyst"), ("vic", "viewer")):
        Membership.objects.get_or_create(user=app.users[name], project=project, defaults={"role": role})
    with POOL.use(project) as ws:
        ws.import_data("customers", customers)
    return Dist(project, root)


@pytest.fixture(scope="module")
def dist(app: WebApp, tmp_path_factory: pytest.TempPathFactory) -> Dist:
    return make_project(app, tmp_path_factory, "dist")


@pytest.fixture(autouse=True)
def empty_outbox(dist: Dist) -> None:
    """Each test counts its own deliveries: invitations left queued by earlier tests are cancelled."""
    from cxlens.web.distribution.models import Invitation

    Invitation.objects.filter(project=dist.project, status__in=("queued", "failed")).update(status="cancelled")


def now() -> datetime:
    # The hosted survey pages check links against the real clock, so invitations use it too.
    return datetime.now(UTC).replace(microsecond=0)


def live_survey(dist: Dist, slug: str, template: str = "relationship_nps") -> Any:
    from cxlens.web.surveys import service as surveys

    survey = surveys.create_survey(dist.project, template, f"Survey {slug}", slug)
    surveys.publish(survey, now())
    return survey


def text_of(message: Any) -> str:
    return message.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")


def html_of(message: Any) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def answer_survey(app: WebApp, start_url: str, nps: int) -> None:
    """Answer a relationship NPS survey opened from the e-mail's link, page by page."""
    c = app.client()
    first = c.get(start_url)
    assert first.status_code == 200, first.content.decode()[:500]
    assert f'value="{nps}" checked' in first.content.decode()  # the score clicked in the mail is picked
    r = c.post(start_url, {"a_nps": str(nps)})
    assert r.status_code == 302, r.content.decode()[:500]
    for _ in range(5):
        if r["Location"].endswith("/thanks/"):
            break
        page = c.get(r["Location"])
        index = re.search(r'name="page" value="(\d+)"', page.content.decode())
        assert index, page.content.decode()[:500]
        r = c.post(r["Location"], {"page": index.group(1), "a_reason": "Quick delivery", "a_went_wrong": ""})
        assert r.status_code == 302, r.content.decode()[:500]
    assert r["Location"].endswith("/thanks/")


# ------------------------------------------------------------------------------------- invitations


def test_an_invitation_is_mailed_answered_and_counted(app: WebApp, dist: Dist, smtp_server: Mailbox) -> None:
    from django.test import override_settings

    from cxlens.web.distribution import service
    from cxlens.web.projects import POOL
    from cxlens.web.surveys import service as surveys

    survey = live_survey(dist, "dist-e2e")
    t0 = now()
    first = service.invite(survey, customer_id="dc1", email="", now=t0)  # address from the warehouse
    second = service.invite(survey, customer_id="dc2", email="second@example.org", now=t0)
    assert (first.status, second.status) == ("queued", "queued")
    assert first.invitation.email == "dc1@example.com"
    with override_settings(**smtp_server.settings()):
        summary = service.send_due(dist.project, t0)
    assert (summary.sent, summary.failed) == (2, 0)
    assert len(smtp_server.to("dc1@example.com")) == 1 and len(smtp_server.to("second@example.org")) == 1
    message = smtp_server.to("dc1@example.com")[0]
    text, html = text_of(message), html_of(message)
    assert "Survey dist-e2e" in message["Subject"] and "Hello," in text and "Survey dist-e2e" in html
    nps_links = re.findall(r"^(\d+): (http\S+)$", text, re.M)
    assert [int(n) for n, _ in nps_links] == list(range(11))
    assert all("&nps=" in link for _, link in nps_links)
    html_links = [unescape(u) for u in re.findall(r'href="([^"]+)"', html)]
    assert [u for _, u in nps_links] == [u for u in html_links if "&nps=" in u]
    unsubscribe = re.search(r"<(http[^>]+)>", message["List-Unsubscribe"]).group(1)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsubscribe in text and path_of(unsubscribe).startswith("/u/")

    answer_survey(app, path_of(dict(nps_links)["9"]), 9)

    rates = service.response_rates(survey)
    assert [(r.channel, r.sent, r.answered) for r in rates] == [("email", 2, 1)]
    assert rates[0].rate == 0.5 and 0 < rates[0].ci_low < 0.5 < rates[0].ci_high < 1
    surveys.flush(dist.project, now())  # the surveys-flush job: completed responses to the warehouse
    with POOL.use(dist.project) as ws:
        t = ws.table("responses")
        rows = t.filter(t.survey_id == "dist-e2e").execute().to_dict("records")
    assert [(r["customer_id"], r["nps"]) for r in rows] == [("dc1", 9)]  # the link carried the customer id

    # A sent invitation is not sent again.
    with override_settings(**smtp_server.settings()):
        assert service.send_due(dist.project, t0 + timedelta(minutes=5)).sent == 0
    assert len(smtp_server.messages) == 2


def test_response_rate_interval_matches_the_wilson_formula(app: WebApp, dist: Dist, smtp_server: Mailbox) -> None:
    from django.test import override_settings

    from cxlens.web.distribution import service

    survey = live_survey(dist, "dist-rate")
    t0 = now()
    for i in range(3, 7):
        service.invite(survey, customer_id=f"rate-{i}", email=f"rate{i}@example.net", now=t0)
    with override_settings(**smtp_server.settings()):
        assert service.send_due(dist.project, t0).sent == 4
    link = re.search(r"^Or open the survey: (\S+)$", text_of(smtp_server.to("rate3@example.net")[0]), re.M).group(1)
    answer_survey(app, path_of(link) + "&nps=10", 10)
    (rate,) = service.response_rates(survey)
    # Wilson 95% for 1/4, by hand: z = 1.959964, centre (0.25 + z²/8) / (1 + z²/4),
    # half-width z/(1 + z²/4) * sqrt(0.25*0.75/4 + z²/64)  ->  0.045587 to 0.699358
    assert (rate.sent, rate.answered, rate.rate) == (4, 1, 0.25)
    assert rate.ci_low == pytest.approx(0.045587, abs=1e-5) and rate.ci_high == pytest.approx(0.699358, abs=1e-5)


# ------------------------------------------------------------------------------------- unsubscribe


def test_the_unsubscribe_link_stops_every_invitation(app: WebApp, dist: Dist, smtp_server: Mailbox) -> None:
    from django.test import override_settings

    from cxlens.web.distribution import service
    from cxlens.web.distribution.models import Contact, Invitation

    survey = live_survey(dist, "dist-unsub")
    other = live_survey(dist, "dist-unsub-other", "post_ticket_csat")
    t0 = now()
    assert service.invite(survey, customer_id="unsub-1", email="unsub1@example.com", now=t0).status == "queued"
    with override_settings(**smtp_server.settings()):
        service.send_due(dist.project, t0)
    message = smtp_server.to("unsub1@example.com")[0]
    url = path_of(re.search(r'id="unsubscribe-link" href="([^"]+)"', html_of(message)).group(1))
    assert path_of(re.search(r"<(http[^>]+)>", message["List-Unsubscribe"]).group(1)) == url

    # A queued invitation of another survey, later (beyond the resting period): cancelled by the unsubscribe.
    later = service.invite(other, customer_id="unsub-1", email="unsub1@example.com", now=t0,
                           send_at=t0 + timedelta(days=40))
    assert later.status == "queued"

    c = app.client(enforce_csrf_checks=True)
    page = c.get(url)
    assert page.status_code == 200 and 'id="unsubscribe-confirm"' in page.content.decode()
    assert Contact.objects.get(project=dist.project, customer_id="unsub-1").unsubscribed_at is None  # GET: no change
    done = c.post(url, {})
    assert done.status_code == 200 and "unsubscribed" in done.content.decode().lower()
    contact = Contact.objects.get(project=dist.project, customer_id="unsub-1")
    assert contact.consent == "opt_out" and contact.unsubscribed_at is not None
    assert contact.consent_source == "unsubscribe link"
    cancelled = Invitation.objects.get(pk=later.invitation.pk)
    assert (cancelled.status, cancelled.status_reason) == ("cancelled", "opted out")

    again = service.invite(survey, customer_id="unsub-1", email="unsub1@example.com", now=t0 + timedelta(days=400))
    assert (again.status, again.reason) == ("suppressed", "unsubscribed")
    assert not service.consent_allows(dist.project, "unsub-1", t0)
    with override_settings(**smtp_server.settings()):
        service.send_due(dist.project, t0 + timedelta(days=401))
    assert len(smtp_server.to("unsub1@example.com")) == 1


def test_one_click_unsubscribe_post_from_the_mail_provider(app: WebApp, dist: Dist) -> None:
    from cxlens.web.distribution import service

    token = service.make_unsubscribe_token(dist.project, "oneclick-1", now() + timedelta(days=30))
    c = app.client(enforce_csrf_checks=True)  # a mail provider has no session and no CSRF token (RFC 8058)
    r = c.post(f"/u/{token}/", "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert r.status_code == 200
    assert not service.consent_allows(dist.project, "oneclick-1", now())


def test_forged_and_expired_unsubscribe_links(app: WebApp, dist: Dist) -> None:
    from cxlens.web.distribution import service

    token = service.make_unsubscribe_token(dist.project, "forge-1", now() + timedelta(days=30))
    payload = token.split(":")[0]
    forged = app.client().get(f"/u/{payload}:forgedsignature/")
    assert forged.status_code == 400 and "not valid" in forged.content.decode()
    assert app.client().post(f"/u/{token[:-2]}xx/").status_code == 400
    expired = service.make_unsubscribe_token(dist.project, "forge-1", now() - timedelta(seconds=1))
    gone = app.client().post(f"/u/{expired}/")
    assert gone.status_code == 410 and "expired" in gone.content.decode()
    assert service.consent_allows(dist.project, "forge-1", now())  # nothing changed


# ------------------------------------------------------------------------------------- contact rules


def test_resting_period_and_cap_across_surveys(dist: Dist) -> None:
    from cxlens.web.distribution import service

    service.update_policy(dist.project, {"resting_days": "30", "cap_count": "2", "cap_days": "90"}, now())
    a, b = live_survey(dist, "dist-rest-a"), live_survey(dist, "dist-rest-b", "post_ticket_csat")
    t0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    assert service.invite(a, customer_id="rest-1", email="rest1@example.com", now=t0).status == "queued"
    blocked = service.invite(b, customer_id="rest-1", email="rest1@example.com", now=t0 + timedelta(days=10))
    assert (blocked.status, blocked.reason) == ("suppressed", "resting period until 2026-12-20")
    assert blocked.invitation.status_reason == "resting period until 2026-12-20" and not blocked.invitation.token
    assert service.invite(b, customer_id="rest-1", email="", now=t0 + timedelta(days=30)).status == "queued"
    capped = service.invite(a, customer_id="rest-1", email="", now=t0 + timedelta(days=60))
    assert capped.status == "suppressed" and capped.reason.startswith("cap (2 invitations per 90 days")
    assert service.invite(a, customer_id="rest-1", email="", now=t0 + timedelta(days=91)).status == "queued"
    # Another customer is not affected.
    assert service.invite(b, customer_id="rest-2", email="rest2@example.com", now=t0).status == "queued"
    service.update_policy(dist.project, {"resting_days": "30", "cap_count": "3", "cap_days": "90"}, now())


def test_consent_rules(dist: Dist) -> None:
    from cxlens.web.distribution import service

    survey = live_survey(dist, "dist-consent")
    t0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    service.update_policy(dist.project, {"mail_unknown": "false"}, t0)
    try:
        unknown = service.invite(survey, customer_id="consent-1", email="consent1@example.com", now=t0)
        assert unknown.status == "suppressed" and unknown.reason.startswith("no consent")
        assert not service.consent_allows(dist.project, "consent-1", t0)
        service.set_consent(dist.project, "consent-1", "opt_in", t0, source="signup form")
        assert service.consent_allows(dist.project, "consent-1", t0)
        assert service.invite(survey, customer_id="consent-1", email="consent1@example.com", now=t0).status == "queued"
    finally:
        service.update_policy(dist.project, {"mail_unknown": "true"}, t0)
    missing = service.invite(survey, customer_id="no-address", email="", now=t0)
    assert missing.status == "suppressed" and missing.reason.startswith("no e-mail address")
    with pytest.raises(service.DistributionError, match=r"'email' must be an e-mail address.*'not-an-address'"):
        service.invite(survey, customer_id="consent-2", email="not-an-address", now=t0)
    with pytest.raises(service.DistributionError, match=r"'consent' must be one of opt_in, opt_out, unknown"):
        service.set_consent(dist.project, "consent-2", "maybe", t0)
    with pytest.raises(service.DistributionError, match=r"'resting_days' must be a whole number from 0 to 3650"):
        service.update_policy(dist.project, {"resting_days": "-3"}, t0)


def test_a_draft_survey_cannot_be_sent(dist: Dist) -> None:
    from cxlens.web.distribution import service
    from cxlens.web.surveys import service as surveys

    draft = surveys.create_survey(dist.project, "relationship_nps", "Draft", "dist-draft")
    with pytest.raises(service.DistributionError, match="is draft; publish it"):
        service.invite(draft, customer_id="dc3", email="", now=now())


# ------------------------------------------------------------------------------------- SMTP down


def test_smtp_down_keeps_the_invitation_and_retries_it(app: WebApp, dist: Dist, smtp_server: Mailbox) -> None:
    from django.test import override_settings

    from cxlens.web.distribution import service
    from cxlens.web.distribution.models import Invitation

    survey = live_survey(dist, "dist-down")
    t0 = now()
    inv = service.invite(survey, customer_id="down-1", email="down1@example.com", now=t0).invitation
    nobody = {**smtp_server.settings(), "EMAIL_PORT": free_port(), "EMAIL_TIMEOUT": 5}
    with override_settings(**nobody):
        summary = service.send_due(dist.project, t0)
    assert (summary.sent, summary.failed) == (0, 1) and "Connection refused" in summary.errors[0]
    inv = Invitation.objects.get(pk=inv.pk)
    assert (inv.status, inv.attempts) == ("failed", 1) and "Connection refused" in inv.last_error
    assert inv.next_attempt_at == t0 + timedelta(minutes=1)
    with override_settings(**nobody):  # not due yet: no attempt
        assert service.send_due(dist.project, t0 + timedelta(seconds=30)).failed == 0
        assert service.send_due(dist.project, t0 + timedelta(minutes=1)).failed == 1
    inv = Invitation.objects.get(pk=inv.pk)
    assert inv.attempts == 2 and inv.next_attempt_at == t0 + timedelta(minutes=3)  # backoff doubles
    with override_settings(**smtp_server.settings()):
        assert service.send_due(dist.project, t0 + timedelta(minutes=3)).sent == 1
    inv = Invitation.objects.get(pk=inv.pk)
    assert (inv.status, inv.attempts, inv.sent_at) == ("sent", 3, t0 + timedelta(minutes=3))
    assert len(smtp_server.to("down1@example.com")) == 1


def test_an_attempt_is_claimed_once_and_retries_end(dist: Dist, smtp_server: Mailbox) -> None:
    from django.test import override_settings

    from cxlens.web.distribution import service
    from cxlens.web.distribution.models import Invitation

    survey = live_survey(dist, "dist-claim")
    t0 = now()
    inv = service.invite(survey, customer_id="claim-1", email="claim1@example.com", now=t0).invitation
    first, second = (Invitation.objects.select_related("survey", "project").get(pk=inv.pk) for _ in range(2))
    with override_settings(**smtp_server.settings()):
        assert service.send_one(first, t0) == "sent"
        assert service.send_one(second, t0) == "skipped"  # another worker holding the same row sends nothing
    assert len(smtp_server.to("claim1@example.com")) == 1

    last = service.invite(survey, customer_id="claim-2", email="claim2@example.com", now=t0).invitation
    Invitation.objects.filter(pk=last.pk).update(attempts=service.MAX_ATTEMPTS - 1)
    nobody = {**smtp_server.settings(), "EMAIL_PORT": free_port(), "EMAIL_TIMEOUT": 5}
    with override_settings(**nobody):
        assert service.send_due(dist.project, t0).failed == 1
    gave_up = Invitation.objects.get(pk=last.pk)
    assert (gave_up.status, gave_up.next_attempt_at) == ("failed", None)
    assert gave_up.status_reason == f"gave up after {service.MAX_ATTEMPTS} attempts"
    with override_settings(**smtp_server.settings()):
        assert service.send_due(dist.project, t0 + timedelta(days=1)).sent == 0  # no more automatic attempts
        service.retry_now(gave_up, t0 + timedelta(days=1))
        assert service.send_due(dist.project, t0 + timedelta(days=1)).sent == 1
    assert len(smtp_server.to("claim2@example.com")) == 1


def test_no_mail_server_configured_is_recorded_not_lost(dist: Dist) -> None:
    from django.test import override_settings

    from cxlens.web.distribution import service
    from cxlens.web.distribution.models import Invitation

    survey = live_survey(dist, "dist-nomail")
    t0 = now()
    inv = service.invite(survey, customer_id="nomail-1", email="nomail@example.com", now=t0).invitation
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend", CXLENS_MAIL_ENABLED=False):
        assert service.send_due(dist.project, t0).failed == 1
    inv = Invitation.objects.get(pk=inv.pk)
    assert inv.status == "failed" and "CXLENS_SMTP_URL" in inv.last_error
