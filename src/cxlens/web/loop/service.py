"""What the closed loop does: alert rules on new rows, cases (open, assign, work, close),
SLA clocks and escalation, customer acknowledgement and follow-up, the warehouse snapshot.

Views and the API only parse requests and call these functions; every change of a case is
recorded as a ``CaseEvent`` (who, when, which field, old → new).
"""

from __future__ import annotations

import logging
import math
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


class FieldError(CxlensInputError):
    """A value that is not allowed, with the name of its ``field`` (the API's error ``field``)."""

    code = "invalid_input"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


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
        raise FieldError(name, f"The '{name}' must be one of {', '.join(options)}. Got {value!r} instead.")
    return str(value)


def _bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "on", "1", "yes"):
        return True
    if text in ("false", "off", "0", "no", ""):
        return False
    raise FieldError(name, f"The '{name}' must be true or false. Got {value!r} instead.")


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


SLA_FIELDS = ("timezone", "business_hours", "days", "opens", "closes", "holidays", "targets", "high_value",
              "followup_survey")
CALENDAR_FIELDS = ("timezone", "days", "opens", "closes", "holidays")
CALENDAR_CHECKS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("timezone", ("timezone",)), ("days", ("days",)), ("opens", ("opens",)), ("closes", ("opens", "closes")),
    ("holidays", ("holidays",)))
MAX_HOLIDAYS = 1000
#: A target must be reachable within this many years of the calendar's business hours.
MAX_TARGET_YEARS = 5


def update_sla_settings(project: Project, values: Mapping[str, Any]) -> SlaSettings:
    """Change the fields given of the calendar, the targets, the high-value threshold and the
    follow-up survey. Everything is checked before anything is saved; the calendar is stored in
    its canonical form (day names, HH:MM, sorted ISO dates)."""
    unknown = sorted(set(values) - set(SLA_FIELDS))
    if unknown:
        raise FieldError(unknown[0], f"Unknown SLA setting '{unknown[0]}'. The settings are: {', '.join(SLA_FIELDS)}.")
    settings = sla_settings(project)
    calendar = _calendar_of(settings, values)
    for name, value in calendar.to_dict().items():
        setattr(settings, name, value)
    if "business_hours" in values:
        settings.business_hours = _bool("business_hours", values["business_hours"])
    if "targets" in values:
        settings.targets = _merged_targets(settings.targets, values["targets"])
    _check_reachable(settings.targets, calendar, settings.business_hours)
    if "high_value" in values:
        settings.high_value = _high_value(values["high_value"])
    if "followup_survey" in values:
        settings.followup_survey = _followup_slug(project, values["followup_survey"])
    settings.save()
    return settings


def _calendar_of(settings: SlaSettings, values: Mapping[str, Any]) -> Any:
    """The business calendar of ``settings`` with the calendar fields of ``values`` applied."""
    from cxlens.loop import sla  # noqa: PLC0415

    merged = {name: values.get(name, getattr(settings, name)) for name in CALENDAR_FIELDS}
    zone = merged["timezone"]
    if not isinstance(zone, str) or len(zone.strip()) > 60:
        raise FieldError("timezone", "The 'timezone' must be an IANA zone name such as 'Europe/Berlin' (at most 60 "
                         f"characters). Got {str(zone)[:80]!r} instead.")
    merged["timezone"] = zone.strip()
    holidays = merged["holidays"]
    if isinstance(holidays, list | tuple) and len(holidays) > MAX_HOLIDAYS:
        raise FieldError("holidays", f"The 'holidays' may list at most {MAX_HOLIDAYS} dates. Got {len(holidays)}.")
    for name, keys in CALENDAR_CHECKS:  # one field at a time, so that the error names its field
        try:
            sla.parse_calendar({k: merged[k] for k in keys})
        except CxlensInputError as exc:
            raise FieldError(name, str(exc)) from None
    calendar = sla.parse_calendar(merged)
    for name in ("opens", "closes"):
        value = getattr(calendar, name)
        if value.second or value.microsecond:
            raise FieldError(name, f"The '{name}' time must be hours and minutes such as '09:00'. Got "
                             f"{merged[name]!r} instead.")
    return calendar


