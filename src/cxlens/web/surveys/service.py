"""What the survey pages do: create and edit surveys, answer them (hosted pages and the widget),
write completed responses to the warehouse in batches, and sum up the results. Views only parse
requests and render."""

from __future__ import annotations

import logging
import re
import secrets
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models.signals import post_save

from cxlens.errors import CxlensError, CxlensInputError
from cxlens.web.models import Project
from cxlens.web.projects import POOL
from cxlens.web.surveys import i18n, logic, writer
from cxlens.web.surveys.models import Response, Status, Survey, SurveyVersion, new_public_key
from cxlens.web.surveys.presets import PRESETS

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,58}[a-z0-9]$")
ORIGIN = re.compile(r"^https?://[a-z0-9.-]+(:[0-9]{1,5})?$|^https?://\[[0-9a-f:.]+\](:[0-9]{1,5})?$")
MAX_ORIGINS = 50
CLIENT_ID = re.compile(r"^[0-9a-f]{32}$")
log = logging.getLogger("cxlens.surveys")


class SurveyError(CxlensError):
    """A survey operation that cannot be done as asked (shown to the user)."""


# ------------------------------------------------------------------------------------ builder


def create_survey(project: Project, preset: str, title: str, slug: str, user: Any = None) -> Survey:
    """A new draft survey of ``project`` from the template ``preset``."""
    chosen = PRESETS.get(preset)
    if chosen is None:
        raise CxlensInputError(f"The 'template' must be one of {', '.join(PRESETS)}. Got {preset!r} instead.")
    raw, slug = slug, slug.strip()
    if not SLUG.match(slug):
        raise CxlensInputError(f"The survey 'slug' must have 3 to 60 lower-case letters, digits or hyphens "
                               f"(it is the survey_id in the warehouse and part of the link). Got {raw!r} instead.")
    if Survey.objects.filter(slug=slug).exists():
        raise CxlensInputError(f"A survey with the slug {slug!r} exists already; choose another slug.")
    with transaction.atomic():
        survey = Survey.objects.create(project=project, slug=slug, title=title.strip()[:200] or chosen.title,
                                       touchpoint=chosen.touchpoint, hidden_fields=list(chosen.hidden),
                                       created_by=user if getattr(user, "is_authenticated", False) else None)
        SurveyVersion.objects.create(survey=survey, number=1,
                                     questions=logic.validate_questions(list(chosen.questions)))
    return survey


def save_questions(survey: Survey, questions: Sequence[Mapping[str, Any]]) -> SurveyVersion:
    """Store new questions: rewrite an unanswered draft version, else add a version."""
    checked = logic.validate_questions(questions)
    if survey.status == Status.CLOSED:
        raise SurveyError("This survey is closed; its questions can no longer change.")
    with transaction.atomic():
        latest = survey.latest()
        return _store(survey, latest, checked, carry_translations(checked, latest.translations))


def _store(survey: Survey, latest: SurveyVersion, questions: list[dict[str, Any]],
           translations: dict[str, Any]) -> SurveyVersion:
    """Rewrite ``latest`` while it is an unanswered draft's, else add a version."""
    if survey.status == Status.DRAFT and not latest.responses.exists():
        latest.questions, latest.translations = questions, translations
        latest.save(update_fields=["questions", "translations"])
        return latest
    return SurveyVersion.objects.create(survey=survey, number=latest.number + 1, questions=questions,
                                        translations=translations)


def carry_translations(questions: Sequence[Mapping[str, Any]], translations: Mapping[str, Any]) -> dict[str, Any]:
    """Translations still fitting edited questions: those of removed questions are dropped, and
    option labels whose count no longer matches the options (the texts are kept)."""
    by_id = {q["id"]: q for q in questions}
    out: dict[str, Any] = {}
    for lang, texts in translations.items():
        kept: dict[str, Any] = {}
        for qid, entry in texts.items():
            if qid == i18n.TITLE:
                kept[qid] = entry
                continue
            if qid not in by_id:
                continue
            item = {k: v for k, v in entry.items() if k == "text"
                    or (k == "options" and len(v) == len(by_id[qid].get("options") or []))}
            if item:
                kept[qid] = item
        out[lang] = kept
    return out


