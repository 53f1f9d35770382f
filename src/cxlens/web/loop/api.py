"""The closed loop over the REST API (``/api/projects/<project>/loop/...``): alert rules, cases, the
delivery log and the loop's settings (notification channels, teams, SLA). Reading needs 'read';
changing rules and cases needs 'ingest' (analysts, admins and keys with the ingest scope); changing
settings needs 'manage' (admins, as on the settings page; API keys never manage). Errors have the
API's one shape: 400 for a value the loop does not allow (the message names the field, the value and
what is allowed), 422 for a body that does not fit the documented schema, 404 for an id that is not
in the project.

JSON bodies are validated after the caller's permission is checked (a caller without it learns
nothing about the body's shape); the OpenAPI document still describes each body's schema.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

from django.db.models import Q
from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from ninja.errors import ValidationError
from pydantic import ConfigDict, Field
from pydantic import ValidationError as PydanticError

from cxlens.web import jobs
from cxlens.web.api import ERRORS, ApiError, ErrorOut, authorize
from cxlens.web.loop import service
from cxlens.web.loop.models import EVENTS, PRIORITY_ORDER, AlertRule, Channel, Delivery, SlaSettings, Team
from cxlens.web.models import ApiKey
from cxlens.web.roles import Permission

router = Router(tags=["loop"])
BodyT = TypeVar("BodyT", bound=Schema)


def body_of(request: HttpRequest, model: type[BodyT]) -> BodyT:
    """The request's JSON body as ``model`` (errors in the API's validation shape)."""
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        raise ApiError(400, "invalid_json", "The request body must be a JSON object.") from None
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", f"The request body must be a JSON object. Got {type(data).__name__} "
                                            f"instead.")
    try:
        return model.model_validate(data)
    except PydanticError as exc:
        raise ValidationError([{**e, "loc": ("body", "body", *e["loc"])} for e in exc.errors()]) from None


def documented(model: type[Schema]) -> dict[str, Any]:
    """``openapi_extra`` describing a JSON body read with :func:`body_of`."""
    schema = _inlined(model.model_json_schema())
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def _inlined(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with its ``$defs`` (nested models) written in place: a ``#/$defs/...`` reference would
    point into the OpenAPI document's root, where the definitions are not."""
    defs = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return walk({**defs[ref.removeprefix("#/$defs/")], **{k: v for k, v in node.items() if k != "$ref"}})
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(schema)


@contextmanager
def field_errors() -> Iterator[None]:
    """A value the loop does not allow -> 400 in the API's error shape, with the field it names."""
    try:
        yield
    except service.FieldError as exc:
        raise ApiError(400, exc.code, str(exc), exc.field) from None


def _now() -> datetime:
    return datetime.now(UTC)


def _actor(request: HttpRequest) -> Any:
    auth = request.auth  # type: ignore[attr-defined]
    if isinstance(auth, ApiKey):
        return service.Actor(label=f"API key {auth.name} ({auth.prefix})")
    return auth


def rule_dict(rule: AlertRule) -> dict[str, Any]:
    return {"id": rule.pk, "name": rule.name, "source": rule.source, "condition": rule.condition,
            "open_case": rule.open_case, "notify": rule.notify, "acknowledge_customer": rule.acknowledge_customer,
            "priority": rule.priority, "reason": rule.reason, "team": rule.team.name if rule.team else None,
            "active": rule.active, "max_cases_per_run": rule.max_cases_per_run, "matched": rule.matched,
            "cases_opened": rule.cases_opened, "last_error": rule.last_error or None,
            "last_run_at": rule.last_run_at.isoformat() if rule.last_run_at else None}


class RuleIn(Schema):
    name: str = Field(..., max_length=200)
    source: Literal["responses", "tickets", "signals"] = "responses"
    condition: dict[str, Any]
    reason: str = Field(..., max_length=200)
    open_case: bool = True
    notify: bool = True
    acknowledge_customer: bool = False
    priority: Literal["low", "normal", "high", "urgent"] = "normal"
    team: str | None = None
    active: bool = True
    max_cases_per_run: int = Field(100, ge=1, le=service.MAX_GUARD)


