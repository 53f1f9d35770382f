"""Survey pages: the builder (members of the project) and the hosted survey (public, no login).

The hosted pages work without JavaScript: every page is a form posted to the server, which keeps
the answers (a partial response) and picks the next page from the answers so far; after the last
page the response is complete (durable in the app database) and the thank-you page shows at once,
while the ``surveys-flush`` job writes it to the warehouse within about a second. The pages speak
the respondent's language when the survey has it (see ``i18n.py``).
"""

from __future__ import annotations

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
from cxlens.web.surveys import i18n, limits, links, logic, service
from cxlens.web.surveys.models import Response, Status, Survey
from cxlens.web.surveys.presets import PRESETS
from cxlens.web.views import project_view

COOKIE_SALT = "cxlens.surveys.browser"
COOKIE_DAYS = 365
MAX_LINK_DAYS = 365


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
    ctx.update(translations=_translation_forms(version), languages=i18n.languages(s.language, version.translations),
               widget_snippet=_snippet(request, s), origins_text="\n".join(s.allowed_origins),
               widget_question=_widget_ready(version),
               new_translation=[{"q": q, "text": "", "options": ""} for q in version.questions])
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
    elif action == "translation":
        service.save_translation(s, form.get("lang", ""), form)
    elif action == "delete_translation":
        service.delete_translation(s, form.get("lang", ""))
    elif action == "new_key":
        service.new_key(s)
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
    language = request.POST.get("lang") or None
    if language and language not in i18n.languages(s.language, s.latest().translations):
        raise service.SurveyError(f"The link's language must be one of the survey's "
                                  f"({', '.join(i18n.languages(s.language, s.latest().translations))}). "
                                  f"Got {language!r} instead.")
    token = links.make_token(s.slug, hidden, now + timedelta(days=days), language)
    return request.build_absolute_uri(reverse("survey_start", args=[s.slug]) + "?t=" + token)


@project_view(Permission.READ)
def survey_preview(request: HttpRequest, project: Project, survey: str) -> HttpResponse:
    s = _survey(project, survey)
    questions = s.latest().questions
    layout = logic.pages(questions)
    by_id = {q["id"]: q for q in questions}
    lang = s.language
    preview_pages = [[_field(by_id[qid], {}, {}, None, lang, {}) for qid in page] for page in layout]
    return render(request, "cxlens/surveys/preview.html", {"project": project, "nav": "surveys", "survey": s,
                                                          "pages": preview_pages, "ui": i18n.words(lang)})


@project_view(Permission.READ)
def survey_results(request: HttpRequest, project: Project, survey: str) -> HttpResponse:
    s = _survey(project, survey)
    return render(request, "cxlens/surveys/results.html", {"project": project, "nav": "surveys", "survey": s,
                                                          "results": service.results(s)})


def _translation_forms(version: Any) -> list[dict[str, Any]]:
    """Per language, each question with its default text and its translation (for the builder)."""
    forms = []
    for lang in sorted(version.translations):
        texts = version.translations[lang]
        forms.append({"lang": lang, "dir": i18n.direction(lang),
                      "title": (texts.get(i18n.TITLE) or {}).get("text", ""),
                      "rows": [{"q": q, "text": (texts.get(q["id"]) or {}).get("text", ""),
                                "options": "\n".join((texts.get(q["id"]) or {}).get("options", []))}
                               for q in version.questions]})
    return forms


def _widget_ready(version: Any) -> bool:
    try:
        service.widget_question(version)
    except service.SurveyError:
        return False
    return True


def _snippet(request: HttpRequest, s: Survey) -> str:
    """The script tag a web site adds to show the widget."""
    from cxlens.web import collector

    base = collector.public_url(request)  # a collector answering the widget, when there is one
    src = base + reverse("survey_widget_js") if base else request.build_absolute_uri(reverse("survey_widget_js"))
    return (f'<script src="{src}" data-survey="{s.slug}" data-key="{s.public_key}" '
            f'data-customer-id="CUSTOMER_ID" async></script>')


