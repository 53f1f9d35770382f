"""Pages of the closed loop: case inbox and case page, alert rules, channels with the delivery
log, teams and SLA settings, and the loop dashboard.

Viewers read; analysts (and admins) work cases and rules; admins manage channels, teams and the
SLA settings. Views parse the request, call :mod:`cxlens.web.loop.service` and render.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from cxlens.errors import CxlensError
from cxlens.web import jobs
from cxlens.web.loop import dashboard, notify, service
from cxlens.web.loop.models import (
    EVENTS,
    PRIORITY_ORDER,
    AlertRule,
    Channel,
    ChannelKind,
    Delivery,
    Source,
    Status,
    Team,
)
from cxlens.web.models import Project
from cxlens.web.roles import Permission
from cxlens.web.views import project_view


def utcnow() -> datetime:
    return datetime.now(UTC)


def _can_work(request: HttpRequest) -> bool:
    return Permission.INGEST in request.role.permissions  # type: ignore[attr-defined]


def _can_manage(request: HttpRequest) -> bool:
    return Permission.MANAGE in request.role.permissions  # type: ignore[attr-defined]


def _forbidden(request: HttpRequest, what: str, role: str = "analyst") -> HttpResponse:
    return render(request, "cxlens/error.html", {
        "title": "Not allowed",
        "message": f"{what} needs the {role} role (or higher) in this project, which your role "
                   f"({request.role.value}) does not have. Ask a project admin."}, status=403)  # type: ignore[attr-defined]


# ------------------------------------------------------------------------------------- cases


@project_view(Permission.READ)
@require_http_methods(["GET", "POST"])
def inbox(request: HttpRequest, project: Project) -> HttpResponse:
    now = utcnow()
    ctx: dict[str, Any] = {"project": project, "nav": "cases", "can_work": _can_work(request), "now": now,
                           "statuses": ["open", "all", *Status.values], "priorities": PRIORITY_ORDER,
                           "workers": service.workers(project), "params": request.GET}
    status = 200
    if request.method == "POST":
        if not ctx["can_work"]:
            return _forbidden(request, "Changing cases")
        try:
            message = _inbox_action(request, project, now)
        except (CxlensError, LookupError) as exc:
            ctx["error"], status = str(exc), 400
        else:
            jobs.kick()
            if isinstance(message, int):
                return redirect("loop_case", slug=project.slug, pk=message)
            ctx["message"] = message
    try:
        flt = service.InboxFilter.from_params(request.GET)
    except CxlensError as exc:
        ctx["error"], status, flt = str(exc), 400, service.InboxFilter()
    cases = list(service.inbox(project, flt, request.user, now)[:500])
    ctx.update(filter=flt, cases=[(c, service.is_overdue(c, now)) for c in cases],
               assignment_email=service.wants_assignment_email(request.user))
    return render(request, "cxlens/loop/inbox.html", ctx, status=status)


def _inbox_action(request: HttpRequest, project: Project, now: datetime) -> str | int:
    action = request.POST.get("action")
    if action == "assignment_email":
        wanted = request.POST.get("assignment_email") == "on"
        service.set_assignment_email(request.user, wanted)
        return "You will get an e-mail when a case is assigned to you." if wanted else \
            "You will no longer get an e-mail when a case is assigned to you."
    if action == "bulk_assign":
        owner = service.find_user(request.POST.get("owner", ""))
        n = service.bulk_assign(project, request.POST.getlist("case"), owner, request.user, now)
        return f"Assigned {n} case{'s' if n != 1 else ''} to {owner.get_username() if owner else 'nobody'}."
    if action == "create":
        case = service.create_manual_case(project, request.POST, request.user, now)
        return int(case.pk)
    raise service.LoopError(f"Unknown action {action!r}.")


@project_view(Permission.READ)
@require_http_methods(["GET", "POST"])
def case_detail(request: HttpRequest, project: Project, pk: int) -> HttpResponse:
    try:
        case = service.get_case(project, pk)
    except LookupError:
        raise Http404(f"No case {pk}") from None
    now = utcnow()
    ctx: dict[str, Any] = {"project": project, "nav": "cases", "can_work": _can_work(request)}
    status = 200
    if request.method == "POST":
        if not ctx["can_work"]:
            return _forbidden(request, "Changing a case")
        try:
            _case_action(request, case, now)
        except CxlensError as exc:
            ctx["error"], status = str(exc), 400
        else:
            jobs.kick()  # notifications and the warehouse snapshot go out at once
            return redirect("loop_case", slug=project.slug, pk=case.pk)
        case = service.get_case(project, pk)
    ack, res = service.clocks(case, now)
    ctx.update(case=case, events=list(case.events.select_related("actor")), actions=service.allowed_actions(case),
               clocks=(ack, res), overdue=service.is_overdue(case, now), priorities=PRIORITY_ORDER,
               workers=service.workers(project), deliveries=list(case.deliveries.all()[:20]))
    return render(request, "cxlens/loop/case.html", ctx, status=status)


def _case_action(request: HttpRequest, case: Any, now: datetime) -> None:
    form, user = request.POST, request.user
    action = form.get("action", "")
    if action in service.ACTIONS:
        service.transition(case, action, user, now, note=form.get("note", ""))
    elif action == "note":
        service.add_note(case, form.get("note", ""), user, now)
    elif action == "contacted":
        service.mark_contacted(case, user, now, form.get("note", ""))
    elif action == "assign":
        service.assign(case, service.find_user(form.get("owner", "")), user, now)
    elif action == "update":
        service.update_case(case, {k: form.get(k, "") for k in ("root_cause", "resolution", "priority")
                                   if k in form}, user, now)
    else:
        raise service.LoopError(f"Unknown action {action!r}.")


# ------------------------------------------------------------------------------------- rules


def _rule_values(form: Any) -> dict[str, Any]:
    values: dict[str, Any] = {k: form.get(k, "") for k in ("name", "source", "condition", "priority", "reason",
                                                            "team", "max_cases_per_run")}
    for flag in ("open_case", "notify", "acknowledge_customer", "active"):
        values[flag] = form.get(flag) == "on"
    return values


@project_view(Permission.READ)
@require_http_methods(["GET", "POST"])
def rules(request: HttpRequest, project: Project) -> HttpResponse:
    now = utcnow()
    ctx: dict[str, Any] = {"project": project, "nav": "cases", "can_work": _can_work(request),
                           "sources": Source.values, "priorities": PRIORITY_ORDER, "form": request.POST,
                           "teams": Team.objects.filter(project=project),
                           "condition_text": request.POST.get("condition", "")}
    status = 200
    if request.method == "POST":
        if not ctx["can_work"]:
            return _forbidden(request, "Changing alert rules")
        try:
            if request.POST.get("action") == "test":
                ctx["test"] = service.test_rule(project, request.POST.get("condition", ""),
                                                request.POST.get("source", "responses"), now=now)
            else:
                rule = service.create_rule(project, _rule_values(request.POST), user=request.user, now=now)
                return redirect("loop_rule", slug=project.slug, pk=rule.pk)
        except CxlensError as exc:
            ctx["error"], status = str(exc), 400
    ctx["rules"] = [(r, _describe(r)) for r in AlertRule.objects.filter(project=project).select_related("team")]
    return render(request, "cxlens/loop/rules.html", ctx, status=status)


def _describe(rule: AlertRule) -> str:
    from cxlens.loop.rules import describe, parse_condition

    try:
        return describe(parse_condition(rule.condition))
    except CxlensError:
        return json.dumps(rule.condition)


@project_view(Permission.READ)
@require_http_methods(["GET", "POST"])
def rule_detail(request: HttpRequest, project: Project, pk: int) -> HttpResponse:
    rule = get_object_or_404(AlertRule, project=project, pk=pk)
    now = utcnow()
    ctx: dict[str, Any] = {"project": project, "nav": "cases", "can_work": _can_work(request), "rule": rule,
                           "sources": Source.values, "priorities": PRIORITY_ORDER,
                           "teams": Team.objects.filter(project=project),
                           "condition_text": json.dumps(rule.condition, indent=2, ensure_ascii=False)}
    status = 200
    if request.method == "POST":
        if not ctx["can_work"]:
            return _forbidden(request, "Changing alert rules")
        try:
            if request.POST.get("action") == "test":
                ctx["condition_text"] = request.POST.get("condition", "")
                ctx["test"] = service.test_rule(project, request.POST.get("condition", ""), rule.source, now=now)
            elif request.POST.get("action") == "delete":
                rule.delete()
                return redirect("loop_rules", slug=project.slug)
            else:
                service.update_rule(rule, _rule_values(request.POST), now=now)
                return redirect("loop_rule", slug=project.slug, pk=rule.pk)
        except CxlensError as exc:
            ctx["error"], status = str(exc), 400
            ctx["condition_text"] = request.POST.get("condition", ctx["condition_text"])
    ctx["description"] = _describe(rule)
    return render(request, "cxlens/loop/rule.html", ctx, status=status)


# ------------------------------------------------------------------ channels, teams, SLA


@project_view(Permission.READ)
@require_http_methods(["GET", "POST"])
def channels(request: HttpRequest, project: Project) -> HttpResponse:
    now = utcnow()
    ctx: dict[str, Any] = {"project": project, "nav": "cases", "can_manage": _can_manage(request),
                           "can_work": _can_work(request), "kinds": ChannelKind.values, "events": EVENTS,
                           "form": request.POST}
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "retry" and not ctx["can_work"]:
            return _forbidden(request, "Retrying a delivery")
        if action != "retry" and not ctx["can_manage"]:
            return _forbidden(request, "Managing channels, teams and SLA settings", "admin")
        try:
            outcome = _channel_action(request, project, now)
        except CxlensError as exc:
            ctx["error"], status = str(exc), 400
        else:
            if not outcome:
                return redirect("loop_channels", slug=project.slug)
            ctx["message" if isinstance(outcome, str) else "new_secret"] = outcome
    teams = list(Team.objects.filter(project=project).prefetch_related("members"))
    ctx.update(channels=list(Channel.objects.filter(project=project)),
               teams=[(t, service.next_member(t)) for t in teams],
               workers=service.workers(project), sla=service.sla_settings(project), surveys=_surveys(project),
               deliveries=list(Delivery.objects.filter(project=project).select_related("channel", "case")[:200]))
    ctx["targets"] = [(p, ctx["sla"].targets.get(p, {})) for p in PRIORITY_ORDER]
    response = render(request, "cxlens/loop/channels.html", ctx, status=status)
    response["Cache-Control"] = "no-store"  # a new signing secret is on this page once
    return response


def _channel_action(request: HttpRequest, project: Project, now: datetime) -> tuple[str, str] | str | None:
    """Do the page's action; returns a new signing secret (name, secret) or a message to show, if any."""
    form = request.POST
    action = form.get("action")
    if action == "create_channel":
        channel, secret = service.create_channel(project, {
            "name": form.get("name", ""), "kind": form.get("kind", ""), "url": form.get("url", ""),
            "emails": form.get("emails", ""), "events": form.getlist("events")})
        return (channel.name, secret) if secret else None
    if action in ("delete_channel", "toggle_channel", "test_channel"):
        return _on_channel(action, _lookup(service.get_channel, project, form.get("channel")), now)
    if action == "retry":
        delivery = get_object_or_404(Delivery, project=project, pk=service.db_id(form.get("delivery", "")) or 0)
        notify.retry_now(delivery, now)
    elif action == "save_team":
        service.save_team(project, form.get("name", ""), form.getlist("members"))
    elif action == "delete_team":
        service.delete_team(_lookup(service.get_team, project, form.get("team")))
    elif action == "sla":
        service.update_sla_settings(project, _sla_values(form))
    else:
        raise service.LoopError(f"Unknown action {action!r}.")
    return None


