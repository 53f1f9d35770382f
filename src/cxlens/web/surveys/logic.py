"""Questions, answers, branching and paging of a survey, as pure functions (no Django, no database).

A survey version is a list of question dicts::

    {"id": "q2", "type": "text", "text": "What went wrong?", "required": False,
     "show_if": {"question": "q1", "op": "<=", "value": 6}}

Question ids are stable: answers are keyed by them, so a later version that rewords, reorders
or adds questions never changes what an earlier answer meant.

Branching runs on the server: :func:`pages` cuts the questions into pages so that a question's
condition only ever looks at answers given on an earlier page, and :func:`next_page` picks the
next page that has a visible question, given the answers so far.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cxlens.errors import CxlensInputError

QUESTION_TYPES: dict[str, str] = {
    "nps": "NPS (0–10)",
    "csat": "CSAT (1 to scale top)",
    "ces": "CES (1–7)",
    "rating": "Rating (1 to scale top)",
    "single": "Single choice",
    "multi": "Multiple choice",
    "yesno": "Yes / no",
    "text": "Open text",
}
SCALED = {"nps", "csat", "ces", "rating"}
CHOICE = {"single", "multi"}
OPERATORS = ("<=", ">=", "<", ">", "==", "!=", "answered")
MAX_TEXT = 2000
MAX_QUESTION_TEXT = 500
MAX_OPTIONS = 30
HIDDEN_FIELDS = ("customer_id", "touchpoint", "order_id", "ticket_id")
MAX_HIDDEN = 200
DEFAULT_SCALE_TOP = {"csat": 5, "rating": 5}
SCALE_TOPS = (3, 4, 5, 7, 10)


class AnswerError(CxlensInputError):
    """An answer that does not fit its question (shown next to the question)."""

    def __init__(self, question: str, message: str, code: str = "invalid", **params: Any) -> None:
        self.question, self.code, self.params = question, code, params
        super().__init__(message)


def scale(question: Mapping[str, Any]) -> tuple[int, int]:
    """Lowest and highest value of a scaled question."""
    kind = question["type"]
    if kind == "nps":
        return 0, 10
    if kind == "ces":
        return 1, 7
    return 1, int(question.get("scale_max") or DEFAULT_SCALE_TOP[kind])


def choices(question: Mapping[str, Any]) -> list[str]:
    """The values a respondent picks from (for scales, the numbers as text)."""
    kind = question["type"]
    if kind in SCALED:
        low, high = scale(question)
        return [str(v) for v in range(low, high + 1)]
    if kind == "yesno":
        return ["yes", "no"]
    return list(question.get("options") or [])


# ------------------------------------------------------------------------------------ definition


def validate_questions(questions: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Check a version's questions and return them normalised; raise naming the first problem."""
    seen: list[str] = []
    out: list[dict[str, Any]] = []
    for q in questions:
        out.append(_validate_question(q, seen))
        seen.append(out[-1]["id"])
    return out


def _validate_question(q: Mapping[str, Any], earlier: list[str]) -> dict[str, Any]:
    qid = str(q.get("id") or "")
    if not qid.isidentifier() or len(qid) > 40:
        raise CxlensInputError(f"A question id must be a short name of letters, digits and _. Got {qid!r} instead.")
    if qid in earlier:
        raise CxlensInputError(f"The question id {qid!r} is used twice; each question needs its own id.")
    kind = q.get("type")
    if kind not in QUESTION_TYPES:
        raise CxlensInputError(f"Question {qid}: the 'type' must be one of {', '.join(QUESTION_TYPES)}. "
                               f"Got {kind!r} instead.")
    text = str(q.get("text") or "").strip()
    if not text or len(text) > MAX_QUESTION_TEXT:
        raise CxlensInputError(f"Question {qid}: the question text must have 1 to {MAX_QUESTION_TEXT} characters.")
    norm: dict[str, Any] = {"id": qid, "type": kind, "text": text, "required": bool(q.get("required"))}
    if kind in DEFAULT_SCALE_TOP:
        top = int(q.get("scale_max") or DEFAULT_SCALE_TOP[kind])
        if top not in SCALE_TOPS:
            raise CxlensInputError(f"Question {qid}: the scale top must be one of "
                                   f"{', '.join(map(str, SCALE_TOPS))}. Got {top} instead.")
        norm["scale_max"] = top
    if kind in CHOICE:
        options = [str(o).strip() for o in q.get("options") or [] if str(o).strip()]
        if len(options) < 2 or len(options) > MAX_OPTIONS or len(set(options)) != len(options):
            raise CxlensInputError(f"Question {qid}: a choice question needs 2 to {MAX_OPTIONS} different options "
                                   f"(one per line). Got {len(options)}.")
        norm["options"] = options
    if q.get("page_break"):
        norm["page_break"] = True
    cond = q.get("show_if")
    if cond:
        norm["show_if"] = _validate_condition(qid, cond, earlier)
    return norm


