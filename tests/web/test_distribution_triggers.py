"""Survey triggers on the warehouse feed: once per qualifying event, the delay counted from the event's
own time, contact rules respected, first orders computed in the warehouse."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest

from .conftest import Mailbox, WebApp, require_web
from .test_distribution import Dist, live_survey, make_project, text_of

require_web()

CUSTOMERS = pd.DataFrame({
    "customer_id": [f"tc{i}" for i in range(1, 7)] + [f"oc{i}" for i in range(1, 5)],
    "created_at": ["2026-01-05T10:00:00Z"] * 10,
    "email": [f"tc{i}@example.com" for i in range(1, 7)] + [f"oc{i}@example.com" for i in range(1, 5)],
})
T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def trig(app: WebApp, tmp_path_factory: pytest.TempPathFactory) -> Dist:
    return make_project(app, tmp_path_factory, "dist-trig", CUSTOMERS)


@pytest.fixture(autouse=True)
def pause_triggers(trig: Dist) -> Any:
    """Each test's triggers act on its own rows only: every trigger is paused after the test."""
    yield
    from cxlens.web.distribution.models import Trigger

    Trigger.objects.filter(project=trig.project).update(active=False)


def iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def tickets(*rows: tuple[str, str, str, datetime | None]) -> pd.DataFrame:
    """(ticket_id, customer_id, status, resolved_at) rows, each opened a day before it was resolved."""
    return pd.DataFrame({
        "ticket_id": [r[0] for r in rows], "customer_id": [r[1] for r in rows], "status": [r[2] for r in rows],
        "created_at": [iso((r[3] or T0) - timedelta(days=1)) for r in rows],
        "resolved_at": [iso(r[3]) if r[3] else None for r in rows],
    })


def load(dist: Dist, table: str, frame: pd.DataFrame, conflict: str = "reject") -> None:
    from cxlens.web.projects import POOL

    with POOL.use(dist.project) as ws:
        report = ws.import_data(table, frame, on_conflict=conflict)
    assert report.rejected == 0, report


def invitations(dist: Dist, survey: Any) -> list[tuple[str, str, str, str]]:
    from cxlens.web.distribution.models import Invitation

    return [(i.source_key, i.customer_id, i.status, i.status_reason)
            for i in Invitation.objects.filter(survey=survey).order_by("id")]


