"""The facts an alert rule's condition is evaluated against, for a batch of warehouse rows.

For a response (or ticket) row the facts are:

- its columns as stored (``nps``, ``csat``, ``ces``, ``touchpoint``, ``channel``, ``comment``…;
  tickets: ``topic``, ``status``, ``contacts``…), without the feed's internal columns;
- ``sentiment``: the comment's (ticket: the description's) score in [-1, 1] from the fast
  lexicon path of :mod:`cxlens.text.sentiment` (absent for empty or non-English texts), and
  ``sentiment_label``;
- ``themes`` (a list of theme labels) and ``theme`` (the first), only when a rule asks for them
  and the workspace has a fitted theme model (``models/themes.json``): new rows are assigned with
  the model first (:func:`cxlens.text.themes.assign_themes`); absent otherwise;
- ``customer.<column>`` for every column of the customer's row in ``customers``;
- ``value_at_stake``: the customer's expected value from the saved CLV model
  (``models/clv.json``, 52 weeks) when one is fitted, else the customer's revenue from
  ``orders`` in the 365 days before ``now`` (orders with status cancelled or refunded excluded);
  absent when the row has no customer;
- tickets also get ``age_hours`` (hours since ``created_at`` at ``now``) and ``open``
  (not resolved yet).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from cxlens.text import sentiment

TEXT_COLUMN = {"responses": "comment", "tickets": "description"}
THEME_FIELDS = ("themes", "theme")
EXCLUDED_ORDER_STATUSES = ("cancelled", "canceled", "refunded")


def public_columns(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if not k.startswith("_")}


SENTIMENT_FIELDS = ("sentiment", "sentiment_label")


def build_facts(ws: Any, table: str, rows: Sequence[Mapping[str, Any]], *, now: datetime,
                fields: Iterable[str] = ()) -> list[dict[str, Any]]:
    """One facts mapping per row (same order), with the derived facts that ``fields`` name
    (sentiment, themes, customer columns, value at stake); the row's columns always."""
    wanted = set(fields)
    facts = [public_columns(r) for r in rows]
    text_column = TEXT_COLUMN.get(table)
    if text_column and wanted & set(SENTIMENT_FIELDS):
        scores = sentiment.score([f.get(text_column) for f in facts], language="auto")
        for f, s in zip(facts, scores, strict=True):
            if s.score is not None:
                f["sentiment"] = s.score
            f["sentiment_label"] = s.label
    if wanted & set(THEME_FIELDS):
        _add_themes(ws, table, facts)
    if any(name.startswith("customer.") for name in wanted):
        customers = customer_rows(ws, _customer_ids(facts))
        for f in facts:
            for col, value in customers.get(str(f.get("customer_id") or ""), {}).items():
                f[f"customer.{col}"] = value
    if "value_at_stake" in wanted:
        add_value_at_stake(ws, facts, now=now)
    if table == "tickets":
        for f in facts:
            created = f.get("created_at")
            if isinstance(created, datetime):
                f["age_hours"] = (now - _aware(created, now)).total_seconds() / 3600
            f["open"] = f.get("resolved_at") is None
    return facts


def _customer_ids(facts: Sequence[Mapping[str, Any]]) -> list[str]:
    return sorted({str(f["customer_id"]) for f in facts if f.get("customer_id")})


def add_value_at_stake(ws: Any, facts: Sequence[dict[str, Any]], *, now: datetime) -> None:
    """Set ``value_at_stake`` on the facts of rows with a customer (one query for all)."""
    todo = [f for f in facts if "value_at_stake" not in f and f.get("customer_id")]
    if not todo:
        return
    values = values_at_stake(ws, _customer_ids(todo), now=now)
    for f in todo:
        cid = str(f["customer_id"])
        if cid in values:
            f["value_at_stake"] = values[cid]


def _aware(value: datetime, like: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=like.tzinfo)


def customer_rows(ws: Any, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    t = ws.table("customers")
    rows = t.filter(t.customer_id.isin(list(ids))).to_pyarrow().to_pylist()
    return {str(r["customer_id"]): public_columns(r) for r in rows}


def values_at_stake(ws: Any, ids: Sequence[str], *, now: datetime) -> dict[str, float]:
    """Expected CLV when a CLV model is saved, else revenue of the last 365 days (see the module doc)."""
    if (ws.path / "models" / "clv.json").is_file():
        table = ws.clv_predict(horizon="52w").to_pandas()
        mine = table[table["customer_id"].astype(str).isin(set(ids))]
        return {str(c): float(v) for c, v in zip(mine["customer_id"], mine["expected_value"], strict=True)
                if v == v}
    o = ws.table("orders")
    since = now - timedelta(days=365)
    recent = o.filter(o.customer_id.isin(list(ids)), o.ordered_at >= since, o.ordered_at <= now)
    if "status" in o.columns:
        recent = recent.filter(recent.status.isnull() | ~recent.status.lower().isin(EXCLUDED_ORDER_STATUSES))
    rows = recent.group_by("customer_id").aggregate(value=recent.amount.sum()).to_pyarrow().to_pylist()
    found = {str(r["customer_id"]): float(r["value"] or 0.0) for r in rows}
    return {cid: found.get(cid, 0.0) for cid in ids}


def _add_themes(ws: Any, table: str, facts: list[dict[str, Any]]) -> None:
    from cxlens.text import theme_store, themes  # noqa: PLC0415 - the embedding model loads only when rules use themes

    if table not in ("responses", "tickets") or not (ws.path / "models" / "themes.json").is_file():
        return
    key = "response_id" if table == "responses" else "ticket_id"
    themes.assign_themes(ws, sources=(table,))
    # Not ws.table(): the assignments are no contract table, so the workspace does not list them.
    a = theme_store.assignments(ws.warehouse)
    ids = [str(f[key]) for f in facts if f.get(key) is not None]
    rows = a.filter(a.source_table == table, a.source_id.isin(ids)).select("source_id", "theme_label") \
        .to_pyarrow().to_pylist()
    labels: dict[str, list[str]] = {}
    for r in rows:
        labels.setdefault(str(r["source_id"]), []).append(str(r["theme_label"]))
    for f in facts:
        found = labels.get(str(f.get(key)))
        if found:
            f["themes"], f["theme"] = found, found[0]