def save_translation(survey: Survey, lang: str, form: Mapping[str, Any]) -> SurveyVersion:
    """Store the texts of one language from the builder's per-language form (``t_QID_text``,
    ``t_QID_options`` one label per line, ``t_title``); an edit after answers adds a version."""
    if survey.status == Status.CLOSED:
        raise SurveyError("This survey is closed; its texts can no longer change.")
    lang = str(lang or "").strip()
    if not i18n.TAG.match(lang):
        raise CxlensInputError(f"The translation's 'language' must be a language tag such as de, ar or pt-BR. "
                               f"Got {lang!r} instead.")
    if i18n.primary(lang) == i18n.primary(survey.language) and lang.lower() == survey.language.lower():
        raise CxlensInputError(f"{lang} is the survey's own language; edit the questions themselves instead.")
    with transaction.atomic():
        latest = survey.latest()
        texts: dict[str, Any] = {}
        for q in latest.questions:
            options = [line for line in str(form.get(f"t_{q['id']}_options", "")).splitlines() if line.strip()]
            texts[q["id"]] = {"text": form.get(f"t_{q['id']}_text", ""), "options": options}
        title = str(form.get("t_title", "")).strip()
        translations = {k: v for k, v in latest.translations.items() if k.lower() != lang.lower()}
        translations[lang] = {**texts, **({i18n.TITLE: {"text": title[:200]}} if title else {})}
        checked = i18n.validate_translations(latest.questions, translations)
        return _store(survey, latest, list(latest.questions), checked)


def delete_translation(survey: Survey, lang: str) -> SurveyVersion:
    with transaction.atomic():
        latest = survey.latest()
        if lang not in latest.translations:
            raise CxlensInputError(f"This survey has no {lang!r} translation "
                                   f"(it has {', '.join(latest.translations) or 'none'}).")
        rest = {k: v for k, v in latest.translations.items() if k != lang}
        return _store(survey, latest, list(latest.questions), rest)


def question_from_form(form: Mapping[str, Any], qid: str) -> dict[str, Any]:
    """A question dict from the builder's question form (validated when the version is saved)."""
    cond = None
    if form.get("cond_question"):
        cond = {"question": form.get("cond_question"), "op": form.get("cond_op", ""),
                "value": form.get("cond_value", "")}
    question: dict[str, Any] = {
        "id": qid, "type": form.get("type", ""), "text": form.get("text", ""),
        "required": form.get("required") in {"on", "true", "1"},
        "options": [line for line in str(form.get("options", "")).splitlines() if line.strip()],
        "scale_max": form.get("scale_max") or None, "show_if": cond,
        "page_break": form.get("page_break") in {"on", "true", "1"},
    }
    if question["scale_max"] is not None:
        try:
            question["scale_max"] = int(question["scale_max"])
        except ValueError:
            raise CxlensInputError(f"Question {qid}: the scale top must be a whole number. "
                                   f"Got {question['scale_max']!r} instead.") from None
    return question


def edit_question(survey: Survey, qid: str, form: Mapping[str, Any]) -> SurveyVersion:
    questions = list(survey.latest().questions)
    index = next((i for i, q in enumerate(questions) if q["id"] == qid), None)
    if index is None:
        raise CxlensInputError(f"There is no question {qid!r} in this survey.")
    questions[index] = question_from_form(form, qid)
    return save_questions(survey, questions)


def add_question(survey: Survey, form: Mapping[str, Any]) -> SurveyVersion:
    questions = list(survey.latest().questions)
    qid = str(form.get("id") or "").strip() or _free_id(questions)
    return save_questions(survey, [*questions, question_from_form(form, qid)])


def delete_question(survey: Survey, qid: str) -> SurveyVersion:
    questions = [q for q in survey.latest().questions if q["id"] != qid]
    if not questions:
        raise CxlensInputError("A survey needs at least one question; add another before deleting this one.")
    return save_questions(survey, questions)


def _free_id(questions: Sequence[Mapping[str, Any]]) -> str:
    taken = {q["id"] for q in questions}
    n = len(questions) + 1
    while f"q{n}" in taken:
        n += 1
    return f"q{n}"


