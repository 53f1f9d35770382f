"""Alert-rule conditions: a small JSON condition language evaluated against a mapping of facts.

A condition is either a *leaf* comparing one fact with a literal::

    {"field": "nps", "op": "<=", "value": 6}

or a combination of conditions, nestable to any depth::

    {"all": [cond, ...]}     every condition holds
    {"any": [cond, ...]}     at least one condition holds
    {"not": cond}            the condition does not hold

Operators: ``==, !=, <, <=, >, >=, in, not_in, contains, exists``.

Semantics (the same for every face: CLI, API, web, jobs):

- A *missing* fact (absent key, ``None``, NaN) never matches a comparison — not even ``!=`` or
  ``not_in``. Only ``exists`` looks at presence (``"value": false`` asks for absence).
- Numbers compare numerically, also when the fact is a numeric string (``"7"`` from a CSV).
- Strings compare case-insensitively for ``==``, ``!=``, ``in`` and ``not_in``;
  ``contains`` is a case-insensitive substring test on a string fact or a membership test on a
  list fact; ``<``/``>`` on strings compare them as written (ISO dates order correctly).
- A fact whose type cannot be compared with the value (``"abc" < 5``) does not match an ordering;
  it is simply "not equal" for ``==``/``!=``.
"""

from __future__ import annotations

import json
import math
import numbers
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from cxlens.errors import CxlensInputError

#: Operators of a leaf condition, in the order the docs list them.
OPERATORS: tuple[str, ...] = ("==", "!=", "<", "<=", ">", ">=", "in", "not_in", "contains", "exists")

_ORDERINGS = ("<", "<=", ">", ">=")
_SYMBOLS = {
    "==": "=", "!=": "≠", "<": "<", "<=": "≤", ">": ">", ">=": "≥",
    "in": "in", "not_in": "not in", "contains": "contains", "exists": "exists",
}
_NEGATED = {
    "==": "≠", "!=": "=", "<": "≥", "<=": ">", ">": "≤", ">=": "<",
    "in": "not in", "not_in": "in", "contains": "does not contain",
}
_COMBINATORS = ("all", "any", "not")
_TRUE_WORDS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


class Condition(ABC):
    """Base class of every condition; instances are immutable and comparable."""

    @abstractmethod
    def matches(self, facts: Mapping[str, Any]) -> bool:
        """True when the condition holds for ``facts``."""

    def evidence(self, facts: Mapping[str, Any]) -> list[str]:
        """Human sentences saying why the condition holds (e.g. ``"nps 3 ≤ 6"``); empty if it does not.

        For ``all`` every leaf is listed, for ``any`` the leaves of the branches that held, and
        under ``not`` the leaves that failed, phrased negatively (``"nps 8 is not ≤ 6"``).
        """
        return self._reasons(facts, True) if self.matches(facts) else []

    @abstractmethod
    def _reasons(self, facts: Mapping[str, Any], holds: bool) -> list[str]:
        """The sentences of :meth:`evidence` for a condition that ``holds`` (or, under ``not``, fails)."""

    @abstractmethod
    def to_dict(self) -> dict[str, Any]:
        """The JSON form; ``parse_condition(c.to_dict()) == c``."""

    @abstractmethod
    def leaves(self) -> Iterator[Leaf]:
        """Every leaf, depth first, left to right."""

    def fields(self) -> tuple[str, ...]:
        """The fact names the condition reads, each once, in order of first appearance."""
        return tuple(dict.fromkeys(leaf.field for leaf in self.leaves()))

    @abstractmethod
    def describe(self) -> str:
        """A one-line human rendering, e.g. ``nps ≤ 6 and (segment in ['smb'] or not comment exists)``."""


@dataclass(frozen=True)
class Leaf(Condition):
    """``field op value``; for ``exists`` the value is ``True`` (present) or ``False`` (absent)."""

    field: str
    op: str
    value: Any = True

    def matches(self, facts: Mapping[str, Any]) -> bool:
        fact = facts.get(self.field)
        if self.op == "exists":
            return _is_missing(fact) is not bool(self.value)
        if _is_missing(fact):
            return False
        return _compare(self.op, fact, self.value)

    def _reasons(self, facts: Mapping[str, Any], holds: bool) -> list[str]:
        if self.matches(facts) is not holds:
            return []
        fact = _shown_fact(facts.get(self.field), self.value)
        if self.op == "exists":
            present = not _is_missing(fact)
            return [f"{self.field} {_show(fact)} is present" if present else f"{self.field} is missing"]
        if _is_missing(fact):
            return [f"{self.field} is missing"]
        if holds:
            return [f"{self.field} {_show(fact)} {_SYMBOLS[self.op]} {_show(self.value)}"]
        return [f"{self.field} {_show(fact)} {_NEGATED[self.op]} {_show(self.value)}"]

    def to_dict(self) -> dict[str, Any]:
        value = list(self.value) if isinstance(self.value, tuple) else self.value
        return {"field": self.field, "op": self.op, "value": value}

    def leaves(self) -> Iterator[Leaf]:
        yield self

    def describe(self) -> str:
        if self.op == "exists":
            return f"{self.field} exists" if self.value else f"{self.field} is missing"
        return f"{self.field} {_SYMBOLS[self.op]} {_show(self.value)}"


