"""The distribution page and API: who may do what, CSRF, escaping, and the API's error shape."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from .conftest import Mailbox, WebApp, bearer, require_web
from .test_distribution import Dist, answer_survey, live_survey, make_project, now, path_of, text_of

require_web()


@dataclass
class Web:
    dist: Dist
    survey: Any
    keys: dict[str, str]


@pytest.fixture(scope="module")
def web(app: WebApp, tmp_path_factory: pytest.TempPathFactory) -> Web:
    from cxlens.web.models import ApiKey

    dist = make_project(app, tmp_path_factory, "dist-web")
    keys = {"read": ApiKey.issue(dist.project, "reader", ("read",)).secret,
            "ingest": ApiKey.issue(dist.project, "sender", ("ingest",)).secret}
    return Web(dist, live_survey(dist, "dist-web-nps"), keys)


URL = "/p/dist-web/surveys/dist-web-nps/distribution/"


def test_page_roles(app: WebApp, web: Web) -> None:
    from cxlens.web.distribution.models import Trigger

    anonymous = app.client().get(URL)
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    assert app.client("oscar").get(URL).status_code == 404  # not a member of this project
    assert app.client("ana").get("/p/dist-web/surveys/no-such-survey/distribution/").status_code == 404

    viewer = app.client("vic")
    page = viewer.get(URL)
    html = page.content.decode()
    assert page.status_code == 200 and 'id="response-rates"' in html
    assert 'id="invite-form"' not in html and 'id="add-trigger"' not in html and 'id="policy-form"' not in html
    assert viewer.post(URL, {"action": "invite", "customer_ids": "dc1"}).status_code == 403

    analyst = app.client("ana")
    html = analyst.get(URL).content.decode()
    assert 'id="invite-form"' in html and 'id="add-trigger"' not in html
    trigger = {"action": "add_trigger", "name": "Resolved", "table": "tickets",
               "condition": '{"field": "status", "op": "==", "value": "resolved"}', "delay_hours": "48"}
    assert analyst.post(URL, trigger).status_code == 403
    assert analyst.post(URL, {"action": "policy", "resting_days": "5"}).status_code == 403

    admin = app.client("ada")
    assert 'id="policy-form"' in admin.get(URL).content.decode()
    assert admin.post(URL, trigger).status_code == 302
    made = Trigger.objects.get(survey=web.survey, name="Resolved")
    assert made.delay == timedelta(hours=48) and made.condition["value"] == "resolved"
    listed = admin.get(URL).content.decode()
    assert "tickets, where status = &#x27;resolved&#x27;, 2 days after the event" in listed
    assert admin.post(URL, {"action": "toggle_trigger", "trigger": made.pk, "active": "false"}).status_code == 302
    assert not Trigger.objects.get(pk=made.pk).active
    bad = admin.post(URL, {**trigger, "condition": "{nope"})
    assert bad.status_code == 400 and "&#x27;condition&#x27; must be JSON" in bad.content.decode()
    policy = {"action": "policy", "resting_days": "21", "cap_count": "4", "cap_days": "60", "link_days": "14",
              "mail_unknown": "true"}
    assert admin.post(URL, policy).status_code == 302
    wrong = admin.post(URL, {**policy, "cap_count": "zero"})
    assert wrong.status_code == 400 and "&#x27;cap_count&#x27; must be a whole number from 1 to 1000" in \
        wrong.content.decode()
    assert admin.post(URL, {**policy, "resting_days": "30", "cap_count": "3", "cap_days": "90",
                            "link_days": "30"}).status_code == 302


def test_inviting_from_the_page(app: WebApp, web: Web) -> None:
    from cxlens.web.distribution.models import Invitation

    analyst = app.client("ana")
    r = analyst.post(URL, {"action": "invite", "customer_ids": "dc3\ndc4, dc3\n<b>x</b>"})
    html = r.content.decode()
    assert r.status_code == 200 and 'id="invite-results"' in html
    made = {i.customer_id: (i.status, i.status_reason) for i in Invitation.objects.filter(survey=web.survey)}
    assert made["dc3"] == ("queued", "") and made["dc4"] == ("queued", "")
    assert made["<b>x</b>"][0] == "suppressed" and made["<b>x</b>"][1].startswith("no e-mail address")
    assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html  # escaped
    empty = analyst.post(URL, {"action": "invite", "customer_ids": "  "})
    assert empty.status_code == 400 and "Paste at least one customer id" in empty.content.decode()

    strict = app.client("ana", enforce_csrf_checks=True)
    assert strict.post(URL, {"action": "invite", "customer_ids": "dc5"}).status_code == 403  # no CSRF token
    page = strict.get(URL).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    ok = strict.post(URL, {"action": "invite", "customer_ids": "dc5", "csrfmiddlewaretoken": token})
    assert ok.status_code == 200 and Invitation.objects.filter(survey=web.survey, customer_id="dc5").exists()


def test_failed_invitation_is_shown_and_retried(app: WebApp, web: Web) -> None:
    from django.test import override_settings

    from cxlens.web.distribution import service
    from cxlens.web.distribution.models import Invitation

    survey = live_survey(web.dist, "dist-web-retry")
    t0 = now()
    inv = service.invite(survey, customer_id="dc6", email="", now=t0).invitation
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend", CXLENS_MAIL_ENABLED=False):
        service.send_one(Invitation.objects.select_related("survey", "project").get(pk=inv.pk), t0)
    url = "/p/dist-web/surveys/dist-web-retry/distribution/"
    html = app.client("vic").get(url).content.decode()
    assert 'data-status="failed"' in html and "CXLENS_SMTP_URL" in html and "Retry now" not in html
    assert app.client("ana").post(url, {"action": "retry", "invitation": inv.pk}).status_code == 302
    again = Invitation.objects.get(pk=inv.pk)
    assert (again.status, again.attempts, again.next_attempt_at) == ("queued", 0, None)


# ------------------------------------------------------------------------------------------ API


def api(path: str) -> str:
    return f"/api/projects/dist-web{path}"


def test_api_roles_and_errors(app: WebApp, web: Web) -> None:
    c = app.client()
    body = json.dumps({"invitations": [{"customer_id": "api-1", "email": "api1@example.com",
                                        "context": {"ticket_id": "T9"}}]})
    post = api("/surveys/dist-web-nps/invitations")
    assert c.post(post, body, content_type="application/json").status_code == 401
    denied = c.post(post, body, content_type="application/json", headers=bearer(web.keys["read"]))
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "forbidden"
    other = c.post(post, body, content_type="application/json", headers=bearer(app.keys["other"]))
    assert other.status_code == 404 and other.json()["error"]["code"] == "project_not_found"
    missing = c.post(api("/surveys/nope/invitations"), body, content_type="application/json",
                     headers=bearer(web.keys["ingest"]))
    assert missing.status_code == 404 and missing.json()["error"]["field"] == "survey"
    bad = c.post(post, json.dumps({"invitations": [{"customer_id": "api-2", "email": "nope"}]}),
                 content_type="application/json", headers=bearer(web.keys["ingest"]))
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "invitations.0.email"
    assert "'nope'" in bad.json()["error"]["message"]
    empty = c.post(post, json.dumps({"invitations": []}), content_type="application/json",
                   headers=bearer(web.keys["ingest"]))
    assert empty.status_code == 422 and empty.json()["error"]["field"] == "invitations"

    ok = c.post(post, body, content_type="application/json", headers=bearer(web.keys["ingest"]))
    assert ok.status_code == 200, ok.content
    out = ok.json()
    assert (out["queued"], out["suppressed"]) == (1, 0)
    inv_id = out["invitations"][0]["id"]
    status = c.get(api(f"/invitations/{inv_id}"), headers=bearer(web.keys["read"]))
    assert status.status_code == 200 and status.json()["status"] == "queued"
    assert status.json()["customer_id"] == "api-1" and status.json()["answered"] is False
    assert c.get(api("/invitations/999999"), headers=bearer(web.keys["read"])).status_code == 404
    assert c.get(f"/api/projects/other/invitations/{inv_id}", headers=bearer(app.keys["other"])).status_code == 404

    # A viewer (session) reads; unsafe methods with a session need the CSRF token.
    viewer = app.client("vic")
    assert viewer.get(api("/surveys/dist-web-nps/response-rates")).status_code == 200
    assert viewer.post(post, body, content_type="application/json").status_code == 403


def test_api_consent(app: WebApp, web: Web) -> None:
    c = app.client()
    url = api("/contacts/api-consent/consent")
    fresh = c.get(url, headers=bearer(web.keys["read"])).json()
    assert (fresh["consent"], fresh["may_email"]) == ("unknown", True)  # the default policy mails unknown consent
    assert c.post(url, json.dumps({"consent": "opt_out"}), content_type="application/json",
                  headers=bearer(web.keys["read"])).status_code == 403
    wrong = c.post(url, json.dumps({"consent": "maybe"}), content_type="application/json",
                   headers=bearer(web.keys["ingest"]))
    assert wrong.status_code == 422 and wrong.json()["error"]["field"] == "consent"
    done = c.post(url, json.dumps({"consent": "opt_out", "source": "phone call"}), content_type="application/json",
                  headers=bearer(web.keys["ingest"]))
    assert done.status_code == 200
    assert (done.json()["consent"], done.json()["source"], done.json()["may_email"]) == ("opt_out", "phone call", False)
    invited = c.post(api("/surveys/dist-web-nps/invitations"),
                     json.dumps({"invitations": [{"customer_id": "api-consent", "email": "c@example.com"}]}),
                     content_type="application/json", headers=bearer(web.keys["ingest"])).json()
    assert invited["suppressed"] == 1 and invited["invitations"][0]["status_reason"] == "unsubscribed"


def test_api_response_rates_count_answers(app: WebApp, web: Web, smtp_server: Mailbox) -> None:
    from django.test import override_settings

    from cxlens.web.distribution import service

    survey = live_survey(web.dist, "dist-web-rate")
    c = app.client()
    made = c.post(api("/surveys/dist-web-rate/invitations"),
                  json.dumps({"invitations": [{"customer_id": "dc7"}, {"customer_id": "dc8"}]}),
                  content_type="application/json", headers=bearer(web.keys["ingest"]))
    assert made.json()["queued"] == 2
    with override_settings(**smtp_server.settings()):
        service.send_due(web.dist.project, now() + timedelta(seconds=2))
    link = re.search(r"^7: (\S+)$", text_of(smtp_server.to("dc7@example.com")[0]), re.M).group(1)
    answer_survey(app, path_of(link), 7)
    rates = c.get(api("/surveys/dist-web-rate/response-rates"), headers=bearer(web.keys["read"])).json()
    (row,) = rates["rates"]
    assert (row["channel"], row["sent"], row["answered"], row["rate"]) == ("email", 2, 1, 0.5)
    expected = service.response_rates(survey)[0]
    assert (row["ci_low"], row["ci_high"]) == (expected.ci_low, expected.ci_high)
    first = made.json()["invitations"][0]["id"]
    assert c.get(api(f"/invitations/{first}"), headers=bearer(web.keys["read"])).json()["answered"] is True