def update_settings(survey: Survey, form: Mapping[str, Any]) -> None:
    title = str(form.get("title", "")).strip()
    if not title:
        raise CxlensInputError("The survey 'title' must not be empty.")
    hidden = [h.strip() for h in str(form.get("hidden_fields", "")).split(",") if h.strip()]
    bad = [h for h in hidden if h not in logic.HIDDEN_FIELDS]
    if bad:
        raise CxlensInputError(f"Hidden fields must be among {', '.join(logic.HIDDEN_FIELDS)}. "
                               f"Got {', '.join(bad)} instead.")
    starts, ends = _date(form, "starts_at"), _date(form, "ends_at")
    if starts and ends and ends <= starts:
        raise CxlensInputError("The survey's end date must be after its start date.")
    origins = parse_origins(form["allowed_origins"]) if "allowed_origins" in form else survey.allowed_origins
    survey.title, survey.hidden_fields = title[:200], hidden
    survey.touchpoint = str(form.get("touchpoint", "")).strip()[:100]
    survey.starts_at, survey.ends_at, survey.allowed_origins = starts, ends, origins
    survey.save(update_fields=["title", "hidden_fields", "touchpoint", "starts_at", "ends_at", "allowed_origins"])


def parse_origins(text: Any) -> list[str]:
    """Web sites allowed to embed the widget: ``https://www.example.com`` (scheme, host, optional
    port; no path), one per line or comma-separated."""
    items = [t.strip().rstrip("/").lower() for t in re.split(r"[\s,]+", str(text or "")) if t.strip()]
    bad = [t for t in items if not ORIGIN.match(t)]
    if bad:
        raise CxlensInputError(f"Allowed origins must be web site addresses like https://www.example.com (scheme "
                               f"and host, optional port, no path and no *). Got {bad[0]!r} instead.")
    if len(items) > MAX_ORIGINS:
        raise CxlensInputError(f"A survey allows at most {MAX_ORIGINS} origins. Got {len(items)}.")
    return list(dict.fromkeys(items))


def new_key(survey: Survey) -> str:
    """Replace the widget key (pages embedding the old one stop being accepted)."""
    survey.public_key = new_public_key()
    survey.save(update_fields=["public_key"])
    return survey.public_key


def _date(form: Mapping[str, Any], name: str) -> datetime | None:
    text = str(form.get(name, "")).strip()
    if not text:
        return None
    from datetime import UTC

    try:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    except ValueError:
        raise CxlensInputError(f"The '{name}' must be a date like 2026-12-01. Got {text!r} instead.") from None


def publish(survey: Survey, now: datetime) -> None:
    if survey.status == Status.CLOSED:
        raise SurveyError("A closed survey cannot be published again; create a new survey instead.")
    survey.status, survey.published_at = Status.LIVE, survey.published_at or now
    survey.save(update_fields=["status", "published_at"])


def close(survey: Survey, now: datetime) -> None:
    survey.status, survey.closed_at = Status.CLOSED, now
    survey.save(update_fields=["status", "closed_at"])


# ---------------------------------------------------------------------------------- answering


def hidden_from(params: Mapping[str, Any], allowed: Sequence[str]) -> dict[str, str]:
    """The survey's hidden fields found in the link's query string (others are ignored)."""
    return {name: str(params.get(name))[:logic.MAX_HIDDEN] for name in allowed if params.get(name)}


def start_response(survey: Survey, version: SurveyVersion, hidden: Mapping[str, str], language: str,
                   link: str | None, now: datetime) -> Response:
    return Response.objects.create(survey=survey, version=version, hidden=dict(hidden), link=link,
                                   language=language[:20] or survey.language, started_at=now, updated_at=now)


@dataclass(frozen=True)
class PageResult:
    """The outcome of submitting one page: problems per question, or where to go next."""

    errors: dict[str, str] = field(default_factory=dict)
    completed: bool = False


def submit_page(response: Response, index: int, form: Mapping[str, Sequence[str]], now: datetime,
                explain: Callable[[logic.AnswerError], str] = str) -> PageResult:
    """Take the answers of page ``index``; keep them (partial) and complete the response when no
    page with a visible question is left. Submitting a page again replaces its answers."""
    questions = response.version.questions
    answers, errors = logic.apply_page(questions, response.answers, index, form, explain)
    if errors:
        return PageResult(errors=errors)
    following = logic.next_page(questions, answers, index + 1)
    response.answers, response.updated_at = answers, now
    response.page = len(logic.pages(questions)) if following is None else following
    response.save(update_fields=["answers", "page", "updated_at"])
    if following is None:
        complete(response, now)
        return PageResult(completed=True)
    return PageResult()


