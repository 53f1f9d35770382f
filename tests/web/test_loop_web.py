"""Pages and API of the closed loop: every page and operation for every role, CSRF, escaping,
the error shape, the case inbox's bulk assignment and the customer 360 snippet."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from .conftest import WebApp, bearer, require_web
from .test_loop_service import DETRACTOR, T0, LoopProject, make_loop_project

require_web()

SLUG = "loopweb"


@pytest.fixture(scope="module")
def lw(app: WebApp, tmp_path_factory: pytest.TempPathFactory) -> LoopProject:
    return make_loop_project(app, tmp_path_factory.mktemp("loopweb") / "ws", SLUG)


@pytest.fixture(scope="module")
def keys(lw: LoopProject) -> dict[str, str]:
    from cxlens.web.models import ApiKey

    return {"read": ApiKey.issue(lw.project, "loop reader", ("read",)).secret,
            "ingest": ApiKey.issue(lw.project, "loop writer", ("ingest", "read")).secret}


def _case(lw: LoopProject, customer: str = "L1", reason: str = "web test", title: str = "") -> Any:
    from cxlens.web.loop import service

    return service.create_manual_case(lw.project, {"customer_id": customer, "reason": reason, "title": title},
                                      lw.users["ana"], T0)


PAGES = ["cases/", "loop/", "loop/rules/", "loop/channels/"]


@pytest.mark.parametrize("page", PAGES + ["case", "rule"])
def test_every_page_for_every_role(app: WebApp, lw: LoopProject, page: str) -> None:
    from cxlens.web.loop import service

    if page == "case":
        page = f"cases/{_case(lw, reason=f'page {page}').pk}/"
    elif page == "rule":
        rule = service.create_rule(lw.project, {"name": "page rule", "reason": "r", "condition": DETRACTOR}, now=T0)
        page = f"loop/rules/{rule.pk}/"
    url = f"/p/{SLUG}/{page}"
    for user in ("vic", "ana", "ada"):
        response = lw.client(user).get(url)
        assert response.status_code == 200, (user, url)
    assert app.client("oscar").get(url).status_code == 404  # not a member: the project does not exist for him
    anonymous = app.client().get(url)
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]


def test_viewer_cannot_change_a_case_analyst_can(app: WebApp, lw: LoopProject) -> None:
    from cxlens.web.loop.models import Case

    case = _case(lw, "L2", "viewer matrix")
    url = f"/p/{SLUG}/cases/{case.pk}/"
    for action in ({"action": "acknowledge"}, {"action": "note", "note": "hi"},
                   {"action": "assign", "owner": "loopweb-ana"}):
        refused = lw.client("vic").post(url, action)
        assert refused.status_code == 403 and b"analyst role" in refused.content
    assert Case.objects.get(pk=case.pk).status == "new" and not case.events.filter(kind="note").exists()
    assert b"action-acknowledge" not in lw.client("vic").get(url).content  # no buttons for viewers
    done = lw.client("ana").post(url, {"action": "acknowledge"})
    assert done.status_code == 302
    assert Case.objects.get(pk=case.pk).status == "acknowledged"
    bad = lw.client("ana").post(url, {"action": "acknowledge"})  # already acknowledged: nothing to do
    assert bad.status_code == 302
    wrong = lw.client("ana").post(url, {"action": "start"})
    assert wrong.status_code == 302
    refused = lw.client("ana").post(url, {"action": "fly"})
    assert refused.status_code == 400 and b"Unknown action" in refused.content


def test_posts_need_csrf(app: WebApp, lw: LoopProject) -> None:
    case = _case(lw, "L3", "csrf")
    strict = lw.client("ana", enforce_csrf_checks=True)
    assert strict.post(f"/p/{SLUG}/cases/{case.pk}/", {"action": "acknowledge"}).status_code == 403
    assert strict.post(f"/p/{SLUG}/cases/", {"action": "bulk_assign", "case": [case.pk], "owner": "loopweb-ana"}
                       ).status_code == 403


def test_bulk_assign_and_filters(app: WebApp, lw: LoopProject) -> None:
    from cxlens.web.loop.models import Case

    a, b = _case(lw, "L1", "bulk a"), _case(lw, "L2", "bulk b")
    assert lw.client("vic").post(f"/p/{SLUG}/cases/", {"action": "bulk_assign", "case": [a.pk, b.pk],
                                                        "owner": "loopweb-ana"}).status_code == 403
    done = lw.client("ana").post(f"/p/{SLUG}/cases/", {"action": "bulk_assign", "case": [a.pk, b.pk],
                                                        "owner": "loopweb-ana"})
    assert done.status_code == 200 and b"Assigned 2 cases to loopweb-ana" in done.content
    assert set(Case.objects.filter(pk__in=[a.pk, b.pk]).values_list("owner__username", flat=True)) == {"loopweb-ana"}
    mine = lw.client("ana").get(f"/p/{SLUG}/cases/?owner=me").content.decode()
    assert a.case_id in mine and b.case_id in mine
    assert a.case_id not in lw.client("ada").get(f"/p/{SLUG}/cases/?owner=me").content.decode()
    assert lw.client("ana").get(f"/p/{SLUG}/cases/?status=nope").status_code == 400
    viewer_owner = {"action": "bulk_assign", "case": [a.pk], "owner": "loopweb-vic"}
    assert lw.client("ana").post(f"/p/{SLUG}/cases/", viewer_owner).status_code == 400  # viewers own nothing


def test_user_text_is_escaped(app: WebApp, lw: LoopProject) -> None:
    case = _case(lw, "L1", "escape <b>", title="<script>alert(1)</script>")
    page = lw.client("vic").get(f"/p/{SLUG}/cases/{case.pk}/").content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    inbox = lw.client("vic").get(f"/p/{SLUG}/cases/").content.decode()
    assert "<script>alert(1)</script>" not in inbox and "escape &lt;b&gt;" in inbox


def test_rules_page_test_button_and_guard_message(app: WebApp, lw: LoopProject) -> None:
    from cxlens.web.loop import service
    from cxlens.web.loop.models import AlertRule

    lw.ingest("responses", [{"response_id": "w1", "customer_id": "L1", "submitted_at": T0.isoformat(), "nps": 2},
                            {"response_id": "w2", "customer_id": "L2", "submitted_at": T0.isoformat(), "nps": 9}])
    form = {"action": "test", "source": "responses", "condition": json.dumps(DETRACTOR)}
    assert lw.client("vic").post(f"/p/{SLUG}/loop/rules/", form).status_code == 403
    tested = lw.client("ana").post(f"/p/{SLUG}/loop/rules/", form).content.decode()
    assert "would have matched 1 of the last 2 rows" in tested
    bad = lw.client("ana").post(f"/p/{SLUG}/loop/rules/", {**form, "condition": '{"field": "nps", "op": "=<"}'})
    assert bad.status_code == 400 and "Condition part &#x27;op&#x27; must be one of" in bad.content.decode()
    made = lw.client("ana").post(f"/p/{SLUG}/loop/rules/", {
        "action": "save", "name": "all web", "source": "responses", "reason": "web all", "priority": "low",
        "condition": json.dumps({"field": "nps", "op": ">=", "value": 0}), "max_cases_per_run": "1",
        "open_case": "on", "active": "on"})
    assert made.status_code == 302
    rule = AlertRule.objects.get(project=lw.project, name="all web")
    lw.ingest("responses", [{"response_id": f"w{i}", "customer_id": c, "submitted_at": T0.isoformat(), "nps": 5}
                            for i, c in ((3, "L1"), (4, "L2"))])
    service.evaluate_rules(lw.project, T0)
    page = lw.client("vic").get(f"/p/{SLUG}/loop/rules/").content.decode()
    assert "This rule would open 2 cases at once (its limit is 1)" in page
    rule.active = False
    rule.save()


def test_channels_are_admin_only_and_secret_shown_once(app: WebApp, lw: LoopProject) -> None:
    from cxlens.web.loop.models import Channel

    form = {"action": "create_channel", "name": "web hook", "kind": "webhook", "url": "http://127.0.0.1:9/x"}
    assert lw.client("ana").post(f"/p/{SLUG}/loop/channels/", form).status_code == 403
    made = lw.client("ada").post(f"/p/{SLUG}/loop/channels/", form)
    channel = Channel.objects.get(project=lw.project, name="web hook")
    assert made.status_code == 200 and channel.secret in made.content.decode()
    assert made["Cache-Control"] == "no-store"
    assert channel.secret not in lw.client("ada").get(f"/p/{SLUG}/loop/channels/").content.decode()
    assert lw.client("ana").post(f"/p/{SLUG}/loop/channels/", {"action": "sla", "timezone": "UTC"}
                                  ).status_code == 403
    bad = lw.client("ada").post(f"/p/{SLUG}/loop/channels/", {"action": "sla", "timezone": "Nowhere/Land"})
    assert bad.status_code == 400 and "Nowhere/Land" in bad.content.decode()
    from cxlens.web.loop.models import Delivery

    delivery = Delivery.objects.create(project=lw.project, channel=channel, kind="webhook", event="case.opened",
                                       payload={"event": "case.opened"}, status="failed", attempts=8,
                                       next_attempt_at=T0, created_at=T0, last_error="HTTP 503 Service Unavailable")
    log = lw.client("vic").get(f"/p/{SLUG}/loop/channels/").content.decode()
    assert "HTTP 503 Service Unavailable" in log and "Retry now" not in log  # viewers see the log, cannot retry
    assert lw.client("vic").post(f"/p/{SLUG}/loop/channels/", {"action": "retry", "delivery": delivery.pk}
                                 ).status_code == 403
    assert lw.client("ana").post(f"/p/{SLUG}/loop/channels/", {"action": "retry", "delivery": delivery.pk}
                                 ).status_code == 302
    delivery.refresh_from_db()
    assert delivery.attempts == 1 and "cannot connect" in delivery.last_error  # port 9 refuses: retried, logged
    channel.active = False
    channel.save()


def test_customer_snippet_lists_the_customers_cases(app: WebApp, lw: LoopProject) -> None:
    from django.template import Context, Template
    from django.template.loader import render_to_string

    from cxlens.web.loop.service import cases_for_customer

    case = _case(lw, "L3", "snippet")
    html = render_to_string("cxlens/loop/_customer_cases.html",
                            {"project": lw.project, "cases": cases_for_customer(lw.project, "L3")})
    assert case.case_id in html and f"/p/{SLUG}/cases/{case.pk}/" in html
    assert "No cases for this customer" in render_to_string(
        "cxlens/loop/_customer_cases.html", {"project": lw.project, "cases": cases_for_customer(lw.project, "zz")})
    tag = Template("{% load cxlens_loop %}{% customer_cases project customer_id %}")
    assert case.case_id in tag.render(Context({"project": lw.project, "customer_id": "L3"}))


# ------------------------------------------------------------------------------------------ API


def test_api_roles_and_scopes(app: WebApp, lw: LoopProject, keys: dict[str, str]) -> None:
    case = _case(lw, "L2", "api roles")
    base = f"/api/projects/{SLUG}/loop"
    c = app.client()
    for path in ("/rules", "/cases", f"/cases/{case.case_id}", "/deliveries"):
        assert c.get(base + path, headers=bearer(keys["read"])).status_code == 200, path
        assert c.get(base + path).status_code == 401
        assert c.get(base + path, headers=bearer(app.keys["other"])).status_code == 404  # another project's key
    patch = json.dumps({"action": "acknowledge"})
    refused = c.patch(f"{base}/cases/{case.case_id}", patch, content_type="application/json",
                      headers=bearer(keys["read"]))
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    viewer = lw.client("vic").patch(f"{base}/cases/{case.case_id}", patch, content_type="application/json")
    assert viewer.status_code == 403
    rule = json.dumps({"name": "api rule", "reason": "api", "condition": DETRACTOR})
    assert c.post(f"{base}/rules", rule, content_type="application/json",
                  headers=bearer(keys["read"])).status_code == 403
    assert lw.client("vic").post(f"{base}/rules", rule, content_type="application/json").status_code == 403
    made = lw.client("ana").post(f"{base}/rules", rule, content_type="application/json")
    assert made.status_code == 201 and made.json()["condition"] == DETRACTOR
    ok = c.patch(f"{base}/cases/{case.case_id}", json.dumps({"action": "acknowledge", "note": "on it",
                                                             "owner": "loopweb-ana", "root_cause": "billing",
                                                             "customer_contacted": True}),
                 content_type="application/json", headers=bearer(keys["ingest"]))
    assert ok.status_code == 200, ok.content
    body = ok.json()
    assert (body["status"], body["owner"], body["root_cause"]) == ("acknowledged", "loopweb-ana", "billing")
    assert body["customer_contacted"] is True
    detail = c.get(f"{base}/cases/{case.case_id}", headers=bearer(keys["read"])).json()
    prefix = keys["ingest"].split("_")[1]
    assert [e["who"] for e in detail["events"] if e["kind"] == "note"] == [f"API key loop writer ({prefix})"]


def test_api_errors_have_the_one_shape(app: WebApp, lw: LoopProject, keys: dict[str, str]) -> None:
    base = f"/api/projects/{SLUG}/loop"
    c = app.client()
    missing = c.get(f"{base}/cases/C999999", headers=bearer(keys["read"]))
    assert missing.status_code == 404 and missing.json()["error"]["field"] == "case_id"
    case = _case(lw, "L1", "api errors")
    back = c.patch(f"{base}/cases/{case.pk}", json.dumps({"status": "new"}), content_type="application/json",
                   headers=bearer(keys["ingest"]))
    c.patch(f"{base}/cases/{case.pk}", json.dumps({"action": "resolve"}), content_type="application/json",
            headers=bearer(keys["ingest"]))
    back = c.patch(f"{base}/cases/{case.pk}", json.dumps({"action": "acknowledge"}), content_type="application/json",
                   headers=bearer(keys["ingest"]))
    assert back.status_code == 409 and back.json()["error"]["code"] == "invalid_transition"
    assert "A resolved case cannot move to acknowledged" in back.json()["error"]["message"]
    bad = c.post(f"{base}/rules", json.dumps({"name": "bad", "reason": "x", "condition": {"field": "nps"}}),
                 content_type="application/json", headers=bearer(keys["ingest"]))
    assert bad.status_code == 400 and "Condition part 'op'" in bad.json()["error"]["message"]
    invalid = c.post(f"{base}/rules", json.dumps({"name": "bad", "reason": "x", "condition": DETRACTOR,
                                                  "priority": "asap"}), content_type="application/json",
                     headers=bearer(keys["ingest"]))
    assert invalid.status_code == 422 and invalid.json()["error"]["field"] == "priority"
    dup = c.post(f"{base}/cases", json.dumps({"customer_id": "L1", "reason": "api errors"}),
                 content_type="application/json", headers=bearer(keys["ingest"]))
    assert dup.status_code == 409 and dup.json()["error"]["code"] == "conflict"


def test_dashboard_shows_loop_metrics(app: WebApp, lw: LoopProject) -> None:
    from cxlens.web.loop import service

    case = _case(lw, "L2", "dashboard")
    service.transition(case, "close", lw.users["ana"], datetime(2026, 11, 23, 12, 0, tzinfo=UTC))
    service.snapshot_cases(lw.project, T0)
    page = lw.client("vic").get(f"/p/{SLUG}/loop/?by=owner").content.decode()
    for label in ("Closed-loop rate", "Time to acknowledge", "Time to close", "SLA attainment", "Recovery rate"):
        assert label in page
    assert "Open cases" in page


def _section(page: str, metric: str) -> str:
    start = page.index(f'id="metric-{metric}"')
    return page[start:page.index("</section>", start)]


def _figure(section: str, kind: str) -> str:
    start = section.index(f'<figure class="loop-{kind}">')
    return section[start:section.index("</figure>", start)]


def test_dashboard_charts_the_weekly_loop_metrics(app: WebApp, tmp_path_factory: pytest.TempPathFactory) -> None:
    from datetime import timedelta

    from cxlens.web.loop import service
    from cxlens.web.loop.dashboard import TREND_WEEKS, trend_since

    dp = make_loop_project(app, tmp_path_factory.mktemp("loopdash") / "ws", "loopdash", ("una",))
    now = datetime.now(UTC)
    first = trend_since(now)
    # (week of the trend, customer, owner, closed, customer contacted): Tuesdays 10:00 UTC, closed 2 h later
    plan = [(2, "D1", "ana", True, True), (2, "D2", "ana", True, False), (5, "D3", "una", False, False),
            (9, "D4", "una", True, True)]
    for week, customer, owner, closed, contacted in plan:
        opened = first + timedelta(weeks=week, days=1, hours=10)
        case, _ = service.open_case(dp.project, customer_id=customer, reason="dashboard", now=opened,
                                    owner=dp.users[owner], actor=dp.users["ada"])
        if contacted:
            service.mark_contacted(case, dp.users[owner], opened + timedelta(hours=1))
        if closed:
            service.transition(case, "close", dp.users[owner], opened + timedelta(hours=2))
    assert service.snapshot_cases(dp.project, now) == 4
    weeks = [(first + timedelta(weeks=w)).date().isoformat() for w in (2, 5, 9)]

    page = dp.client("vic").get("/p/loopdash/loop/").content.decode()
    rate = _section(page, "closed_loop_rate")
    trend = _figure(rate, "trend")
    # one point per week with cases: 1 of 2 closed with the customer contacted, 0 of 1, 1 of 1
    assert trend.count("<circle") == 3 and 'role="img"' in trend and "<polygon" in trend  # the interval band
    for week, value, drawn in zip(weeks, ("50.0%", "0.0%", "100.0%"), ("50.0", "0.0", "100"), strict=True):
        assert f"<td>{week}</td><td>{value}</td>" in rate  # the same figures as a table
        assert f"Closed-loop rate {week}: {drawn}</title>" in trend
    assert f"By week (opened from {first.date().isoformat()})" in rate and TREND_WEEKS == 12
    # time to close and SLA attainment: the two weeks with closed cases (2 business hours each, within the SLA)
    close = _section(page, "time_to_close")
    assert _figure(close, "trend").count("<circle") == 2
    assert f"<td>{weeks[0]}</td><td>2.0 h</td>" in close and f"<td>{weeks[2]}</td><td>2.0 h</td>" in close
    assert _figure(_section(page, "sla_attainment"), "trend").count("<circle") == 2
    assert "No data in this range." in _figure(_section(page, "recovery_rate"), "trend")  # no detractor cases
    assert "loop-groups" not in page  # no breakdown asked for: no bars

    by_owner = dp.client("vic").get("/p/loopdash/loop/?by=owner").content.decode()
    bars = _figure(_section(by_owner, "closed_loop_rate"), "groups")
    assert bars.count('<rect class="bar"') == 2  # ana 1 of 2, una 1 of 2
    assert "loopdash-ana: 50.0%" in bars and "loopdash-una: 50.0%" in bars
    close_bars = _figure(_section(by_owner, "time_to_close"), "groups")
    assert close_bars.count('<rect class="bar"') == 2 and "loopdash-una: 2.0h" in close_bars
