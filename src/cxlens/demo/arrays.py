"""Small vectorised helpers shared by the demo generator's steps."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cxlens.demo.design import NPS_INTERCEPT, NPS_SLOPE

NEVER = np.inf  # "no such time" in day arrays (e.g. a customer who never churns)


def expand(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For ``counts[i]`` items of owner ``i``: the owner of every item and its position (0-based)."""
    counts = np.asarray(counts, dtype=np.int64)
    owner = np.repeat(np.arange(counts.size), counts)
    starts = np.cumsum(counts) - counts
    return owner, np.arange(owner.size) - starts[owner]


def rank_within(groups: np.ndarray) -> np.ndarray:
    """Position of each row within its run of equal ``groups`` values (rows sorted by group)."""
    if groups.size == 0:
        return np.zeros(0, dtype=np.int64)
    new = np.r_[True, groups[1:] != groups[:-1]]
    starts = np.flatnonzero(new)
    run = np.cumsum(new) - 1
    return np.arange(groups.size) - starts[run]


def pick(rng: np.random.Generator, n: int, weights: Sequence[float]) -> np.ndarray:
    """``n`` indices drawn with the given (not necessarily normalised) weights."""
    w = np.asarray(weights, dtype=float)
    return rng.choice(w.size, size=n, p=w / w.sum())


def cut(u: np.ndarray, cuts: Sequence[float]) -> np.ndarray:
    """An ordinal score 1..len(cuts)+1 from a latent value and ascending cut points."""
    return np.searchsorted(np.asarray(cuts, dtype=float), u, side="right").astype(np.int64) + 1


def nps_score(u: np.ndarray) -> np.ndarray:
    """The 0-10 answer of a latent satisfaction ``u``."""
    return np.clip(np.floor(NPS_INTERCEPT + NPS_SLOPE * u + 0.5), 0, 10).astype(np.int64)


def nps_category(score: np.ndarray) -> np.ndarray:
    """0 detractor (0-6), 1 passive (7-8), 2 promoter (9-10)."""
    return (score >= 7).astype(np.int64) + (score >= 9).astype(np.int64)


def uniform_between(rng: np.random.Generator, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    return low + rng.random(np.shape(low)) * (high - low)


def lognormal(rng: np.random.Generator, median: np.ndarray | float, sigma: np.ndarray | float,
              size: int) -> np.ndarray:
    return np.exp(np.log(median) + sigma * rng.standard_normal(size))


def tone_from_scale(score: np.ndarray, top: int) -> np.ndarray:
    """Feeling 0 (very negative) .. 4 (very positive) of a 1..top answer."""
    return np.clip(np.floor((score - 1) / (top - 1) * 4.999), 0, 4).astype(np.int64)


def tone_from_nps(score: np.ndarray) -> np.ndarray:
    return np.select([score <= 3, score <= 6, score <= 8, score == 9], [0, 1, 2, 3], 4).astype(np.int64)
