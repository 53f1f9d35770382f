"""The closed loop over the REST API (``/api/projects/<project>/loop/...``): alert rules, cases and
the delivery log. Reading needs 'read'; changing rules and cases needs 'ingest' (analysts, admins
and keys with the ingest scope). Errors have the API's one shape.

JSON bodies are validated after the caller's permission is checked (a caller without it learns
nothing about the body's shape); the OpenAPI document still describes each body's schema.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

from django.db.models import Q
from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from ninja.errors import ValidationError
from pydantic import Field
from pydantic import ValidationError as PydanticError

from cxlens.web import jobs
from cxlens.web.api import ERRORS, ApiError, ErrorOut, authorize
from cxlens.web.loop import service
from cxlens.web.loop.models import AlertRule, Delivery
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
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": model.model_json_schema()}}}}


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
    rule = AlertRule.objects.filter(project=project, pk=rule_id).select_related("team").first()
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


@router.get("/projects/{project}/loop/deliveries", response={200: list[dict[str, Any]], **ERRORS})
def list_deliveries(request: HttpRequest, project: str, status: Literal["pending", "delivered", "failed"] | None = None,
                    limit: int = Query(100, ge=1, le=1000)) -> list[dict[str, Any]]:
    """The delivery log, newest first (payloads of webhooks included; secrets never). Needs 'read'."""
    p = authorize(request, project, Permission.READ)
    qs = Delivery.objects.filter(project=p).select_related("channel", "case")
    if status:
        qs = qs.filter(Q(status=status))

    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return [{"id": d.pk, "event": d.event, "kind": d.kind, "channel": d.channel.name if d.channel else None,
             "to": d.describe_target(), "case_id": d.case.case_id if d.case else None, "status": d.status,
             "attempts": d.attempts, "response_code": d.response_code, "last_error": d.last_error or None,
             "created_at": iso(d.created_at), "next_attempt_at": iso(d.next_attempt_at) if d.status == "pending"
             else None, "delivered_at": iso(d.delivered_at)} for d in qs[:limit]]