def _merged_targets(current: Mapping[str, Any], given: Any) -> dict[str, dict[str, float]]:
    """``current`` targets with the hours given in ``given`` ({priority: {"acknowledge": h, "resolve": h}},
    either part may be left out)."""
    from cxlens.web.loop.models import default_targets  # noqa: PLC0415

    shape = 'a mapping of priorities to {"acknowledge": hours, "resolve": hours}'
    if not isinstance(given, Mapping):
        raise FieldError("targets", f"The SLA 'targets' must be {shape}. Got {given!r} instead.")
    unknown = [str(p) for p in given if p not in PRIORITY_ORDER]
    if unknown:
        raise FieldError(f"targets.{unknown[0]}", f"Unknown priority {unknown[0]!r} in the SLA 'targets'. The "
                         f"priorities are: {', '.join(PRIORITY_ORDER)}.")
    out = {p: dict(current.get(p) or default_targets()[p]) for p in PRIORITY_ORDER}
    for priority, item in given.items():
        if not isinstance(item, Mapping) or not item or set(item) - {"acknowledge", "resolve"}:
            raise FieldError(f"targets.{priority}", f"The SLA target '{priority}' must be "
                             f"{{\"acknowledge\": hours, \"resolve\": hours}} (either may be left out). Got {item!r} "
                             "instead.")
        for part, raw in item.items():
            out[priority][part] = _target_hours(f"{priority}.{part}", raw)
    return out


def _target_hours(name: str, raw: Any) -> float:
    try:
        hours = float(raw) if not isinstance(raw, bool) else math.nan
    except (TypeError, ValueError):
        hours = math.nan
    if not math.isfinite(hours):
        raise FieldError(f"targets.{name}", f"The SLA target '{name}' must be a number of hours. Got {raw!r} instead.")
    if hours <= 0:
        raise FieldError(f"targets.{name}", f"The SLA target '{name}' must be more than 0 hours. Got {hours:g} "
                         "instead.")
    return hours


def _check_reachable(targets: Mapping[str, Mapping[str, float]], calendar: Any, business_hours: bool) -> None:
    """Refuse a target the calendar needs more than ``MAX_TARGET_YEARS`` to reach (a due time would
    lie beyond any useful horizon, or beyond the last representable date)."""
    closes = 24.0 if calendar.closes.hour == calendar.closes.minute == 0 else \
        calendar.closes.hour + calendar.closes.minute / 60
    weekly = 168.0 if not business_hours else \
        len(calendar.days) * (closes - calendar.opens.hour - calendar.opens.minute / 60)
    limit = weekly * 52 * MAX_TARGET_YEARS
    for priority, hours in targets.items():
        for part, value in hours.items():
            if float(value) > limit:
                raise FieldError(f"targets.{priority}.{part}", f"The SLA target '{priority}.{part}' of "
                                 f"{float(value):g} hours would take more than {MAX_TARGET_YEARS} years of this "
                                 f"calendar's {weekly:g} business hours a week. Give at most {limit:g} hours, or "
                                 "widen the calendar.")


def _high_value(raw: Any) -> float | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    try:
        value = float(raw) if not isinstance(raw, bool) else math.nan
    except (TypeError, ValueError):
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise FieldError("high_value", "The 'high_value' must be a number of 0 or more (or empty: never raise the "
                         f"priority). Got {raw!r} instead.")
    return value