# -------------------------------------------------------------------------------- hosted pages


def _explain(lang: str) -> Any:
    """Problems with answers in the page's language (English keeps the full detail)."""
    def explain(exc: logic.AnswerError) -> str:
        key = f"err_{exc.code}"
        if i18n.primary(lang) == "en" or key not in i18n.UI["en"]:
            return str(exc)
        return i18n.text(lang, key, **exc.params)
    return explain


def _field(q: dict[str, Any], answers: dict[str, Any], errors: dict[str, str], form: Any, lang: str,
           translations: dict[str, Any]) -> dict[str, Any]:
    """What the template needs to draw one question (texts in ``lang`` when translated)."""
    name = f"a_{q['id']}"
    if form is not None:
        current: list[str] = form.getlist(name)
    else:
        value = answers.get(q["id"])
        current = [str(v) for v in value] if isinstance(value, list) else ([] if value is None else [str(value)])
    text, labels = i18n.localized(q, translations, lang)
    ui = i18n.words(lang)
    if q["type"] in logic.CHOICE:
        shown = dict(zip(q.get("options") or [], labels, strict=False))
    else:
        shown = {"yes": ui["yes"], "no": ui["no"]}
    options = [(c, shown.get(c, c), c in current) for c in logic.choices(q)] if q["type"] != "text" else []
    ends = (ui[f"{q['type']}_low"], ui[f"{q['type']}_high"]) if q["type"] in logic.SCALED else None
    return {"q": q, "text": text, "name": name, "dom": f"q-{q['id']}", "options": options,
            "value": current[0] if current else "", "error": errors.get(q["id"]), "ends": ends,
            "max_text": logic.MAX_TEXT, "scale": q["type"] in logic.SCALED, "condition": q.get("show_if")}


def _lang_context(lang: str) -> dict[str, Any]:
    return {"lang": lang, "dir": i18n.direction(lang), "ui": i18n.words(lang), "honeypot": limits.HONEYPOT}


def _render_page(request: HttpRequest, s: Survey, version: Any, answers: dict[str, Any], index: int, lang: str,
                 *, errors: dict[str, str] | None = None, form: Any = None, action: str, back: bool = False,
                 status: int = 200) -> HttpResponse:
    questions, translations = version.questions, version.translations
    layout = logic.pages(questions)
    fields = [_field(q, answers, errors or {}, form, lang, translations)
              for q in logic.page_questions(questions, answers, index)]
    last = index == len(layout) - 1
    errors = errors or {}
    ui = i18n.words(lang)
    response = render(request, "cxlens/surveys/page.html", {
        "survey": s, "title": i18n.title(s.title, translations, lang), "fields": fields, "index": index,
        "progress": ui["page_of"].format(step=index + 1, steps=len(layout)), "steps": len(layout),
        "action": action, "errors": errors, "last": last, "back": back,
        "check": ui["check_one"] if len(errors) == 1 else ui["check_many"].format(n=len(errors)),
        **_lang_context(lang)}, status=status)
    response["Cache-Control"] = "no-store"
    return response


def _message(request: HttpRequest, s: Survey | None, title: str, message: str, status: int,
             lang: str | None = None) -> HttpResponse:
    lang = lang or (s.language if s is not None else "en")
    return render(request, "cxlens/surveys/message.html", {"survey": s, "title": title, "message": message,
                                                           **_lang_context(lang)}, status=status)


def _problem(s: Survey, now: datetime, lang: str) -> str | None:
    """Why the survey takes no answers at ``now``, in ``lang`` (None when it does)."""
    if s.open_problem(now) is None:
        return None
    if s.status == Status.DRAFT:
        return i18n.text(lang, "not_open")
    if s.status == Status.CLOSED:
        return i18n.text(lang, "closed")
    if s.starts_at and now < s.starts_at:
        return i18n.text(lang, "opens_on", date=f"{s.starts_at:%Y-%m-%d}")
    return i18n.text(lang, "ended")


