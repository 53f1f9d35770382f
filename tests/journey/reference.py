"""A brute-force, per-customer window funnel: the independent reference for the warehouse funnel.

Levels are found by exhaustive search over event subsequences (not by the greedy rule the
warehouse uses); exclusions follow the written definition in docs/journeys.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import permutations


@dataclass(frozen=True)
class Event:
    customer: str
    event_id: str
    sec: int
    touchpoint: str


def _chains(ev: Sequence[Event], i: int, steps: Sequence[str], deadline: int) -> int:
    """Deepest k with indices i = p1 < ... < pk, event p_j matching step j, all within the deadline."""
    best = 1

    def extend(pos: int, k: int) -> None:
        nonlocal best
        best = max(best, k)
        if k == len(steps):
            return
        for q in range(pos + 1, len(ev)):
            if ev[q].touchpoint == steps[k] and ev[q].sec <= deadline:
                extend(q, k + 1)

    extend(i, 1)
    return best


def _strict(ev: Sequence[Event], i: int, steps: Sequence[str], deadline: int) -> int:
    k = 1
    while k < len(steps) and i + k < len(ev) and ev[i + k].touchpoint == steps[k] and ev[i + k].sec <= deadline:
        k += 1
    return k


def _any(ev: Sequence[Event], i: int, steps: Sequence[str], deadline: int) -> int:
    later = {e.touchpoint for e in ev[i + 1:] if e.sec <= deadline}
    k = 1
    while k < len(steps) and steps[k] in later:
        k += 1
    return k


def _greedy_times(ev: Sequence[Event], i: int, steps: Sequence[str], order: str) -> list[tuple[int, int]]:
    """(index, sec) of each step's event in the chain from start i, ignoring the window."""
    out = [(i, ev[i].sec)]
    if order == "strict":
        for k in range(1, len(steps)):
            q = i + k
            if q >= len(ev) or ev[q].touchpoint != steps[k]:
                break
            out.append((q, ev[q].sec))
        return out
    if order == "any":
        for k in range(1, len(steps)):
            q = next((q for q in range(i + 1, len(ev)) if ev[q].touchpoint == steps[k]), None)
            if q is None:
                break
            out.append((q, ev[q].sec))
        return out
    pos = i
    for k in range(1, len(steps)):
        q = next((q for q in range(pos + 1, len(ev)) if ev[q].touchpoint == steps[k]), None)
        if q is None:
            break
        out.append((q, ev[q].sec))
        pos = q
    return out


def _excluded(ev: Sequence[Event], i: int, steps: Sequence[str], order: str, level: int, window: int,
              exclusion: tuple[str, int, int] | None) -> bool:
    if exclusion is None:
        return False
    name, start, end = exclusion
    if level < start:
        return False
    chain = _greedy_times(ev, i, steps, order)
    from_index = chain[start - 1][0] if order != "any" else i
    deadline = ev[i].sec + window
    for q in range(from_index + 1, len(ev)):
        if ev[q].touchpoint != name:
            continue
        if level >= end:
            return ev[q].sec < chain[end - 1][1]
        return ev[q].sec <= deadline
    return False


def reference_levels(events: Sequence[Event], steps: Sequence[str], window: int, order: str,
                     exclusion: tuple[str, int, int] | None = None) -> dict[str, tuple[int, tuple[int | None, ...]]]:
    """customer -> (level, seconds from step 1 to steps 2..n, None where not reached)."""
    by_customer: dict[str, list[Event]] = {}
    for e in events:
        by_customer.setdefault(e.customer, []).append(e)
    out = {}
    level_of = {"sequential": _chains, "strict": _strict, "any": _any}[order]
    for customer, evs in by_customer.items():
        ev = sorted(evs, key=lambda e: (e.sec, e.event_id))
        best: tuple[int, int] | None = None
        for i, e in enumerate(ev):
            if e.touchpoint != steps[0]:
                continue
            level = level_of(ev, i, steps, e.sec + window)
            if _excluded(ev, i, steps, order, level, window, exclusion):
                continue
            if best is None or level > best[0]:
                best = (level, i)
        if best is None:
            continue
        level, i = best
        times = _best_times(ev, i, steps, order, level)
        out[customer] = (level, tuple(times[j] - ev[i].sec if j < level else None for j in range(1, len(steps))))
    return out


def _best_times(ev: Sequence[Event], i: int, steps: Sequence[str], order: str, level: int) -> list[int]:
    """Step times of the counted chain: the earliest possible time of each step (any order: first match)."""
    if order in ("strict", "any"):
        return [s for _, s in _greedy_times(ev, i, steps, order)] + [0] * len(steps)
    # sequential: the earliest feasible time of step j over all valid chains is the greedy one;
    # check it by brute force over subsequences of length `level`
    best: list[int] | None = None
    idx = [q for q in range(i + 1, len(ev))]
    for combo in _increasing(idx, level - 1):
        if all(ev[q].touchpoint == steps[k + 1] for k, q in enumerate(combo)):
            times = [ev[i].sec] + [ev[q].sec for q in combo]
            best = times if best is None else [min(a, b) for a, b in zip(best, times)]
    return (best or [ev[i].sec]) + [0] * len(steps)


def _increasing(idx: list[int], k: int):
    if k == 0:
        yield ()
        return
    for n, q in enumerate(idx):
        for rest in _increasing(idx[n + 1:], k - 1):
            yield (q, *rest)


__all__ = ["Event", "reference_levels", "permutations"]
