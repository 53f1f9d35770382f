"""Interaction events: batches collected during a chunk and turned into the interactions table."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cxlens.demo import tables
from cxlens.demo.arrays import rank_within
from cxlens.demo.design import STAGES, TOUCHPOINT_INDEX, TOUCHPOINTS

_CHANNELS = tuple(sorted({t.channel for t in TOUCHPOINTS}))
_TP_CHANNEL = np.array([_CHANNELS.index(t.channel) for t in TOUCHPOINTS], dtype=np.int64)
_TP_STAGE = np.array([STAGES.index(t.stage) for t in TOUCHPOINTS], dtype=np.int64)
_TP_NAMES = tuple(t.name for t in TOUCHPOINTS)
_DIGITAL = np.array([t.channel in ("web", "app", "chat") for t in TOUCHPOINTS])

#: Duration of an interaction: log-normal (median seconds, sigma); touchpoints not listed have none.
DURATION_SECONDS: dict[str, tuple[float, float]] = {
    "search_ad": (20, 0.8), "review_site": (150, 0.8), "plans_page": (120, 0.8), "coverage_check": (60, 0.6),
    "comparison_site": (180, 0.8), "sales_chat": (540, 0.6), "sales_call": (600, 0.6),
    "store_visit": (1200, 0.5), "web_checkout": (240, 0.6), "app_checkout": (180, 0.6),
    "phone_order": (900, 0.5), "store_signup": (1800, 0.4), "technician_visit": (7200, 0.4),
    "app_activation": (120, 0.7), "tv_app": (2700, 1.0), "account_login": (25, 0.6),
    "help_center": (150, 0.9), "support_phone": (360, 0.7), "support_chat": (540, 0.7),
    "support_web": (180, 0.6), "store_service": (900, 0.6), "loyalty_rewards": (90, 0.7),
    "plan_upgrade": (200, 0.6), "referral_program": (60, 0.6),
}
_DUR_MEDIAN = np.array([DURATION_SECONDS.get(n, (np.nan, 0.0))[0] for n in _TP_NAMES], dtype=float)
_DUR_SIGMA = np.array([DURATION_SECONDS.get(n, (np.nan, 0.0))[1] for n in _TP_NAMES], dtype=float)


def tp(name: str) -> int:
    return TOUCHPOINT_INDEX[name]


def props(**values: object) -> str:
    """A compact JSON object (the properties of an interaction)."""
    return json.dumps(values, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class EventBatch:
    """Events of one kind: customer (chunk-local index), day offset, touchpoint code, properties."""

    customer: np.ndarray
    day: np.ndarray
    touchpoint: np.ndarray
    properties: np.ndarray  # object array of JSON strings (or None)

    @staticmethod
    def of(customer: np.ndarray, day: np.ndarray, touchpoint: int | np.ndarray,
           properties: str | np.ndarray | None = None) -> EventBatch:
        n = np.size(customer)
        codes = np.broadcast_to(np.asarray(touchpoint, dtype=np.int64), (n,))
        if properties is None or isinstance(properties, str):
            prop = np.full(n, properties, dtype=object)
        else:
            prop = np.asarray(properties, dtype=object)
        return EventBatch(np.asarray(customer, dtype=np.int64), np.asarray(day, dtype=float), codes, prop)


def interactions_table(rng: np.random.Generator, batches: list[EventBatch], numbers: np.ndarray,
                       width: int, start_us: int, horizon: float) -> pa.Table:
    """All events within [0, horizon], sorted by customer and time, with ids ``E<customer>-<n>``."""
    customer = np.concatenate([b.customer for b in batches])
    day = np.concatenate([b.day for b in batches])
    code = np.concatenate([b.touchpoint for b in batches])
    prop = np.concatenate([b.properties for b in batches])
    keep = (day >= 0) & (day <= horizon)
    customer, day, code, prop = customer[keep], day[keep], code[keep], prop[keep]
    order = np.lexsort((day, customer))
    customer, day, code, prop = customer[order], day[order], code[order], prop[order]
    number = numbers[customer]
    duration = np.exp(np.log(_DUR_MEDIAN[code]) + _DUR_SIGMA[code] * rng.standard_normal(code.size)) * 1000.0
    session = pc.binary_join_element_wise(
        "W", tables.number_text(number, width), "-", tables.number_text(np.floor(day), 3), "")
    session = pc.if_else(pa.array(_DIGITAL[code]), session, pa.scalar(None, pa.string()))
    return pa.table({
        "event_id": tables.ids("E", number, width, rank_within(customer), 4),
        "customer_id": tables.ids("C", number, width),
        "occurred_at": tables.timestamps(start_us, day),
        "touchpoint": tables.labels(code, _TP_NAMES),
        "channel": tables.labels(_TP_CHANNEL[code], _CHANNELS),
        "stage": tables.labels(_TP_STAGE[code], STAGES),
        "session_id": session,
        "properties": tables.strings(prop),
        "duration_ms": tables.floats(duration, 0),
    })


def touchpoints_table() -> pa.Table:
    return pa.table({
        "touchpoint": pa.array([t.name for t in TOUCHPOINTS], pa.string()),
        "stage": pa.array([t.stage for t in TOUCHPOINTS], pa.string()),
        "channel": pa.array([t.channel for t in TOUCHPOINTS], pa.string()),
        "direct": pa.array([t.direct for t in TOUCHPOINTS], pa.bool_()),
        "description": pa.array([t.description for t in TOUCHPOINTS], pa.string()),
    })