def complete(response: Response, now: datetime) -> None:
    """Mark the response complete: durable in the app database when this returns. The
    ``surveys-flush`` job writes it to the warehouse within about a second (see :func:`flush`)."""
    if response.completed_at is not None:
        return
    response.completed_at = now
    response.save(update_fields=["completed_at"])
    wake_flush()


_last_kick = [0.0]
_kick_lock = threading.Lock()
KICK_EVERY = 1.0


def wake_flush() -> None:
    """Wake the job thread so a new response reaches the warehouse at once; under load at most
    once a second (a wake-up runs every due job, and each flush takes all that arrived meanwhile)."""
    from cxlens.web import jobs

    clock = time.monotonic()
    with _kick_lock:
        if clock - _last_kick[0] < KICK_EVERY:
            return
        _last_kick[0] = clock
    jobs.kick()


@dataclass(frozen=True)
class FlushReport:
    """What one flush wrote: responses sent, rows accepted as new, already there, rejected."""

    responses: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    imports: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"responses": self.responses, "accepted": self.accepted, "duplicates": self.duplicates,
                "rejected": self.rejected, "imports": list(self.imports)}


def flush(project: Project, now: datetime, *, batch: int = 5000) -> FlushReport:
    """Write every completed response of ``project`` not yet in the warehouse: one
    ``import_data`` per batch, then mark the batch with that import's id.

    Idempotent: ``response_id`` is the table's key and a row is built only from what is stored,
    so if the process stops between the import and the marking, the next flush sends the same
    rows again and the warehouse counts them as duplicates (nothing new is added)."""
    from cxlens.web.api import rows_to_arrow

    total = FlushReport()
    versions: dict[int, tuple[str, str | None, SurveyVersion]] = {}
    while True:
        pending = list(Response.objects.filter(survey__project=project, completed_at__isnull=False,
                                               import_id__isnull=True)
                       .order_by("completed_at", "pk")
                       .values_list("pk", "public_id", "version_id", "answers", "hidden", "language", "completed_at")
                       [:batch])
        if not pending:
            return total
        missing = {p[2] for p in pending} - set(versions)
        for v in SurveyVersion.objects.filter(pk__in=missing).select_related("survey"):
            versions[v.pk] = (v.survey.slug, v.survey.touchpoint, v)
        with POOL.use(project) as ws:
            tops = {"csat": int(ws.settings["csat_scale_max"]), "ces": int(ws.settings["ces_scale_max"])}
            rows = [_row(versions[version_id], public_id, answers, hidden, language, completed_at, tops)
                    for _, public_id, version_id, answers, hidden, language, completed_at in pending]
            report = ws.import_data("responses", rows_to_arrow(rows), source_name="surveys", now=now)
        Response.objects.filter(pk__in=[p[0] for p in pending]).update(import_id=report.import_id)
        if report.rejected:
            log.warning("surveys: %d of %d responses were rejected by the warehouse; see the quarantine of import %d",
                        report.rejected, len(pending), report.import_id)
        total = FlushReport(total.responses + len(pending), total.accepted + report.accepted,
                            total.duplicates + report.duplicates, total.rejected + report.rejected,
                            (*total.imports, report.import_id))
        if len(pending) < batch:
            return total


def _row(version: tuple[str, str | None, SurveyVersion], public_id: str, answers: dict[str, Any],
         hidden: dict[str, str], language: str, completed_at: datetime, tops: Mapping[str, int]) -> dict[str, Any]:
    slug, touchpoint, found = version
    return logic.warehouse_row(found.questions, answers, response_id=f"{slug}-{public_id}", survey_id=slug,
                               version=found.number, submitted_at=completed_at, hidden=hidden, language=language,
                               touchpoint=touchpoint, scale_tops=tops)


# ----------------------------------------------------------------------------------- the widget


