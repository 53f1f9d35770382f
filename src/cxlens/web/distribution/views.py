"""Distribution pages: a survey's invitations, response rate, triggers and the project's contact
policy (members), and the public unsubscribe page (no login; the signed link is the credential)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from cxlens.errors import CxlensError
from cxlens.web.distribution import service, triggers
from cxlens.web.distribution.models import Invitation, Trigger
from cxlens.web.models import Project
from cxlens.web.roles import Permission
from cxlens.web.surveys import i18n
from cxlens.web.surveys.models import Survey
from cxlens.web.views import project_view

#: What each action of the distribution page needs.
ACTIONS: dict[str, Permission] = {"invite": Permission.INGEST, "retry": Permission.INGEST,
                                  "add_trigger": Permission.MANAGE, "toggle_trigger": Permission.MANAGE,
                                  "policy": Permission.MANAGE}


def utcnow() -> datetime:
    return datetime.now(UTC)


def _allowed(request: HttpRequest, permission: Permission) -> bool:
    return permission in request.role.permissions  # type: ignore[attr-defined]


@project_view(Permission.READ)
@require_http_methods(["GET", "POST"])
def survey_distribution(request: HttpRequest, project: Project, survey: str) -> HttpResponse:
    s = get_object_or_404(Survey, project=project, slug=survey)
    ctx: dict[str, Any] = {"project": project, "nav": "surveys", "survey": s, "form": request.POST,
                           "can_invite": _allowed(request, Permission.INGEST),
                           "can_manage": _allowed(request, Permission.MANAGE), "tables": tuple(triggers.TABLES)}
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        needed = ACTIONS.get(action)
        if needed is None:
            ctx["error"], status = f"Unknown action {action!r}; use one of {', '.join(ACTIONS)}.", 400
        elif not _allowed(request, needed):
            role = request.role  # type: ignore[attr-defined]
            return render(request, "cxlens/error.html", {
                "title": "Not allowed",
                "message": f"This needs the '{needed.value}' permission, which the {role.value} role does not "
                           f"have. Ask a project admin."}, status=403)
        else:
            try:
                result = _do(request, project, s, action)
            except CxlensError as exc:
                ctx["error"], status = str(exc), 400
            else:
                if result is None:
                    return redirect("survey_distribution", slug=project.slug, survey=s.slug)
                ctx["invited"] = result
    ctx["data"] = service.overview(s)
    response = render(request, "cxlens/distribution/survey.html", ctx, status=status)
    response["Cache-Control"] = "no-store"
    return response


def _do(request: HttpRequest, project: Project, s: Survey, action: str) -> list[service.InviteResult] | None:
    form, now = request.POST, utcnow()
    if action == "invite":
        return service.invite_many(s, service.parse_customer_ids(form.get("customer_ids", "")), now,
                                   reason=f"sent by {request.user.get_username()}")
    if action == "retry":
        service.retry_now(_invitation(s, form.get("invitation")), now)
    elif action == "add_trigger":
        triggers.trigger_from_form(project, s, form)
    elif action == "toggle_trigger":
        found = Trigger.objects.filter(survey=s, pk=_number(form.get("trigger"), "trigger")).first()
        if found is None:
            raise service.DistributionError(f"No trigger {form.get('trigger')!r} on this survey.")
        triggers.set_active(found, form.get("active") == "true")
    elif action == "policy":
        service.update_policy(project, {**form.dict(), "mail_unknown": form.get("mail_unknown", "false")}, now)
    return None


def _number(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise service.DistributionError(f"The '{name}' must be a number. Got {value!r} instead.") from None


def _invitation(s: Survey, value: Any) -> Invitation:
    found = Invitation.objects.filter(survey=s, pk=_number(value, "invitation")).first()
    if found is None:
        raise service.DistributionError(f"No invitation {value!r} of this survey.")
    return found


# ------------------------------------------------------------------------------------ unsubscribe


def _language(request: HttpRequest) -> str:
    """The unsubscribe page's language: ``?lang=`` (the e-mail's), else the browser's, among those with words."""
    asked = request.GET.get("lang") or ""
    wanted = [asked if i18n.TAG.match(asked) else None, *i18n.accept_language(request.headers.get("Accept-Language"))]
    return i18n.pick(list(i18n.UI), wanted) or "en"


def _message(request: HttpRequest, lang: str, title: str, message: str, status: int, **extra: Any) -> HttpResponse:
    response = render(request, "cxlens/distribution/unsubscribe.html",
                      {"title": title, "message": message, "lang": lang, "dir": i18n.direction(lang),
                       "ui": i18n.words(lang), **extra}, status=status)
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    response["Content-Language"] = lang
    return response


@csrf_exempt  # RFC 8058: the mail provider's one-click POST carries no session; the signed token is the credential
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """``/u/TOKEN/``: GET asks to confirm (mail scanners follow links), POST unsubscribes; in the
    language of ``?lang=`` or the browser."""
    now, lang = utcnow(), _language(request)
    title = i18n.text(lang, "unsubscribe")
    try:
        link = service.read_unsubscribe_token(token, now)
    except service.UnsubscribeError as exc:
        when = {"date": f"{exc.when:%Y-%m-%d}"} if exc.when else {}
        return _message(request, lang, title, i18n.text(lang, f"unsub_{exc.reason}", **when),
                        410 if exc.reason == "expired" else 400)
    if request.method == "GET":
        return _message(request, lang, title, i18n.text(lang, "unsub_ask", project=link.project.name), 200,
                        confirm=True)
    service.unsubscribe(link.project, link.customer_id, now)
    return _message(request, lang, i18n.text(lang, "unsub_done_title"),
                    i18n.text(lang, "unsub_done", project=link.project.name), 200)
