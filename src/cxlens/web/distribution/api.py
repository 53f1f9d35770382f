"""Survey distribution over the REST API: invite customers (batches), read an invitation's status,
record and read a customer's consent, read a survey's response rates.

Inviting and recording consent need 'ingest'; reading needs 'read'. Errors have the API's one shape.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from django.db import transaction
from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import Field

from cxlens.web import api as web_api
from cxlens.web.api import ERRORS, ApiError, authorize
from cxlens.web.distribution import service
from cxlens.web.distribution.models import Invitation
from cxlens.web.models import ApiKey, Project
from cxlens.web.roles import Permission
from cxlens.web.surveys.models import Survey

router = Router(tags=["distribution"])
MAX_INVITATIONS = 1000


def _require(request: HttpRequest, permission: Permission) -> None:
    match = request.resolver_match
    authorize(request, str(match.kwargs.get("project", "")) if match else "", permission)


class KeyAuth(web_api.KeyAuth):
    """The API key, refused with 403 before the body is read when it lacks the operation's permission."""

    def __init__(self, permission: Permission) -> None:
        super().__init__()
        self.permission = permission

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        key = super().authenticate(request, token)
        if key is not None:
            request.auth = key  # type: ignore[attr-defined]
            _require(request, self.permission)
        return key


class SessionAuth(web_api.SessionAuth):
    """The browser session, refused with 403 before the body is read when the role lacks the permission."""

    def __init__(self, permission: Permission) -> None:
        super().__init__()
        self.permission = permission

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        if user is not None:
            request.auth = user  # type: ignore[attr-defined]
            _require(request, self.permission)
        return user


def needs(permission: Permission) -> list[Any]:
    """Authentication of an operation with a body: the permission is checked before the body is validated,
    so a caller without it gets 403 (not a validation error about a body it may not send anyway)."""
    return [KeyAuth(permission), SessionAuth(permission)]


def _now() -> datetime:
    return datetime.now(UTC)


def _survey(project: Project, slug: str) -> Survey:
    found = Survey.objects.select_related("project").filter(project=project, slug=slug).first()
    if found is None:
        raise ApiError(404, "not_found", f"No survey '{slug}' in project '{project.slug}'.", "survey")
    return found


def invitation_dict(inv: Invitation) -> dict[str, Any]:
    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {"id": inv.pk, "survey": inv.survey.slug, "customer_id": inv.customer_id, "email": inv.email,
            "channel": inv.channel, "status": inv.status, "status_reason": inv.status_reason or None,
            "reason": inv.reason, "send_at": iso(inv.send_at), "sent_at": iso(inv.sent_at),
            "expires_at": iso(inv.expires_at), "attempts": inv.attempts, "last_error": inv.last_error or None,
            "next_attempt_at": iso(inv.next_attempt_at), "trigger": inv.trigger.name if inv.trigger else None,
            "answered": inv.survey.responses.filter(link=inv.nonce, completed_at__isnull=False).exists()
            if inv.nonce else False}


class InvitationIn(Schema):
    customer_id: str = Field(..., min_length=1, max_length=200)
    email: str = Field("", max_length=254, description="Empty: the contact's address or customers.email.")
    context: dict[str, str] = Field(default_factory=dict, description="Hidden fields, e.g. ticket_id.")
    language: str | None = Field(None, max_length=20)
    send_at: datetime | None = Field(None, description="When to send (default now; past times mean now).")


class InvitationsIn(Schema):
    invitations: list[InvitationIn] = Field(..., min_length=1, max_length=MAX_INVITATIONS)
    reason: str = Field("api", max_length=200)
    channel: Literal["email"] = "email"


@router.post("/projects/{project}/surveys/{survey}/invitations", response={200: dict[str, Any], **ERRORS},
             auth=needs(Permission.INGEST))
