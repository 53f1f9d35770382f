"""Survey triggers: invite the customer of each new ticket, order or interaction that matches a
condition, a delay after the event's own time.

Each trigger reads its table's feed with a cursor of its own (created when the trigger is, so it
acts on rows that arrive from then on). A row fires a trigger at most once (unique per trigger
and row key: importing the same ticket again changes nothing); the invitation goes through
:func:`cxlens.web.distribution.service.invite`, so consent, the resting period and the cap apply,
and a suppressed invitation is stored with its reason. The delay counts from the event's time
(``resolved_at`` for tickets, ``ordered_at`` for orders, ``occurred_at`` for interactions), so a
late import is invited on the same schedule as a live one; an event whose planned send time lies
more than the trigger's ``max_age`` in the past is skipped (old history is never mailed).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import ibis

from cxlens.feed import FeedBatch
from cxlens.loop.rules import Condition, parse_condition
from cxlens.web import feeds
from cxlens.web.distribution import service
from cxlens.web.distribution.models import Invitation, Trigger
from cxlens.web.models import Project
from cxlens.web.projects import POOL
from cxlens.web.surveys.models import Status, Survey

#: Tables a trigger may watch: the row's key and the event time the delay counts from.
TABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "tickets": ("ticket_id", ("resolved_at", "created_at")),
    "orders": ("order_id", ("ordered_at",)),
    "interactions": ("event_id", ("occurred_at",)),
}
#: Row columns passed to the survey link as hidden fields (when the survey allows them).
LINK_FIELDS = ("ticket_id", "order_id", "touchpoint")
MAX_DELAY = timedelta(days=365)


def condition_of(trigger: Trigger) -> Condition | None:
    """The trigger's parsed condition (None: every row qualifies)."""
    return parse_condition(trigger.condition) if trigger.condition else None


def _duration(value: Any, name: str) -> timedelta:
    if isinstance(value, timedelta):
        result = value
    else:
        try:
            result = timedelta(hours=float(value))
        except (TypeError, ValueError):
            result = timedelta(-1)
    if not timedelta(0) <= result <= MAX_DELAY:
        raise service.DistributionError(f"The trigger's '{name}' must be 0 to {MAX_DELAY.days * 24} hours. "
                                        f"Got {value!r} instead.")
    return result


def create_trigger(project: Project, survey: Survey, *, name: str, table: str, condition: Mapping[str, Any] | None,
                   delay: Any = timedelta(0), max_age: Any = timedelta(days=7)) -> Trigger:
    """A new active trigger; its feed cursor starts after the rows stored now."""
    if survey.project_id != project.pk:
        raise service.DistributionError(f"The survey {survey.slug!r} belongs to another project.")
    if table not in TABLES:
        raise service.DistributionError(f"A trigger's 'table' must be one of {', '.join(TABLES)}. "
                                        f"Got {table!r} instead.")
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise service.DistributionError(f"A trigger needs a 'name' of 1 to 200 characters. Got {name!r} instead.")
    cond = dict(condition or {})
    if cond:
        parse_condition(cond)  # raises a clear error naming the wrong part
    trigger = Trigger.objects.create(project=project, survey=survey, name=name, table=table, condition=cond,
                                     delay=_duration(delay, "delay"), max_age=_duration(max_age, "max_age"))
    feeds.cursor(project, trigger.consumer, table, start="latest")
    return trigger


def set_active(trigger: Trigger, active: bool) -> Trigger:
    trigger.active = active
    trigger.save(update_fields=["active"])
    return trigger


def first_orders(project: Project, customer_ids: list[str]) -> set[str]:
    """The order ids that are the first order of their customer (no earlier order), computed in the warehouse."""
    if not customer_ids:
        return set()
    with POOL.use(project) as ws:
        t = ws.table("orders")
        rank = ibis.row_number().over(group_by=t.customer_id, order_by=[t.ordered_at, t.order_id])
        ranked = t.filter(t.customer_id.isin(customer_ids)).mutate(order_rank=rank)
        rows = ranked.filter(ranked.order_rank == 0).select("order_id").to_pyarrow().to_pylist()
    return {str(r["order_id"]) for r in rows}


def _utc(value: Any) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def event_time(table: str, row: Mapping[str, Any]) -> datetime | None:
    for column in TABLES[table][1]:
        found = _utc(row.get(column))
        if found is not None:
            return found
    return None