class RulePatch(Schema):
    name: str | None = Field(None, max_length=200)
    source: Literal["responses", "tickets", "signals"] | None = None
    condition: dict[str, Any] | None = None
    reason: str | None = Field(None, max_length=200)
    open_case: bool | None = None
    notify: bool | None = None
    acknowledge_customer: bool | None = None
    priority: Literal["low", "normal", "high", "urgent"] | None = None
    team: str | None = None
    active: bool | None = None
    max_cases_per_run: int | None = Field(None, ge=1, le=service.MAX_GUARD)


def _rule(project: Any, rule_id: int) -> AlertRule:
    rule = AlertRule.objects.filter(project=project, pk=service.db_id(rule_id) or 0).select_related("team").first()
    if rule is None:
        raise ApiError(404, "not_found", f"No alert rule {rule_id} in project '{project.slug}'.", "rule_id")
    return rule


@router.get("/projects/{project}/loop/rules", response={200: list[dict[str, Any]], **ERRORS})
def list_rules(request: HttpRequest, project: str) -> list[dict[str, Any]]:
    """The project's alert rules with their counters and last error. Needs 'read'."""
    p = authorize(request, project, Permission.READ)
    return [rule_dict(r) for r in AlertRule.objects.filter(project=p).select_related("team")]


@router.post("/projects/{project}/loop/rules", response={201: dict[str, Any], **ERRORS},
             openapi_extra=documented(RuleIn))
def create_rule(request: HttpRequest, project: str) -> Status[dict[str, Any]]:
    """Create a rule; it acts on rows that arrive from now on. Needs 'ingest'."""
    p = authorize(request, project, Permission.INGEST)
    body = body_of(request, RuleIn)
    user = request.auth if not isinstance(request.auth, ApiKey) else None  # type: ignore[attr-defined]
    rule = service.create_rule(p, body.dict(), user=user, now=_now())
    return Status(201, rule_dict(rule))


class TestIn(Schema):
    condition: dict[str, Any]
    source: Literal["responses", "tickets"] = "responses"
    limit: int = Field(service.TEST_ROWS, ge=1, le=10_000)


@router.post("/projects/{project}/loop/rule-test", response={200: dict[str, Any], **ERRORS},
             openapi_extra=documented(TestIn))
def test_rule(request: HttpRequest, project: str) -> dict[str, Any]:
    """How many of the latest rows a condition would have matched (nothing is written). Needs 'ingest'
    (like saving a rule)."""
    p = authorize(request, project, Permission.INGEST)
    body = body_of(request, TestIn)
    return service.test_rule(p, body.condition, body.source, now=_now(), limit=body.limit).to_dict()


@router.get("/projects/{project}/loop/rules/{rule_id}", response={200: dict[str, Any], **ERRORS})
def get_rule(request: HttpRequest, project: str, rule_id: int) -> dict[str, Any]:
    p = authorize(request, project, Permission.READ)
    return rule_dict(_rule(p, rule_id))


@router.patch("/projects/{project}/loop/rules/{rule_id}", response={200: dict[str, Any], **ERRORS},
              openapi_extra=documented(RulePatch))
def patch_rule(request: HttpRequest, project: str, rule_id: int) -> dict[str, Any]:
    """Change the fields given. Needs 'ingest'."""
    p = authorize(request, project, Permission.INGEST)
    body = body_of(request, RulePatch)
    rule = _rule(p, rule_id)
    values = body.dict(exclude_unset=True)
    return rule_dict(service.update_rule(rule, values, now=_now()))


@router.delete("/projects/{project}/loop/rules/{rule_id}", response={204: None, **ERRORS})
def delete_rule(request: HttpRequest, project: str, rule_id: int) -> Status[None]:
    """Delete a rule (its cases stay). Needs 'ingest'."""
    p = authorize(request, project, Permission.INGEST)
    _rule(p, rule_id).delete()
    return Status(204, None)