def _client(request: HttpRequest) -> str:
    """The client address limits count against (the connection's: behind a proxy, the proxy's)."""
    return str(request.META.get("REMOTE_ADDR") or "")


def _too_many(request: HttpRequest, s: Survey, lang: str, token: str) -> HttpResponse | None:
    verdict = limits.check(_client(request), token=token)
    if verdict.allowed:
        return None
    response = _message(request, s, s.title, i18n.text(lang, "too_many", seconds=verdict.retry_after), 429, lang)
    response["Retry-After"] = str(verdict.retry_after)
    return response


def _thanks(request: HttpRequest, s: Survey, lang: str) -> HttpResponse:
    return _message(request, s, i18n.text(lang, "thanks_title"), i18n.text(lang, "thanks"), 200, lang)


def _cookie_name(s: Survey) -> str:
    return f"cxs_{s.pk}"


def _browser_response(request: HttpRequest, s: Survey) -> Response | None:
    public_id = request.get_signed_cookie(_cookie_name(s), default=None, salt=COOKIE_SALT)
    return Response.objects.filter(survey=s, public_id=public_id).first() if public_id else None


def _continue(s: Survey, r: Response) -> HttpResponse:
    if r.completed_at is not None:
        return redirect("survey_thanks", slug=s.slug, response=r.public_id)
    return redirect("survey_page", slug=s.slug, response=r.public_id)


def _display(s: Survey, version: Any, wanted: list[str | None]) -> str:
    """The page language: the first wanted one the version has, else the survey's."""
    return i18n.pick(i18n.languages(s.language, version.translations), wanted) or s.language


@require_http_methods(["GET", "POST"])
def survey_start(request: HttpRequest, slug: str) -> HttpResponse:
    """The survey's public link: ``/s/SLUG/`` (anonymous, hidden fields from the query string),
    ``?t=TOKEN`` (personal link), ``?nps=9`` (score picked in an e-mail, prefilled) and
    ``?lang=de`` (the page language, else the link's or the browser's among the survey's)."""
    browser = i18n.accept_language(request.headers.get("Accept-Language"))
    s = Survey.objects.select_related("project").filter(slug=slug).first()
    if s is None or s.status == Status.DRAFT:
        lang = i18n.pick(list(i18n.UI), browser) or "en"
        return _message(request, None, i18n.text(lang, "not_found_title"), i18n.text(lang, "not_found"), 404, lang)
    now = utcnow()
    version = s.latest()
    asked = request.GET.get("lang") if i18n.TAG.match(request.GET.get("lang") or "") else None
    lang = _display(s, version, [asked, *browser])
    problem = _problem(s, now, lang)
    if problem:
        return _message(request, s, s.title, problem, 410, lang)
    nonce, hidden = None, service.hidden_from(request.GET, s.hidden_fields)
    if request.GET.get("t"):
        try:
            link = links.read_token(request.GET["t"], s.slug, now)
        except links.LinkError as exc:
            when = {"date": f"{exc.when:%Y-%m-%d}"} if exc.when else {}
            return _message(request, s, s.title, i18n.text(lang, f"link_{exc.reason}", **when),
                            410 if exc.reason == "expired" else 400, lang)
        nonce, hidden = link.nonce, {k: v for k, v in link.hidden.items() if k in s.hidden_fields}
        asked = asked or link.language
        lang = _display(s, version, [asked, *browser])
        earlier = Response.objects.filter(link=nonce).first()
        if earlier is not None:
            return _answered(request, s, lang) if earlier.completed_at else _continue(s, earlier)
    else:
        earlier = _browser_response(request, s)
        if earlier is not None:
            return _answered(request, s, lang) if earlier.completed_at else _continue(s, earlier)
    action = request.get_full_path()
    if request.method == "GET":
        prefill = _prefill(version.questions, request.GET)
        return _render_page(request, s, version, prefill, 0, lang, action=action)
    limited = _too_many(request, s, lang, nonce or "")
    if limited is not None:
        return limited
    if request.POST.get(limits.HONEYPOT):  # filled by a bot: looks accepted, nothing is kept
        return _thanks(request, s, lang)
    form = {q["id"]: request.POST.getlist(f"a_{q['id']}") for q in version.questions}
    _, errors = logic.apply_page(version.questions, {}, 0, form, _explain(lang))
    if errors:
        return _render_page(request, s, version, {}, 0, lang, errors=errors, form=request.POST, action=action,
                            status=400)
    try:
        r = service.start_response(s, version, hidden, asked or lang, nonce, now)
    except IntegrityError:  # the same personal link sent twice at once: continue the first
        earlier = Response.objects.filter(link=nonce).first()
        if earlier is None:
            raise
        return _continue(s, earlier)
    try:
        service.submit_page(r, 0, form, now)
    except CxlensError:
        return _message(request, s, s.title, i18n.text(lang, "unavailable"), 503, lang)
    response = _continue(s, r)
    response.set_signed_cookie(_cookie_name(s), r.public_id, salt=COOKIE_SALT, max_age=COOKIE_DAYS * 86400,
                               httponly=True, samesite="Lax", secure=request.is_secure())
    return response


