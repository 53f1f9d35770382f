"""Row validation as one vectorised SQL query over the staged text columns.

Each rule yields, per row, either NULL or a problem ``{column, value, code, reason}``; a row
with any problem is rejected with all its problems. Codes are stable and machine-readable:

=================  ===========================================================
code               meaning
=================  ===========================================================
missing_value      a required column is empty
not_a_number       a numeric column holds text that is not a number
not_an_integer     a whole-number column (scores, counts) holds a fraction
out_of_range       a number outside its allowed range (e.g. nps 11, csat 0)
bad_timestamp      text that is not an ISO 8601 timestamp (or the mapping's format)
bad_boolean        not one of true/false, yes/no, y/n, t/f, 1/0
bad_json           not a valid JSON document
out_of_order       a later timestamp before an earlier one (resolved_at < created_at)
not_allowed        a value outside the column's list (e.g. a case status other than new, ...)
=================  ===========================================================

Values supplied by users (mapping formats, value maps, time zones, constants) are bound as
query parameters, never pasted into the SQL text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cxlens.errors import ImportFileError
from cxlens.ingest.mapping import ColumnMapping, Conversion
from cxlens.ingest.sources import STAGED
from cxlens.schema import Column, ColumnType, TableSpec

CODES = (
    "missing_value", "not_a_number", "not_an_integer", "out_of_range", "bad_timestamp",
    "bad_boolean", "bad_json", "out_of_order", "not_allowed",
)
_TRUE = ("true", "t", "yes", "y", "1")
_FALSE = ("false", "f", "no", "n", "0")
#: A naive ISO 8601 date or date and time: no offset, no zone name, so it is read as UTC.
NAIVE_ISO = r"\d\d\d\d-\d\d-\d\d([ T]\d\d:\d\d(:\d\d(\.\d{1,9})?)?)?"


@dataclass(frozen=True)
class PlannedColumn:
    """One column of the target table and where its values come from."""

    target: str
    source: str | None  # staged column, or None for a constant
    spec: Column | None  # None: an attribute column (kept as text)
    conversion: Conversion | None = None
    constant: str | None = None


@dataclass(frozen=True)
class ValidationQuery:
    sql: str
    params: dict[str, Any]
    columns: tuple[PlannedColumn, ...]


def lit(text: str) -> str:
    """A SQL string literal of our own text (never of user data)."""
    return "'" + text.replace("'", "''") + "'"


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def plan_columns(spec: TableSpec, staged: tuple[str, ...], mapping: ColumnMapping) -> tuple[PlannedColumn, ...]:
    """Decide every target column; raise before reading when required columns are missing."""
    renamed = dict(mapping.columns)
    used_sources = set(renamed.values())
    targets: dict[str, tuple[str | None, str | None]] = {t: (s, None) for t, s in renamed.items()}
    for col in staged:
        if col in used_sources or col in mapping.drop or col in targets:
            continue
        targets[col] = (col, None)
    for target, value in mapping.constants:
        targets[target] = (None, value)
    _check_names(spec, targets)
    return tuple(
        PlannedColumn(
            target=t,
            source=src,
            spec=spec.column(t) if t in spec.column_names else None,
            conversion=mapping.conversion(t),
            constant=const,
        )
        for t, (src, const) in targets.items()
    )


def _check_names(spec: TableSpec, targets: dict[str, Any]) -> None:
    reserved = [t for t in targets if t.startswith("_")]
    if reserved:
        raise ImportFileError(
            f"Column name(s) {', '.join(reserved)} start with '_', which cxlens reserves for its "
            f"own bookkeeping. Rename them in the file or with a mapping."
        )
    missing = [c for c in spec.required if c not in targets]
    if missing:
        raise ImportFileError(
            f"The file lacks the required column(s) {', '.join(repr(m) for m in missing)} of table "
            f"'{spec.name}'. Required: {', '.join(spec.required)}; all contract columns: "
            f"{', '.join(spec.column_names)}. Rename the headers or pass --mapping FILE."
        )


class Builder:
    """Accumulates SQL fragments and their bound parameters."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.settings = settings
        self.params: dict[str, Any] = {}

    def param(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f"${name}"

    def raw(self, col: PlannedColumn) -> str:
        if col.source is None:
            return f"CAST({self.param(col.constant)} AS VARCHAR)"
        v = ident(col.source)
        # trim() copies every string; only values with an outer space need it (most have none).
        expr = f"NULLIF(CASE WHEN starts_with({v}, ' ') OR ends_with({v}, ' ') THEN trim({v}) ELSE {v} END, '')"
        if col.conversion and col.conversion.values:
            cases = " ".join(
                f"WHEN {self.param(k)} THEN {self.param(v)}" for k, v in col.conversion.values
            )
            expr = f"CASE {expr} {cases} ELSE {expr} END"
        return expr

    def converted(self, col: PlannedColumn, r: str) -> str | None:
        """The costly conversion of a column's text, computed once per row (``<target>__p``)."""
        kind = col.spec.type if col.spec else ColumnType.STRING
        if kind in (ColumnType.INTEGER, ColumnType.FLOAT):
            return f"try_cast({r} AS DOUBLE)"
        if kind is ColumnType.TIMESTAMP:
            return self._timestamp(col.conversion, r)
        return None

    def typed(self, col: PlannedColumn, r: str, p: str) -> str:
        """The typed value from the raw text ``r`` and the conversion ``p``; NULL when invalid."""
        kind = col.spec.type if col.spec else ColumnType.STRING
        if kind is ColumnType.INTEGER:
            return f"CASE WHEN {p} = round({p}) THEN try_cast({p} AS BIGINT) END"
        if kind in (ColumnType.FLOAT, ColumnType.TIMESTAMP):
            return f"CASE WHEN isfinite({p}) THEN {p} END"
        if kind is ColumnType.BOOLEAN:
            t = ", ".join(lit(v) for v in _TRUE)
            f = ", ".join(lit(v) for v in _FALSE)
            return f"CASE WHEN lower({r}) IN ({t}) THEN true WHEN lower({r}) IN ({f}) THEN false END"
        if kind is ColumnType.JSON:
            return f"CASE WHEN json_valid({r}) THEN {r} END"
        return r

    def _timestamp(self, conv: Conversion | None, r: str) -> str:
        zone = self.param(conv.timezone) if conv and conv.timezone else None
        if conv and conv.format:
            naive = f"try_strptime({r}, {self.param(conv.format)})"
            aware = f"timezone({zone}, {naive})" if zone else naive
            return f"CAST(timezone('UTC', CAST({aware} AS TIMESTAMPTZ)) AS TIMESTAMP)"
        aware = f"CAST(timezone('UTC', try_cast({r} AS TIMESTAMPTZ)) AS TIMESTAMP)"
        if zone:
            has_offset = f"regexp_matches({r}, '(Z|[+-]\\d\\d(:?\\d\\d)?)$')"
            return (
                f"CASE WHEN {has_offset} THEN {aware} "
                f"ELSE CAST(timezone('UTC', timezone({zone}, try_cast({r} AS TIMESTAMP))) AS TIMESTAMP) END"
            )
        # Parsing with time zones is costly; text that is plainly a naive ISO 8601 date or date
        # and time (no offset, no zone name) means UTC, which the plain TIMESTAMP cast gives.
        return f"CASE WHEN regexp_full_match({r}, {lit(NAIVE_ISO)}) THEN try_cast({r} AS TIMESTAMP) ELSE {aware} END"


def _problem(column: str, value: str, code: str, reason_sql: str) -> str:
    return (
        f"{{'column': {lit(column)}, 'value': CAST({value} AS VARCHAR), 'code': {lit(code)}, "
        f"'reason': CAST({reason_sql} AS VARCHAR)}}"
    )


@dataclass(frozen=True)
class Check:
    """One rule applied to a row: the SQL condition that flags a problem, and the problem."""

    cond: str
    problem: str

    @property
    def sql(self) -> str:
        return f"CASE WHEN {self.cond} THEN {self.problem} END"


def _when(cond: str, problem: str) -> Check:
    return Check(cond, problem)


def _got(r: str) -> str:
    return f"'; got ''' || {r} || ''''"


def _column_problems(col: PlannedColumn, r: str, t: str, p: str, settings: dict[str, Any]) -> list[Check]:
    spec, name, out = col.spec, col.target, []
    if spec is None:
        return out
    if spec.required:
        out.append(_when(f"{r} IS NULL", _problem(
            name, "NULL", "missing_value",
            lit(f"'{name}' is required but empty; fill it in or remove the row"))))
    out.extend(_type_problems(spec, name, r, t, p))
    bound = _range(spec, settings)
    if bound is not None:
        out.append(_range_problem(name, r, t, *bound))
    if spec.allowed:
        values = ", ".join(lit(v) for v in spec.allowed)
        out.append(_when(f"{r} IS NOT NULL AND lower({r}) NOT IN ({values})", _problem(
            name, r, "not_allowed", lit(f"'{name}' must be one of {', '.join(spec.allowed)}") + " || " + _got(r))))
    return out


def _range_problem(name: str, r: str, t: str, lo: float, hi: float) -> Check:
    if hi == float("inf"):
        cond, text = f"{t} < {lo!r}", f"'{name}' must be at least {_num(lo)}"
    else:
        cond, text = f"{t} < {lo!r} OR {t} > {hi!r}", f"'{name}' must be between {_num(lo)} and {_num(hi)}"
    return _when(cond, _problem(name, r, "out_of_range", lit(text) + " || " + _got(r)))


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _range(spec: Column, settings: dict[str, Any]) -> tuple[float, float] | None:
    if spec.minimum is None and spec.maximum is None:
        return None
    hi = settings[spec.maximum] if isinstance(spec.maximum, str) else spec.maximum
    lo = spec.minimum if spec.minimum is not None else float("-inf")
    return float(lo), float(hi) if hi is not None else float("inf")


def _type_problems(spec: Column, name: str, r: str, t: str, d: str) -> list[Check]:
    """Problems of a value that does not convert; ``d`` is its conversion to DOUBLE for integers."""
    bad = f"{r} IS NOT NULL AND {t} IS NULL"
    if spec.type is ColumnType.INTEGER:
        return [
            _when(f"{bad} AND {d} IS NULL", _problem(
                name, r, "not_a_number", lit(f"'{name}' must be a number") + " || " + _got(r))),
            _when(f"{bad} AND {d} IS NOT NULL", _problem(
                name, r, "not_an_integer", lit(f"'{name}' must be a whole number") + " || " + _got(r))),
        ]
    messages = {
        ColumnType.FLOAT: ("not_a_number", f"'{name}' must be a number"),
        ColumnType.TIMESTAMP: (
            "bad_timestamp",
            f"'{name}' must be an ISO 8601 timestamp such as 2024-05-31T14:02:00Z or 2024-05-31",
        ),
        ColumnType.BOOLEAN: ("bad_boolean", f"'{name}' must be true/false, yes/no or 1/0"),
        ColumnType.JSON: ("bad_json", f"'{name}' must be valid JSON"),
    }
    if spec.type not in messages:
        return []
    code, text = messages[spec.type]
    return [_when(bad, _problem(name, r, code, lit(text) + " || " + _got(r)))]


def _order_problems(spec: TableSpec, planned: dict[str, PlannedColumn]) -> list[Check]:
    out = []
    for rule in spec.order_rules:
        if rule.earlier in planned and rule.later in planned:
            e, lt = ident(f"{rule.earlier}__t"), ident(f"{rule.later}__t")
            reason = (
                lit(f"'{rule.later}' (") + f" || CAST({lt} AS VARCHAR) || "
                + lit(f") is before '{rule.earlier}' (") + f" || CAST({e} AS VARCHAR) || "
                + lit("); it must not be earlier")
            )
            out.append(_when(f"{lt} < {e}", _problem(rule.later, ident(rule.later), rule.code, reason)))
    return out


def _column_flag(col: PlannedColumn, r: str, t: str, settings: dict[str, Any]) -> str | None:
    """One condition, true exactly when any of the column's checks flags a problem.

    The flag decides ``_bad`` for every row, so it is kept to a single predicate per column:
    a typed value is NULL when the text is empty or does not convert, so for a required column
    ``t IS NULL`` covers both, and a range test that is not true covers the NULL too.
    """
    spec = col.spec
    if spec is None:
        return None
    flag = _value_flag(spec, r, t, settings)
    if not spec.allowed:
        return flag
    listed = f"({r} IS NOT NULL AND lower({r}) NOT IN ({', '.join(lit(v) for v in spec.allowed)}))"
    return listed if flag is None else f"({flag} OR {listed})"


def _value_flag(spec: Column, r: str, t: str, settings: dict[str, Any]) -> str | None:
    bound = _range(spec, settings)
    converts = spec.type is not ColumnType.STRING
    if bound is not None:
        lo, hi = bound
        inside = f"{t} >= {lo!r}" + ("" if hi == float("inf") else f" AND {t} <= {hi!r}")
        unfit = f"NOT coalesce({inside}, false)"
        if spec.required:
            return unfit
        return f"({r} IS NOT NULL AND {unfit})" if converts else f"coalesce(NOT ({inside}), false)"
    if spec.required:
        return f"{t} IS NULL" if converts else f"{r} IS NULL"
    return f"({r} IS NOT NULL AND {t} IS NULL)" if converts else None


def build_query(
    spec: TableSpec, columns: tuple[PlannedColumn, ...], settings: dict[str, Any]
) -> ValidationQuery:
    """The SELECT that types every column and lists each row's problems in ``_errors``."""
    b = Builder(settings)
    raws = [f"{b.raw(c)} AS {ident(c.target)}" for c in columns]
    # Each costly conversion is a column of its own CTE, so it runs once per row however often
    # the typed value and the checks use it.
    converted = {c.target: b.converted(c, ident(c.target)) for c in columns}
    conversions = [f"{sql} AS {ident(t + '__p')}" for t, sql in converted.items() if sql is not None]
    typed = [f"{b.typed(c, ident(c.target), ident(c.target + '__p'))} AS {ident(c.target + '__t')}" for c in columns]
    checks: list[Check] = []
    for c in columns:
        checks += _column_problems(c, ident(c.target), ident(c.target + "__t"), ident(c.target + "__p"), settings)
    order = _order_problems(spec, {c.target: c for c in columns})
    checks += order
    # The cheap boolean decides; the list of problems is only built for the (few) bad rows.
    flags = [
        f for f in [_column_flag(c, ident(c.target), ident(c.target + "__t"), settings) for c in columns]
        + [f"({c.cond})" for c in order] if f is not None
    ]
    bad = f"coalesce({' OR '.join(flags)}, false)" if flags else "false"
    errors = f"list_filter([{', '.join(c.sql for c in checks)}], lambda x: x IS NOT NULL)" if checks else "NULL"
    raw_struct = ", ".join(f"{lit(c.target)}: {ident(c.target)}" for c in columns)
    outs = ", ".join(f"{ident(c.target + '__t')} AS {ident(c.target)}" for c in columns)
    sql = (
        f"WITH r AS (SELECT _line, {', '.join(raws)} FROM {STAGED}), "
        f"p AS (SELECT r.*{''.join(', ' + c for c in conversions)} FROM r), "
        f"t AS (SELECT p.*, {', '.join(typed)} FROM p), "
        f"e AS (SELECT t.*, {bad} AS _bad FROM t) "
        f"SELECT _line, {outs}, _bad, CASE WHEN _bad THEN {errors} END AS _errors, "
        f"CASE WHEN _bad THEN CAST(to_json({{{raw_struct}}}) AS VARCHAR) END AS _raw FROM e"
    )
    return ValidationQuery(sql=sql, params=b.params, columns=columns)