def widget_question(version: SurveyVersion) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The widget's prompt (the first scale question: NPS, CSAT, CES or rating) and its optional
    comment question (the first open-text question without a condition)."""
    prompt = next((q for q in version.questions if q["type"] in logic.SCALED), None)
    if prompt is None:
        raise SurveyError("The widget asks a scale question (NPS, CSAT, CES or rating); this survey has none. "
                          "Add one in the builder.")
    comment = next((q for q in version.questions if q["type"] == "text" and not q.get("show_if")), None)
    return prompt, comment


def widget_prompt(survey: Survey, wanted: Sequence[str], version: SurveyVersion | None = None) -> dict[str, Any]:
    """What the widget shows, in the best of the survey's languages for ``wanted``."""
    version = version or survey.latest()
    prompt, comment = widget_question(version)
    lang = i18n.pick(i18n.languages(survey.language, version.translations), wanted) or survey.language
    low, high = logic.scale(prompt)
    ui = i18n.words(lang)
    out: dict[str, Any] = {
        "survey": survey.slug, "language": lang, "dir": i18n.direction(lang),
        "question": {"id": prompt["id"], "type": prompt["type"],
                     "text": i18n.localized(prompt, version.translations, lang)[0], "min": low, "max": high,
                     "low": ui[f"{prompt['type']}_low"], "high": ui[f"{prompt['type']}_high"]},
        "comment": None, "words": {k: ui[k] for k in ("close", "send", "widget_thanks", "widget_error",
                                                      "honeypot", "optional")},
        "max_text": logic.MAX_TEXT,
    }
    if comment is not None:
        out["comment"] = {"id": comment["id"], "text": i18n.localized(comment, version.translations, lang)[0]}
    out["comments"] = {str(score): None if q is None else {"id": q["id"], "text": i18n.localized(
        q, version.translations, lang)[0]} for score, q in widget_comments(version, prompt).items()}
    return out


def widget_comments(version: SurveyVersion, prompt: Mapping[str, Any]) -> dict[int, dict[str, Any] | None]:
    """The open question the widget asks after each score of ``prompt``: the first open-text question
    that is unconditional or whose condition on the prompt holds for that score (e.g. "What went
    wrong?" for detractors, "What is the main reason?" for the others); ``None`` when there is none.
    Decided here with the survey's own condition logic, so the widget script holds no rules."""
    low, high = logic.scale(prompt)
    candidates = [q for q in version.questions if q["type"] == "text"
                  and (not q.get("show_if") or q["show_if"].get("question") == prompt["id"])]
    return {score: next((q for q in candidates if logic.visible(q, {prompt["id"]: score})), None)
            for score in range(low, high + 1)}


@dataclass(frozen=True)
class Collected:
    response_id: str
    duplicate: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"response_id": self.response_id, "status": "duplicate" if self.duplicate else "accepted"}


def _as_values(qid: str, value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (bool, dict)) or isinstance(value, float) and not value.is_integer():
        raise logic.AnswerError(qid, f"The answer to {qid} must be a number, a text or a list of options. "
                                     f"Got {str(value)[:40]!r}.")
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(int(value)) if isinstance(value, float) else str(value)]


