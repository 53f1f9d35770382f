"""The closed loop's service: rules on new rows, cases, SLA clocks, escalation, reassignment,
notifications with retries, the warehouse snapshot. Explicit ``now`` everywhere; real app
database, real warehouse, real SMTP and HTTP receivers on loopback."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import cxlens

from .conftest import PASSWORD, WebApp, require_web

require_web()

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday, 10:00 UTC

CUSTOMERS = [
    {"customer_id": "L1", "segment": "enterprise", "email": "l1@example.com", "name": "Lena One"},
    {"customer_id": "L2", "segment": "smb", "email": "l2@example.com", "name": "Leo Two"},
    {"customer_id": "L3", "segment": "consumer", "email": "", "name": "Lou Three"},
]
ORDERS = [
    {"order_id": oid, "customer_id": cid, "ordered_at": f"{day}T10:00:00Z", "amount": amount, "status": status}
    for oid, cid, day, amount, status in (
        ("o1", "L1", "2026-06-01", 900.0, "completed"),
        ("o2", "L1", "2026-09-01", 600.0, "completed"),
        ("o3", "L1", "2026-10-01", 400.0, "refunded"),
        ("o4", "L1", "2025-01-01", 999.0, "completed"),  # more than 365 days before T0
        ("o5", "L2", "2026-11-01", 50.0, "completed"),
    )
]


@dataclass
class LoopProject:
    project: Any
    root: Path
    users: dict[str, Any]

    def ingest(self, table: str, rows: list[dict[str, Any]], now: datetime = T0, **kw: Any) -> Any:
        from cxlens.web.api import rows_to_arrow
        from cxlens.web.projects import POOL

        with POOL.use(self.project) as ws:
            return ws.import_data(table, rows_to_arrow(rows), now=now, **kw)

    def client(self, user: str | None = None, **kwargs: Any) -> Any:
        from django.test import Client

        c = Client(**kwargs)
        if user is not None:
            c.force_login(self.users[user])
        return c


def make_loop_project(app: WebApp, root: Path, slug: str, extra_users: tuple[str, ...] = ()) -> LoopProject:
    """A project of its own (customers L1–L3) with users of its own (the shared users' memberships
    stay as other tests expect): ada admin, ana analyst, vic viewer, and ``extra_users`` analysts.
    Their usernames are ``<slug>-<name>``."""
    from django.contrib.auth import get_user_model

    from cxlens.web.models import Membership
    from cxlens.web.projects import ensure_project

    cxlens.init(root).close()
    project = ensure_project(root, slug, f"Loop {slug}")
    users: dict[str, Any] = {}
    roles = {"ada": "admin", "ana": "analyst", "vic": "viewer", **dict.fromkeys(extra_users, "analyst")}
    for name, role in roles.items():
        user = get_user_model().objects.create_user(f"{slug}-{name}", f"{slug}-{name}@example.com", PASSWORD)
        Membership.objects.create(user=user, project=project, role=role)
        users[name] = user
    lp = LoopProject(project, root, users)
    lp.ingest("customers", CUSTOMERS)
    lp.ingest("orders", ORDERS)
    return lp


DETRACTOR = {"field": "nps", "op": "<=", "value": 6}


def response(rid: str, customer: str, nps: int, comment: str = "", at: datetime = T0) -> dict[str, Any]:
    return {"response_id": rid, "customer_id": customer, "submitted_at": at.isoformat(), "nps": nps,
            "comment": comment, "survey_id": "rel"}


@pytest.fixture(scope="module")
def lp(app: WebApp, tmp_path_factory: pytest.TempPathFactory) -> LoopProject:
    return make_loop_project(app, tmp_path_factory.mktemp("loopsvc") / "ws", "loopsvc", ("una", "uwe"))


def test_detractor_opens_one_assigned_case_with_sla_and_history(lp: LoopProject) -> None:
    from cxlens.web.loop import service
    from cxlens.web.loop.models import Case, Delivery

    team = service.save_team(lp.project, "care", ["loopsvc-una", "loopsvc-uwe"])
    service.update_sla_settings(lp.project, {"timezone": "UTC", "days": "mon,tue,wed,thu,fri", "opens": "09:00",
                                             "closes": "17:00", "high_value": 1000})
    rule = service.create_rule(lp.project, {"name": "detractors", "source": "responses", "condition": DETRACTOR,
                                            "reason": "detractor", "priority": "normal", "team": "care"}, now=T0)
    lp.ingest("responses", [response("r1", "L1", 3, "Waited an hour, nobody helped"),
                            response("r2", "L2", 9, "great"), response("r3", "L2", 5, "slow")])
    run = service.evaluate_rules(lp.project, T0)
    assert run.to_dict()["opened"] == 2 and run.matched == 2
    c1 = Case.objects.get(project=lp.project, customer_id="L1")
    c2 = Case.objects.get(project=lp.project, customer_id="L2")
    # L1: revenue of the last 365 days without the refunded order = 900 + 600 = 1500 >= 1000 -> high
    assert c1.value_at_stake == 1500.0 and c1.priority == "high"
    assert c2.value_at_stake == 50.0 and c2.priority == "normal"
    assert "nps 3 ≤ 6" in c1.evidence
    # round-robin over the team's members in id order
    assert {c1.owner.username, c2.owner.username} == {"loopsvc-una", "loopsvc-uwe"}
    # high: ack within 4 business hours from Mon 10:00 -> 14:00; resolve within 24 -> Thu 10:00
    assert c1.ack_due_at == datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
    assert c1.resolve_due_at == datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    kinds = list(c1.events.values_list("kind", flat=True))
    assert kinds[:2] == ["opened", "assigned"]
    assert rule.pk and Delivery.objects.filter(case=c1, channel__isnull=False).count() == 0  # no channel yet
    # the owner the round-robin chose is told by e-mail (one message, to their address)
    [owner_mail] = Delivery.objects.filter(case=c1, event="owner.assigned")
    assert owner_mail.recipients == [c1.owner.email] and owner_mail.channel is None
    # the same rows again (update) -> still one case per customer and reason
    # The same response delivered twice: identical rows add nothing; a changed copy (update) is
    # seen again but finds its case; another detractor response of L1 joins the open case.
    lp.ingest("responses", [response("r1", "L1", 3, "Waited an hour, nobody helped")])
    lp.ingest("responses", [response("r1", "L1", 2, "Waited an hour, nobody helped!")], on_conflict="update")
    lp.ingest("responses", [response("r4", "L1", 2, "still broken")])
    again = service.evaluate_rules(lp.project, T0 + timedelta(minutes=1))
    assert again.opened == 0 and again.matched == 1 and again.rows == 2  # r1 has its case already
    assert Case.objects.filter(project=lp.project, customer_id="L1").count() == 1
    assert c1.events.filter(kind="matched").count() == 1
    assert team.cases.count() == 2


def test_transitions_history_snapshot_and_guard(lp: LoopProject) -> None:
    from cxlens.web.loop import service
    from cxlens.web.loop.models import AlertRule, Case
    from cxlens.web.projects import POOL

    ana = lp.users["ana"]
    case = service.create_manual_case(lp.project, {"customer_id": "L3", "reason": "billing", "owner": "loopsvc-ana"},
                                      ana, T0)
    with pytest.raises(service.CaseConflict, match="open case for 'billing' already"):
        service.create_manual_case(lp.project, {"customer_id": "L3", "reason": "billing"}, ana, T0)
    service.transition(case, "resolve", ana, T0)  # straight to resolved: acknowledged on the way
    case = Case.objects.get(pk=case.pk)
    assert case.status == "resolved" and case.acknowledged_at == T0 and case.resolved_at == T0
    with pytest.raises(service.LoopError, match="A resolved case cannot move to acknowledged"):
        service.transition(case, "acknowledge", ana, T0)
    service.transition(case, "reopen", ana, T0 + timedelta(hours=1))
    assert case.status == "in_progress" and case.reopened == 1 and case.resolved_at is None
    service.update_case(case, {"root_cause": "billing system", "resolution": "refunded"}, ana, T0 + timedelta(hours=2))
    service.add_note(case, "Called the customer", ana, T0 + timedelta(hours=2))
    service.transition(case, "close", ana, T0 + timedelta(hours=3))
    rows = list(case.events.values_list("kind", "field", "old", "new"))
    assert ("status", "status", "new", "resolved") in rows and ("reopened", "status", "resolved", "in_progress") in rows
    assert ("changed", "root_cause", "", "billing system") in rows
    assert ("status", "status", "in_progress", "closed") in rows
    assert case.events.filter(kind="note", note="Called the customer", actor=ana).exists()
    # closed: a new case for the same customer and reason may open again
    other = service.create_manual_case(lp.project, {"customer_id": "L3", "reason": "billing"}, ana, T0)
    with pytest.raises(service.CaseConflict):
        service.transition(case, "reopen", ana, T0 + timedelta(hours=4))
    service.transition(other, "close", ana, T0 + timedelta(hours=4))
    # the snapshot writes every changed case once, as it is now
    written = service.snapshot_cases(lp.project, T0 + timedelta(hours=5))
    assert written >= 2 and service.snapshot_cases(lp.project, T0 + timedelta(hours=5)) == 0
    with POOL.use(lp.project) as ws:
        t = ws.table("cases")
        row = t.filter(t.case_id == case.case_id).to_pyarrow().to_pylist()[0]
    assert row["status"] == "closed" and row["reopened"] == 1 and row["owner"] == "loopsvc-ana"
    # opened Mon 10:00, acknowledged at once, closed 13:00 in business hours (09-17 Mon-Fri) = 3 h
    assert row["ack_business_hours"] == 0 and row["close_business_hours"] == 3.0

    # the guard: a rule matching every customer with a tiny limit opens nothing and says why
    rule = service.create_rule(lp.project, {"name": "everyone", "source": "responses", "reason": "anything",
                                            "condition": {"field": "nps", "op": ">=", "value": 0},
                                            "max_cases_per_run": 2}, now=T0)
    lp.ingest("responses", [response(f"g{i}", c, 8) for i, c in enumerate(("L1", "L2", "L3"))])
    run = service.evaluate_rules(lp.project, T0)
    assert run.guarded == ["everyone"] and run.opened == 0
    rule = AlertRule.objects.get(pk=rule.pk)
    assert "would open 3 cases at once" in rule.last_error and "raise the limit" in rule.last_error
    assert not Case.objects.filter(project=lp.project, reason="anything").exists()
    rule.active = False
    rule.save()


def test_webhook_receiver_down_is_retried_with_backoff_and_never_lost(lp: LoopProject, http_receiver: Any,
                                                                      smtp_server: Any) -> None:
    from django.test import override_settings

    from cxlens.web.loop import notify, service
    from cxlens.web.loop.models import Channel, Delivery

    channel, secret = service.create_channel(lp.project, {"name": "down hook", "kind": "webhook",
                                                          "url": http_receiver.url + "/in", "events": "case.opened"})
    slack, _ = service.create_channel(lp.project, {"name": "chat", "kind": "slack", "url": http_receiver.url + "/slack",
                                                   "events": ["case.opened"]})
    mail_channel, no_secret = service.create_channel(lp.project, {"name": "ops", "kind": "email",
                                                                  "emails": "ops@example.com", "events": "case.opened"})
    assert secret.startswith("whsec_") and no_secret == ""
    http_receiver.down = True
    case = service.create_manual_case(lp.project, {"customer_id": "L2", "reason": "outage"}, lp.users["ana"], T0)
    hook = Delivery.objects.get(case=case, channel=channel)
    assert hook.status == "pending" and hook.next_attempt_at == T0
    with override_settings(**smtp_server.settings()):
        notify.send_due(lp.project, T0)
        assert [m["Subject"] for m in smtp_server.to("ops@example.com")] == [f"[{lp.project.name}] New case "
                                                                             f"{case.case_id}: outage"]
        # down: attempts at T0, +1, +2, +4 ... minutes; never earlier than the backoff says
        now = T0
        for attempt, wait in enumerate((1, 2, 4, 8, 16, 32, 60), start=1):
            hook.refresh_from_db()
            assert (hook.attempts, hook.status, hook.response_code) == (attempt, "pending", 503)
            assert hook.next_attempt_at == now + timedelta(minutes=wait) and "HTTP 503" in hook.last_error
            assert notify.send_due(lp.project, hook.next_attempt_at - timedelta(seconds=1)).to_dict()["retrying"] == 0
            now = hook.next_attempt_at
            notify.send_due(lp.project, now)
    hook.refresh_from_db()
    assert (hook.attempts, hook.status) == (notify.MAX_ATTEMPTS, "failed")  # kept, visible, not lost
    assert http_receiver.requests == []
    http_receiver.down = False
    notify.retry_now(hook, now + timedelta(hours=5))
    hook.refresh_from_db()
    assert hook.status == "delivered" and hook.response_code == 200
    received = [r for r in http_receiver.requests if r["path"] == "/in"]
    assert len(received) == 1
    headers = {k.lower(): v for k, v in received[0]["headers"].items()}
    assert notify.verify(secret, headers["x-cxlens-timestamp"], received[0]["body"], headers["x-cxlens-signature"])
    assert headers["x-cxlens-timestamp"] == str(int((now + timedelta(hours=5)).timestamp()))
    assert json.loads(received[0]["body"])["case"]["case_id"] == case.case_id
    # the Slack-compatible channel (down as well, failed too) gets {"text": ...} on "retry now"
    chat_delivery = Delivery.objects.get(case=case, channel=slack)
    assert chat_delivery.status == "failed"
    notify.retry_now(chat_delivery, now + timedelta(hours=6))
    [chat] = [r for r in http_receiver.requests if r["path"] == "/slack"]
    assert list(json.loads(chat["body"])) == ["text"] and case.case_id in json.loads(chat["body"])["text"]
    assert "X-Cxlens-Signature" not in chat["headers"]
    for c in (channel, slack, mail_channel):
        Channel.objects.filter(pk=c.pk).update(active=False)


def test_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    import hashlib
    import hmac

    from cxlens.web.loop.notify import signature, verify

    expected = hmac.new(b"k", b"1700000000.{\"a\":1}", hashlib.sha256).hexdigest()
    assert signature("k", "1700000000", b'{"a":1}') == "sha256=" + expected
    assert verify("k", "1700000000", b'{"a":1}', "sha256=" + expected)
    assert not verify("k", "1700000001", b'{"a":1}', "sha256=" + expected)
    assert not verify("k", "1700000000", b'{"a":2}', "sha256=" + expected)


def test_escalation_once_per_breach_and_reassignment_of_deactivated_owner(lp: LoopProject) -> None:
    from cxlens.web.loop import service
    from cxlens.web.loop.models import Case

    team = service.save_team(lp.project, "night", ["loopsvc-una", "loopsvc-ana"])
    # Friday 16:00 UTC, normal priority: 8 business hours to acknowledge -> Monday 16:00 (09-17 Mon-Fri)
    fri = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)
    case, _ = service.open_case(lp.project, customer_id="L2", reason="late delivery", now=fri, team=team)
    assert case.ack_due_at == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    # (other cases of the project are escalated along the way; only this one is looked at)
    service.escalate_overdue(lp.project, datetime(2026, 11, 30, 15, 59, tzinfo=UTC))
    assert not case.events.filter(kind="escalated").exists()
    service.escalate_overdue(lp.project, datetime(2026, 11, 30, 16, 1, tzinfo=UTC))
    service.escalate_overdue(lp.project, datetime(2026, 11, 30, 18, 0, tzinfo=UTC))  # once per breach
    case = Case.objects.get(pk=case.pk)
    assert case.priority == "high" and case.ack_escalated_at == datetime(2026, 11, 30, 16, 1, tzinfo=UTC)
    assert case.events.filter(kind="escalated", old="normal", new="high").count() == 1
    flt = service.InboxFilter(overdue=True)
    assert case in service.inbox(lp.project, flt, None, datetime(2026, 11, 30, 16, 1, tzinfo=UTC))
    assert case not in service.inbox(lp.project, flt, None, datetime(2026, 11, 30, 15, 0, tzinfo=UTC))

    owner = case.owner
    assert owner is not None
    owner.is_active = False
    owner.save()  # the signal hands the open case to the next active member of the team at once
    case = Case.objects.get(pk=case.pk)
    assert case.owner is not None and case.owner != owner and case.owner.is_active
    assert case.events.filter(kind="assigned", old=owner.username).exists()
    owner.is_active = True
    owner.save()


@pytest.mark.parametrize(("opened", "hours", "due"), [
    # Berlin 09:00-17:00; 2026-03-29 is the spring-forward Sunday; Friday 16:00 CET + 2 h -> Monday 10:00 CEST
    (datetime(2026, 3, 27, 15, 0, tzinfo=UTC), 2, datetime(2026, 3, 30, 8, 0, tzinfo=UTC)),
    # opened at night: the clock starts at the next opening (Tue 09:00 CET = 08:00 UTC) + 1 h
    (datetime(2026, 12, 1, 2, 0, tzinfo=UTC), 1, datetime(2026, 12, 1, 9, 0, tzinfo=UTC)),
    # the holiday 2026-12-25 (a Friday) is skipped: Thu 16:30 CET + 1 h -> Mon 28th 09:30 CET
    (datetime(2026, 12, 24, 15, 30, tzinfo=UTC), 1, datetime(2026, 12, 28, 8, 30, tzinfo=UTC)),
])
def test_sla_due_times_follow_the_project_calendar(lp: LoopProject, opened: datetime, hours: int,
                                                   due: datetime) -> None:
    from cxlens.web.loop import service
    from cxlens.web.loop.models import SlaSettings

    project = lp.project
    before = SlaSettings.objects.get(project=project)
    try:
        service.update_sla_settings(project, {"timezone": "Europe/Berlin", "days": "mon-fri", "opens": "09:00",
                                              "closes": "17:00", "holidays": "2026-12-25",
                                              "targets": {"urgent": {"acknowledge": hours, "resolve": 40}}})
        ack, _ = service._due_times(service.policy_for(project, "urgent"), opened)
        assert ack == due
    finally:
        before.save()


def test_bad_settings_and_rules_are_explained(lp: LoopProject) -> None:
    from cxlens.errors import CxlensInputError
    from cxlens.web.loop import service

    with pytest.raises(CxlensInputError, match="Mars/Olympus"):
        service.update_sla_settings(lp.project, {"timezone": "Mars/Olympus"})
    with pytest.raises(CxlensInputError, match=r"Condition part 'op' must be one of"):
        service.create_rule(lp.project, {"name": "bad", "reason": "x", "condition": {"field": "nps", "op": "~"}},
                            now=T0)
    with pytest.raises(CxlensInputError, match="max_cases_per_run"):
        service.create_rule(lp.project, {"name": "bad", "reason": "x", "condition": DETRACTOR,
                                         "max_cases_per_run": 0}, now=T0)
    with pytest.raises(CxlensInputError, match="needs a 'url' starting with http"):
        service.create_channel(lp.project, {"name": "x", "kind": "webhook", "url": "ftp://x"})
    with pytest.raises(CxlensInputError, match="'loopsvc-vic' cannot own cases"):
        service.assign(service.create_manual_case(lp.project, {"reason": "viewer test"}, lp.users["ana"], T0),
                       lp.users["vic"], lp.users["ana"], T0)


def test_rule_test_counts_recent_rows_without_writing(app: WebApp, tmp_path_factory: pytest.TempPathFactory) -> None:
    from cxlens.web.loop import service
    from cxlens.web.loop.models import Case

    tp = make_loop_project(app, tmp_path_factory.mktemp("looptest") / "ws", "looptest")
    tp.ingest("responses", [response("r1", "L1", 3), response("r2", "L2", 9), response("r3", "L2", 5),
                            response("r4", "L1", 2), response("r5", "L3", 1)])
    tp.ingest("responses", [response(f"g{i}", c, 8) for i, c in enumerate(("L1", "L2", "L3"))])
    before = Case.objects.count()
    result = service.test_rule(tp.project, {"all": [DETRACTOR, {"field": "customer.segment", "op": "==",
                                                               "value": "enterprise"}]}, "responses", now=T0)
    assert result.matched == 2 and result.total == 8 and result.sentence == "would have matched 2 of the last 8 rows"
    assert {e["id"] for e in result.examples} == {"r1", "r4"}  # L1 is the enterprise customer
    # value at stake: L1 1500 (last 365 days, the refund left out), L2 50, L3 0 -> rows of L1 only
    rich = service.test_rule(tp.project, {"field": "value_at_stake", "op": ">=", "value": 1500}, "responses", now=T0)
    assert {e["id"] for e in rich.examples} == {"r1", "r4", "g0"}
    assert rich.examples[0]["evidence"] == ["value_at_stake 1500 ≥ 1500"]
    # the last 3 rows are g0-g2 (nps 8): none matches
    assert service.test_rule(tp.project, DETRACTOR, "responses", now=T0, limit=3).to_dict()["matched"] == 0
    assert Case.objects.count() == before


def test_signal_rules_act_once_per_signal(app: WebApp, tmp_path_factory: pytest.TempPathFactory) -> None:
    from cxlens.web.loop import service
    from cxlens.web.loop.models import Case, Delivery

    sp = make_loop_project(app, tmp_path_factory.mktemp("loopsig") / "ws", "loopsig")
    end = datetime(2026, 11, 23, 23, 0, tzinfo=UTC)
    rows = []  # 40 answers a day for 40 days (NPS 66.7), then a day of detractors only
    for d in range(40, -1, -1):
        for i in range(40):
            rows.append({"response_id": f"s{d}-{i}", "customer_id": f"S{i}", "nps": i % 3 + (8 if d else 0),
                         "submitted_at": (end - timedelta(days=d, hours=1, minutes=i)).isoformat()})
    sp.ingest("responses", rows)
    now = end + timedelta(hours=3)
    service.create_rule(sp.project, {"name": "nps drops", "source": "signals", "reason": "nps anomaly",
                                     "priority": "urgent", "condition": {"all": [
                                         {"field": "kind", "op": "==", "value": "anomaly"},
                                         {"field": "direction", "op": "==", "value": "down"}]}}, now=now)
    service.create_channel(sp.project, {"name": "sig hook", "kind": "webhook", "url": "http://127.0.0.1:9/",
                                        "events": "rule.matched"})
    service.create_rule(sp.project, {"name": "any signal", "source": "signals", "reason": "fyi", "open_case": False,
                                     "condition": {"field": "kind", "op": "exists", "value": True}}, now=now)
    first = service.evaluate_signals(sp.project, now)
    assert (first.rows, first.opened, first.notified) == (1, 1, 1)
    [case] = Case.objects.filter(project=sp.project)
    assert (case.source_table, case.source_id, case.priority) == ("signals", "anomaly:nps::2026-11-23", "urgent")
    assert "kind 'anomaly' = 'anomaly'" in case.evidence and "direction 'down' = 'down'" in case.evidence
    again = service.evaluate_signals(sp.project, now + timedelta(minutes=15))
    assert (again.opened, again.notified) == (0, 0)
    assert Case.objects.filter(project=sp.project).count() == 1
    assert Delivery.objects.filter(project=sp.project, event="rule.matched").count() == 1


def test_customer_acknowledgement_needs_an_address_and_consent(lp: LoopProject, smtp_server: Any) -> None:
    from django.test import override_settings

    from cxlens.web.distribution import service as distribution
    from cxlens.web.loop import notify, service
    from cxlens.web.loop.models import Case

    rule = service.create_rule(lp.project, {"name": "ack customers", "source": "responses", "reason": "unhappy",
                                            "acknowledge_customer": True, "condition": DETRACTOR}, now=T0)
    distribution.set_consent(lp.project, "L2", "opt_out", T0, source="test")
    lp.ingest("responses", [response("a1", "L1", 1), response("a2", "L2", 1), response("a3", "L3", 1)])
    service.evaluate_rules(lp.project, T0)
    cases = {c.customer_id: c for c in Case.objects.filter(project=lp.project, reason="unhappy")}
    assert set(cases) == {"L1", "L2", "L3"}
    notes = {cid: " ".join(c.events.filter(kind="customer").values_list("note", flat=True)) for cid, c in cases.items()}
    assert notes["L1"] == "Acknowledgement queued to l1@example.com."
    assert "consent does not allow email" in notes["L2"]
    assert "no e-mail address" in notes["L3"]
    with override_settings(**smtp_server.settings()):
        notify.send_due(lp.project, T0)
    [mail] = smtp_server.to("l1@example.com")
    assert cases["L1"].case_id in mail["Subject"]
    assert Case.objects.get(pk=cases["L1"].pk).customer_contacted
    assert not smtp_server.to("l2@example.com")
    rule.active = False
    rule.save()


def test_migrations_match_the_models(app: WebApp) -> None:
    from django.core.management import call_command

    call_command("makemigrations", "loop", check=True, dry_run=True, verbosity=0)  # exits 1 on drift


def test_ticket_about_to_breach_its_sla_opens_a_case_once(lp: LoopProject) -> None:
    from cxlens.web.loop import service
    from cxlens.web.loop.models import Case

    rule = service.create_rule(lp.project, {
        "name": "ticket sla", "source": "tickets", "reason": "ticket SLA at risk", "priority": "high",
        "condition": {"all": [{"field": "open", "op": "==", "value": True},
                              {"field": "age_hours", "op": ">=", "value": 20}]}}, now=T0)
    created = T0 - timedelta(hours=2)
    ticket = {"ticket_id": "tk1", "customer_id": "L2", "created_at": created.isoformat(), "status": "open",
              "subject": "Cannot log in"}
    lp.ingest("tickets", [ticket, {**ticket, "ticket_id": "tk2", "customer_id": "L1"}])
    assert service.evaluate_rules(lp.project, T0).opened == 0  # on arrival: 2 hours old
    assert service.evaluate_open_tickets(lp.project, T0 + timedelta(hours=17, minutes=59)).opened == 0  # 19:59 h
    lp.ingest("tickets", [{**ticket, "ticket_id": "tk2", "customer_id": "L1", "status": "resolved",
                           "resolved_at": (T0 + timedelta(hours=1)).isoformat()}], on_conflict="update")
    service.evaluate_rules(lp.project, T0 + timedelta(hours=1))
    run = service.evaluate_open_tickets(lp.project, T0 + timedelta(hours=18))  # 20 h: tk1 only, tk2 is resolved
    assert (run.opened, run.matched) == (1, 1)
    [case] = Case.objects.filter(project=lp.project, reason="ticket SLA at risk")
    assert (case.customer_id, case.source_table, case.source_id) == ("L2", "tickets", "tk1")
    assert "age_hours 20 ≥ 20" in case.evidence
    assert service.evaluate_open_tickets(lp.project, T0 + timedelta(hours=30)).opened == 0  # once per ticket
    rule.active = False
    rule.save()


def test_owner_gets_one_email_per_assignment_never_for_self_assignment(app: WebApp, smtp_server: Any,
                                                                       tmp_path_factory: pytest.TempPathFactory
                                                                       ) -> None:
    from django.test import override_settings

    from cxlens.web.loop import notify, service
    from cxlens.web.loop.models import Delivery

    mp = make_loop_project(app, tmp_path_factory.mktemp("loopmail") / "ws", "loopmail", ("una", "uwe"))
    ana, ada, una, uwe = (mp.users[n] for n in ("ana", "ada", "una", "uwe"))
    with override_settings(**smtp_server.settings(), CXLENS_PUBLIC_URL="https://cx.example.com"):
        team = service.save_team(mp.project, "mailers", ["loopmail-una", "loopmail-uwe"])
        # opened by hand by ana for the team: the round-robin gives it to una (lowest id) -> una is told
        case = service.create_manual_case(mp.project, {"customer_id": "L1", "reason": "broken invoice",
                                                       "team": "mailers", "priority": "high"}, ana, T0)
        assert case.owner == una and case.team == team
        service.assign(case, ana, ana, T0)  # ana takes it herself: no e-mail to ana
        service.assign(case, uwe, ana, T0)  # to uwe: one e-mail
        service.assign(case, uwe, ada, T0)  # saved again, same owner: nothing new
        other = service.create_manual_case(mp.project, {"customer_id": "L2", "reason": "late parcel"}, ada, T0)
        assert service.bulk_assign(mp.project, [case.pk, other.pk], una, ada, T0) == 2  # two assignments to una
        service.assign(other, ada, ada, T0)  # ada to herself: nothing
        service.set_assignment_email(uwe, False)  # uwe turns these e-mails off
        service.assign(other, uwe, ada, T0)
        service.set_assignment_email(uwe, True)
        # una is deactivated: her open case goes to the next member of its team, uwe, who is told
        una.is_active = False
        una.save()
        case.refresh_from_db()
        assert case.owner == uwe
        # (the deactivation's reassignment happens at the wall-clock time: send what is due by then)
        notify.send_due(mp.project, max(T0, datetime.now(UTC)) + timedelta(minutes=1))
    una.is_active = True
    una.save()
    assert [m["Subject"] for m in smtp_server.to("loopmail-una@example.com")] == [
        f"[Loop loopmail] Case {case.case_id} assigned to you: broken invoice",
        f"[Loop loopmail] Case {other.case_id} assigned to you: late parcel",
        f"[Loop loopmail] Case {case.case_id} assigned to you: broken invoice"]
    assert len(smtp_server.to("loopmail-uwe@example.com")) == 2  # by ana, and after una's deactivation
    assert smtp_server.to("loopmail-ana@example.com") == [] and smtp_server.to("loopmail-ada@example.com") == []
    first = smtp_server.to("loopmail-una@example.com")[0]
    body = first.get_body(preferencelist=("plain",)).get_content()
    # high priority, opened Monday 10:00 UTC, business hours 09-17 Mon-Fri: 4 h to acknowledge, 24 to resolve
    for line in (f"case {case.case_id} of Loop loopmail was assigned to you by loopmail-ana.",
                 "Reason:          broken invoice", "Customer:        L1", "Priority:        high",
                 "Acknowledge by:  2026-11-23 14:00 (UTC)", "Resolve by:      2026-11-26 10:00 (UTC)",
                 f"Open the case: https://cx.example.com/p/loopmail/cases/{case.pk}/"):
        assert line in body, line
    reassigned = smtp_server.to("loopmail-uwe@example.com")[-1].get_body(preferencelist=("plain",)).get_content()
    assert "assigned to you by reassignment (loopmail-una can no longer own cases)" in reassigned
    assert Delivery.objects.filter(project=mp.project, event="owner.assigned").count() == 5
    # the inbox's switch turns the e-mail off and on
    page = mp.client("uwe").post("/p/loopmail/cases/", {"action": "assignment_email"})
    assert page.status_code == 200 and "no longer get an e-mail" in page.content.decode()
    assert not service.wants_assignment_email(uwe)
    assert 'name="assignment_email" checked' not in mp.client("uwe").get("/p/loopmail/cases/").content.decode()
    mp.client("uwe").post("/p/loopmail/cases/", {"action": "assignment_email", "assignment_email": "on"})
    assert service.wants_assignment_email(uwe)
