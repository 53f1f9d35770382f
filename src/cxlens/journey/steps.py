"""Funnel steps: a touchpoint, a stage, or an event filter over interaction columns.

Written as text (CLI) or built in Python::

    web_checkout                         the touchpoint web_checkout
    touchpoint:web_checkout              the same
    stage:Onboarding                     any touchpoint of the Onboarding stage
    touchpoint=web_checkout&channel=web  an event filter: every condition must hold
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis

from cxlens.errors import CxlensInputError, UnknownNameError
from cxlens.journey.registry import Registry
from cxlens.schema import INTERACTIONS

FILTER_COLUMNS = tuple(c.name for c in INTERACTIONS.columns if c.name not in ("occurred_at", "properties",
                                                                                "duration_ms"))


@dataclass(frozen=True)
class Step:
    """One funnel step; ``label`` is how results name it."""

    label: str
    touchpoint: str | None = None
    stage: str | None = None
    filters: tuple[tuple[str, str], ...] = ()

    @staticmethod
    def parse(text: str | Step) -> Step:
        if isinstance(text, Step):
            return text
        if not isinstance(text, str) or not text.strip():
            raise CxlensInputError(
                f"A funnel step must be a touchpoint name, 'stage:NAME' or 'column=value&...'. Got {text!r} instead."
            )
        raw = text.strip()
        if "=" in raw:
            return Step(raw, filters=tuple(_pair(part, raw) for part in raw.split("&")))
        kind, _, name = raw.partition(":")
        if not name:
            return Step(raw, touchpoint=raw)
        if kind == "stage":
            return Step(raw, stage=name.strip())
        if kind == "touchpoint":
            return Step(raw, touchpoint=name.strip())
        raise CxlensInputError(
            f"Unknown step kind '{kind}' in {raw!r}. Use 'touchpoint:NAME', 'stage:NAME', a bare touchpoint "
            f"name, or 'column=value' filters on {', '.join(FILTER_COLUMNS)}."
        )

    def check(self, registry: Registry, columns: tuple[str, ...]) -> None:
        """Raise a clear error for an unknown touchpoint, stage or column."""
        if self.touchpoint is not None:
            registry.check_touchpoint(self.touchpoint)
        if self.stage is not None:
            registry.check_stage(self.stage)
        for col, value in self.filters:
            if col not in columns:
                raise UnknownNameError(
                    f"Unknown interactions column '{col}' in step {self.label!r}. The columns are: "
                    f"{', '.join(c for c in columns if not c.startswith('_'))}."
                )
            if col == "touchpoint":
                registry.check_touchpoint(value)
            if col == "stage":
                registry.check_stage(value)

    def predicate(self, t: ibis.Table, registry: Registry) -> ibis.Value:
        """True on the interactions that fulfil this step."""
        if self.touchpoint is not None:
            return t.touchpoint == self.touchpoint
        if self.stage is not None:
            return registry.in_stage(t, self.stage)
        cond = ibis.literal(True)
        for col, value in self.filters:
            cond = cond & (registry.in_stage(t, value) if col == "stage" else t[col].cast("string") == value)
        return cond

    def to_dict(self) -> dict[str, object]:
        return {"label": self.label, "touchpoint": self.touchpoint, "stage": self.stage,
                "filters": dict(self.filters)}


def _pair(part: str, raw: str) -> tuple[str, str]:
    col, eq, value = part.partition("=")
    if not eq or not col.strip() or not value.strip():
        raise CxlensInputError(
            f"The step filter {raw!r} must be 'column=value' conditions joined by '&', e.g. "
            f"'touchpoint=web_checkout&channel=web'."
        )
    return col.strip(), value.strip()


def parse_steps(steps: str | list[str | Step] | tuple[str | Step, ...], field: str = "steps",
                minimum: int = 2) -> tuple[Step, ...]:
    """Steps from a comma-separated string or a list; at least ``minimum`` of them."""
    items = [s for s in steps.split(",")] if isinstance(steps, str) else list(steps)
    parsed = tuple(Step.parse(s) for s in items if not (isinstance(s, str) and not s.strip()))
    if len(parsed) < minimum:
        raise CxlensInputError(
            f"The '{field}' parameter needs at least {minimum} steps in order, e.g. "
            f"plans_page,web_checkout,stage:Onboarding. Got {len(parsed)}."
        )
    return parsed