def _followup_slug(project: Project, raw: Any) -> str:
    """The slug of one of the project's surveys, or "" (the ``case-followup`` survey, made on first use)."""
    from cxlens.web.surveys.models import Survey  # noqa: PLC0415

    slug = _printable("followup_survey", str(raw or "").strip())
    if not slug:
        return ""
    if not Survey.objects.filter(project=project, slug=slug).exists():
        slugs = list(Survey.objects.filter(project=project).values_list("slug", flat=True)[:20])
        raise FieldError("followup_survey", f"There is no survey {slug!r} in this project for the 'followup_survey' "
                         f"(surveys: {', '.join(slugs) or 'none yet'}; empty: the case follow-up survey, made on "
                         "first use).")
    return slug


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
    if owner is not None:
        mail_owner(case, owner, who, now)
    return case


OWNER_EVENT = "owner.assigned"


def mail_owner(case: Case, owner: Any, actor: Actor, now: datetime) -> Any:
    """Queue the e-mail telling ``owner`` that ``case`` is now theirs; None (nothing queued) when they
    assigned it to themselves, have no address, turned these e-mails off or no mail server is set up."""
    from cxlens.web import mail  # noqa: PLC0415

    if actor.user is not None and actor.user.pk == owner.pk:
        return None
    address = str(owner.email or "").strip()
    if not address or not mail.enabled() or not wants_assignment_email(owner):
        return None
    subject, text = owner_mail(case, owner, actor)
    return notify.enqueue_email(case.project, [address], subject, text, event=OWNER_EVENT, now=now, case=case)


def owner_mail(case: Case, owner: Any, actor: Actor) -> tuple[str, str]:
    """Subject and text of the assignment e-mail (due times in the project's SLA time zone)."""
    from cxlens.web import mail  # noqa: PLC0415

    project = case.project
    zone = calendar_for(sla_settings(project)).zone

    def due(at: datetime | None, done: datetime | None, verb: str) -> str:
        if done is not None:
            return f"{verb} {done.astimezone(zone):%Y-%m-%d %H:%M}"
        return f"{at.astimezone(zone):%Y-%m-%d %H:%M} ({zone})" if at is not None else "no due time"

    subject = f"[{project.name}] Case {case.case_id} assigned to you: {case.title or case.reason}"
    text = "\n".join([
        f"Hello {owner.get_full_name() or owner.get_username()},", "",
        f"case {case.case_id} of {project.name} was assigned to you by {actor.name}.", "",
        f"Case:            {case.case_id} {case.title}".rstrip(),
        f"Reason:          {case.reason}",
        f"Customer:        {case.customer_id or 'none'}",
        f"Priority:        {case.priority}",
        f"Acknowledge by:  {due(case.ack_due_at, case.acknowledged_at, 'acknowledged')}",
        f"Resolve by:      {due(case.resolve_due_at, case.resolved_at, 'resolved')}", "",
        f"Open the case: {mail.absolute_url(f'/p/{project.slug}/cases/{case.pk}/')}", "",
        "You get this e-mail because a case was assigned to you. To stop these e-mails, untick",
        f"\"E-mail me cases assigned to me\" on {mail.absolute_url(f'/p/{project.slug}/cases/')}", ""])
    return subject, text


def wants_assignment_email(user: Any) -> bool:
    from cxlens.web.loop.models import OwnerPreference  # noqa: PLC0415

    return not OwnerPreference.objects.filter(user=user, assignment_email=False).exists()


def set_assignment_email(user: Any, wanted: bool) -> None:
    """Turn the e-mail on case assignment on or off for ``user`` (all projects)."""
    from cxlens.web.loop.models import OwnerPreference  # noqa: PLC0415

    OwnerPreference.objects.update_or_create(user=user, defaults={"assignment_email": wanted})


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
    cases = list(Case.objects.filter(project=project, pk__in=[i for i in map(db_id, ids) if i is not None]))
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
    case = Case.objects.filter(project=project, pk=db_id(pk)).select_related("owner", "team", "rule").first() \
        if db_id(pk) else None
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


# ------------------------------------------------------------- settings: channels, teams, SLA