@dataclass(frozen=True)
class All(Condition):
    """Every child holds."""

    children: tuple[Condition, ...]

    def matches(self, facts: Mapping[str, Any]) -> bool:
        return all(c.matches(facts) for c in self.children)

    def _reasons(self, facts: Mapping[str, Any], holds: bool) -> list[str]:
        # all(...) fails because of the children that fail; it holds because every child holds.
        return [r for c in self.children for r in c._reasons(facts, holds)]

    def to_dict(self) -> dict[str, Any]:
        return {"all": [c.to_dict() for c in self.children]}

    def leaves(self) -> Iterator[Leaf]:
        for c in self.children:
            yield from c.leaves()

    def describe(self) -> str:
        return " and ".join(_nested(c) for c in self.children)


@dataclass(frozen=True)
class AnyOf(Condition):
    """At least one child holds."""

    children: tuple[Condition, ...]

    def matches(self, facts: Mapping[str, Any]) -> bool:
        return any(c.matches(facts) for c in self.children)

    def _reasons(self, facts: Mapping[str, Any], holds: bool) -> list[str]:
        return [r for c in self.children for r in c._reasons(facts, holds)]

    def to_dict(self) -> dict[str, Any]:
        return {"any": [c.to_dict() for c in self.children]}

    def leaves(self) -> Iterator[Leaf]:
        for c in self.children:
            yield from c.leaves()

    def describe(self) -> str:
        return " or ".join(_nested(c) for c in self.children)


@dataclass(frozen=True)
class Not(Condition):
    """The child does not hold."""

    child: Condition

    def matches(self, facts: Mapping[str, Any]) -> bool:
        return not self.child.matches(facts)

    def _reasons(self, facts: Mapping[str, Any], holds: bool) -> list[str]:
        return self.child._reasons(facts, not holds)

    def to_dict(self) -> dict[str, Any]:
        return {"not": self.child.to_dict()}

    def leaves(self) -> Iterator[Leaf]:
        yield from self.child.leaves()

    def describe(self) -> str:
        return f"not {_nested(self.child)}"


def describe(condition: Condition) -> str:
    """A one-line human rendering of ``condition`` for lists and notifications."""
    return condition.describe()


def _nested(c: Condition) -> str:
    text = c.describe()
    return f"({text})" if isinstance(c, All | AnyOf) and len(c.children) > 1 else text


# --- parsing ---------------------------------------------------------------------------------


def parse_condition(obj: Any) -> Condition:
    """Validate the JSON form of a condition (a mapping, or a JSON text) and build it.

    Raises ``CxlensInputError`` naming the path of the offending part (``all[1].op``), the value
    found and what is allowed.
    """
    if isinstance(obj, str | bytes):
        try:
            obj = json.loads(obj)
        except json.JSONDecodeError as exc:
            raise CxlensInputError(f"The condition is not valid JSON: {exc}. Write it as a JSON object "
                                   'such as {"field": "nps", "op": "<=", "value": 6}.') from None
    return _parse(obj, "")


def _parse(obj: Any, path: str) -> Condition:
    if isinstance(obj, Condition):
        return obj
    if not isinstance(obj, Mapping):
        _fail(path or "condition", obj, 'a JSON object: {"all": [...]}, {"any": [...]}, {"not": {...}} '
              'or a leaf {"field": ..., "op": ..., "value": ...}')
    combinators = [k for k in obj if k in _COMBINATORS]
    if combinators:
        return _parse_combination(obj, combinators, path)
    return _parse_leaf(obj, path)


def _parse_combination(obj: Mapping[str, Any], keys: list[str], path: str) -> Condition:
    if len(obj) != 1:
        extra = sorted(str(k) for k in obj if k != keys[0])
        _fail(_join(path, extra[0]), obj[extra[0]],
              f"nothing beside '{keys[0]}': a combination has exactly one key (all, any or not)")
    key = keys[0]
    inner = obj[key]
    if key == "not":
        return Not(_parse(inner, _join(path, "not")))
    if not isinstance(inner, list) or not inner:
        _fail(_join(path, key), inner, f"a non-empty list of conditions under '{key}'")
    children = tuple(_parse(c, f"{_join(path, key)}[{i}]") for i, c in enumerate(inner))
    return All(children) if key == "all" else AnyOf(children)


