"""The alert-rule condition language: literal truth tables, error messages and invariants."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxlens.errors import CxlensError, CxlensInputError
from cxlens.loop.rules import OPERATORS, All, AnyOf, Leaf, Not, describe, parse_condition


def leaf(field: str, op: str, value: object = True) -> dict:
    return {"field": field, "op": op, "value": value}


# (condition, facts, expected) — each row computed by hand.
TABLE = [
    (leaf("nps", "<=", 6), {"nps": 3}, True),
    (leaf("nps", "<=", 6), {"nps": 6}, True),
    (leaf("nps", "<=", 6), {"nps": 7}, False),
    (leaf("nps", "<=", 6), {"nps": "3"}, True),          # numeric string compares numerically
    (leaf("nps", "<=", 6), {"nps": " 10 "}, False),
    (leaf("nps", "<", 10), {"nps": "9.5"}, True),
    (leaf("nps", ">", 8), {"nps": 9}, True),
    (leaf("nps", ">=", 9), {"nps": 9.0}, True),
    (leaf("nps", "<=", 6), {}, False),                   # missing never matches a comparison
    (leaf("nps", "<=", 6), {"nps": None}, False),
    (leaf("nps", "<=", 6), {"nps": math.nan}, False),
    (leaf("nps", "!=", 6), {}, False),
    (leaf("nps", "not_in", [9, 10]), {}, False),
    (leaf("nps", "<=", 6), {"nps": "n/a"}, False),       # not a number: no order
    (leaf("nps", "==", 6), {"nps": "6"}, True),
    (leaf("nps", "==", 6), {"nps": 6.0}, True),
    (leaf("nps", "!=", 6), {"nps": "7"}, True),
    (leaf("nps", "!=", 6), {"nps": "six"}, True),
    (leaf("segment", "==", "SMB"), {"segment": "smb"}, True),   # strings: case-insensitive
    (leaf("segment", "==", "smb"), {"segment": "enterprise"}, False),
    (leaf("segment", "!=", "SMB"), {"segment": "smb"}, False),
    (leaf("segment", "in", ["SMB", "Enterprise"]), {"segment": "enterprise"}, True),
    (leaf("segment", "in", ["SMB", "Enterprise"]), {"segment": "consumer"}, False),
    (leaf("segment", "not_in", ["SMB", "Enterprise"]), {"segment": "consumer"}, True),
    (leaf("segment", "not_in", ["SMB", "Enterprise"]), {"segment": "Smb"}, False),
    (leaf("nps", "in", [0, 1, 2]), {"nps": "1"}, True),
    (leaf("comment", "contains", "refund"), {"comment": "I want a REFUND now"}, True),
    (leaf("comment", "contains", "refund"), {"comment": "all good"}, False),
    (leaf("tags", "contains", "Billing"), {"tags": ["billing", "late"]}, True),
    (leaf("tags", "contains", "billing"), {"tags": ["late"]}, False),
    (leaf("comment", "exists", True), {"comment": "x"}, True),
    (leaf("comment", "exists", True), {"comment": None}, False),
    (leaf("comment", "exists", False), {}, True),
    (leaf("comment", "exists", False), {"comment": ""}, False),
    (leaf("vip", "==", True), {"vip": True}, True),
    (leaf("vip", "==", True), {"vip": "true"}, True),
    (leaf("vip", "==", True), {"vip": 1}, False),      # a number is not a truth value
    (leaf("vip", "==", False), {"vip": "no"}, True),
    (leaf("day", ">=", "2026-03-01"), {"day": "2026-03-29"}, True),   # ISO strings order as written
    (leaf("day", ">=", "2026-03-01"), {"day": "2026-02-28"}, False),
    (leaf("day", ">=", "2026-03-01"), {"day": 5}, False),
    ({"all": [leaf("nps", "<=", 6), leaf("segment", "==", "smb")]}, {"nps": 2, "segment": "SMB"}, True),
    ({"all": [leaf("nps", "<=", 6), leaf("segment", "==", "smb")]}, {"nps": 2, "segment": "ent"}, False),
    ({"any": [leaf("nps", "<=", 6), leaf("csat", "<=", 2)]}, {"nps": 9, "csat": 1}, True),
    ({"any": [leaf("nps", "<=", 6), leaf("csat", "<=", 2)]}, {"nps": 9}, False),
    ({"not": leaf("nps", "<=", 6)}, {"nps": 9}, True),
    ({"not": leaf("nps", "<=", 6)}, {}, True),         # not(missing comparison) holds
    ({"not": {"any": [leaf("a", "==", 1), leaf("b", "==", 1)]}}, {"a": 0, "b": 0}, True),
]


@pytest.mark.parametrize(("obj", "facts", "expected"), TABLE)
def test_truth_table(obj: dict, facts: dict, expected: bool) -> None:
    assert parse_condition(obj).matches(facts) is expected


def test_pandas_missing_values_do_not_match() -> None:
    pd = pytest.importorskip("pandas")
    cond = parse_condition(leaf("nps", "!=", 3))
    assert not cond.matches({"nps": pd.NA})
    assert not cond.matches({"nps": pd.NaT})
    assert parse_condition(leaf("nps", "exists", False)).matches({"nps": pd.NA})


def test_numpy_numbers_compare() -> None:
    np = pytest.importorskip("numpy")
    assert parse_condition(leaf("nps", "<=", 6)).matches({"nps": np.int64(4)})
    assert parse_condition(leaf("nps", "==", 4)).matches({"nps": np.float64(4.0)})


def test_evidence_sentences() -> None:
    cond = parse_condition({"all": [
        leaf("nps", "<=", 6),
        {"not": leaf("segment", "in", ["smb", "enterprise"])},
        {"any": [leaf("comment", "contains", "refund"), leaf("csat", "<=", 2)]},
        leaf("email", "exists"),
    ]})
    facts = {"nps": "3", "segment": "consumer", "comment": "Refund please", "csat": 4, "email": "a@b"}
    assert cond.evidence(facts) == [
        "nps 3 ≤ 6",
        "segment 'consumer' not in ['smb', 'enterprise']",
        "comment 'Refund please' contains 'refund'",
        "email 'a@b' is present",
    ]
    assert cond.evidence({**facts, "nps": 9}) == []


def test_evidence_under_not_is_negative() -> None:
    assert parse_condition({"not": leaf("nps", "<=", 6)}).evidence({"nps": 8}) == ["nps 8 > 6"]
    assert parse_condition({"not": leaf("nps", "<=", 6)}).evidence({}) == ["nps is missing"]
    assert parse_condition({"not": leaf("c", "contains", "x")}).evidence({"c": "ab"}) == [
        "c 'ab' does not contain 'x'"]
    assert parse_condition(leaf("c", "exists", False)).evidence({}) == ["c is missing"]


def test_describe_and_fields() -> None:
    obj = {"all": [leaf("nps", "<=", 6), {"any": [leaf("segment", "==", "smb"), {"not": leaf("comment", "exists")}]},
                   leaf("nps", ">=", 0)]}
    cond = parse_condition(obj)
    assert describe(cond) == "nps ≤ 6 and (segment = 'smb' or not comment exists) and nps ≥ 0"
    assert cond.fields() == ("nps", "segment", "comment")
    assert cond.to_dict() == obj


def test_parse_accepts_json_text() -> None:
    assert parse_condition('{"field": "nps", "op": "<=", "value": 6}') == Leaf("nps", "<=", 6)
    assert parse_condition({"field": "x", "op": "exists"}) == Leaf("x", "exists", True)


BAD = [
    ({"all": [leaf("a", "==", 1), {"field": "a", "op": "~", "value": 1}]}, "all[1].op", "'~'"),
    ({"any": []}, "any", "non-empty list"),
    ({"all": {"field": "a"}}, "all", "non-empty list"),
    ({"not": [leaf("a", "==", 1)]}, "not", "JSON object"),
    ({"all": [leaf("a", "==", 1)], "any": []}, "any", "exactly one key"),
    ({"field": "a", "op": "==", "value": 1, "extra": 2}, "extra", "keys field, op and value"),
    ({"field": "", "op": "==", "value": 1}, "field", "fact name"),
    ({"field": 3, "op": "==", "value": 1}, "field", "Got 3"),
    ({"field": "a", "op": "=="}, "value", "required for '=='"),
    ({"field": "a", "op": "==", "value": None}, "value", "use op 'exists'"),
    ({"field": "a", "op": "<", "value": True}, "value", "no order"),
    ({"field": "a", "op": "in", "value": "x"}, "value", "non-empty list"),
    ({"field": "a", "op": "in", "value": [1, [2]]}, "value[1]", "a string"),
    ({"field": "a", "op": "exists", "value": "yes"}, "value", "true (the fact is present)"),
    ({"field": "a", "op": "<", "value": float("inf")}, "value", "finite"),
    ({"not": {"all": [leaf("a", "==", 1), {"any": [{"field": "b"}]}]}}, "not.all[1].any[0].op", "one of =="),
    (["a"], "condition", "JSON object"),
    ("{not json", "not valid JSON", "JSON object"),
]


@pytest.mark.parametrize(("obj", "path", "hint"), BAD)
def test_bad_conditions_name_the_path(obj: object, path: str, hint: str) -> None:
    with pytest.raises(CxlensInputError) as info:
        parse_condition(obj)
    message = str(info.value)
    assert path in message and hint in message
    assert isinstance(info.value, ValueError) and isinstance(info.value, CxlensError)


# --- invariants ------------------------------------------------------------------------------

FIELDS = st.sampled_from(["nps", "csat", "segment", "comment", "tags"])
SCALARS = st.one_of(
    st.integers(-5, 15), st.floats(-5, 15, allow_nan=False), st.booleans(),
    st.sampled_from(["smb", "SMB", "enterprise", "refund", "3", "7.5", ""]),
)


@st.composite
def leaves(draw: st.DrawFn) -> dict:
    op = draw(st.sampled_from(OPERATORS))
    field = draw(FIELDS)
    if op == "exists":
        return {"field": field, "op": op, "value": draw(st.booleans())}
    if op in ("in", "not_in"):
        return {"field": field, "op": op, "value": draw(st.lists(SCALARS, min_size=1, max_size=3))}
    value = draw(SCALARS.filter(lambda v: not isinstance(v, bool)) if op in ("<", "<=", ">", ">=") else SCALARS)
    return {"field": field, "op": op, "value": value}


CONDITIONS = st.recursive(
    leaves(),
    lambda inner: st.one_of(
        st.builds(lambda cs: {"all": cs}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda cs: {"any": cs}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda c: {"not": c}, inner),
    ),
    max_leaves=8,
)
FACTS = st.dictionaries(
    FIELDS, st.one_of(st.none(), SCALARS, st.lists(st.sampled_from(["smb", "Refund", "late"]), max_size=2)),
)


@settings(max_examples=200, deadline=None)
@given(CONDITIONS, FACTS)
def test_round_trip_and_not_inverts(obj: dict, facts: dict) -> None:
    cond = parse_condition(obj)
    assert parse_condition(cond.to_dict()) == cond
    assert cond.to_dict() == parse_condition(cond.to_dict()).to_dict()
    assert Not(cond).matches(facts) is (not cond.matches(facts))
    assert parse_condition({"not": {"not": cond.to_dict()}}).matches(facts) is cond.matches(facts)
    assert bool(cond.evidence(facts)) is cond.matches(facts) or not list(cond.leaves())


@settings(max_examples=200, deadline=None)
@given(leaves(), FACTS)
def test_single_child_combinations_equal_the_leaf(obj: dict, facts: dict) -> None:
    single = parse_condition(obj)
    for wrapped in (All((single,)), AnyOf((single,))):
        assert wrapped.matches(facts) is single.matches(facts)
        assert wrapped.evidence(facts) == single.evidence(facts)
    assert bool(single.evidence(facts)) is single.matches(facts)