MAX_DB_ID = 2**63 - 1
CHANNEL_FIELDS = ("name", "kind", "url", "emails", "events", "active")


def db_id(ref: Any) -> int | None:
    """``ref`` as a primary key (a whole number the database can hold), else None."""
    text = str(ref).strip()
    if not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if 1 <= value <= MAX_DB_ID else None


def get_channel(project: Project, ref: Any) -> Channel:
    channel = Channel.objects.filter(project=project, pk=db_id(ref) or 0).first()
    if channel is None:
        raise LookupError(f"No notification channel {ref!r} in project '{project.slug}'.")
    return channel


def get_team(project: Project, ref: Any) -> Team:
    team = Team.objects.filter(project=project, pk=db_id(ref) or 0).first()
    if team is None:
        raise LookupError(f"No team {ref!r} in project '{project.slug}'.")
    return team


def _printable(field: str, text: str) -> str:
    """``text`` when it has no control characters (line breaks, NUL: PostgreSQL refuses NUL in text)."""
    bad = next((i for i, c in enumerate(text) if not c.isprintable()), None)
    if bad is not None:
        raise FieldError(field, f"The '{field}' must be printable text without line breaks or control characters. "
                                f"Got {text[bad]!r} at position {bad + 1}.")
    return text


def _name(what: str, value: Any, limit: int) -> str:
    name = _printable("name", str(value or "").strip())
    if not name:
        raise FieldError("name", f"The {what}'s 'name' must not be empty.")
    if len(name) > limit:
        raise FieldError("name", f"The {what}'s 'name' must be at most {limit} characters. Got {len(name)}.")
    return name


def _items(value: Any, separators: str = ",") -> list[str]:
    """A list given as a list or as text separated by ``separators``, without blanks."""
    if isinstance(value, str):
        for sep in separators[1:]:
            value = value.replace(sep, separators[0])
        value = value.split(separators[0])
    elif not isinstance(value, list | tuple):
        value = [] if value is None else [value]
    return [str(v).strip() for v in value if str(v).strip()]


def _channel_url(kind: str, value: Any) -> str:
    from urllib.parse import urlsplit  # noqa: PLC0415

    url = _printable("url", str(value or "").strip())
    try:
        parts = urlsplit(url)
        host, _port = parts.hostname, parts.port  # a port out of range raises here
    except ValueError:
        host = None
    if not url.startswith(("http://", "https://")) or not host or any(c.isspace() for c in url):
        raise FieldError("url", f"A {kind} channel needs a 'url' starting with http:// or https:// and naming a "
                         f"host. Got {shown_url(url, kind)!r} instead.")
    if len(url) > 1000:
        raise FieldError("url", f"The channel's 'url' must be at most 1000 characters. Got {len(url)}.")
    return url


def shown_url(url: str, kind: str) -> str:
    """``url`` as messages may show it: no token (see ``models.masked_url``)."""
    from cxlens.web.loop.models import masked_url  # noqa: PLC0415

    cut = 12 if kind == ChannelKind.SLACK else 60  # a Slack URL's path is its token
    try:
        if url.startswith(("http://", "https://")):
            return masked_url(url, kind)
    except ValueError:
        pass
    return url if len(url) <= cut else url[:cut] + "…"


def _channel_emails(value: Any) -> list[str]:
    from django.core.exceptions import ValidationError  # noqa: PLC0415
    from django.core.validators import validate_email  # noqa: PLC0415

    emails = _items(value, ",; ")
    bad = []
    for address in emails:
        try:
            validate_email(address)
        except ValidationError:
            bad.append(address)
    if not emails or bad:
        raise FieldError("emails", "An email channel needs one or more addresses in 'emails' (a list, or text "
                         f"separated by commas). Got {', '.join(map(repr, bad)) or 'none'} instead.")
    return list(dict.fromkeys(emails))


