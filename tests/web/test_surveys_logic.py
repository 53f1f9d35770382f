"""Branching, paging, answer parsing and the warehouse row of surveys: pure functions, literal cases."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cxlens.errors import CxlensInputError

from .conftest import require_web

require_web()

from cxlens.web.surveys import logic  # noqa: E402
from cxlens.web.surveys.presets import PRESETS  # noqa: E402

NPS_FLOW = logic.validate_questions([
    {"id": "nps", "type": "nps", "text": "Recommend us?", "required": True},
    {"id": "wrong", "type": "text", "text": "What went wrong?", "show_if": {"question": "nps", "op": "<=", "value": 6}},
    {"id": "why", "type": "text", "text": "Why?"},
    {"id": "fix", "type": "single", "text": "Fix first?", "options": ["price", "speed"],
     "show_if": {"question": "wrong", "op": "answered"}},
])


@pytest.mark.parametrize(("cond", "answers", "expected"), [
    ({"question": "nps", "op": "<=", "value": 6}, {"nps": 6}, True),
    ({"question": "nps", "op": "<=", "value": 6}, {"nps": 7}, False),
    ({"question": "nps", "op": "<=", "value": 6}, {"nps": 0}, True),
    ({"question": "nps", "op": "<=", "value": 6}, {}, False),
    ({"question": "nps", "op": ">=", "value": 9}, {"nps": 9}, True),
    ({"question": "nps", "op": ">", "value": 9}, {"nps": 9}, False),
    ({"question": "nps", "op": "<", "value": 7}, {"nps": 6}, True),
    ({"question": "nps", "op": "==", "value": 10}, {"nps": 10}, True),
    ({"question": "nps", "op": "!=", "value": 10}, {"nps": 10}, False),
    ({"question": "ok", "op": "==", "value": "no"}, {"ok": "no"}, True),
    ({"question": "ok", "op": "==", "value": "no"}, {"ok": "yes"}, False),
    ({"question": "ok", "op": "<=", "value": "no"}, {"ok": "no"}, False),
    ({"question": "used", "op": "==", "value": "app"}, {"used": ["web", "app"]}, True),
    ({"question": "used", "op": "!=", "value": "app"}, {"used": ["web"]}, True),
    ({"question": "used", "op": "answered"}, {"used": []}, False),
    ({"question": "t", "op": "answered"}, {"t": "late"}, True),
    (None, {}, True),
])
def test_condition_holds(cond: dict | None, answers: dict, expected: bool) -> None:
    assert logic.condition_holds(cond, answers) is expected


def test_pages_break_before_a_question_that_looks_at_the_same_page() -> None:
    assert logic.pages(NPS_FLOW) == [["nps"], ["wrong", "why"], ["fix"]]
    flat = [{"id": "a", "type": "text", "text": "a"}, {"id": "b", "type": "text", "text": "b", "page_break": True}]
    assert logic.pages(flat) == [["a"], ["b"]]


def test_next_page_follows_the_answers() -> None:
    assert logic.next_page(NPS_FLOW, {}, 0) == 0
    # A promoter sees only "why" on page 2, then is done (page 3 hangs on "wrong").
    assert [q["id"] for q in logic.page_questions(NPS_FLOW, {"nps": 9}, 1)] == ["why"]
    assert logic.next_page(NPS_FLOW, {"nps": 9}, 2) is None
    # A detractor gets the follow-up, and page 3 once it is answered.
    assert [q["id"] for q in logic.page_questions(NPS_FLOW, {"nps": 3}, 1)] == ["wrong", "why"]
    assert logic.next_page(NPS_FLOW, {"nps": 3, "wrong": "late"}, 2) == 2
    assert logic.next_page(NPS_FLOW, {"nps": 3}, 2) is None


def test_apply_page_validates_and_prunes() -> None:
    answers, errors = logic.apply_page(NPS_FLOW, {}, 0, {"nps": []})
    assert errors == {"nps": "Please answer this question."} and answers == {}
    _, errors = logic.apply_page(NPS_FLOW, {}, 0, {"nps": ["11"]})
    assert "0 to 10" in errors["nps"]
    _, errors = logic.apply_page(NPS_FLOW, {}, 0, {"nps": ["nine"]})
    assert "whole number" in errors["nps"]
    answers, errors = logic.apply_page(NPS_FLOW, {}, 0, {"nps": ["3"]})
    assert (answers, errors) == ({"nps": 3}, {})
    answers, _ = logic.apply_page(NPS_FLOW, answers, 1, {"wrong": ["  late  "], "why": [""]})
    assert answers == {"nps": 3, "wrong": "late"}
    # A follow-up answer whose condition no longer holds is dropped.
    assert logic.prune(NPS_FLOW, {"nps": 9, "wrong": "late", "fix": "price"}) == {"nps": 9}


def test_parse_answer_of_each_type() -> None:
    q = {"id": "m", "type": "multi", "text": "m", "options": ["a", "b", "c"]}
    assert logic.parse_answer(q, ["c", "a"]) == ["a", "c"]
    with pytest.raises(logic.AnswerError, match="'z' is not one of the options"):
        logic.parse_answer(q, ["a", "z"])
    assert logic.parse_answer({"id": "y", "type": "yesno", "text": "y"}, ["no"]) == "no"
    assert logic.parse_answer({"id": "c", "type": "csat", "text": "c", "scale_max": 7}, ["7"]) == 7
    with pytest.raises(logic.AnswerError, match="from 1 to 5"):
        logic.parse_answer({"id": "c", "type": "csat", "text": "c"}, ["0"])
    with pytest.raises(logic.AnswerError, match="from 1 to 7"):
        logic.parse_answer({"id": "e", "type": "ces", "text": "e"}, ["8"])
    with pytest.raises(logic.AnswerError, match=f"under {logic.MAX_TEXT} characters"):
        logic.parse_answer({"id": "t", "type": "text", "text": "t"}, ["x" * (logic.MAX_TEXT + 1)])
    assert logic.parse_answer({"id": "t", "type": "text", "text": "t"}, ["   "]) is None


@pytest.mark.parametrize(("questions", "message"), [
    ([{"id": "a", "type": "nps", "text": "x"}, {"id": "a", "type": "text", "text": "y"}], "used twice"),
    ([{"id": "a b", "type": "nps", "text": "x"}], "question id"),
    ([{"id": "a", "type": "slider", "text": "x"}], "'type' must be one of"),
    ([{"id": "a", "type": "single", "text": "x", "options": ["only"]}], "2 to 30 different options"),
    ([{"id": "a", "type": "csat", "text": "x", "scale_max": 6}], "scale top"),
    ([{"id": "a", "type": "text", "text": "x", "show_if": {"question": "b", "op": "==", "value": 1}},
      {"id": "b", "type": "nps", "text": "y"}], "earlier question"),
    ([{"id": "a", "type": "nps", "text": "x"}, {"id": "b", "type": "text", "text": "y",
                                                "show_if": {"question": "a", "op": "~", "value": 1}}], "operator"),
    ([{"id": "a", "type": "nps", "text": ""}], "question text"),
])
def test_bad_definitions_name_the_problem(questions: list, message: str) -> None:
    with pytest.raises(CxlensInputError, match=message):
        logic.validate_questions(questions)


def test_presets_are_valid_and_branch() -> None:
    assert set(PRESETS) >= {"relationship_nps", "post_ticket_csat", "return_ces", "onboarding_checkin"}
    for preset in PRESETS.values():
        assert logic.validate_questions(list(preset.questions))
    rel = logic.validate_questions(list(PRESETS["relationship_nps"].questions))
    assert [q["id"] for q in logic.page_questions(rel, {"nps": 6}, 1)] == ["went_wrong", "reason"]
    assert [q["id"] for q in logic.page_questions(rel, {"nps": 7}, 1)] == ["reason"]


def test_warehouse_row() -> None:
    questions = logic.validate_questions([
        {"id": "n", "type": "nps", "text": "n"}, {"id": "c", "type": "csat", "text": "c", "scale_max": 7},
        {"id": "e", "type": "ces", "text": "e"}, {"id": "t1", "type": "text", "text": "t1"},
        {"id": "t2", "type": "text", "text": "t2"}, {"id": "m", "type": "multi", "text": "m", "options": ["a", "b"]},
    ])
    when = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    row = logic.warehouse_row(questions, {"n": 4, "c": 6, "e": 2, "t2": "slow", "m": ["b"]}, response_id="s-1",
                              survey_id="s", version=3, submitted_at=when,
                              hidden={"customer_id": "C1", "order_id": "O9"}, language="en",
                              touchpoint="delivery", scale_tops={"csat": 5, "ces": 7})
    assert {k: row[k] for k in ("response_id", "survey_id", "customer_id", "touchpoint", "channel", "nps", "csat",
                                "ces", "comment", "survey_version")} == {
        "response_id": "s-1", "survey_id": "s", "customer_id": "C1", "touchpoint": "delivery", "channel": "web",
        "nps": 4, "csat": None, "ces": 2, "comment": "slow", "survey_version": 3}  # csat on 1-7 ≠ workspace 1-5
    assert row["submitted_at"] == "2026-11-30T08:00:00+00:00"
    assert json.loads(row["answers"]) == {"answers": {"n": 4, "c": 6, "e": 2, "t2": "slow", "m": ["b"]},
                                          "hidden": {"order_id": "O9"}}


def test_question_stats() -> None:
    questions = logic.validate_questions([
        {"id": "n", "type": "nps", "text": "n"}, {"id": "m", "type": "multi", "text": "m", "options": ["a", "b"]},
        {"id": "t", "type": "text", "text": "t"}])
    stats = logic.question_stats(questions, [{"n": 10, "m": ["a", "b"], "t": "new"}, {"n": 3, "m": ["a"]}, {}])
    n, m, t = stats
    assert (n.answered, n.mean, dict(n.counts)["10"], dict(n.counts)["3"], dict(n.counts)["5"]) == (2, 6.5, 1, 1, 0)
    assert m.rows == [("a", 2, 100.0), ("b", 1, 50.0)]
    assert (t.answered, t.texts) == (1, ("new",))


@given(st.dictionaries(st.sampled_from(["nps", "wrong", "why", "fix"]),
                       st.one_of(st.integers(0, 10), st.text(min_size=1, max_size=5), st.sampled_from(["price"]))))
def test_prune_keeps_only_visible_answers_and_is_idempotent(answers: dict) -> None:
    kept = logic.prune(NPS_FLOW, answers)
    assert logic.prune(NPS_FLOW, kept) == kept
    by_id = {q["id"]: q for q in NPS_FLOW}
    assert all(logic.visible(by_id[k], kept) for k in kept)