def facts_of(table: str, row: Mapping[str, Any], firsts: set[str]) -> dict[str, Any]:
    facts = {k: v for k, v in row.items() if not k.startswith("_")}
    if table == "orders":
        facts["is_first_order"] = str(row.get("order_id")) in firsts
    return facts


@dataclass(frozen=True)
class TriggerOutcome:
    trigger: str
    rows: int
    matched: int
    queued: int
    suppressed: int
    skipped: int

    def to_dict(self) -> dict[str, Any]:
        return {"trigger": self.trigger, "rows": self.rows, "matched": self.matched, "queued": self.queued,
                "suppressed": self.suppressed, "skipped": self.skipped}


class _Handler:
    """Handles one feed batch for one trigger (inside the feed's transaction)."""

    def __init__(self, trigger: Trigger, now: datetime) -> None:
        self.trigger, self.now = trigger, now
        self.condition = condition_of(trigger)
        self.counts = {"matched": 0, "queued": 0, "suppressed": 0, "skipped": 0}
        self.emails: dict[str, str] = {}

    def __call__(self, batch: FeedBatch) -> None:
        t = self.trigger
        firsts = first_orders(t.project, sorted({str(r["customer_id"]) for r in batch.rows if r.get("customer_id")})
                              ) if t.table == "orders" else set()
        key_column = TABLES[t.table][0]
        self.emails = service.warehouse_emails(t.project, [str(r["customer_id"]) for r in batch.rows
                                                           if r.get("customer_id")])
        for row in batch.rows:
            if self.condition is not None and not self.condition.matches(facts_of(t.table, row, firsts)):
                continue
            self.counts["matched"] += 1
            self._fire(row, f"{t.table}:{row.get(key_column)}")

    def _fire(self, row: Mapping[str, Any], key: str) -> None:
        t = self.trigger
        at = event_time(t.table, row)
        customer = str(row.get("customer_id") or "").strip()
        if at is None or not customer or Invitation.objects.filter(trigger=t, source_key=key).exists():
            self.counts["skipped"] += 1
            return
        send_at = at + t.delay
        if send_at < self.now - t.max_age:
            self.counts["skipped"] += 1
            return
        context = {f: str(row[f]) for f in LINK_FIELDS if row.get(f) not in (None, "")}
        result = service.invite(t.survey, customer_id=customer, email="", now=self.now, reason=f"trigger: {t.name}",
                                context=context, send_at=send_at, trigger=t, source_key=key, warehouse=self.emails)
        self.counts[result.status if result.status == "suppressed" else "queued"] += 1


def run_trigger(trigger: Trigger, now: datetime) -> TriggerOutcome:
    handler = _Handler(trigger, now)
    rows = feeds.consume(trigger.project, trigger.consumer, trigger.table, handler, now=now)
    return TriggerOutcome(trigger.name, rows, **handler.counts)


def run_triggers(project: Project, now: datetime) -> list[TriggerOutcome]:
    """Run every active trigger of ``project`` whose survey is live (the ``distribution-triggers`` job)."""
    found = Trigger.objects.select_related("survey", "project").filter(project=project, active=True,
                                                                      survey__status=Status.LIVE)
    return [run_trigger(t, now) for t in found]


def trigger_from_form(project: Project, survey: Survey, form: Mapping[str, Any]) -> Trigger:
    """A trigger from the distribution page's form (condition as JSON text, delays in hours)."""
    text = str(form.get("condition") or "").strip()
    try:
        condition = json.loads(text) if text else None
    except json.JSONDecodeError as exc:
        raise service.DistributionError(f"The trigger's 'condition' must be JSON such as "
                                        f'{{"field": "status", "op": "==", "value": "resolved"}}: {exc.msg} at '
                                        f"character {exc.pos}. Got {text[:200]!r} instead.") from None
    if condition is not None and not isinstance(condition, dict):
        raise service.DistributionError(f"The trigger's 'condition' must be a JSON object. Got {text[:200]!r} instead.")
    return create_trigger(project, survey, name=str(form.get("name") or ""), table=str(form.get("table") or ""),
                          condition=condition, delay=form.get("delay_hours") or 0,
                          max_age=form.get("max_age_hours") or 168)