def _prefill(questions: list[dict[str, Any]], params: Any) -> dict[str, Any]:
    """``?nps=9``: the first NPS question's answer picked in the e-mail (ignored when not 0-10)."""
    first = next((q for q in questions if q["type"] == "nps"), None)
    if first is None or not params.get("nps"):
        return {}
    try:
        return {first["id"]: logic.parse_answer({**first, "required": False}, [params["nps"]])}
    except logic.AnswerError:
        return {}


def _answered(request: HttpRequest, s: Survey, lang: str) -> HttpResponse:
    return _message(request, s, s.title, i18n.text(lang, "already"), 200, lang)


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
    lang = _display(s, r.version, [r.language])
    problem = _problem(s, now, lang)
    if problem:
        return _message(request, s, s.title, problem, 410, lang)
    questions = r.version.questions
    index = logic.next_page(questions, r.answers, r.page)
    action = request.get_full_path()
    if index is None:  # every page answered but not yet marked complete (an earlier attempt failed)
        service.complete(r, now)
        return _continue(s, r)
    back = logic.previous_page(questions, r.answers, index) is not None
    if request.method == "GET":
        return _render_page(request, s, r.version, r.answers, index, lang, action=action, back=back)
    limited = _too_many(request, s, lang, r.public_id)
    if limited is not None:
        return limited
    if request.POST.get(limits.HONEYPOT):
        return _thanks(request, s, lang)
    if request.POST.get("page") != str(index):  # a page sent twice, or from an old tab
        return _continue(s, r)
    if request.POST.get("nav") == "back":  # the previous page, answers kept; this page's not taken
        previous = logic.previous_page(questions, r.answers, index)
        if previous is not None:
            r.page, r.updated_at = previous, now
            r.save(update_fields=["page", "updated_at"])
        return _continue(s, r)
    form = {q["id"]: request.POST.getlist(f"a_{q['id']}") for q in questions}
    result = service.submit_page(r, index, form, now, _explain(lang))
    if result.errors:
        return _render_page(request, s, r.version, r.answers, index, lang, errors=result.errors, form=request.POST,
                            action=action, back=back, status=400)
    return _continue(s, r)


@require_http_methods(["GET"])
def survey_thanks(request: HttpRequest, slug: str, response: str) -> HttpResponse:
    r = Response.objects.select_related("survey", "version").filter(survey__slug=slug, public_id=response).first()
    if r is None:
        raise Http404("No such response")
    if r.completed_at is None:
        return _continue(r.survey, r)
    return _thanks(request, r.survey, _display(r.survey, r.version, [r.language]))