def _validate_condition(qid: str, cond: Mapping[str, Any], earlier: list[str]) -> dict[str, Any]:
    ref, op = cond.get("question"), cond.get("op")
    if ref not in earlier:
        raise CxlensInputError(f"Question {qid}: its condition must refer to an earlier question "
                               f"({', '.join(earlier) or 'none yet'}). Got {ref!r} instead.")
    if op not in OPERATORS:
        raise CxlensInputError(f"Question {qid}: the condition operator must be one of {', '.join(OPERATORS)}. "
                               f"Got {op!r} instead.")
    out: dict[str, Any] = {"question": ref, "op": op}
    if op != "answered":
        value = cond.get("value")
        if value is None or str(value).strip() == "":
            raise CxlensInputError(f"Question {qid}: the condition '{ref} {op} …' needs a value.")
        out["value"] = _number_or_text(value)
    return out


def _number_or_text(value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    text = str(value).strip()
    try:
        return int(text)
    except ValueError:
        return text


# ------------------------------------------------------------------------------------- branching


def condition_holds(cond: Mapping[str, Any] | None, answers: Mapping[str, Any]) -> bool:
    """Whether a ``show_if`` condition holds for the answers so far (no answer: it does not)."""
    if not cond:
        return True
    answer = answers.get(cond["question"])
    if answer is None or answer == [] or answer == "":
        return False
    op = cond["op"]
    if op == "answered":
        return True
    value = cond["value"]
    if isinstance(answer, list):  # multiple choice: == means "picked", != means "not picked"
        if op == "==":
            return str(value) in answer
        if op == "!=":
            return str(value) not in answer
        return False
    if isinstance(answer, (int, float)) and isinstance(value, (int, float)):
        return {"<=": answer <= value, ">=": answer >= value, "<": answer < value, ">": answer > value,
                "==": answer == value, "!=": answer != value}[op]
    if op == "==":
        return str(answer) == str(value)
    if op == "!=":
        return str(answer) != str(value)
    return False


def visible(question: Mapping[str, Any], answers: Mapping[str, Any]) -> bool:
    return condition_holds(question.get("show_if"), answers)


def pages(questions: Sequence[Mapping[str, Any]]) -> list[list[str]]:
    """Question ids cut into pages: a page ends before a question whose condition looks at a
    question on the same page (or that asks for a page break)."""
    out: list[list[str]] = []
    current: list[str] = []
    for q in questions:
        ref = (q.get("show_if") or {}).get("question")
        if current and (ref in current or q.get("page_break")):
            out.append(current)
            current = []
        current.append(q["id"])
    if current:
        out.append(current)
    return out


def next_page(questions: Sequence[Mapping[str, Any]], answers: Mapping[str, Any], start: int) -> int | None:
    """The first page at or after ``start`` with a visible question, or None when the survey is done."""
    by_id = {q["id"]: q for q in questions}
    layout = pages(questions)
    for index in range(max(start, 0), len(layout)):
        if any(visible(by_id[qid], answers) for qid in layout[index]):
            return index
    return None


def previous_page(questions: Sequence[Mapping[str, Any]], answers: Mapping[str, Any], index: int) -> int | None:
    """The last page before ``index`` with a visible question (None on the first page)."""
    by_id = {q["id"]: q for q in questions}
    layout = pages(questions)
    for earlier in range(min(index, len(layout)) - 1, -1, -1):
        if any(visible(by_id[qid], answers) for qid in layout[earlier]):
            return earlier
    return None


def page_questions(questions: Sequence[Mapping[str, Any]], answers: Mapping[str, Any],
                   index: int) -> list[Mapping[str, Any]]:
    """The visible questions of page ``index``."""
    layout = pages(questions)
    if not 0 <= index < len(layout):
        return []
    by_id = {q["id"]: q for q in questions}
    return [by_id[qid] for qid in layout[index] if visible(by_id[qid], answers)]


# --------------------------------------------------------------------------------------- answers


def parse_answer(question: Mapping[str, Any], raw: Sequence[str]) -> Any:
    """The answer to ``question`` from the submitted form values (None when left empty)."""
    qid, kind = question["id"], question["type"]
    values = [v.strip() for v in raw if v is not None and v.strip() != ""]
    if not values:
        if question.get("required"):
            raise AnswerError(qid, "Please answer this question.", "required")
        return None
    if kind == "multi":
        allowed = choices(question)
        bad = [v for v in values if v not in allowed]
        if bad:
            raise AnswerError(qid, f"{bad[0]!r} is not one of the options; pick from the list.", "option",
                              value=repr(bad[0][:40]))
        return [o for o in allowed if o in values]
    value = values[0]
    if kind == "text":
        if len(value) > MAX_TEXT:
            raise AnswerError(qid, f"Please keep your answer under {MAX_TEXT} characters (it has {len(value)}).",
                              "long", max=MAX_TEXT, n=len(value))
        return value
    if kind in SCALED:
        low, high = scale(question)
        try:
            number = int(value)
        except ValueError:
            number = None
        if number is None or not low <= number <= high:
            raise AnswerError(qid, f"Pick a whole number from {low} to {high}. Got {value[:20]!r}.", "range",
                              low=low, high=high)
        return number
    if value not in choices(question):
        raise AnswerError(qid, f"{value[:40]!r} is not one of the options; pick from the list.", "option",
                          value=repr(value[:40]))
    return value


def apply_page(questions: Sequence[Mapping[str, Any]], answers: Mapping[str, Any], index: int,
               form: Mapping[str, Sequence[str]],
               explain: Callable[[AnswerError], str] = str) -> tuple[dict[str, Any], dict[str, str]]:
    """Answers after submitting page ``index`` with ``form`` (values per question id), and the
    problems per question id (empty when the page is accepted), worded by ``explain``."""
    merged = dict(answers)
    errors: dict[str, str] = {}
    for q in page_questions(questions, answers, index):
        try:
            value = parse_answer(q, form.get(q["id"], ()))
        except AnswerError as exc:
            errors[q["id"]] = explain(exc)
            continue
        if value is None:
            merged.pop(q["id"], None)
        else:
            merged[q["id"]] = value
    return (dict(answers), errors) if errors else (prune(questions, merged), {})


def prune(questions: Sequence[Mapping[str, Any]], answers: Mapping[str, Any]) -> dict[str, Any]:
    """Drop answers to questions that are hidden given the other answers (in question order)."""
    kept: dict[str, Any] = {}
    for q in questions:
        if q["id"] in answers and visible(q, kept):
            kept[q["id"]] = answers[q["id"]]
    return kept


# ------------------------------------------------------------------------------ warehouse row


def warehouse_row(questions: Sequence[Mapping[str, Any]], answers: Mapping[str, Any], *, response_id: str,
                  survey_id: str, version: int, submitted_at: datetime, hidden: Mapping[str, str],
                  language: str, touchpoint: str | None, scale_tops: Mapping[str, int]) -> dict[str, Any]:
    """One row of the ``responses`` table for a completed response.

    nps, csat and ces come from the first answered question of each type (csat only when the
    question's scale matches the workspace's ``csat_scale_max``, else it stays in ``answers``);
    ``comment`` from the first answered open-text question; every answer, keyed by question id,
    and the hidden fields are kept as JSON in the ``answers`` attribute column.
    """
    row: dict[str, Any] = {
        "response_id": response_id, "submitted_at": submitted_at.isoformat(), "survey_id": survey_id,
        "customer_id": hidden.get("customer_id") or None,
        "touchpoint": hidden.get("touchpoint") or touchpoint or None,
        "channel": "web", "language": language, "nps": None, "csat": None, "ces": None, "comment": None,
    }
    for q in questions:
        value = answers.get(q["id"])
        if value is None:
            continue
        kind = q["type"]
        if kind == "nps" and row["nps"] is None:
            row["nps"] = value
        elif kind == "csat" and row["csat"] is None and scale(q)[1] == scale_tops.get("csat"):
            row["csat"] = value
        elif kind == "ces" and row["ces"] is None and scale(q)[1] == scale_tops.get("ces"):
            row["ces"] = value
        elif kind == "text" and row["comment"] is None:
            row["comment"] = value
    row["survey_version"] = version
    extra = {k: v for k, v in hidden.items() if k not in {"customer_id", "touchpoint"} and v}
    row["answers"] = json.dumps({"answers": dict(answers), "hidden": extra}, ensure_ascii=False, sort_keys=True)
    return row


# ------------------------------------------------------------------------------------ statistics


@dataclass(frozen=True)
class QuestionStats:
    """What the answers to one question add up to."""

    id: str
    type: str
    text: str
    answered: int
    counts: tuple[tuple[str, int], ...] = ()
    mean: float | None = None
    texts: tuple[str, ...] = field(default_factory=tuple)

    def share(self, count: int) -> float:
        return 0.0 if self.answered == 0 else 100.0 * count / self.answered

    @property
    def rows(self) -> list[tuple[str, int, float]]:
        return [(label, count, round(self.share(count), 1)) for label, count in self.counts]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "text": self.text, "answered": self.answered,
                "counts": dict(self.counts), "mean": self.mean, "texts": list(self.texts)}


def question_stats(questions: Sequence[Mapping[str, Any]], answer_sets: Sequence[Mapping[str, Any]],
                   *, max_texts: int = 50) -> list[QuestionStats]:
    """Per-question statistics over completed answer sets: counts per value, mean of scales,
    the latest open-text answers (``answer_sets`` newest first)."""
    out = []
    for q in questions:
        given = [a[q["id"]] for a in answer_sets if a.get(q["id"]) is not None]
        if q["type"] == "text":
            out.append(QuestionStats(q["id"], q["type"], q["text"], len(given), texts=tuple(given[:max_texts])))
            continue
        labels = choices(q)
        tally = dict.fromkeys(labels, 0)
        for value in given:
            for item in value if isinstance(value, list) else [value]:
                if str(item) in tally:
                    tally[str(item)] += 1
        mean = None
        if q["type"] in SCALED and given:
            mean = round(math.fsum(given) / len(given), 2)
        out.append(QuestionStats(q["id"], q["type"], q["text"], len(given), tuple(tally.items()), mean))
    return out