def _channel_events(value: Any) -> list[str]:
    from cxlens.web.loop.models import EVENTS  # noqa: PLC0415

    events = _items(value)
    bad = [e for e in events if e not in EVENTS]
    if bad:
        raise FieldError("events", f"The 'events' must be among {', '.join(EVENTS)} (none: every event). Got "
                         f"{', '.join(map(repr, bad))} instead.")
    return list(dict.fromkeys(events))


def _check_channel_fields(values: Mapping[str, Any]) -> None:
    unknown = sorted(set(values) - set(CHANNEL_FIELDS))
    if unknown:
        raise FieldError(unknown[0], f"Unknown channel field '{unknown[0]}'. The fields are: "
                         f"{', '.join(CHANNEL_FIELDS)}.")


def create_channel(project: Project, values: Mapping[str, Any]) -> tuple[Channel, str]:
    """A new channel; returns it and its signing secret (webhooks; shown once, never again)."""
    _check_channel_fields(values)
    name = _name("channel", values.get("name"), 100)
    if Channel.objects.filter(project=project, name=name).exists():
        raise FieldError("name", f"A channel named {name!r} exists already; choose another 'name'.")
    kind = _choice("kind", values.get("kind"), ChannelKind.values)
    wrong, right = ("url", "emails") if kind == ChannelKind.EMAIL else ("emails", "url")
    if _items(values.get(wrong)):
        raise FieldError(wrong, f"A {kind} channel has no '{wrong}': it sends to its '{right}'.")
    url, emails = "", []
    if kind == ChannelKind.EMAIL:
        emails = _channel_emails(values.get("emails"))
    else:
        url = _channel_url(kind, values.get("url"))
    secret = notify.new_secret() if kind == ChannelKind.WEBHOOK else ""
    channel = Channel.objects.create(project=project, name=name, kind=kind, url=url, secret=secret, emails=emails,
                                     events=_channel_events(values.get("events")),
                                     active=_bool("active", values.get("active", True)))
    return channel, secret


def update_channel(channel: Channel, values: Mapping[str, Any], *, rotate_secret: bool = False) -> tuple[Channel, str]:
    """Change the fields given (the kind stays); returns the channel and, when ``rotate_secret``,
    the webhook's new signing secret (shown once, like at creation)."""
    _check_channel_fields(values)
    _check_channel_change(channel, values, rotate_secret)
    if "name" in values:
        name = _name("channel", values["name"], 100)
        if Channel.objects.filter(project=channel.project, name=name).exclude(pk=channel.pk).exists():
            raise FieldError("name", f"A channel named {name!r} exists already; choose another 'name'.")
        channel.name = name
    if "url" in values:
        channel.url = _channel_url(channel.kind, values["url"])
    if "emails" in values:
        channel.emails = _channel_emails(values["emails"])
    if "events" in values:
        channel.events = _channel_events(values["events"])
    if "active" in values:
        channel.active = _bool("active", values["active"])
    secret = notify.new_secret() if rotate_secret else ""
    if secret:
        channel.secret = secret
    channel.save()
    return channel, secret


def _check_channel_change(channel: Channel, values: Mapping[str, Any], rotate_secret: bool) -> None:
    """Changes that do not fit the channel's kind, refused before anything changes."""
    kind = channel.kind
    if "kind" in values and values["kind"] != kind:
        raise FieldError("kind", f"The 'kind' of a channel cannot change (this one is a {kind} channel). Delete it "
                         f"and add a {values['kind']!r} channel instead.")
    wrong, right = ("url", "emails") if kind == ChannelKind.EMAIL else ("emails", "url")
    if wrong in values:
        raise FieldError(wrong, f"A {kind} channel has no '{wrong}': it sends to its '{right}'.")
    if rotate_secret and kind != ChannelKind.WEBHOOK:
        raise FieldError("rotate_secret", "Only webhook channels have a signing secret to rotate; this one is a "
                         f"{kind} channel.")


