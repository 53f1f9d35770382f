"""Arrow columns of the demo tables: identifiers, timestamps and nullable values, built vectorised."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

US_PER_DAY = 86_400_000_000


def number_text(numbers: np.ndarray, width: int) -> pa.Array:
    """Zero-padded decimal text of non-negative integers."""
    text = pc.cast(pa.array(np.asarray(numbers, dtype=np.int64)), pa.string())
    return pc.utf8_lpad(text, width=width, padding="0")


def ids(prefix: str, customer_numbers: np.ndarray, width: int, seq: np.ndarray | None = None,
        seq_width: int = 4) -> pa.Array:
    """``PREFIX`` + customer number [+ ``-`` + 1-based sequence], e.g. ``E0000042-0003``.

    Unique across chunks because the customer number is global and the sequence counts the
    customer's own rows.
    """
    customer = number_text(customer_numbers, width)
    if seq is None:
        return pc.binary_join_element_wise(prefix, customer, "")
    return pc.binary_join_element_wise(prefix, customer, "-", number_text(seq + 1, seq_width), "")


def timestamps(start_us: int, days: np.ndarray) -> pa.Array:
    """Naive UTC microsecond timestamps (whole seconds) of day offsets; NaN/inf become null."""
    days = np.asarray(days, dtype=float)
    missing = ~np.isfinite(days)
    seconds = np.floor(np.where(missing, 0.0, days) * 86_400.0).astype(np.int64)
    values = start_us + seconds * 1_000_000
    return pa.array(values, type=pa.timestamp("us"), mask=missing if missing.any() else None)


def floats(values: np.ndarray, decimals: int | None = None) -> pa.Array:
    values = np.asarray(values, dtype=float)
    missing = ~np.isfinite(values)
    if decimals is not None:
        values = np.round(values, decimals)
    return pa.array(values, type=pa.float64(), mask=missing if missing.any() else None)


def ints(values: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    values = np.asarray(values, dtype=np.int64)
    return pa.array(values, type=pa.int64(), mask=missing if missing is not None and missing.any() else None)


def labels(codes: np.ndarray, names: Sequence[str | None]) -> pa.Array:
    """Strings from small integer codes (code -1 is null)."""
    codes = np.asarray(codes, dtype=np.int64)
    dictionary = pa.array(list(names), type=pa.string())
    return pc.take(dictionary, pa.array(codes, mask=codes < 0))


def strings(values: Sequence[str | None] | np.ndarray) -> pa.Array:
    return pa.array(values if not isinstance(values, np.ndarray) else values.tolist(), type=pa.string())


def empty(schema: pa.Schema) -> pa.Table:
    return schema.empty_table()