# ------------------------------------------------------------------------------------- cases


class CaseParams(Schema):
    status: str = Field("open", description="open, all, or one of new, acknowledged, in_progress, resolved, closed")
    priority: str | None = None
    owner: str | None = Field(None, description="A username, 'me' or 'none'.")
    overdue: bool = False
    reason: str | None = None
    customer_id: str | None = None
    limit: int = Field(100, ge=1, le=1000)


def _case(project: Any, case_id: str) -> Any:
    try:
        return service.get_case(project, case_id)
    except LookupError as exc:
        raise ApiError(404, "not_found", str(exc), "case_id") from None


@router.get("/projects/{project}/loop/cases", response={200: list[dict[str, Any]], **ERRORS})
def list_cases(request: HttpRequest, project: str, params: Query[CaseParams]) -> list[dict[str, Any]]:
    """Cases, newest first, filtered like the inbox. Needs 'read'."""
    p = authorize(request, project, Permission.READ)
    flt = service.InboxFilter.from_params({k: v for k, v in params.dict().items() if k != "limit" and v is not None})
    user = request.auth if not isinstance(request.auth, ApiKey) else None  # type: ignore[attr-defined]
    return [service.case_dict(c) for c in service.inbox(p, flt, user, _now())[:params.limit]]


@router.get("/projects/{project}/loop/cases/{case_id}", response={200: dict[str, Any], **ERRORS})
def get_case(request: HttpRequest, project: str, case_id: str) -> dict[str, Any]:
    """One case (``C12`` or ``12``) with its history. Needs 'read'."""
    p = authorize(request, project, Permission.READ)
    case = _case(p, case_id)
    return {**service.case_dict(case), "events": [service.event_dict(e) for e in case.events.select_related("actor")]}


class CaseIn(Schema):
    customer_id: str = Field("", max_length=200)
    reason: str = Field(..., max_length=200)
    title: str = Field("", max_length=300)
    priority: Literal["low", "normal", "high", "urgent"] = "normal"
    owner: str | None = None
    team: str | None = None


@router.post("/projects/{project}/loop/cases", response={201: dict[str, Any], **ERRORS, 409: ErrorOut},
             openapi_extra=documented(CaseIn))
def create_case(request: HttpRequest, project: str) -> Status[dict[str, Any]]:
    """Open a case by hand (409 when the customer has an open case for the reason). Needs 'ingest'."""
    p = authorize(request, project, Permission.INGEST)
    body = body_of(request, CaseIn)
    try:
        case = service.create_manual_case(p, body.dict(), _actor(request), _now())
    except service.CaseConflict as exc:
        raise ApiError(409, "conflict", str(exc), "reason") from None
    jobs.kick()
    return Status(201, service.case_dict(case))


class CasePatch(Schema):
    action: Literal["acknowledge", "start", "resolve", "close", "reopen"] | None = None
    status: Literal["new", "acknowledged", "in_progress", "resolved", "closed"] | None = None
    owner: str | None = Field(None, description="A username; 'none' unassigns.")
    note: str | None = Field(None, max_length=10_000)
    priority: Literal["low", "normal", "high", "urgent"] | None = None
    root_cause: str | None = Field(None, max_length=200)
    resolution: str | None = Field(None, max_length=10_000)
    customer_contacted: Literal[True] | None = Field(None, description="true: the customer was contacted.")


@router.patch("/projects/{project}/loop/cases/{case_id}", response={200: dict[str, Any], **ERRORS, 409: ErrorOut},
              openapi_extra=documented(CasePatch))
