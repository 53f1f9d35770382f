"""Survey pages: the builder (members of the project) and the hosted survey (public, no login).

The hosted pages work without JavaScript: every page is a form posted to the server, which keeps
the answers (a partial response), picks the next page from the answers so far and, after the
last page, writes the response to the warehouse before showing the thank-you page.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from cxlens.errors import CxlensError
from cxlens.web.models import Project
from cxlens.web.roles import Permission
from cxlens.web.surveys import links, logic, service
from cxlens.web.surveys.models import Response, Status, Survey
from cxlens.web.surveys.presets import PRESETS
from cxlens.web.views import project_view

LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,2}$")
COOKIE_SALT = "cxlens.surveys.browser"
COOKIE_DAYS = 365
MAX_LINK_DAYS = 365
SCALE_ENDS = {"nps": ("Not at all likely", "Extremely likely"), "csat": ("Very dissatisfied", "Very satisfied"),
              "ces": ("Very difficult", "Very easy"), "rating": ("Poor", "Excellent")}


def utcnow() -> datetime:
    return datetime.now(UTC)


# ------------------------------------------------------------------------------------- builder


def _can_edit(request: HttpRequest) -> bool:
    return Permission.INGEST in request.role.permissions  # type: ignore[attr-defined]


def _forbidden(request: HttpRequest) -> HttpResponse:
    return render(request, "cxlens/error.html", {
        "title": "Not allowed",
        "message": "Changing surveys needs the 'ingest' permission (analyst or admin role), which your role "
                   "does not have. Ask a project admin for the analyst role."}, status=403)


@project_view(Permission.READ)
@require_http_methods(["GET", "POST"])
def survey_list(request: HttpRequest, project: Project) -> HttpResponse:
    ctx: dict[str, Any] = {"project": project, "nav": "surveys", "presets": PRESETS.values(),
                           "can_edit": _can_edit(request), "form": request.POST}
    if request.method == "POST":
        if not ctx["can_edit"]:
            return _forbidden(request)
        try:
            survey = service.create_survey(project, request.POST.get("template", ""), request.POST.get("title", ""),
                                           request.POST.get("slug", ""), request.user)
        except CxlensError as exc:
            ctx["error"] = str(exc)
        else:
            return redirect("survey_detail", slug=project.slug, survey=survey.slug)
    ctx["surveys"] = list(Survey.objects.filter(project=project))
    return render(request, "cxlens/surveys/list.html", ctx, status=400 if "error" in ctx else 200)


def _survey(project: Project, slug: str) -> Survey:
    return get_object_or_404(Survey, project=project, slug=slug)


@project_view(Permission.READ)
@require_http_methods(["GET", "POST"])
def survey_detail(request: HttpRequest, project: Project, survey: str) -> HttpResponse:
    s = _survey(project, survey)
    ctx: dict[str, Any] = {"project": project, "nav": "surveys", "survey": s, "can_edit": _can_edit(request)}
    if request.method == "POST":
        if not ctx["can_edit"]:
            return _forbidden(request)
        try:
            link = _detail_action(request, s)
        except CxlensError as exc:
            ctx["error"] = str(exc)
        else:
            if link is None:
                return redirect("survey_detail", slug=project.slug, survey=s.slug)
            ctx["new_link"] = link
    version = s.latest()
    ctx.update(version=version, questions=version.questions, types=logic.QUESTION_TYPES.items(),
               operators=logic.OPERATORS, scale_tops=logic.SCALE_TOPS, hidden_choices=logic.HIDDEN_FIELDS,
               public_url=request.build_absolute_uri(reverse("survey_start", args=[s.slug])),
               counts={"completed": s.responses.filter(completed_at__isnull=False).count(),
                       "partial": s.responses.filter(completed_at__isnull=True).count()},
               versions=s.versions.count())
    response = render(request, "cxlens/surveys/detail.html", ctx, status=400 if "error" in ctx else 200)
    response["Cache-Control"] = "no-store"
    return response


def _detail_action(request: HttpRequest, s: Survey) -> str | None:
    action, form, now = request.POST.get("action"), request.POST, utcnow()
    if action == "settings":
        service.update_settings(s, form)
    elif action == "edit_question":
        service.edit_question(s, form.get("qid", ""), form)
    elif action == "add_question":
        service.add_question(s, form)
    elif action == "delete_question":
        service.delete_question(s, form.get("qid", ""))
    elif action == "publish":
        service.publish(s, now)
    elif action == "close":
        service.close(s, now)
    elif action == "make_link":
        return _personal_link(request, s, now)
    else:
        raise CxlensError(f"Unknown action {action!r}.")
    return None


def _personal_link(request: HttpRequest, s: Survey, now: datetime) -> str:
    try:
        days = int(request.POST.get("days") or 30)
    except ValueError:
        days = 0
    if not 1 <= days <= MAX_LINK_DAYS:
        raise service.SurveyError(f"A link is valid for 1 to {MAX_LINK_DAYS} days. "
                                  f"Got {request.POST.get('days')!r} instead.")
    hidden = service.hidden_from(request.POST, s.hidden_fields)
    token = links.make_token(s.slug, hidden, now + timedelta(days=days))
    return request.build_absolute_uri(reverse("survey_start", args=[s.slug]) + "?t=" + token)


@project_view(Permission.READ)
def survey_preview(request: HttpRequest, project: Project, survey: str) -> HttpResponse:
    s = _survey(project, survey)
    questions = s.latest().questions
    layout = logic.pages(questions)
    by_id = {q["id"]: q for q in questions}
    preview_pages = [[_field(by_id[qid], {}, {}, None) for qid in page] for page in layout]
    return render(request, "cxlens/surveys/preview.html", {"project": project, "nav": "surveys", "survey": s,
                                                          "pages": preview_pages})


@project_view(Permission.READ)
def survey_results(request: HttpRequest, project: Project, survey: str) -> HttpResponse:
    s = _survey(project, survey)
    return render(request, "cxlens/surveys/results.html", {"project": project, "nav": "surveys", "survey": s,
                                                          "results": service.results(s)})


# -------------------------------------------------------------------------------- hosted pages


def _field(q: dict[str, Any], answers: dict[str, Any], errors: dict[str, str], form: Any) -> dict[str, Any]:
    """What the template needs to draw one question."""
    name = f"a_{q['id']}"
    if form is not None:
        current: list[str] = form.getlist(name)
    else:
        value = answers.get(q["id"])
        current = [str(v) for v in value] if isinstance(value, list) else ([] if value is None else [str(value)])
    options = [(c, c if q["type"] in logic.CHOICE else {"yes": "Yes", "no": "No"}.get(c, c), c in current)
               for c in logic.choices(q)] if q["type"] != "text" else []
    return {"q": q, "name": name, "dom": f"q-{q['id']}", "options": options, "value": current[0] if current else "",
            "error": errors.get(q["id"]), "ends": SCALE_ENDS.get(q["type"]), "max_text": logic.MAX_TEXT,
            "scale": q["type"] in logic.SCALED, "condition": q.get("show_if")}


def _render_page(request: HttpRequest, s: Survey, questions: list[dict[str, Any]], answers: dict[str, Any],
                 index: int, *, errors: dict[str, str] | None = None, form: Any = None,
                 action: str, status: int = 200) -> HttpResponse:
    layout = logic.pages(questions)
    fields = [_field(q, answers, errors or {}, form) for q in logic.page_questions(questions, answers, index)]
    last = index == len(layout) - 1
    response = render(request, "cxlens/surveys/page.html", {
        "survey": s, "fields": fields, "index": index, "step": index + 1, "steps": len(layout), "action": action,
        "errors": errors or {}, "last": last}, status=status)
    response["Cache-Control"] = "no-store"
    return response


def _message(request: HttpRequest, s: Survey | None, title: str, message: str, status: int) -> HttpResponse:
    return render(request, "cxlens/surveys/message.html", {"survey": s, "title": title, "message": message},
                  status=status)


def _cookie_name(s: Survey) -> str:
    return f"cxs_{s.pk}"


def _browser_response(request: HttpRequest, s: Survey) -> Response | None:
    public_id = request.get_signed_cookie(_cookie_name(s), default=None, salt=COOKIE_SALT)
    return Response.objects.filter(survey=s, public_id=public_id).first() if public_id else None


def _continue(s: Survey, r: Response) -> HttpResponse:
    if r.completed_at is not None:
        return redirect("survey_thanks", slug=s.slug, response=r.public_id)
    return redirect("survey_page", slug=s.slug, response=r.public_id)


@require_http_methods(["GET", "POST"])
def survey_start(request: HttpRequest, slug: str) -> HttpResponse:
    """The survey's public link: ``/s/SLUG/`` (anonymous, hidden fields from the query string),
    ``?t=TOKEN`` (personal link) and ``?nps=9`` (score picked in an e-mail, prefilled)."""
    s = Survey.objects.select_related("project").filter(slug=slug).first()
    if s is None or s.status == Status.DRAFT:
        return _message(request, None, "Survey not found", "There is no survey at this address.", 404)
    now = utcnow()
    problem = s.open_problem(now)
    if problem:
        return _message(request, s, s.title, problem, 410)
    nonce, hidden = None, service.hidden_from(request.GET, s.hidden_fields)
    if request.GET.get("t"):
        try:
            link = links.read_token(request.GET["t"], s.slug, now)
        except links.LinkError as exc:
            return _message(request, s, s.title, str(exc), 410 if exc.reason == "expired" else 400)
        nonce, hidden = link.nonce, {k: v for k, v in link.hidden.items() if k in s.hidden_fields}
        earlier = Response.objects.filter(link=nonce).first()
        if earlier is not None:
            return _answered(request, s) if earlier.completed_at else _continue(s, earlier)
    else:
        earlier = _browser_response(request, s)
        if earlier is not None:
            return _answered(request, s) if earlier.completed_at else _continue(s, earlier)
    version = s.latest()
    action = request.get_full_path()
    if request.method == "GET":
        prefill = _prefill(version.questions, request.GET)
        return _render_page(request, s, version.questions, prefill, 0, action=action)
    form = {q["id"]: request.POST.getlist(f"a_{q['id']}") for q in version.questions}
    _, errors = logic.apply_page(version.questions, {}, 0, form)
    if errors:
        return _render_page(request, s, version.questions, {}, 0, errors=errors, form=request.POST,
                            action=action, status=400)
    language = _language(request.GET.get("lang"), s.language)
    try:
        r = service.start_response(s, version, hidden, language, nonce, now)
    except IntegrityError:  # the same personal link sent twice at once: continue the first
        earlier = Response.objects.filter(link=nonce).first()
        if earlier is None:
            raise
        return _continue(s, earlier)
    try:
        service.submit_page(r, 0, form, now)
    except CxlensError as exc:
        return _message(request, s, s.title, str(exc), 503)
    response = _continue(s, r)
    response.set_signed_cookie(_cookie_name(s), r.public_id, salt=COOKIE_SALT, max_age=COOKIE_DAYS * 86400,
                               httponly=True, samesite="Lax", secure=request.is_secure())
    return response


def _language(value: str | None, default: str) -> str:
    """The language code from ``?lang=`` when it looks like a BCP 47 tag, else the survey's."""
    return value if value and LANGUAGE.match(value) else default