def delete_channel(channel: Channel) -> None:
    """Remove a channel with its pending and past deliveries."""
    channel.delete()


def test_channel(channel: Channel, now: datetime) -> Any:
    """Send a ``channel.test`` event to ``channel`` once, now (see :func:`notify.send_test`)."""
    return notify.send_test(channel, now)


# ----------------------------------------------------------------------------------- teams

TEAM_FIELDS = ("name", "members", "next_member")


def team_members(project: Project, usernames: Any) -> list[Any]:
    """The users named in ``usernames`` (a list or comma-separated text); each must be an active
    analyst or admin of ``project``."""
    names = [_printable("members", n) for n in _items(usernames)]
    found = {u.get_username(): u for u in get_user_model().objects.filter(username__in=names)}
    missing = [n for n in names if n not in found]
    if missing:
        raise FieldError("members", f"The team 'members' must be usernames. There is no user {missing[0]!r}.")
    users = list(dict.fromkeys(found[n] for n in names))
    for user in users:
        if not can_work(user, project):
            raise FieldError("members", f"'{user.get_username()}' cannot join a team: team members must be active "
                             "analysts or admins of this project.")
    return users


def eligible_members(team: Team) -> list[Any]:
    """The members who take cases now, in round-robin order (active analysts and admins)."""
    return [u for u in team.members.order_by("pk") if can_work(u, team.project)]


def next_member(team: Team) -> Any:
    """Who gets the team's next case (None when nobody can take one)."""
    members = eligible_members(team)
    return members[team.next_index % len(members)] if members else None


def create_team(project: Project, values: Mapping[str, Any]) -> Team:
    _check_team_fields(values)
    name = _name("team", values.get("name"), 100)
    if Team.objects.filter(project=project, name=name).exists():
        raise FieldError("name", f"A team named {name!r} exists already; choose another 'name' (or change that team).")
    users = team_members(project, values.get("members") or [])
    with transaction.atomic():
        team = Team.objects.create(project=project, name=name)
        team.members.set(users)
        if values.get("next_member"):
            _set_next_member(team, values["next_member"])
    return team


def update_team(team: Team, values: Mapping[str, Any]) -> Team:
    """Change the team's name, members (the whole list) or who gets its next case."""
    _check_team_fields(values)
    with transaction.atomic():
        if "name" in values:
            name = _name("team", values["name"], 100)
            if Team.objects.filter(project=team.project, name=name).exclude(pk=team.pk).exists():
                raise FieldError("name", f"A team named {name!r} exists already; choose another 'name'.")
            team.name = name
            team.save(update_fields=["name"])
        if "members" in values:
            team.members.set(team_members(team.project, values["members"] or []))
        if values.get("next_member"):
            _set_next_member(team, values["next_member"])
    return team


def _check_team_fields(values: Mapping[str, Any]) -> None:
    unknown = sorted(set(values) - set(TEAM_FIELDS))
    if unknown:
        raise FieldError(unknown[0], f"Unknown team field '{unknown[0]}'. The fields are: {', '.join(TEAM_FIELDS)}.")


def _set_next_member(team: Team, username: Any) -> None:
    members = eligible_members(team)
    names = [u.get_username() for u in members]
    if username not in names:
        raise FieldError("next_member", "The 'next_member' must be one of the team's members who can take cases "
                         f"({', '.join(names) or 'none'}). Got {username!r} instead.")
    team.next_index = names.index(username)
    team.save(update_fields=["next_index"])


def save_team(project: Project, name: str, usernames: Sequence[str]) -> Team:
    """The settings page's "Save team": create the team, or set the members of the one of that name."""
    existing = Team.objects.filter(project=project, name=str(name).strip()).first()
    if existing is not None:
        return update_team(existing, {"members": list(usernames)})
    return create_team(project, {"name": name, "members": list(usernames)})


def delete_team(team: Team) -> None:
    """Remove a team; its rules and cases keep working without it (no team)."""
    team.delete()