def patch_case(request: HttpRequest, project: str, case_id: str) -> dict[str, Any]:
    """Move a case (action or status), assign it, add a note, set priority, root cause or
    resolution; each change is recorded in its history. Needs 'ingest'."""
    p = authorize(request, project, Permission.INGEST)
    body = body_of(request, CasePatch)
    case = _case(p, case_id)
    actor, now = _actor(request), _now()
    if body.owner is not None:
        service.assign(case, service.find_user(body.owner), actor, now)
    fields = {k: v for k, v in body.dict(include={"priority", "root_cause", "resolution"}).items() if v is not None}
    if fields:
        service.update_case(case, fields, actor, now)
    if body.note:
        service.add_note(case, body.note, actor, now)
    if body.customer_contacted:
        service.mark_contacted(case, actor, now)
    move = body.action or body.status
    if move:
        try:
            service.transition(case, move, actor, now)
        except service.CaseConflict as exc:
            raise ApiError(409, "conflict", str(exc), "action") from None
        except service.LoopError as exc:
            raise ApiError(409, "invalid_transition", str(exc), "action" if body.action else "status") from None
    jobs.kick()
    return service.case_dict(service.get_case(p, case.pk))


# -------------------------------------------------------------------------------- deliveries


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


class DeliveryOut(Schema):
    id: int
    event: str
    kind: str
    channel: str | None = Field(description="The channel's name; none for e-mail to a customer or a case owner.")
    to: str = Field(description="Where it goes: addresses, or the channel's URL without credentials.")
    case_id: str | None
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    response_code: int | None
    last_error: str | None
    created_at: str
    next_attempt_at: str | None = Field(description="When pending: the next attempt.")
    delivered_at: str | None


def delivery_dict(d: Delivery) -> dict[str, Any]:
    return {"id": d.pk, "event": d.event, "kind": d.kind, "channel": d.channel.name if d.channel else None,
            "to": d.describe_target(), "case_id": d.case.case_id if d.case else None, "status": d.status,
            "attempts": d.attempts, "response_code": d.response_code, "last_error": d.last_error or None,
            "created_at": _iso(d.created_at), "next_attempt_at": _iso(d.next_attempt_at) if d.status == "pending"
            else None, "delivered_at": _iso(d.delivered_at)}


@router.get("/projects/{project}/loop/deliveries", response={200: list[DeliveryOut], **ERRORS})
def list_deliveries(request: HttpRequest, project: str, status: Literal["pending", "delivered", "failed"] | None = None,
                    limit: int = Query(100, ge=1, le=1000)) -> list[dict[str, Any]]:
    """The delivery log, newest first (outcome, attempts, error; never a payload or a secret). Needs 'read'."""
    p = authorize(request, project, Permission.READ)
    qs = Delivery.objects.filter(project=p).select_related("channel", "case")
    if status:
        qs = qs.filter(Q(status=status))
    return [delivery_dict(d) for d in qs[:limit]]


# ---------------------------------------------------------------------------------- channels


class SecretOut(Schema):
    set: bool = Field(description="Whether the channel has a signing secret.")
    last4: str = Field(description="Its last 4 characters (the whole secret is shown once, when it is made).")


class ChannelOut(Schema):
    id: int
    name: str
    kind: Literal["webhook", "email", "slack"]
    url: str | None = Field(description="Webhook and Slack channels: the URL without credentials (no user, password "
                                        "or query string; of a Slack URL, whose path is its token, the last 4 "
                                        "characters).")
    emails: list[str] = Field(description="E-mail channels: the addresses.")
    events: list[str] = Field(description="The events it takes; empty: every event.")
    active: bool
    secret: SecretOut | None = Field(description="Webhook channels: whether a signing secret is set (never the "
                                                 "secret).")
    created_at: str


class ChannelSecretOut(ChannelOut):
    signing_secret: str | None = Field(None, description="The webhook's new signing secret, in this answer only "
                                                         "(creation, or 'rotate_secret'); keep it: it is never "
                                                         "shown again.")


def channel_dict(channel: Channel, new_secret: str = "") -> dict[str, Any]:
    out = {"id": channel.pk, "name": channel.name, "kind": channel.kind,
           "url": channel.target if channel.kind != "email" else None, "emails": list(channel.emails),
           "events": list(channel.events), "active": channel.active,
           "secret": {"set": bool(channel.secret), "last4": channel.secret_hint} if channel.kind == "webhook"
           else None, "created_at": _iso(channel.created_at)}
    return {**out, "signing_secret": new_secret} if new_secret else out