def _prefill(questions: list[dict[str, Any]], params: Any) -> dict[str, Any]:
    """``?nps=9``: the first NPS question's answer picked in the e-mail (ignored when not 0-10)."""
    first = next((q for q in questions if q["type"] == "nps"), None)
    if first is None or not params.get("nps"):
        return {}
    try:
        return {first["id"]: logic.parse_answer({**first, "required": False}, [params["nps"]])}
    except logic.AnswerError:
        return {}


def _answered(request: HttpRequest, s: Survey) -> HttpResponse:
    return _message(request, s, s.title, "You have already answered this survey. Thank you!", 200)


@require_http_methods(["GET", "POST"])
def survey_page(request: HttpRequest, slug: str, response: str) -> HttpResponse:
    """The next page of a response in progress (its address is its key: keep it to continue later)."""
    r = Response.objects.select_related("survey__project", "version").filter(
        survey__slug=slug, public_id=response).first()
    if r is None:
        raise Http404("No such response")
    s = r.survey
    if r.completed_at is not None:
        return _continue(s, r)
    now = utcnow()
    problem = s.open_problem(now)
    if problem:
        return _message(request, s, s.title, problem, 410)
    questions = r.version.questions
    index = logic.next_page(questions, r.answers, r.page)
    action = request.get_full_path()
    if index is None:  # every page answered but not yet stored (an earlier attempt failed): store now
        try:
            service.complete(r, now)
        except CxlensError as exc:
            return _message(request, s, s.title, str(exc), 503)
        return _continue(s, r)
    if request.method == "GET":
        return _render_page(request, s, questions, r.answers, index, action=action)
    if request.POST.get("page") != str(index):  # a page sent twice, or from an old tab
        return _continue(s, r)
    form = {q["id"]: request.POST.getlist(f"a_{q['id']}") for q in questions}
    try:
        result = service.submit_page(r, index, form, now)
    except CxlensError as exc:
        return _message(request, s, s.title, str(exc), 503)
    if result.errors:
        return _render_page(request, s, questions, r.answers, index, errors=result.errors, form=request.POST,
                            action=action, status=400)
    return _continue(s, r)


@require_http_methods(["GET"])
def survey_thanks(request: HttpRequest, slug: str, response: str) -> HttpResponse:
    r = Response.objects.select_related("survey").filter(survey__slug=slug, public_id=response).first()
    if r is None:
        raise Http404("No such response")
    if r.completed_at is None:
        return _continue(r.survey, r)
    return _message(request, r.survey, "Thank you!", "Your answers have been recorded. Thank you for your time.",
                    200)

