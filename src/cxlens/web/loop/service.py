"""What the closed loop does: alert rules on new rows, cases (open, assign, work, close),
SLA clocks and escalation, customer acknowledgement and follow-up, the warehouse snapshot.

Views and the API only parse requests and call these functions; every change of a case is
recorded as a ``CaseEvent`` (who, when, which field, old → new).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet

from cxlens.errors import CxlensError, CxlensInputError
from cxlens.feed import FeedBatch
from cxlens.loop.rules import Condition, parse_condition
from cxlens.web import feeds
from cxlens.web.loop import facts as facts_module
from cxlens.web.loop import notify
from cxlens.web.loop.models import (
    OPEN_STATUSES,
    PRIORITY_ORDER,
    AlertRule,
    Case,
    CaseEvent,
    Channel,
    ChannelKind,
    Priority,
    SlaSettings,
    Source,
    Status,
    Team,
)
from cxlens.web.models import Membership, Project
from cxlens.web.projects import POOL
from cxlens.web.roles import Role
from cxlens.web.surveys import i18n

log = logging.getLogger("cxlens.loop")

CONSUMER = "loop-rules"
FEED_TABLES = ("responses", "tickets")
MAX_GUARD = 100_000
TEST_ROWS = 500


class LoopError(CxlensInputError):
    """A closed-loop operation that cannot be done as asked (shown to the user)."""

    code = "loop_error"


class CaseConflict(LoopError):
    code = "conflict"


# ----------------------------------------------------------------------------------- actors


@dataclass(frozen=True)
class Actor:
    """Who makes a change: a user, or the system (a rule, a job) named by ``label``."""

    user: Any = None
    label: str = "system"

    @property
    def name(self) -> str:
        return self.user.get_username() if self.user is not None else self.label


SYSTEM = Actor()


def as_actor(who: Any) -> Actor:
    if isinstance(who, Actor):
        return who
    if who is None or not getattr(who, "is_authenticated", False):
        return SYSTEM
    return Actor(user=who)


def record(case: Case, kind: str, actor: Actor, now: datetime, *, field_name: str = "", old: Any = "",
           new: Any = "", note: str = "") -> CaseEvent:
    return CaseEvent.objects.create(case=case, at=now, actor=actor.user, actor_label="" if actor.user else actor.label,
                                    kind=kind, field=field_name, old=_text(old), new=_text(new), note=note)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "get_username"):
        return value.get_username()
    return str(value)


def _touch(case: Case, now: datetime) -> None:
    case.changed_at = now
    case.revision += 1


# ------------------------------------------------------------------------------------ rules

RULE_FIELDS = ("name", "source", "condition", "open_case", "notify", "acknowledge_customer", "priority", "reason",
               "team", "active", "max_cases_per_run")


def _choice(name: str, value: Any, allowed: Iterable[str]) -> str:
    options = tuple(allowed)
    if value not in options:
        raise CxlensInputError(f"The '{name}' must be one of {', '.join(options)}. Got {value!r} instead.")
    return str(value)


def _bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "on", "1", "yes"):
        return True
    if text in ("false", "off", "0", "no", ""):
        return False
    raise CxlensInputError(f"The '{name}' must be true or false. Got {value!r} instead.")


def clean_rule(project: Project, values: Mapping[str, Any], *, existing: AlertRule | None = None) -> dict[str, Any]:
    """Checked rule fields from ``values`` (only those given, for updates)."""
    unknown = sorted(set(values) - set(RULE_FIELDS))
    if unknown:
        raise CxlensInputError(f"Unknown rule field '{unknown[0]}'. The fields are: {', '.join(RULE_FIELDS)}.")
    out: dict[str, Any] = {}
    if "name" in values or existing is None:
        name = str(values.get("name") or "").strip()
        if not name:
            raise CxlensInputError("The rule's 'name' must not be empty.")
        clash = AlertRule.objects.filter(project=project, name=name).exclude(pk=getattr(existing, "pk", None))
        if clash.exists():
            raise CxlensInputError(f"A rule named {name!r} exists already in this project; choose another 'name'.")
        out["name"] = name[:200]
    if "source" in values:
        out["source"] = _choice("source", values["source"], Source.values)
    if "condition" in values or existing is None:
        out["condition"] = parse_condition(values.get("condition") or {}).to_dict()
    for flag in ("open_case", "notify", "acknowledge_customer", "active"):
        if flag in values:
            out[flag] = _bool(flag, values[flag])
    if "priority" in values:
        out["priority"] = _choice("priority", values["priority"], PRIORITY_ORDER)
    if "reason" in values or existing is None:
        reason = str(values.get("reason") or "").strip()
        if not reason:
            raise CxlensInputError("The rule's 'reason' must not be empty: it names the cases it opens "
                                   "(e.g. 'detractor').")
        out["reason"] = reason[:200]
    if "team" in values:
        out["team"] = find_team(project, values["team"]) if values["team"] not in (None, "") else None
    if "max_cases_per_run" in values:
        try:
            guard = int(values["max_cases_per_run"])
        except (TypeError, ValueError):
            guard = -1
        if not 1 <= guard <= MAX_GUARD:
            raise CxlensInputError(f"The 'max_cases_per_run' must be a whole number from 1 to {MAX_GUARD}. "
                                   f"Got {values['max_cases_per_run']!r} instead.")
        out["max_cases_per_run"] = guard
    return out


def create_rule(project: Project, values: Mapping[str, Any], *, user: Any = None, now: datetime) -> AlertRule:
    checked = clean_rule(project, values)
    rule = AlertRule.objects.create(project=project, created_by=as_actor(user).user, created_at=now,
                                    updated_at=now, **checked)
    _start_feed(project, rule)
    return rule


def update_rule(rule: AlertRule, values: Mapping[str, Any], *, now: datetime) -> AlertRule:
    checked = clean_rule(rule.project, values, existing=rule)
    for name, value in checked.items():
        setattr(rule, name, value)
    rule.updated_at = now
    if "condition" in checked or "max_cases_per_run" in checked:
        rule.last_error, rule.last_error_at = "", None
    rule.save()
    _start_feed(rule.project, rule)
    return rule


def _start_feed(project: Project, rule: AlertRule) -> None:
    """Rows arriving from now on are evaluated (a new rule does not act on the history)."""
    if rule.active and rule.source in FEED_TABLES:
        feeds.cursor(project, CONSUMER, rule.source)


def find_team(project: Project, ref: Any) -> Team:
    team = Team.objects.filter(project=project).filter(
        Q(name=str(ref)) | Q(pk=int(ref) if str(ref).isdigit() else -1)).first()
    if team is None:
        names = ", ".join(Team.objects.filter(project=project).values_list("name", flat=True)) or "none yet"
        raise CxlensInputError(f"There is no team {ref!r} in this project (teams: {names}).")
    return team


@dataclass(frozen=True)
class RuleTest:
    """What a condition would have matched among the latest rows of its source."""

    matched: int
    total: int
    examples: tuple[dict[str, Any], ...]

    def to_dict(self) -> dict[str, Any]:
        return {"matched": self.matched, "total": self.total, "examples": list(self.examples)}

    @property
    def sentence(self) -> str:
        return f"would have matched {self.matched} of the last {self.total} rows"


def test_rule(project: Project, condition: Any, source: str, *, now: datetime, limit: int = TEST_ROWS) -> RuleTest:
    """Evaluate ``condition`` on the latest ``limit`` rows of ``source`` (nothing is written)."""
    cond = parse_condition(condition)
    table = _choice("source", source, FEED_TABLES)
    with POOL.use(project) as ws:
        t = ws.table(table)
        rows = t.order_by([t._import_id.desc(), t._line.desc()]).limit(limit).to_pyarrow().to_pylist()
        found = facts_module.build_facts(ws, table, rows, now=now, fields=cond.fields())
    key = "response_id" if table == "responses" else "ticket_id"
    hits = [f for f in found if cond.matches(f)]
    examples = tuple({"id": str(f.get(key)), "customer_id": f.get("customer_id"), "evidence": cond.evidence(f)}
                     for f in hits[:10])
    return RuleTest(len(hits), len(found), examples)


@dataclass
class RulesRun:
    rows: int = 0
    matched: int = 0
    opened: int = 0
    notified: int = 0
    guarded: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "matched": self.matched, "opened": self.opened, "notified": self.notified,
                "guarded": list(self.guarded)}


def evaluate_rules(project: Project, now: datetime) -> RulesRun:
    """The ``loop-rules`` job: every active rule on the rows that arrived since the last run."""
    run = RulesRun()
    for table in FEED_TABLES:
        if not AlertRule.objects.filter(project=project, source=table, active=True).exists():
            continue
        run.rows += feeds.consume(project, CONSUMER, table, lambda batch: handle_batch(project, batch, now, run),
                                  now=now)
    return run


def handle_batch(project: Project, batch: FeedBatch, now: datetime, run: RulesRun | None = None) -> RulesRun:
    """Apply the active rules of ``batch.table`` to its rows (inside the feed's transaction)."""
    run = run if run is not None else RulesRun()
    rules = list(AlertRule.objects.filter(project=project, source=batch.table, active=True).select_related("team"))
    if not rules:
        return run
    conditions = {r.pk: parse_condition(r.condition) for r in rules}
    found = _facts_of_matches(project, batch.table, batch.rows, conditions.values(), now)
    for rule in rules:
        _apply_rule(project, rule, conditions[rule.pk], batch.table, found, now, run)
    return run


def _facts_of_matches(project: Project, table: str, rows: Sequence[Mapping[str, Any]],
                      conditions: Iterable[Condition], now: datetime) -> list[dict[str, Any]]:
    """Facts of the rows that match at least one condition, with the value at stake added
    (it sets a case's priority), computed once for all rules."""
    conditions = list(conditions)
    fields = {f for c in conditions for f in c.fields()}
    with POOL.use(project) as ws:
        found = facts_module.build_facts(ws, table, rows, now=now, fields=fields)
        hits = [f for f in found if any(c.matches(f) for c in conditions)]
        facts_module.add_value_at_stake(ws, hits, now=now)
    return hits


def _source_id(table: str, row: Mapping[str, Any]) -> str:
    if table == "signals":
        return signal_key(row)
    return str(row.get("response_id" if table == "responses" else "ticket_id") or "")


def signal_key(signal: Mapping[str, Any]) -> str:
    """A stable id of a flagged signal: kind, subject, slice and period."""
    parts = (signal.get("kind"), signal.get("subject"), signal.get("slice"), signal.get("period"))
    return ":".join(str(p or "") for p in parts)[:200]


def signal_facts(ws: Any, now: datetime) -> list[dict[str, Any]]:
    """The signals flagged at ``now`` as facts (kind, subject, slice, period, value, expected,
    direction, p_value…); emerging themes only when a theme model is fitted."""
    kind = "all" if (ws.path / "models" / "themes.json").is_file() else "anomalies"
    rows = [dict(r) for r in ws.signals(kind=kind, now=now).to_records()]
    for r in rows:
        if r.get("kind") != "anomaly":
            r.setdefault("theme", r.get("subject"))
    return rows


def evaluate_signals(project: Project, now: datetime) -> RulesRun:
    """The ``loop-signals`` job: rules with source 'signals' on the signals flagged now; a signal
    (kind, subject, slice, period) acts once per rule."""
    run = RulesRun()
    rules = list(AlertRule.objects.filter(project=project, source=Source.SIGNALS, active=True).select_related("team"))
    if not rules:
        return run
    with POOL.use(project) as ws:
        found = signal_facts(ws, now)
    run.rows = len(found)
    for rule in rules:
        with transaction.atomic():
            _apply_rule(project, rule, parse_condition(rule.condition), "signals", found, now, run)
    return run


def _apply_rule(project: Project, rule: AlertRule, cond: Condition, table: str, rows: Sequence[Mapping[str, Any]],
                now: datetime, run: RulesRun) -> None:
    hits = [f for f in rows if cond.matches(f)]
    rule.last_run_at = now
    if not hits:
        rule.save(update_fields=["last_run_at"])
        return
    done = _handled_ids(project, rule, table, [_source_id(table, f) for f in hits])
    fresh = [f for f in hits if _source_id(table, f) not in done]
    if not fresh:
        rule.save(update_fields=["last_run_at"])
        return
    run.matched += len(fresh)
    rule.matched += len(fresh)
    if rule.open_case:
        customers = {str(f.get("customer_id")) for f in fresh if f.get("customer_id")}
        already = set(Case.objects.filter(project=project, reason=rule.reason, customer_id__in=customers)
                      .exclude(status=Status.CLOSED).values_list("customer_id", flat=True))
        would_open = len(customers - already) + sum(1 for f in fresh if not f.get("customer_id"))
        if would_open > rule.max_cases_per_run:
            message = (f"This rule would open {would_open} cases at once (its limit is {rule.max_cases_per_run}), "
                       f"so it opened none for these {len(hits)} matching rows. Narrow the condition or raise "
                       f"the limit ('max_cases_per_run').")
            rule.last_error, rule.last_error_at = message, now
            rule.save(update_fields=["last_run_at", "matched", "last_error", "last_error_at"])
            run.guarded.append(rule.name)
            log.warning("rule %r of project %s: %s", rule.name, project.slug, message)
            return
    settings = sla_settings(project)
    for f in fresh:
        if rule.open_case:
            case, created = open_case(project, customer_id=str(f.get("customer_id") or ""), reason=rule.reason,
                                      now=now, rule=rule, source_table=table, source_id=_source_id(table, f),
                                      evidence=cond.evidence(f), facts=f, settings=settings)
            run.opened += int(created)
            rule.cases_opened += int(created)
        elif rule.notify:
            notify.enqueue(project, "rule.matched", {
                "event": "rule.matched", "project": project.slug, "rule": rule.name, "reason": rule.reason,
                "source_table": table, "source_id": _source_id(table, f), "customer_id": f.get("customer_id"),
                "evidence": cond.evidence(f)}, now=now, text=f"[{project.name}] {rule.name}: "
                f"{'; '.join(cond.evidence(f))} ({table} {_source_id(table, f)})", subject=f"Rule matched: {rule.name}")
            run.notified += 1
    rule.save(update_fields=["last_run_at", "matched", "cases_opened"])


def _handled_ids(project: Project, rule: AlertRule, table: str, source_ids: Sequence[str]) -> set[str]:
    """The rows (by id) that already have a case for the rule's reason, or that this
    notify-only rule notified about: each row acts once per rule."""
    from cxlens.web.loop.models import Delivery  # noqa: PLC0415

    done = set(Case.objects.filter(project=project, source_table=table, source_id__in=list(source_ids),
                                   reason=rule.reason).values_list("source_id", flat=True))
    if not rule.open_case:
        done |= {str(p.get("source_id")) for p in Delivery.objects.filter(
            project=project, event="rule.matched", payload__rule=rule.name).values_list("payload", flat=True)}
    return done


def evaluate_open_tickets(project: Project, now: datetime, *, limit: int = 5000) -> RulesRun:
    """The ``loop-tickets`` job: ticket rules on the tickets still open at ``now`` (newest first,
    at most ``limit``), so conditions on ``age_hours`` catch a ticket about to breach its SLA."""
    run = RulesRun()
    rules = list(AlertRule.objects.filter(project=project, source=Source.TICKETS, active=True).select_related("team"))
    if not rules:
        return run
    conditions = {r.pk: parse_condition(r.condition) for r in rules}
    with POOL.use(project) as ws:
        t = ws.table("tickets")
        still_open = t.filter(t.resolved_at.isnull())
        if "status" in t.columns:
            still_open = still_open.filter(still_open.status.isnull()
                                           | ~still_open.status.lower().isin(("resolved", "closed")))
        rows = still_open.order_by(still_open.created_at.desc()).limit(limit).to_pyarrow().to_pylist()
    found = _facts_of_matches(project, "tickets", rows, conditions.values(), now)
    run.rows = len(rows)
    for rule in rules:
        with transaction.atomic():
            _apply_rule(project, rule, conditions[rule.pk], "tickets", found, now, run)
    return run


def _open_case_exists(project: Project, customer_id: str, reason: str) -> bool:
    return Case.objects.filter(project=project, customer_id=customer_id, reason=reason).exclude(
        status=Status.CLOSED).exists()


# ------------------------------------------------------------------------------------ SLA


def sla_settings(project: Project) -> SlaSettings:
    found, _ = SlaSettings.objects.get_or_create(project=project)
    return found


def calendar_for(settings: SlaSettings) -> Any:
    from cxlens.loop import sla  # noqa: PLC0415

    if not settings.business_hours:
        return sla.BusinessCalendar.always(settings.timezone)
    return sla.parse_calendar({"timezone": settings.timezone, "days": settings.days, "opens": settings.opens,
                               "closes": settings.closes, "holidays": settings.holidays})


def policy_for(project: Project, priority: str, settings: SlaSettings | None = None) -> Any:
    from cxlens.loop import sla  # noqa: PLC0415

    settings = settings or sla_settings(project)
    target = settings.targets.get(priority) or settings.targets.get("normal") or {}
    return sla.SlaPolicy(timedelta(hours=float(target.get("acknowledge", 8))),
                         timedelta(hours=float(target.get("resolve", 40))), calendar_for(settings))


def update_sla_settings(project: Project, values: Mapping[str, Any]) -> SlaSettings:
    """Change the calendar and targets; checked by building the calendar before saving."""
    settings = sla_settings(project)
    if "timezone" in values:
        settings.timezone = str(values["timezone"]).strip()
    if "business_hours" in values:
        settings.business_hours = _bool("business_hours", values["business_hours"])
    if "days" in values:
        days = values["days"]
        settings.days = [d.strip().lower() for d in (days.split(",") if isinstance(days, str) else days) if d.strip()]
    for name in ("opens", "closes"):
        if name in values:
            setattr(settings, name, str(values[name]).strip())
    if "holidays" in values:
        hol = values["holidays"]
        settings.holidays = [h.strip() for h in (hol.split(",") if isinstance(hol, str) else hol) if h.strip()]
    if "targets" in values:
        settings.targets = {**settings.targets, **_check_targets(values["targets"])}
    if "high_value" in values:
        raw = values["high_value"]
        try:
            settings.high_value = None if raw in (None, "") else float(raw)
        except (TypeError, ValueError):
            raise CxlensInputError(f"The 'high_value' must be a number (or empty). Got {raw!r} instead.") from None
    calendar_for(settings)  # raises a clear error on a bad calendar
    settings.save()
    return settings


def _check_targets(targets: Any) -> dict[str, dict[str, float]]:
    if not isinstance(targets, Mapping):
        raise CxlensInputError("The SLA 'targets' must map each priority to {\"acknowledge\": hours, \"resolve\": "
                               "hours}.")
    out = {}
    for priority in PRIORITY_ORDER:
        item = targets.get(priority)
        if item is None:
            continue
        hours = {}
        for part in ("acknowledge", "resolve"):
            try:
                hours[part] = float(item[part])
            except (KeyError, TypeError, ValueError):
                raise CxlensInputError(f"The SLA target '{priority}.{part}' must be a number of hours. Got "
                                       f"{item.get(part) if isinstance(item, Mapping) else item!r} instead.") from None
            if hours[part] <= 0:
                raise CxlensInputError(f"The SLA target '{priority}.{part}' must be more than 0 hours. Got "
                                       f"{hours[part]:g} instead.")
        out[priority] = hours
    return out


def _due_times(policy: Any, opened_at: datetime) -> tuple[datetime, datetime]:
    due = policy.due_times(opened_at)
    return due.acknowledge_by, due.resolve_by


def business_hours(calendar: Any, start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return calendar.elapsed(start, end).total_seconds() / 3600


@dataclass(frozen=True)
class Clock:
    """One SLA clock of a case for the page: due time, whether met/breached, business hours spent."""

    name: str
    due_at: datetime | None
    done_at: datetime | None
    state: str  # running, met, breached, overdue (running past due)
    hours: float | None


def clocks(case: Case, now: datetime) -> tuple[Clock, Clock]:
    calendar = calendar_for(sla_settings(case.project))
    out = []
    for name, due, done in (("Acknowledge", case.ack_due_at, case.acknowledged_at),
                            ("Resolve", case.resolve_due_at, case.resolved_at)):
        end = done or now
        if due is None:
            state = "met" if done else "running"
        elif done is not None:
            state = "met" if done <= due else "breached"
        else:
            state = "overdue" if now > due else "running"
        out.append(Clock(name, due, done, state, business_hours(calendar, case.opened_at, end)))
    return out[0], out[1]


# ------------------------------------------------------------------------------------ cases


def raise_priority(priority: str) -> str:
    i = PRIORITY_ORDER.index(priority) if priority in PRIORITY_ORDER else 1
    return PRIORITY_ORDER[min(i + 1, len(PRIORITY_ORDER) - 1)]


def priority_for(base: str, value_at_stake: float | None, settings: SlaSettings) -> str:
    """The rule's priority, one level higher when the customer's value at stake reaches ``high_value``."""
    if settings.high_value is not None and value_at_stake is not None and value_at_stake >= settings.high_value:
        return raise_priority(base)
    return base


def open_case(project: Project, *, customer_id: str, reason: str, now: datetime, rule: AlertRule | None = None,
              source_table: str = "", source_id: str = "", evidence: Sequence[str] = (), title: str = "",
              priority: str | None = None, team: Team | None = None, owner: Any = None,
              facts: Mapping[str, Any] | None = None, actor: Any = None,
              settings: SlaSettings | None = None) -> tuple[Case, bool]:
    """Open a case, or return the open one of the same customer and reason (``created`` False)."""
    customer_id, reason = customer_id.strip()[:200], reason.strip()[:200]
    if not reason:
        raise CxlensInputError("A case needs a 'reason' (e.g. 'detractor' or 'billing error').")
    who = as_actor(actor) if actor is not None else Actor(label=f"rule: {rule.name}" if rule else "system")
    if customer_id:
        existing = Case.objects.filter(project=project, customer_id=customer_id, reason=reason).exclude(
            status=Status.CLOSED).first()
        if existing is not None:
            record(existing, "matched", who, now, note="; ".join(evidence) or f"{source_table} {source_id}".strip())
            return existing, False
    settings = settings or sla_settings(project)
    facts = facts or {}
    value = facts.get("value_at_stake")
    chosen = _choice("priority", priority, PRIORITY_ORDER) if priority else priority_for(
        rule.priority if rule else Priority.NORMAL, value, settings)
    ack_due, resolve_due = _due_times(policy_for(project, chosen, settings), now)
    theme = str(facts.get("theme") or "")
    try:
        with transaction.atomic():
            case = Case.objects.create(
                project=project, customer_id=customer_id, reason=reason, theme=theme[:200], rule=rule,
                title=(title or _title(reason, facts))[:300], source_table=source_table, source_id=source_id[:200],
                evidence=list(evidence), value_at_stake=value if isinstance(value, (int, float)) else None,
                priority=chosen, opened_at=now, ack_due_at=ack_due, resolve_due_at=resolve_due,
                team=team or (rule.team if rule else None), changed_at=now)
    except IntegrityError:  # opened by someone else in the meantime: the database keeps one open case
        existing = Case.objects.filter(project=project, customer_id=customer_id, reason=reason).exclude(
            status=Status.CLOSED).first()
        if existing is None:
            raise
        return existing, False
    record(case, "opened", who, now, note="; ".join(evidence))
    if owner is not None:
        assign(case, owner, who, now, announce=False)
    else:
        auto_assign(case, now, who)
    notify.enqueue(project, "case.opened", case_payload(case, "case.opened"), now=now, case=case,
                   text=_case_line(case, "opened"), subject=f"[{project.name}] New case {case.case_id}: {case.title}")
    if rule is not None and rule.acknowledge_customer:
        acknowledge_customer(case, now)
    return case, True


def _title(reason: str, facts: Mapping[str, Any]) -> str:
    score = next((f"{k.upper()} {facts[k]}" for k in ("nps", "csat", "ces") if facts.get(k) is not None), "")
    comment = str(facts.get("comment") or facts.get("subject") or "").strip()
    parts = [reason, score, f"“{comment[:120]}”" if comment else ""]
    return " · ".join(p for p in parts if p)


def _case_line(case: Case, what: str) -> str:
    owner = case.owner.get_username() if case.owner else "nobody yet"
    return (f"Case {case.case_id} {what}: {case.title} (customer {case.customer_id or '-'}, priority {case.priority},"
            f" owner {owner})")


def case_payload(case: Case, event: str) -> dict[str, Any]:
    from cxlens.web import mail  # noqa: PLC0415

    return {"event": event, "project": case.project.slug, "case": case_dict(case),
            "url": mail.absolute_url(f"/p/{case.project.slug}/cases/{case.pk}/")}


def case_dict(case: Case) -> dict[str, Any]:
    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {"case_id": case.case_id, "id": case.pk, "customer_id": case.customer_id, "title": case.title,
            "reason": case.reason, "theme": case.theme, "priority": case.priority, "status": case.status,
            "owner": case.owner.get_username() if case.owner else None, "team": case.team.name if case.team else None,
            "rule": case.rule.name if case.rule else None, "source_table": case.source_table,
            "source_id": case.source_id, "evidence": list(case.evidence), "value_at_stake": case.value_at_stake,
            "opened_at": iso(case.opened_at), "acknowledged_at": iso(case.acknowledged_at),
            "resolved_at": iso(case.resolved_at), "closed_at": iso(case.closed_at), "ack_due_at": iso(case.ack_due_at),
            "resolve_due_at": iso(case.resolve_due_at), "root_cause": case.root_cause, "resolution": case.resolution,
            "reopened": case.reopened, "customer_contacted": case.customer_contacted, "followup": case.followup}


def event_dict(e: CaseEvent) -> dict[str, Any]:
    return {"at": e.at.isoformat(), "who": e.who, "kind": e.kind, "field": e.field, "old": e.old, "new": e.new,
            "note": e.note}


def can_work(user: Any, project: Project) -> bool:
    """Analysts and admins of the project (active users) may own and work cases."""
    if not getattr(user, "is_active", False):
        return False
    if user.is_superuser:
        return True
    return Membership.objects.filter(user=user, project=project, role__in=(Role.ANALYST, Role.ADMIN)).exists()


def assign(case: Case, owner: Any, actor: Any, now: datetime, *, announce: bool = True) -> Case:
    """Give ``case`` to ``owner`` (None: unassign); the owner must be an active analyst or admin."""
    who = as_actor(actor)
    if owner is not None and not can_work(owner, case.project):
        raise CxlensInputError(f"'{owner.get_username()}' cannot own cases of this project: owners must be active "
                               f"analysts or admins of it.")
    if owner == case.owner:
        return case
    old = case.owner
    case.owner = owner
    _touch(case, now)
    case.save()
    record(case, "assigned", who, now, field_name="owner", old=old, new=owner)
    if announce:
        notify.enqueue(case.project, "case.assigned", case_payload(case, "case.assigned"), now=now, case=case,
                       text=_case_line(case, "assigned"), subject=f"Case {case.case_id} assigned to "
                       f"{owner.get_username() if owner else 'nobody'}")
    return case


def auto_assign(case: Case, now: datetime, actor: Actor = SYSTEM) -> Any:
    """Give the case to the next active member of its team (round-robin); None when nobody can take it."""
    team = case.team
    if team is None:
        return None
    with transaction.atomic():
        team = Team.objects.select_for_update().get(pk=team.pk)
        members = [u for u in team.members.order_by("pk") if can_work(u, case.project)]
        if not members:
            return None
        owner = members[team.next_index % len(members)]
        team.next_index = (team.next_index % len(members)) + 1
        team.save(update_fields=["next_index"])
    assign(case, owner, Actor(label=f"team {team.name} (round-robin)") if actor is SYSTEM else actor, now,
           announce=False)
    return owner


#: Allowed moves; going back from resolved or closed to in progress is a reopen.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    Status.NEW: (Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED),
    Status.ACKNOWLEDGED: (Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED),
    Status.IN_PROGRESS: (Status.RESOLVED, Status.CLOSED),
    Status.RESOLVED: (Status.CLOSED, Status.IN_PROGRESS),
    Status.CLOSED: (Status.IN_PROGRESS,),
}

#: Button names of the case page and the API's "action" for each target status.
ACTIONS: dict[str, str] = {"acknowledge": Status.ACKNOWLEDGED, "start": Status.IN_PROGRESS,
                           "resolve": Status.RESOLVED, "close": Status.CLOSED, "reopen": Status.IN_PROGRESS}


def allowed_actions(case: Case) -> list[str]:
    moves = TRANSITIONS[case.status]
    out = [a for a, s in ACTIONS.items() if s in moves and a != "reopen" and a != "start"]
    if Status.IN_PROGRESS in moves:
        out.insert(0 if case.status in (Status.NEW, Status.ACKNOWLEDGED) else len(out),
                   "reopen" if case.status in (Status.RESOLVED, Status.CLOSED) else "start")
    order = ("acknowledge", "start", "resolve", "close", "reopen")
    return sorted(out, key=order.index)


def transition(case: Case, to: str, actor: Any, now: datetime, *, note: str = "") -> Case:
    """Move ``case`` to status ``to`` (or by action name: acknowledge, start, resolve, close, reopen)."""
    target = ACTIONS.get(to, to)
    _choice("status", target, Status.values)
    who = as_actor(actor)
    if target == case.status:
        return case
    if target not in TRANSITIONS[case.status]:
        raise LoopError(f"A {case.status} case cannot move to {target}. From {case.status} it can move to: "
                        f"{', '.join(TRANSITIONS[case.status])}.")
    old = case.status
    reopening = old in (Status.RESOLVED, Status.CLOSED) and target == Status.IN_PROGRESS
    if reopening and old == Status.CLOSED and case.customer_id and _open_case_exists(
            case.project, case.customer_id, case.reason):
        other = Case.objects.filter(project=case.project, customer_id=case.customer_id, reason=case.reason).exclude(
            status=Status.CLOSED).first()
        raise CaseConflict(f"Customer {case.customer_id} has an open case for {case.reason!r} already "
                           f"({other.case_id if other else '?'}); work on that one instead of reopening this one.")
    case.status = target
    if target != Status.NEW and case.acknowledged_at is None:
        case.acknowledged_at = now
    if target in (Status.RESOLVED, Status.CLOSED) and case.resolved_at is None:
        case.resolved_at = now
    if target == Status.CLOSED:
        case.closed_at = now
    if reopening:
        case.reopened += 1
        case.resolved_at, case.closed_at = None, None
    _touch(case, now)
    with transaction.atomic():
        case.save()
        record(case, "reopened" if reopening else "status", who, now, field_name="status", old=old, new=target,
               note=note)
    event = {Status.RESOLVED: "case.resolved", Status.CLOSED: "case.closed"}.get(target)
    if reopening:
        event = "case.reopened"
    if event:
        notify.enqueue(case.project, event, case_payload(case, event), now=now, case=case,
                       text=_case_line(case, target.replace("_", " ")), subject=f"Case {case.case_id} {target}")
    if target == Status.CLOSED:
        send_followup(case, now)
    return case


def add_note(case: Case, text: str, actor: Any, now: datetime) -> CaseEvent:
    text = text.strip()
    if not text:
        raise CxlensInputError("A note must not be empty.")
    _touch(case, now)
    case.save(update_fields=["changed_at", "revision"])
    return record(case, "note", as_actor(actor), now, note=text[:10_000])


def update_case(case: Case, values: Mapping[str, Any], actor: Any, now: datetime) -> Case:
    """Change root cause, resolution, priority or title (each change recorded)."""
    who = as_actor(actor)
    allowed = ("root_cause", "resolution", "priority", "title")
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise CxlensInputError(f"Unknown case field '{unknown[0]}'. Fields that can change: {', '.join(allowed)}.")
    changed = []
    for name in allowed:
        if name not in values:
            continue
        value = str(values[name] or "").strip()
        if name == "priority":
            value = _choice("priority", value, PRIORITY_ORDER)
        value = value[:10_000 if name == "resolution" else 200]
        if value != getattr(case, name):
            changed.append((name, getattr(case, name), value))
            setattr(case, name, value)
    if changed:
        _touch(case, now)
        with transaction.atomic():
            case.save()
            for name, old, new in changed:
                record(case, "changed", who, now, field_name=name, old=old, new=new)
    return case


def mark_contacted(case: Case, actor: Any, now: datetime, note: str = "") -> Case:
    """Record that the customer was contacted (by phone, mail…) outside cxlens."""
    if case.customer_contacted:
        return case
    case.customer_contacted = True
    _touch(case, now)
    with transaction.atomic():
        case.save(update_fields=["customer_contacted", "changed_at", "revision"])
        record(case, "changed", as_actor(actor), now, field_name="customer_contacted", old="no", new="yes", note=note)
    return case


def create_manual_case(project: Project, values: Mapping[str, Any], actor: Any, now: datetime) -> Case:
    """A case opened by hand (customer, reason, priority, title, owner or team)."""
    owner = None
    if values.get("owner"):
        owner = get_user_model().objects.filter(username=values["owner"]).first()
        if owner is None:
            raise CxlensInputError(f"There is no user {values['owner']!r}.")
    team = find_team(project, values["team"]) if values.get("team") else None
    case, created = open_case(project, customer_id=str(values.get("customer_id") or ""),
                              reason=str(values.get("reason") or ""), now=now, title=str(values.get("title") or ""),
                              priority=str(values.get("priority") or "") or None, team=team, owner=owner,
                              actor=as_actor(actor))
    if not created:
        raise CaseConflict(f"Customer {case.customer_id} has an open case for {case.reason!r} already "
                           f"({case.case_id}); add a note to it instead.")
    return case


def bulk_assign(project: Project, ids: Sequence[int | str], owner: Any, actor: Any, now: datetime) -> int:
    cases = list(Case.objects.filter(project=project, pk__in=[int(i) for i in ids if str(i).isdigit()]))
    if not cases:
        raise CxlensInputError("Select at least one case to assign.")
    for case in cases:
        assign(case, owner, actor, now)
    return len(cases)


# --------------------------------------------------------------------- customer contact


def acknowledge_customer(case: Case, now: datetime) -> bool:
    """Queue the acknowledgement email to the customer (address known and consent allowing)."""
    if not case.customer_id:
        return False
    address, problem = _customer_address(case.project, case.customer_id, now)
    if problem:
        record(case, "customer", SYSTEM, now, note=f"No acknowledgement sent: {problem}.")
        return False
    lang = customer_language(case)
    subject = i18n.text(lang, "ack_subject", case=case.case_id)
    text = (f"{i18n.text(lang, 'mail_hello')}\n\n{i18n.text(lang, 'ack_body', case=case.case_id)}\n\n"
            f"{i18n.text(lang, 'ack_regards')}\n{case.project.name}\n")
    notify.enqueue_email(case.project, [address], subject, text, event="customer.acknowledgement", now=now, case=case,
                         language=lang)
    record(case, "customer", SYSTEM, now, note=f"Acknowledgement queued to {address}.")
    return True


def customer_language(case: Case) -> str:
    """The language to write to the case's customer in: the first that customer e-mails have words
    for (``i18n.UI``) of the contact's language, the language they answered the hosted survey behind
    the case in, that survey's default and the follow-up survey's default; else English."""
    from cxlens.web.distribution import service as distribution  # noqa: PLC0415
    from cxlens.web.surveys.models import Survey  # noqa: PLC0415

    contact = distribution.contact_for(case.project, case.customer_id) if case.customer_id else None
    wanted = [contact.language if contact is not None else None, *_response_languages(case)]
    followup = sla_settings(case.project).followup_survey
    if followup:
        languages = Survey.objects.filter(project=case.project, slug=followup).values_list("language", flat=True)
        wanted.append(languages.first())
    return i18n.pick(list(i18n.UI), wanted) or "en"


def _response_languages(case: Case) -> list[str]:
    """The language of the hosted response that opened ``case`` and its survey's default (none when the
    case comes from another row; a hosted response's id is ``SLUG-PUBLICID``)."""
    from cxlens.web.surveys.models import Response  # noqa: PLC0415

    slug, _, public_id = case.source_id.rpartition("-")
    if case.source_table != "responses" or not slug:
        return []
    found = Response.objects.select_related("survey").filter(survey__project=case.project, survey__slug=slug,
                                                            public_id=public_id).first()
    return [found.language, found.survey.language] if found is not None else []


def _customer_address(project: Project, customer_id: str, now: datetime) -> tuple[str, str]:
    try:
        from cxlens.web.distribution import service as distribution  # noqa: PLC0415
    except ImportError:  # pragma: no cover - the distribution app is part of the web extra
        distribution = None
    if distribution is not None:
        if not distribution.consent_allows(project, customer_id, now):
            return "", "the customer's consent does not allow email"
        address = distribution.resolve_email(project, customer_id)
    else:  # pragma: no cover
        with POOL.use(project) as ws:
            address = str(facts_module.customer_rows(ws, [customer_id]).get(customer_id, {}).get("email") or "")
    if not address:
        return "", "no e-mail address is known for the customer"
    return address, ""


FOLLOWUP_PRESET = "case-followup"


def followup_survey(project: Project, now: datetime) -> Any:
    """The project's live follow-up survey (made from the ``case-followup`` preset on first use)."""
    from cxlens.web.surveys import service as surveys  # noqa: PLC0415
    from cxlens.web.surveys.models import Status as SurveyStatus  # noqa: PLC0415
    from cxlens.web.surveys.models import Survey  # noqa: PLC0415
    from cxlens.web.surveys.presets import PRESETS  # noqa: PLC0415

    settings = sla_settings(project)
    survey = Survey.objects.filter(project=project, slug=settings.followup_survey).first() \
        if settings.followup_survey else None
    if survey is None:
        if FOLLOWUP_PRESET not in PRESETS:
            raise LoopError(f"The survey template {FOLLOWUP_PRESET!r} is not installed, so no follow-up survey "
                            f"can be sent.")
        slug = f"{project.slug}-case-followup"[:60]
        survey = Survey.objects.filter(slug=slug).first() or surveys.create_survey(
            project, FOLLOWUP_PRESET, "Did we resolve your issue?", slug)
        settings.followup_survey = survey.slug
        settings.save(update_fields=["followup_survey"])
    if survey.status == SurveyStatus.DRAFT:
        surveys.publish(survey, now)
    return survey


def _followup_context(case: Case) -> dict[str, str]:
    context = {"case_id": case.case_id}
    if case.source_table == "tickets" and case.source_id:
        context["ticket_id"] = case.source_id
    return context


def send_followup(case: Case, now: datetime) -> str:
    """Invite the customer to the follow-up survey after the case closes; record the outcome."""
    if not case.customer_id:
        return ""
    try:
        from cxlens.web.distribution import service as distribution  # noqa: PLC0415

        result = distribution.invite(followup_survey(case.project, now), customer_id=case.customer_id, email="",
                                     now=now, channel="email", reason=f"case {case.case_id} closed",
                                     context=_followup_context(case))
        outcome = result.status if not result.reason else f"{result.status}: {result.reason}"
    except CxlensError as exc:
        outcome = f"not sent: {exc}"
    case.followup = outcome[:200]
    _touch(case, now)
    case.save(update_fields=["followup", "changed_at", "revision"])
    record(case, "followup", SYSTEM, now, note=f"Follow-up survey {outcome}")
    return outcome


# ------------------------------------------------------------------------ jobs' work


def escalate_overdue(project: Project, now: datetime) -> int:
    """Cases past an SLA deadline: raise the priority and notify, once per breach."""
    done = 0
    ack = Case.objects.filter(project=project, status=Status.NEW, acknowledged_at__isnull=True,
                              ack_due_at__lt=now, ack_escalated_at__isnull=True)
    res = Case.objects.filter(project=project, status__in=OPEN_STATUSES, resolved_at__isnull=True,
                              resolve_due_at__lt=now, resolve_escalated_at__isnull=True)
    for kind, queryset in (("acknowledge", ack), ("resolve", res)):
        for case in queryset.select_related("owner", "team", "rule", "project"):
            with transaction.atomic():
                old = case.priority
                case.priority = raise_priority(old)
                setattr(case, "ack_escalated_at" if kind == "acknowledge" else "resolve_escalated_at", now)
                _touch(case, now)
                case.save()
                due = case.ack_due_at if kind == "acknowledge" else case.resolve_due_at
                record(case, "escalated", Actor(label="SLA escalation"), now, field_name="priority", old=old,
                       new=case.priority, note=f"Not {kind}d by {due:%Y-%m-%d %H:%M %Z}.")
                notify.enqueue(project, "case.escalated", {**case_payload(case, "case.escalated"), "breach": kind},
                               now=now, case=case, text=_case_line(case, f"is overdue ({kind})"),
                               subject=f"Overdue case {case.case_id} ({kind})")
            done += 1
    return done


def reassign_inactive(project: Project, now: datetime) -> int:
    """Open cases whose owner was deactivated (or lost the role) go to their team or nobody."""
    moved = 0
    for case in Case.objects.filter(project=project, owner__isnull=False).exclude(status=Status.CLOSED) \
            .select_related("owner", "team"):
        if can_work(case.owner, project):
            continue
        gone = case.owner.get_username()
        actor = Actor(label=f"reassignment ({gone} can no longer own cases)")
        with transaction.atomic():
            assign(case, None, actor, now, announce=False)
            owner = auto_assign(case, now, actor)
            if owner is None:
                notify.enqueue(project, "case.assigned", case_payload(case, "case.assigned"), now=now, case=case,
                               text=_case_line(case, f"lost its owner {gone}"), subject=f"Case {case.case_id} "
                               f"needs an owner")
        moved += 1
    return moved


SNAPSHOT_COLUMNS = ("case_id", "customer_id", "opened_at", "acknowledged_at", "resolved_at", "closed_at", "status",
                    "priority", "reason", "theme", "owner", "team", "source_table", "source_id", "ack_due_at",
                    "resolve_due_at", "ack_business_hours", "close_business_hours", "reopened", "customer_contacted")


def snapshot_row(case: Case, calendar: Any) -> dict[str, Any]:
    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {"case_id": case.case_id, "customer_id": case.customer_id or None, "opened_at": iso(case.opened_at),
            "acknowledged_at": iso(case.acknowledged_at), "resolved_at": iso(case.resolved_at),
            "closed_at": iso(case.closed_at), "status": case.status, "priority": case.priority,
            "reason": case.reason, "theme": case.theme or None,
            "owner": case.owner.get_username() if case.owner else None,
            "team": case.team.name if case.team else None, "source_table": case.source_table or None,
            "source_id": case.source_id or None, "ack_due_at": iso(case.ack_due_at),
            "resolve_due_at": iso(case.resolve_due_at),
            "ack_business_hours": business_hours(calendar, case.opened_at, case.acknowledged_at),
            "close_business_hours": business_hours(calendar, case.opened_at, case.closed_at),
            "reopened": case.reopened, "customer_contacted": case.customer_contacted}


def snapshot_cases(project: Project, now: datetime, *, limit: int = 5000) -> int:
    """Write every case changed since its last snapshot to the warehouse ``cases`` table."""
    from cxlens.schema import TABLES  # noqa: PLC0415
    from cxlens.web.api import rows_to_arrow  # noqa: PLC0415

    if "cases" not in TABLES:
        return 0
    changed = list(Case.objects.filter(project=project, synced_revision__lt=models_f("revision"))
                   .select_related("owner", "team")[:limit])
    if not changed:
        return 0
    calendar = calendar_for(sla_settings(project))
    rows = [snapshot_row(c, calendar) for c in changed]
    with POOL.use(project) as ws:
        report = ws.import_data("cases", rows_to_arrow(rows), on_conflict="update", source_name="loop:cases", now=now)
    if report.rejected:
        raise LoopError(f"{report.rejected} case snapshot rows were rejected by the warehouse (import "
                        f"{report.import_id}); see its quarantine.")
    for c in changed:
        Case.objects.filter(pk=c.pk, revision=c.revision).update(synced_revision=c.revision)
    return len(changed)


def models_f(name: str) -> Any:
    from django.db.models import F  # noqa: PLC0415

    return F(name)


# ------------------------------------------------------------------------------------ reading


@dataclass(frozen=True)
class InboxFilter:
    status: str = "open"  # open, all, or a status
    priority: str = ""
    owner: str = ""  # a username, "me" or "none"
    overdue: bool = False
    reason: str = ""
    customer_id: str = ""

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> InboxFilter:
        status = str(params.get("status") or "open")
        _choice("status", status, ("open", "all", *Status.values))
        priority = str(params.get("priority") or "")
        if priority:
            _choice("priority", priority, PRIORITY_ORDER)
        return cls(status, priority, str(params.get("owner") or ""), _bool("overdue", params.get("overdue") or ""),
                   str(params.get("reason") or "").strip(), str(params.get("customer_id") or "").strip())


def overdue_q(now: datetime) -> Q:
    return (Q(acknowledged_at__isnull=True, ack_due_at__lt=now) | Q(resolved_at__isnull=True, resolve_due_at__lt=now)
            ) & ~Q(status=Status.CLOSED)


def inbox(project: Project, flt: InboxFilter, user: Any, now: datetime) -> QuerySet[Case]:
    qs = Case.objects.filter(project=project).select_related("owner", "team", "rule")
    if flt.status == "open":
        qs = qs.exclude(status=Status.CLOSED)
    elif flt.status != "all":
        qs = qs.filter(status=flt.status)
    if flt.priority:
        qs = qs.filter(priority=flt.priority)
    if flt.owner == "me":
        qs = qs.filter(owner=user if getattr(user, "is_authenticated", False) else None)
    elif flt.owner == "none":
        qs = qs.filter(owner__isnull=True)
    elif flt.owner:
        qs = qs.filter(owner__username=flt.owner)
    if flt.overdue:
        qs = qs.filter(overdue_q(now))
    if flt.reason:
        qs = qs.filter(reason=flt.reason)
    if flt.customer_id:
        qs = qs.filter(customer_id=flt.customer_id)
    return qs


def is_overdue(case: Case, now: datetime) -> bool:
    if case.status == Status.CLOSED:
        return False
    return bool((case.acknowledged_at is None and case.ack_due_at and case.ack_due_at < now)
                or (case.resolved_at is None and case.resolve_due_at and case.resolve_due_at < now))


def cases_for_customer(project: Project, customer_id: str, limit: int = 50) -> list[Case]:
    """The customer's cases, newest first (for the customer 360 page)."""
    return list(Case.objects.filter(project=project, customer_id=customer_id).select_related("owner")[:limit])


def workers(project: Project) -> list[Any]:
    """Users who may own cases of ``project`` (for the owner pickers)."""
    ids = Membership.objects.filter(project=project, role__in=(Role.ANALYST, Role.ADMIN)).values_list("user_id",
                                                                                                       flat=True)
    return list(get_user_model().objects.filter(pk__in=list(ids), is_active=True).order_by("username"))


def get_case(project: Project, ref: Any) -> Case:
    text = str(ref).strip()
    pk = text[1:] if text[:1] in ("C", "c") else text
    case = Case.objects.filter(project=project, pk=int(pk)).select_related("owner", "team", "rule").first() \
        if pk.isdigit() else None
    if case is None:
        raise LookupError(f"No case {text!r} in project '{project.slug}'.")
    return case


def find_user(username: str) -> Any:
    if not username or username == "none":
        return None
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise CxlensInputError(f"There is no user {username!r}; the 'owner' must be a username.")
    return user


def channel_kinds() -> tuple[str, ...]:
    return tuple(ChannelKind.values)


def create_channel(project: Project, values: Mapping[str, Any]) -> tuple[Channel, str]:
    """A new channel; returns it and its signing secret (webhooks; shown once, never again)."""
    from cxlens.web.loop.models import EVENTS  # noqa: PLC0415

    name = str(values.get("name") or "").strip()
    if not name:
        raise CxlensInputError("The channel's 'name' must not be empty.")
    if Channel.objects.filter(project=project, name=name).exists():
        raise CxlensInputError(f"A channel named {name!r} exists already; choose another 'name'.")
    kind = _choice("kind", values.get("kind"), ChannelKind.values)
    url = str(values.get("url") or "").strip()
    emails: list[str] = []
    if kind == ChannelKind.EMAIL:
        raw = values.get("emails") or ""
        emails = [e.strip() for e in (raw.replace(";", ",").split(",") if isinstance(raw, str) else raw) if e.strip()]
        bad = [e for e in emails if "@" not in e or " " in e]
        if not emails or bad:
            raise CxlensInputError(f"An email channel needs one or more addresses in 'emails' (comma-separated). "
                                   f"Got {', '.join(bad) or 'none'} instead.")
    elif not url.startswith(("http://", "https://")):
        raise CxlensInputError(f"A {kind} channel needs a 'url' starting with http:// or https://. Got {url!r} "
                               f"instead.")
    raw_events = values.get("events") or []
    events = [e.strip() for e in (raw_events.split(",") if isinstance(raw_events, str) else raw_events) if e.strip()]
    bad_events = [e for e in events if e not in EVENTS]
    if bad_events:
        raise CxlensInputError(f"The 'events' must be among {', '.join(EVENTS)} (empty: all). Got "
                               f"{', '.join(bad_events)} instead.")
    secret = notify.new_secret() if kind == ChannelKind.WEBHOOK else ""
    channel = Channel.objects.create(project=project, name=name[:100], kind=kind, url=url[:1000], secret=secret,
                                     emails=emails, events=events)
    return channel, secret


def save_team(project: Project, name: str, usernames: Sequence[str]) -> Team:
    name = name.strip()
    if not name:
        raise CxlensInputError("The team's 'name' must not be empty.")
    users = [find_user(u.strip()) for u in usernames if u.strip()]
    for user in users:
        if not can_work(user, project):
            raise CxlensInputError(f"'{user.get_username()}' cannot join a team: team members must be active "
                                   f"analysts or admins of this project.")
    team, _ = Team.objects.get_or_create(project=project, name=name[:100])
    team.members.set(users)
    return team