class ChannelIn(Schema):
    name: str = Field(..., max_length=100)
    kind: str = Field(..., json_schema_extra={"enum": ["webhook", "email", "slack"]})
    url: str | None = Field(None, max_length=1000, description="Webhook and Slack channels: http:// or https://.")
    emails: list[str] | str | None = Field(None, description="E-mail channels: addresses (a list or "
                                                             "comma-separated text).")
    events: list[str] = Field(default_factory=list, description=f"Events to send (none: every event): "
                                                                f"{', '.join(EVENTS)}.")
    active: bool = True


class ChannelPatch(Schema):
    name: str | None = Field(None, max_length=100)
    kind: str | None = Field(None, description="Cannot change; given, it must be the channel's kind.")
    url: str | None = Field(None, max_length=1000)
    emails: list[str] | str | None = None
    events: list[str] | None = None
    active: bool | None = None
    rotate_secret: bool = Field(False, description="Webhooks: make a new signing secret (returned once, in "
                                                   "'signing_secret'); the old one stops working at once.")


def _channel(project: Any, channel_id: int) -> Channel:
    try:
        return service.get_channel(project, channel_id)
    except LookupError as exc:
        raise ApiError(404, "not_found", str(exc), "channel_id") from None


def _given(body: Schema, drop: tuple[str, ...] = ()) -> dict[str, Any]:
    """The fields the caller sent (a PATCH changes only those)."""
    return {k: v for k, v in body.dict(exclude_unset=True).items() if k not in drop}


@router.get("/projects/{project}/loop/channels", response={200: list[ChannelOut], **ERRORS})
def list_channels(request: HttpRequest, project: str) -> list[dict[str, Any]]:
    """Notification channels (webhook, email, slack) with the events they take; secrets never. Needs 'read'."""
    p = authorize(request, project, Permission.READ)
    return [channel_dict(c) for c in Channel.objects.filter(project=p)]


@router.post("/projects/{project}/loop/channels", response={201: ChannelSecretOut, **ERRORS},
             openapi_extra=documented(ChannelIn))
def create_channel(request: HttpRequest, project: str) -> Status[dict[str, Any]]:
    """Add a channel. A webhook's signing secret is made here and returned in 'signing_secret' in this
    answer only. Needs 'manage' (admins)."""
    p = authorize(request, project, Permission.MANAGE)
    body = body_of(request, ChannelIn)
    with field_errors():
        channel, secret = service.create_channel(p, _given(body))
    return Status(201, channel_dict(channel, secret))


@router.get("/projects/{project}/loop/channels/{channel_id}", response={200: ChannelOut, **ERRORS})
def get_channel(request: HttpRequest, project: str, channel_id: int) -> dict[str, Any]:
    """One channel (secrets never). Needs 'read'."""
    p = authorize(request, project, Permission.READ)
    return channel_dict(_channel(p, channel_id))


@router.patch("/projects/{project}/loop/channels/{channel_id}", response={200: ChannelSecretOut, **ERRORS},
              openapi_extra=documented(ChannelPatch))
def patch_channel(request: HttpRequest, project: str, channel_id: int) -> dict[str, Any]:
    """Change the fields given (name, url or emails, events, active) or rotate a webhook's signing
    secret. The kind cannot change. Needs 'manage' (admins)."""
    p = authorize(request, project, Permission.MANAGE)
    body = body_of(request, ChannelPatch)
    channel = _channel(p, channel_id)
    with field_errors():
        channel, secret = service.update_channel(channel, _given(body, ("rotate_secret",)),
                                                 rotate_secret=body.rotate_secret)
    return channel_dict(channel, secret)


@router.delete("/projects/{project}/loop/channels/{channel_id}", response={204: None, **ERRORS})
def delete_channel(request: HttpRequest, project: str, channel_id: int) -> Status[None]:
    """Delete a channel and its deliveries. Needs 'manage' (admins)."""
    p = authorize(request, project, Permission.MANAGE)
    service.delete_channel(_channel(p, channel_id))
    return Status(204, None)