def _lookup(find: Any, project: Project, ref: Any) -> Any:
    try:
        return find(project, ref)
    except LookupError as exc:
        raise Http404(str(exc)) from None


def _on_channel(action: str, channel: Channel, now: datetime) -> str | None:
    if action == "delete_channel":
        service.delete_channel(channel)
        return None
    if action == "toggle_channel":
        service.update_channel(channel, {"active": not channel.active})
        return None
    delivery = service.test_channel(channel, now)
    if delivery.status == "delivered":
        return f"Test message delivered to {channel.name} ({delivery.describe_target()})."
    raise service.LoopError(f"The test message to {channel.name} failed: {delivery.last_error or 'no answer'}. "
                            f"Check the channel's address; the attempt is in the delivery log.")


def _sla_values(form: Any) -> dict[str, Any]:
    targets = {p: {"acknowledge": form.get(f"{p}_acknowledge", ""), "resolve": form.get(f"{p}_resolve", "")}
               for p in PRIORITY_ORDER if form.get(f"{p}_acknowledge") or form.get(f"{p}_resolve")}
    values = {"timezone": form.get("timezone", "UTC"), "business_hours": form.get("business_hours") == "on",
              "days": form.get("days", ""), "opens": form.get("opens", ""), "closes": form.get("closes", ""),
              "holidays": form.get("holidays", ""), "targets": targets, "high_value": form.get("high_value", "")}
    if "followup_survey" in form:
        values["followup_survey"] = form.get("followup_survey", "")
    return values


def _surveys(project: Project) -> list[str]:
    from cxlens.web.surveys.models import Survey  # noqa: PLC0415

    return list(Survey.objects.filter(project=project).order_by("slug").values_list("slug", flat=True))


# ------------------------------------------------------------------------------ dashboard


@project_view(Permission.READ)
def loop_dashboard(request: HttpRequest, project: Project) -> HttpResponse:
    now = utcnow()
    by = request.GET.get("by", "")
    if by not in dashboard.BREAKDOWNS:
        by = ""
    data = dashboard.loop_dashboard(project, now, by=by)
    return render(request, "cxlens/loop/dashboard.html", {"project": project, "nav": "cases", "data": data,
                                                          "by": by, "breakdowns": dashboard.BREAKDOWNS})