def test_a_ticket_trigger_fires_once_per_resolved_ticket(trig: Dist, smtp_server: Mailbox) -> None:
    from django.test import override_settings

    from cxlens.web.distribution import service, triggers
    from cxlens.web.distribution.models import Invitation
    from cxlens.web.surveys import links

    survey = live_survey(trig, "dist-trig-case", "case-followup")
    trigger = triggers.create_trigger(trig.project, survey, name="Resolved tickets", table="tickets",
                                      condition={"field": "status", "op": "==", "value": "resolved"},
                                      delay=timedelta(days=2))
    resolved_at = T0 - timedelta(hours=1)
    load(trig, "tickets", tickets(("TK1", "tc1", "resolved", resolved_at), ("TK2", "tc2", "open", None)))
    (outcome,) = triggers.run_triggers(trig.project, T0)
    assert (outcome.rows, outcome.matched, outcome.queued, outcome.suppressed) == (2, 1, 1, 0)
    assert invitations(trig, survey) == [("tickets:TK1", "tc1", "queued", "")]
    first = Invitation.objects.get(trigger=trigger, source_key="tickets:TK1")
    assert first.send_at == resolved_at + timedelta(days=2)  # from the event's own time, not from now
    assert first.reason == "trigger: Resolved tickets" and first.email == "tc1@example.com"
    assert links.read_token(first.token, survey.slug, T0).hidden == {"customer_id": "tc1", "ticket_id": "TK1"}

    # The same ticket imported again does not fire again: unchanged (a duplicate, not a new row) ...
    load(trig, "tickets", tickets(("TK1", "tc1", "resolved", resolved_at)), conflict="update")
    (same,) = triggers.run_triggers(trig.project, T0 + timedelta(minutes=1))
    assert (same.rows, same.queued) == (0, 0)
    # ... or changed (the updated row arrives again in the feed; the trigger fired for it already).
    load(trig, "tickets", tickets(("TK1", "tc1", "resolved", resolved_at)).assign(topic="billing"), conflict="update")
    (again,) = triggers.run_triggers(trig.project, T0 + timedelta(minutes=1))
    assert (again.rows, again.matched, again.queued, again.skipped) == (1, 1, 0, 1)
    # The open ticket, once resolved, fires.
    load(trig, "tickets", tickets(("TK2", "tc2", "resolved", T0)), conflict="update")
    triggers.run_triggers(trig.project, T0 + timedelta(minutes=2))
    assert [k for k, *_ in invitations(trig, survey)] == ["tickets:TK1", "tickets:TK2"]

    # Another resolved ticket of tc1 within the resting period: recorded as suppressed, never sent.
    load(trig, "tickets", tickets(("TK3", "tc1", "resolved", T0 + timedelta(days=5))))
    triggers.run_triggers(trig.project, T0 + timedelta(days=5))
    until = (resolved_at + timedelta(days=2) + timedelta(days=30)).strftime("%Y-%m-%d")
    assert invitations(trig, survey)[-1] == ("tickets:TK3", "tc1", "suppressed", f"resting period until {until}")

    with override_settings(**smtp_server.settings()):
        assert service.send_due(trig.project, T0 + timedelta(days=1)).sent == 0  # not due yet
        assert service.send_due(trig.project, T0 + timedelta(days=2)).sent == 2
        assert service.send_due(trig.project, T0 + timedelta(days=40)).sent == 0
    assert len(smtp_server.to("tc1@example.com")) == 1 and len(smtp_server.to("tc2@example.com")) == 1
    assert "Did we resolve your issue?" not in text_of(smtp_server.to("tc1@example.com")[0])  # no NPS buttons
    assert "/s/dist-trig-case/?t=" in text_of(smtp_server.to("tc1@example.com")[0])


def test_an_unsubscribed_customer_is_not_mailed_by_a_trigger(trig: Dist, smtp_server: Mailbox) -> None:
    from django.test import override_settings

    from cxlens.web.distribution import service, triggers

    survey = live_survey(trig, "dist-trig-unsub", "post_ticket_csat")
    triggers.create_trigger(trig.project, survey, name="Every ticket", table="tickets", condition=None)
    service.unsubscribe(trig.project, "tc4", T0)
    load(trig, "tickets", tickets(("TK40", "tc4", "resolved", T0), ("TK50", "tc5", "resolved", T0)))
    triggers.run_triggers(trig.project, T0)
    assert invitations(trig, survey) == [("tickets:TK40", "tc4", "suppressed", "unsubscribed"),
                                         ("tickets:TK50", "tc5", "queued", "")]
    with override_settings(**smtp_server.settings()):
        service.send_due(trig.project, T0 + timedelta(hours=1))
    assert smtp_server.to("tc4@example.com") == [] and len(smtp_server.to("tc5@example.com")) == 1


def test_old_history_is_not_mailed_and_paused_triggers_wait(trig: Dist) -> None:
    from cxlens.web.distribution import triggers

    survey = live_survey(trig, "dist-trig-old", "post_ticket_csat")
    trigger = triggers.create_trigger(trig.project, survey, name="Old", table="tickets", condition=None,
                                      delay=timedelta(hours=48))
    # Resolved 30 days ago: its send time (28 days ago) is beyond the trigger's 7 days of lateness.
    load(trig, "tickets", tickets(("TK60", "tc6", "resolved", T0 - timedelta(days=30))))
    (outcome,) = [o for o in triggers.run_triggers(trig.project, T0) if o.trigger == "Old"]
    assert (outcome.rows, outcome.skipped, outcome.queued) == (1, 1, 0)
    triggers.set_active(trigger, False)
    load(trig, "tickets", tickets(("TK61", "tc6", "resolved", T0)))
    assert [o for o in triggers.run_triggers(trig.project, T0) if o.trigger == "Old"] == []
    triggers.set_active(trigger, True)  # resumed: rows that arrived meanwhile are handled
    (resumed,) = [o for o in triggers.run_triggers(trig.project, T0) if o.trigger == "Old"]
    assert (resumed.rows, resumed.queued) == (1, 1)