@router.post("/projects/{project}/loop/channels/{channel_id}/test", response={200: DeliveryOut, **ERRORS})
def test_channel(request: HttpRequest, project: str, channel_id: int) -> dict[str, Any]:
    """Send a 'channel.test' event to the channel now (also when it is paused) and answer with the
    delivery: 'delivered', or 'failed' with the HTTP code or error (a test is not retried; it stays in
    the delivery log). Needs 'manage' (admins)."""
    p = authorize(request, project, Permission.MANAGE)
    delivery = service.test_channel(_channel(p, channel_id), _now())
    return delivery_dict(delivery)


# ------------------------------------------------------------------------------------- teams


class TeamOut(Schema):
    id: int
    name: str
    members: list[str] = Field(description="Usernames, in round-robin order.")
    available: list[str] = Field(description="The members who take cases now (active analysts and admins).")
    next_member: str | None = Field(description="Who gets the team's next case (round-robin); none when nobody "
                                                "can take one.")
    created_at: str


def team_dict(team: Team) -> dict[str, Any]:
    nxt = service.next_member(team)
    return {"id": team.pk, "name": team.name, "members": [u.get_username() for u in team.members.order_by("pk")],
            "available": [u.get_username() for u in service.eligible_members(team)],
            "next_member": nxt.get_username() if nxt is not None else None, "created_at": _iso(team.created_at)}


class TeamIn(Schema):
    name: str = Field(..., max_length=100)
    members: list[str] = Field(default_factory=list, description="Usernames of active analysts or admins of the "
                                                                 "project.")
    next_member: str | None = Field(None, description="Who gets the next case (one of the members).")


class TeamPatch(Schema):
    name: str | None = Field(None, max_length=100)
    members: list[str] | None = Field(None, description="The whole list of members (usernames).")
    next_member: str | None = Field(None, description="Who gets the next case (one of the members who can take "
                                                      "cases).")


def _team(project: Any, team_id: int) -> Team:
    try:
        return service.get_team(project, team_id)
    except LookupError as exc:
        raise ApiError(404, "not_found", str(exc), "team_id") from None


@router.get("/projects/{project}/loop/teams", response={200: list[TeamOut], **ERRORS})
def list_teams(request: HttpRequest, project: str) -> list[dict[str, Any]]:
    """Teams with their members and who gets the next case. Needs 'read'."""
    p = authorize(request, project, Permission.READ)
    return [team_dict(t) for t in Team.objects.filter(project=p)]


@router.post("/projects/{project}/loop/teams", response={201: TeamOut, **ERRORS}, openapi_extra=documented(TeamIn))
def create_team(request: HttpRequest, project: str) -> Status[dict[str, Any]]:
    """Add a team (members: usernames of active analysts or admins). Needs 'manage' (admins)."""
    p = authorize(request, project, Permission.MANAGE)
    body = body_of(request, TeamIn)
    with field_errors():
        team = service.create_team(p, _given(body))
    return Status(201, team_dict(team))


@router.patch("/projects/{project}/loop/teams/{team_id}", response={200: TeamOut, **ERRORS},
              openapi_extra=documented(TeamPatch))
def patch_team(request: HttpRequest, project: str, team_id: int) -> dict[str, Any]:
    """Rename a team, set its members (the whole list) or who gets its next case. Needs 'manage' (admins)."""
    p = authorize(request, project, Permission.MANAGE)
    body = body_of(request, TeamPatch)
    team = _team(p, team_id)
    with field_errors():
        service.update_team(team, _given(body))
    return team_dict(team)


@router.delete("/projects/{project}/loop/teams/{team_id}", response={204: None, **ERRORS})
def delete_team(request: HttpRequest, project: str, team_id: int) -> Status[None]:
    """Delete a team; its rules and cases stay, without a team. Needs 'manage' (admins)."""
    p = authorize(request, project, Permission.MANAGE)
    service.delete_team(_team(p, team_id))
    return Status(204, None)