def collect(survey: Survey, payload: Mapping[str, Any], now: datetime,
            version: SurveyVersion | None = None) -> Collected:
    """Store one complete response sent by the widget (or any keyed client).

    ``payload``: ``answers`` by question id (validated like the hosted pages: scores in range,
    options from the list, text up to 2,000 characters; unknown ids refused; answers to questions
    hidden by a condition dropped), the survey's hidden fields (top level or under ``hidden``),
    ``language`` and an optional ``id`` (32 hex digits, chosen by the client: sending the same id
    again stores nothing new). Durable in the app database when this returns."""
    version = version or survey.latest()
    raw = payload.get("answers")
    if not isinstance(raw, Mapping) or not raw:
        raise CxlensInputError("'answers' must be an object of answers by question id, e.g. {\"nps\": 9}.")
    by_id = {q["id"]: q for q in version.questions}
    unknown = [k for k in raw if k not in by_id]
    if unknown:
        raise logic.AnswerError(str(unknown[0])[:40], f"This survey has no question {str(unknown[0])[:40]!r} "
                                f"(it has {', '.join(by_id)}).", "unknown")
    parsed: dict[str, Any] = {}
    for qid, value in raw.items():
        answer = logic.parse_answer({**by_id[qid], "required": False}, _as_values(qid, value))
        if answer is not None:
            parsed[qid] = answer
    answers = logic.prune(version.questions, parsed)
    if not answers:
        raise CxlensInputError("'answers' holds no answer; send at least the score, e.g. {\"nps\": 9}.")
    extra = payload.get("hidden") or {}
    if not isinstance(extra, Mapping):
        raise CxlensInputError(f"'hidden' must be an object of hidden fields, e.g. {{\"customer_id\": \"C123\"}}. "
                               f"Got {str(extra)[:40]!r} instead.")
    fields = {**dict(extra), **{k: payload[k] for k in logic.HIDDEN_FIELDS if payload.get(k)}}
    hidden = hidden_from(fields, survey.hidden_fields)
    language = str(payload.get("language") or "")
    language = language if i18n.TAG.match(language) else survey.language
    client_id = str(payload.get("id") or "")
    if client_id and not CLIENT_ID.match(client_id):
        raise CxlensInputError(f"'id' must be 32 hexadecimal digits (or left out). Got {client_id[:40]!r} instead.")
    public_id = client_id or secrets.token_hex(16)
    response = Response(survey=survey, version=version, public_id=public_id, hidden=hidden, answers=answers,
                        page=len(logic.pages(version.questions)), language=language, started_at=now, updated_at=now,
                        completed_at=now)
    outcome = writer.WRITER.store(response)
    if outcome == "conflict":
        raise CxlensInputError("This 'id' belongs to another response; send a new random id.")
    if outcome == "new":
        wake_flush()
    return Collected(f"{survey.slug}-{public_id}", duplicate=outcome == "duplicate")


# Widget requests look the survey up by slug many times a second: keep it for a moment. Saving a
# survey or a version in this process forgets it at once; other processes see a change within TTL.
CACHE_TTL = 1.0
_surveys: dict[str, tuple[float, Survey, SurveyVersion]] = {}


def cached_survey(slug: str) -> tuple[Survey, SurveyVersion] | None:
    """The survey ``slug`` and its latest version (None when there is no such survey)."""
    clock = time.monotonic()
    hit = _surveys.get(slug)
    if hit is not None and clock - hit[0] < CACHE_TTL:
        return hit[1], hit[2]
    survey = Survey.objects.select_related("project").filter(slug=slug).first()
    if survey is None:
        return None
    version = survey.latest()
    _surveys[slug] = (clock, survey, version)
    return survey, version


def forget_surveys(**_: Any) -> None:
    _surveys.clear()




# -------------------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Results:
    completed: int
    partial: int
    questions: list[logic.QuestionStats]
    nps: dict[str, Any] | None
    verbatims: list[tuple[str, str]]

    def to_dict(self) -> dict[str, Any]:
        return {"completed": self.completed, "partial": self.partial, "nps": self.nps,
                "questions": [q.to_dict() for q in self.questions],
                "verbatims": [{"submitted_at": t, "text": v} for t, v in self.verbatims]}


def results(survey: Survey, *, max_verbatims: int = 50) -> Results:
    """Per-question statistics of the latest version over completed responses, NPS with its
    interval from the metrics engine (warehouse rows with this survey_id), and the verbatims."""
    done = list(survey.responses.filter(completed_at__isnull=False).order_by("-completed_at")
                .values_list("answers", "completed_at", "version__questions"))
    partial = survey.responses.filter(completed_at__isnull=True).count()
    questions = survey.latest().questions
    stats = logic.question_stats(questions, [a for a, _, _ in done], max_texts=5)
    verbatims: list[tuple[str, str]] = []
    for answers, when, version_questions in done:
        for q in version_questions:
            if q["type"] == "text" and answers.get(q["id"]):
                verbatims.append((f"{when:%Y-%m-%d %H:%M}", answers[q["id"]]))
    nps = None
    if done and any(q["type"] == "nps" for q in questions):
        with POOL.use(survey.project) as ws:
            result = ws.metric("nps", where={"survey_id": [survey.slug]})
        nps = result.to_records()[0] if result.rows else None
    return Results(len(done), partial, stats, nps, verbatims[:max_verbatims])


post_save.connect(forget_surveys, sender=Survey, dispatch_uid="cxsurveys.forget.survey")
post_save.connect(forget_surveys, sender=SurveyVersion, dispatch_uid="cxsurveys.forget.version")