def invite(request: HttpRequest, project: str, survey: str, body: InvitationsIn) -> dict[str, Any]:
    """Invite customers to a live survey (all or none: a bad item rejects the batch). Each result is
    ``queued`` or ``suppressed`` with the reason (unsubscribed, resting period, cap…). Needs 'ingest'."""
    p = authorize(request, project, Permission.INGEST)
    s = _survey(p, survey)
    now, results = _now(), []
    known = service.warehouse_emails(p, [i.customer_id for i in body.invitations if not i.email])
    with transaction.atomic():
        for i, item in enumerate(body.invitations):
            try:
                send_at = item.send_at.astimezone(UTC) if item.send_at and item.send_at.tzinfo else item.send_at
                results.append(service.invite(s, customer_id=item.customer_id, email=item.email, now=now,
                                              channel=body.channel, reason=body.reason, context=item.context,
                                              language=item.language, send_at=send_at, warehouse=known))
            except service.DistributionError as exc:
                field = "email" if "'email'" in str(exc) else "customer_id" if "'customer_id'" in str(exc) else None
                raise ApiError(400, "invalid_input", f"Invitation {i}: {exc}",
                               f"invitations.{i}.{field}" if field else "survey") from None
    return {"survey": s.slug, "queued": sum(r.status == "queued" for r in results),
            "suppressed": sum(r.status == "suppressed" for r in results),
            "invitations": [{**invitation_dict(r.invitation), "result": r.status} for r in results
                            if r.invitation is not None]}


@router.get("/projects/{project}/invitations/{invitation_id}", response={200: dict[str, Any], **ERRORS})
def invitation_status(request: HttpRequest, project: str, invitation_id: int) -> dict[str, Any]:
    """One invitation: status (queued, sent, failed, suppressed, cancelled), reason, attempts, errors. Needs 'read'."""
    p = authorize(request, project, Permission.READ)
    inv = Invitation.objects.select_related("survey", "trigger").filter(project=p, pk=invitation_id).first()
    if inv is None:
        raise ApiError(404, "not_found", f"No invitation {invitation_id} in project '{project}'.", "invitation_id")
    return invitation_dict(inv)


class ConsentIn(Schema):
    consent: Literal["opt_in", "opt_out", "unknown"]
    source: str = Field("api", max_length=200, description="Where the consent was given, e.g. 'signup form'.")
    email: str | None = Field(None, max_length=254)
    language: str | None = Field(None, max_length=20)


def consent_dict(project: Project, customer_id: str) -> dict[str, Any]:
    contact = service.contact_for(project, customer_id)
    return {"customer_id": customer_id, "consent": contact.consent if contact else "unknown",
            "source": (contact.consent_source or None) if contact else None,
            "consent_at": contact.consent_at.isoformat() if contact and contact.consent_at else None,
            "unsubscribed_at": contact.unsubscribed_at.isoformat() if contact and contact.unsubscribed_at else None,
            "email": (contact.email or None) if contact else None,
            "language": (contact.language or None) if contact else None,
            "may_email": service.consent_allows(project, customer_id, _now())}


@router.get("/projects/{project}/contacts/{customer_id}/consent", response={200: dict[str, Any], **ERRORS})
def get_consent(request: HttpRequest, project: str, customer_id: str) -> dict[str, Any]:
    """A customer's consent and whether the project may e-mail them. Needs 'read'."""
    p = authorize(request, project, Permission.READ)
    return consent_dict(p, customer_id)


@router.post("/projects/{project}/contacts/{customer_id}/consent", response={200: dict[str, Any], **ERRORS},
             auth=needs(Permission.INGEST))
def set_consent(request: HttpRequest, project: str, customer_id: str, body: ConsentIn) -> dict[str, Any]:
    """Record a customer's consent; ``opt_out`` cancels their queued invitations. Needs 'ingest'."""
    p = authorize(request, project, Permission.INGEST)
    service.set_consent(p, customer_id, body.consent, _now(), source=body.source, email=body.email,
                        language=body.language)
    return consent_dict(p, customer_id)


@router.get("/projects/{project}/surveys/{survey}/response-rates", response={200: dict[str, Any], **ERRORS})
def response_rates(request: HttpRequest, project: str, survey: str) -> dict[str, Any]:
    """Invitations sent and answered per channel, with the rate's 95% Wilson interval. Needs 'read'."""
    p = authorize(request, project, Permission.READ)
    s = _survey(p, survey)
    return {"survey": s.slug, "rates": [r.to_dict() for r in service.response_rates(s)]}