# --------------------------------------------------------------------------------- SLA settings


class TargetOut(Schema):
    acknowledge: float = Field(description="Business hours to acknowledge a case.")
    resolve: float = Field(description="Business hours to resolve a case.")


class SettingsOut(Schema):
    timezone: str
    business_hours: bool = Field(description="false: SLA clocks count every hour (24/7).")
    days: list[str] = Field(description="Working days (mon … sun).")
    opens: str = Field(description="Local opening time, HH:MM.")
    closes: str = Field(description="Local closing time, HH:MM (24:00: midnight).")
    holidays: list[str] = Field(description="Local dates without work (ISO).")
    targets: dict[str, TargetOut] = Field(description="Per priority (low, normal, high, urgent).")
    high_value: float | None = Field(description="A case's priority is raised one level when the customer's value "
                                                 "at stake reaches this; none: never.")
    followup_survey: str | None = Field(description="Slug of the survey sent when a case closes; none: the "
                                                    "case-followup survey, made on first use.")


def settings_dict(settings: SlaSettings) -> dict[str, Any]:
    return {"timezone": settings.timezone, "business_hours": settings.business_hours, "days": list(settings.days),
            "opens": settings.opens, "closes": settings.closes, "holidays": list(settings.holidays),
            "targets": {p: settings.targets[p] for p in PRIORITY_ORDER if p in settings.targets},
            "high_value": settings.high_value, "followup_survey": settings.followup_survey or None}


class TargetIn(Schema):
    model_config = ConfigDict(extra="forbid")

    acknowledge: float | None = Field(None, description="Business hours (more than 0).")
    resolve: float | None = Field(None, description="Business hours (more than 0).")


class SettingsPatch(Schema):
    timezone: str | None = Field(None, max_length=60, description="IANA zone name, e.g. Europe/Berlin.")
    business_hours: bool | None = Field(None, description="false: count every hour.")
    days: list[str | int] | str | None = Field(None, description="Names (mon … sun), ranges (mon-fri) or numbers "
                                                                 "0 (Monday) to 6; a list or comma-separated text.")
    opens: str | None = Field(None, description="HH:MM")
    closes: str | None = Field(None, description="HH:MM, or 24:00")
    holidays: list[str] | str | None = Field(None, description="ISO dates (a list or comma-separated text).")
    targets: dict[str, TargetIn] | None = Field(None, description="Hours per priority (low, normal, high, urgent); "
                                                                  "priorities and parts left out stay.")
    high_value: float | None = Field(None, description="null: never raise the priority for value at stake.")
    followup_survey: str | None = Field(None, description="A survey's slug; null or empty: the case-followup "
                                                          "survey.")


def _settings_values(body: SettingsPatch) -> dict[str, Any]:
    values = _given(body)
    if values.get("targets") is not None:  # parts left out stay as they are
        values["targets"] = {p: {k: v for k, v in t.items() if v is not None} for p, t in values["targets"].items()}
    return values


@router.get("/projects/{project}/loop/settings", response={200: SettingsOut, **ERRORS})
def get_settings(request: HttpRequest, project: str) -> dict[str, Any]:
    """The business calendar, SLA targets per priority, the high-value threshold and the follow-up
    survey. Needs 'read'."""
    p = authorize(request, project, Permission.READ)
    return settings_dict(service.sla_settings(p))


@router.patch("/projects/{project}/loop/settings", response={200: SettingsOut, **ERRORS},
              openapi_extra=documented(SettingsPatch))
def patch_settings(request: HttpRequest, project: str) -> dict[str, Any]:
    """Change the settings given; the rest stay. Cases opened from now on get due times from the new
    settings (open cases keep theirs). Needs 'manage' (admins)."""
    p = authorize(request, project, Permission.MANAGE)
    body = body_of(request, SettingsPatch)
    with field_errors():
        settings = service.update_sla_settings(p, _settings_values(body))
    return settings_dict(settings)