def _parse_leaf(obj: Mapping[str, Any], path: str) -> Leaf:
    unknown = sorted(str(k) for k in obj if k not in ("field", "op", "value"))
    if unknown:
        _fail(_join(path, unknown[0]), obj[unknown[0]],
              "the keys field, op and value in a leaf, or all/any/not in a combination")
    field = obj.get("field")
    if not isinstance(field, str) or not field.strip():
        _fail(_join(path, "field"), field, "a non-empty fact name such as 'nps' or 'segment'")
    op = obj.get("op")
    if op not in OPERATORS:
        _fail(_join(path, "op"), op, f"one of {', '.join(OPERATORS)}")
    if "value" not in obj and op != "exists":
        _fail(_join(path, "value"), None, f"a value to compare with (required for '{op}')")
    value = _check_value(op, obj.get("value", True), _join(path, "value"))
    return Leaf(field.strip(), op, value)


def _check_value(op: str, value: Any, path: str) -> Any:
    if op == "exists":
        if not isinstance(value, bool):
            _fail(path, value, "true (the fact is present) or false (it is missing) for 'exists'")
        return value
    if op in ("in", "not_in"):
        if not isinstance(value, list | tuple) or not value:
            _fail(path, value, f"a non-empty list of strings or numbers for '{op}'")
        return tuple(_check_scalar(v, f"{path}[{i}]") for i, v in enumerate(value))
    scalar = _check_scalar(value, path)
    if op in _ORDERINGS and isinstance(scalar, bool):
        _fail(path, value, f"a number or a string for '{op}' (true/false have no order)")
    return scalar


def _check_scalar(value: Any, path: str) -> Any:
    if value is None:
        _fail(path, value, "a string, a number or true/false; to test for a missing fact use op 'exists'")
    if isinstance(value, bool | str):
        return value
    if isinstance(value, numbers.Real) and math.isfinite(float(value)):
        return value
    _fail(path, value, "a string, a finite number or true/false")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _fail(path: str, value: Any, allowed: str) -> None:
    raise CxlensInputError(f"Condition part '{path}' must be {allowed}. Got {_show(value)} instead.")


# --- evaluation ------------------------------------------------------------------------------


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float | Decimal):
        return math.isnan(value)
    # pandas.NA and pandas.NaT without importing pandas.
    return type(value).__name__ in ("NAType", "NaTType")


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return None
    if isinstance(value, numbers.Real | Decimal):
        return float(value)
    if isinstance(value, str):
        try:
            out = float(value.strip())
        except ValueError:
            return None
        return out if math.isfinite(out) else None
    return None


def _truth(value: Any) -> bool | None:
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return bool(value)
    if isinstance(value, str):
        return _TRUE_WORDS.get(value.strip().lower())
    return None


def _equal(fact: Any, value: Any) -> bool:
    if isinstance(value, bool):
        return _truth(fact) is value
    if isinstance(value, str) and isinstance(fact, str):
        return fact.strip().casefold() == value.strip().casefold()
    a, b = _number(fact), _number(value)
    return a is not None and b is not None and a == b


def _order(op: str, fact: Any, value: Any) -> bool:
    a, b = _number(fact), _number(value)
    if not isinstance(value, str) or (a is not None and b is not None):
        if a is None or b is None:
            return False
        return _ORDER_OPS[op](a, b)
    if not isinstance(fact, str):
        return False
    return _ORDER_OPS[op](fact, value)


_ORDER_OPS = {
    "<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
}


def _contains(fact: Any, value: Any) -> bool:
    if isinstance(fact, str):
        return str(value).casefold() in fact.casefold()
    if isinstance(fact, Iterable) and not isinstance(fact, bytes | Mapping):
        return any(not _is_missing(item) and _equal(item, value) for item in fact)
    return False


def _compare(op: str, fact: Any, value: Any) -> bool:
    if op == "==":
        return _equal(fact, value)
    if op == "!=":
        return not _equal(fact, value)
    if op == "in":
        return any(_equal(fact, v) for v in value)
    if op == "not_in":
        return not any(_equal(fact, v) for v in value)
    if op == "contains":
        return _contains(fact, value)
    return _order(op, fact, value)


def _shown_fact(fact: Any, value: Any) -> Any:
    """A numeric string compared with a number is shown as the number it was read as."""
    if isinstance(fact, str) and _number(value) is not None and not isinstance(value, str | bool):
        number = _number(fact)
        return fact if number is None else number
    return fact


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Sequence):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
