"""What the survey pages do: create and edit surveys, answer them, write completed responses to
the warehouse, and sum up the results. Views only parse requests and render."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction

from cxlens.errors import CxlensError, CxlensInputError
from cxlens.web.models import Project
from cxlens.web.projects import POOL
from cxlens.web.surveys import logic
from cxlens.web.surveys.models import Response, Status, Survey, SurveyVersion
from cxlens.web.surveys.presets import PRESETS

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,58}[a-z0-9]$")


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
        if survey.status == Status.DRAFT and not latest.responses.exists():
            latest.questions = checked
            latest.save(update_fields=["questions"])
            return latest
        return SurveyVersion.objects.create(survey=survey, number=latest.number + 1, questions=checked)


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
    survey.title, survey.hidden_fields = title[:200], hidden
    survey.touchpoint = str(form.get("touchpoint", "")).strip()[:100]
    survey.starts_at, survey.ends_at = starts, ends
    survey.save(update_fields=["title", "hidden_fields", "touchpoint", "starts_at", "ends_at"])


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


def submit_page(response: Response, index: int, form: Mapping[str, Sequence[str]], now: datetime) -> PageResult:
    """Take the answers of page ``index``; keep them (partial) and complete the response when no
    page with a visible question is left. Submitting a page again replaces its answers."""
    questions = response.version.questions
    answers, errors = logic.apply_page(questions, response.answers, index, form)
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
    """Write the response to the warehouse ``responses`` table (committed before this returns),
    then mark it complete. Writing the same response again adds nothing (same row, same key)."""
    if response.completed_at is not None:
        return
    from cxlens.web.api import rows_to_arrow

    survey = response.survey
    with POOL.use(survey.project) as ws:
        tops = {"csat": int(ws.settings["csat_scale_max"]), "ces": int(ws.settings["ces_scale_max"])}
        row = logic.warehouse_row(response.version.questions, response.answers, response_id=response.response_id,
                                  survey_id=survey.slug, version=response.version.number, submitted_at=now,
                                  hidden=response.hidden, language=response.language,
                                  touchpoint=survey.touchpoint, scale_tops=tops)
        report = ws.import_data("responses", rows_to_arrow([row]), source_name=f"survey:{survey.slug}", now=now)
    if report.accepted + report.duplicates != 1:
        raise SurveyError(f"The response could not be stored ({report.rejected} row rejected; see the "
                          f"quarantine of import {report.import_id}). Please try again later.")
    response.completed_at, response.import_id = now, report.import_id
    response.save(update_fields=["completed_at", "import_id"])


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