def test_first_order_trigger_with_delay_from_the_order_time(trig: Dist) -> None:
    from cxlens.web.distribution import triggers
    from cxlens.web.distribution.models import Invitation

    orders = pd.DataFrame({"order_id": ["OR1"], "customer_id": ["oc1"], "ordered_at": [iso(T0 - timedelta(days=20))],
                           "amount": [10.0]})
    load(trig, "orders", orders)  # history before the trigger exists
    survey = live_survey(trig, "dist-trig-first", "relationship_nps")
    triggers.create_trigger(trig.project, survey, name="First order", table="orders",
                            condition={"field": "is_first_order", "op": "==", "value": True},
                            delay=timedelta(days=14))
    ordered = [T0 - timedelta(days=1), T0 - timedelta(hours=1), T0 - timedelta(days=10), T0 - timedelta(hours=5)]
    load(trig, "orders", pd.DataFrame({
        "order_id": ["OR2", "OR3", "OR4", "OR5"], "customer_id": ["oc1", "oc2", "oc3", "oc2"],
        "ordered_at": [iso(t) for t in ordered], "amount": [5.0, 7.0, 9.0, 11.0]}))
    (outcome,) = [o for o in triggers.run_triggers(trig.project, T0) if o.trigger == "First order"]
    # OR2 is oc1's second order (OR1 came first); oc2's first order is OR5, placed before OR3.
    assert (outcome.rows, outcome.matched) == (4, 2)
    made = {i.source_key: i.send_at for i in Invitation.objects.filter(survey=survey)}
    assert made == {"orders:OR5": ordered[3] + timedelta(days=14), "orders:OR4": ordered[2] + timedelta(days=14)}


def test_trigger_input_is_checked(trig: Dist) -> None:
    from cxlens.web.distribution import service, triggers

    survey = live_survey(trig, "dist-trig-bad", "post_ticket_csat")
    with pytest.raises(service.DistributionError, match=r"'table' must be one of tickets, orders, interactions"):
        triggers.create_trigger(trig.project, survey, name="x", table="responses", condition=None)
    with pytest.raises(service.DistributionError, match=r"'delay' must be 0 to 8760 hours"):
        triggers.create_trigger(trig.project, survey, name="x", table="tickets", condition=None, delay=-1)
    with pytest.raises(service.DistributionError, match=r"'condition' must be JSON"):
        triggers.trigger_from_form(trig.project, survey, {"name": "x", "table": "tickets", "condition": "{status"})
    with pytest.raises(Exception, match="op"):
        triggers.create_trigger(trig.project, survey, name="x", table="tickets",
                                condition={"field": "status", "op": "~", "value": "resolved"})


def test_the_registered_jobs_turn_a_ticket_into_a_sent_invitation(trig: Dist, smtp_server: Mailbox) -> None:
    from django.test import override_settings

    from cxlens.web import jobs
    from cxlens.web.distribution import triggers

    survey = live_survey(trig, "dist-trig-jobs", "post_ticket_csat")
    triggers.create_trigger(trig.project, survey, name="Jobs", table="tickets",
                            condition={"field": "status", "op": "in", "value": ["resolved", "closed"]})
    load(trig, "tickets", tickets(("TK70", "tc3", "closed", T0)))
    names = ("distribution-triggers", "distribution-send")
    with override_settings(**smtp_server.settings()):
        first = {o.job: o for o in jobs.run_all(trig.project, T0, names)}
        second = {o.job: o for o in jobs.run_all(trig.project, T0 + timedelta(seconds=10), names)}
    assert all(o.ok for o in (*first.values(), *second.values()))
    assert [o["queued"] for o in first["distribution-triggers"].result if o["trigger"] == "Jobs"] == [1]
    assert first["distribution-send"].result["sent"] == 0  # sending runs first, the trigger queued after it
    assert second["distribution-send"].result["sent"] == 1
    assert len(smtp_server.to("tc3@example.com")) == 1
