"""Journey definitions: ordered stages, touchpoints mapped to a stage, stored as versioned TOML files.

A workspace holds any number of journeys (one per persona or segment) in ``DIR/journeys/NAME.toml``.
Saving a changed journey keeps the previous file as ``DIR/journeys/history/NAME.vN.toml`` and bumps
``version``, so :func:`compare_journeys` can show what changed between two versions.

::

    name = "consumer"
    description = "Consumers, from first contact to advocacy"
    version = 2
    segment = { column = "segment", values = ["consumer"] }      # optional

    [[stages]]
    name = "Purchase"
    window = "14d"        # the next stage is expected within this time (drop-off is measured)
    target = 0.2          # target emotion: mean comment sentiment in -1..1 (optional)

    [touchpoints]         # optional: touchpoint -> stage, overriding the touchpoints table
    web_checkout = "Purchase"
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from cxlens.errors import CxlensInputError, UnknownNameError

DEFAULT_STAGES: tuple[str, ...] = (
    "Awareness", "Consideration", "Purchase", "Onboarding", "Retention/Service", "Loyalty", "Advocacy",
)
#: Windows of the default template: how long after a stage the next one is expected (None: no
#: expectation, so no drop-off is measured — a subscriber stays in Retention/Service for years).
DEFAULT_WINDOWS: dict[str, str | None] = {
    "Awareness": "30d", "Consideration": "30d", "Purchase": "14d", "Onboarding": "30d",
    "Retention/Service": None, "Loyalty": None, "Advocacy": None,
}
DEFAULT_TARGETS: dict[str, float] = {
    "Awareness": 0.2, "Consideration": 0.2, "Purchase": 0.3, "Onboarding": 0.3,
    "Retention/Service": 0.2, "Loyalty": 0.4, "Advocacy": 0.5,
}
DEFAULT_NAME = "default"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: str | int | float, field_name: str = "window") -> int:
    """Seconds in a duration such as ``14d``, ``36h``, ``2w`` (a bare number means days)."""
    if isinstance(value, bool):
        raise CxlensInputError(f"The '{field_name}' must be a duration such as 14d. Got {value!r} instead.")
    if isinstance(value, int | float):
        seconds = float(value) * 86400
    else:
        match = _DURATION_RE.match(str(value))
        if not match:
            raise CxlensInputError(
                f"The '{field_name}' must be a duration such as 30m, 36h, 14d or 2w (a number followed by "
                f"s, m, h, d or w). Got {value!r} instead."
            )
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if seconds <= 0:
        raise CxlensInputError(
            f"The '{field_name}' must be longer than zero. Got {value!r} instead; use for example 14d."
        )
    return int(seconds)


def format_duration(seconds: int) -> str:
    for unit in ("w", "d", "h", "m"):
        if seconds % _UNIT_SECONDS[unit] == 0:
            return f"{seconds // _UNIT_SECONDS[unit]}{unit}"
    return f"{seconds}s"


@dataclass(frozen=True)
class Stage:
    """One stage of a journey; ``window`` (seconds) is how soon the next stage is expected."""

    name: str
    window: int | None = None
    target: float | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        if self.window is not None:
            out["window"] = format_duration(self.window)
        if self.target is not None:
            out["target"] = self.target
        return out


@dataclass(frozen=True)
class Segment:
    """Customers the journey is about: ``customers.<column>`` in ``values``."""

    column: str
    values: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"column": self.column, "values": list(self.values)}


@dataclass(frozen=True)
class Journey:
    """An ordered list of stages and a touchpoint → stage mapping (overrides of the reference table)."""

    name: str
    stages: tuple[Stage, ...]
    touchpoints: dict[str, str] = field(default_factory=dict)
    description: str = ""
    segment: Segment | None = None
    version: int = 1

    def __post_init__(self) -> None:
        validate(self)

    @property
    def stage_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.stages)

    def stage(self, name: str) -> Stage:
        for s in self.stages:
            if s.name == name:
                return s
        raise UnknownNameError(
            f"Unknown stage '{name}' in journey '{self.name}'. Its stages are: {', '.join(self.stage_names)}."
        )

    def index(self, stage: str) -> int:
        return self.stage_names.index(self.stage(stage).name)

    def next_stage(self, stage: str) -> Stage | None:
        i = self.index(stage)
        return self.stages[i + 1] if i + 1 < len(self.stages) else None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "version": self.version, "description": self.description,
                               "stages": [s.to_dict() for s in self.stages]}
        if self.segment is not None:
            out["segment"] = self.segment.to_dict()
        if self.touchpoints:
            out["touchpoints"] = dict(sorted(self.touchpoints.items()))
        return out


def validate(journey: Journey) -> None:
    """Raise :class:`CxlensInputError` naming the field when the journey is not usable."""
    if not _NAME_RE.match(journey.name):
        raise CxlensInputError(
            f"The journey 'name' must be 1-64 letters, digits, '.', '_' or '-' (it names a file). "
            f"Got {journey.name!r} instead."
        )
    names = [s.name for s in journey.stages]
    if len(names) < 2:
        raise CxlensInputError(
            f"Journey '{journey.name}' needs at least two stages; it has {len(names)}. Add stages in order, "
            f"e.g. {', '.join(DEFAULT_STAGES[:3])}."
        )
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise CxlensInputError(
            f"Journey '{journey.name}' repeats the stage(s) {', '.join(repeated)}; each stage may appear once. "
            f"Remove the repetition (a customer may still come back to a stage)."
        )
    for s in journey.stages:
        if not s.name.strip():
            raise CxlensInputError(f"Journey '{journey.name}' has a stage with an empty name; name every stage.")
        if s.target is not None and not -1.0 <= s.target <= 1.0:
            raise CxlensInputError(
                f"The 'target' of stage '{s.name}' must be a sentiment between -1 and 1. Got {s.target} instead."
            )
    for tp, stage in journey.touchpoints.items():
        if stage not in names:
            raise UnknownNameError(
                f"Touchpoint '{tp}' is mapped to the unknown stage '{stage}' in journey '{journey.name}'. "
                f"The stages are: {', '.join(names)}."
            )


def default_journey(name: str = DEFAULT_NAME) -> Journey:
    """The default template: Awareness → Consideration → Purchase → Onboarding → Retention/Service →
    Loyalty → Advocacy, with conversion windows on the acquisition stages."""
    stages = tuple(
        Stage(s, parse_duration(DEFAULT_WINDOWS[s]) if DEFAULT_WINDOWS[s] else None, DEFAULT_TARGETS[s])
        for s in DEFAULT_STAGES
    )
    return Journey(name, stages, description="The default journey template.")


def journey_from_dict(doc: dict[str, Any], *, source: str = "journey") -> Journey:
    """Build a journey from a parsed TOML/JSON document; errors name ``source`` and the field."""
    if not isinstance(doc.get("name"), str):
        raise CxlensInputError(f"{source}: the journey needs a 'name' (a string).")
    raw_stages = doc.get("stages")
    if not isinstance(raw_stages, list) or not all(isinstance(s, dict | str) for s in raw_stages):
        raise CxlensInputError(
            f"{source}: 'stages' must be a list of [[stages]] tables with a 'name' (and optional 'window', "
            f"'target')."
        )
    stages = tuple(_stage(s, source) for s in raw_stages)
    touchpoints = doc.get("touchpoints", {})
    if not isinstance(touchpoints, dict) or not all(isinstance(v, str) for v in touchpoints.values()):
        raise CxlensInputError(f"{source}: [touchpoints] must map touchpoint names to stage names.")
    seg = doc.get("segment")
    segment = None
    if seg is not None:
        if not isinstance(seg, dict) or not isinstance(seg.get("column"), str) or not seg.get("values"):
            raise CxlensInputError(f"{source}: 'segment' must be {{ column = \"segment\", values = [\"smb\"] }}.")
        segment = Segment(seg["column"], tuple(str(v) for v in seg["values"]))
    version = doc.get("version", 1)
    if not isinstance(version, int) or version < 1:
        raise CxlensInputError(f"{source}: 'version' must be a positive integer. Got {version!r} instead.")
    return Journey(doc["name"], stages, dict(touchpoints), str(doc.get("description", "")), segment, version)


def _stage(raw: dict[str, Any] | str, source: str) -> Stage:
    if isinstance(raw, str):
        return Stage(raw)
    if not isinstance(raw.get("name"), str):
        raise CxlensInputError(f"{source}: every [[stages]] entry needs a 'name'.")
    window = raw.get("window")
    target = raw.get("target")
    if target is not None and not isinstance(target, int | float):
        raise CxlensInputError(f"{source}: the 'target' of stage '{raw['name']}' must be a number in -1..1.")
    return Stage(raw["name"], parse_duration(window, f"window of stage '{raw['name']}'") if window is not None
                 else None, float(target) if target is not None else None)


# --------------------------------------------------------------------------------------------------
# Storage in the workspace
# --------------------------------------------------------------------------------------------------


def journeys_dir(root: Path) -> Path:
    return Path(root) / "journeys"


def list_journeys(root: Path) -> tuple[str, ...]:
    folder = journeys_dir(root)
    return tuple(sorted(p.stem for p in folder.glob("*.toml"))) if folder.is_dir() else ()


def load_journey(root: Path, name: str | None = None, version: int | None = None) -> Journey:
    """The journey ``name`` of the workspace at ``root`` (the default template when none is saved)."""
    name = name or DEFAULT_NAME
    path = _path(root, name, version)
    if not path.is_file():
        if name == DEFAULT_NAME and version is None:
            return default_journey()
        known = list_journeys(root)
        raise UnknownNameError(
            f"Unknown journey '{name}'{f' version {version}' if version else ''}. The saved journeys are: "
            f"{', '.join(known) or '(none)'}; save one with save_journey() or use the default template."
        )
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CxlensInputError(f"{path} is not valid TOML ({exc}). Fix the file or save the journey again.") from None
    return journey_from_dict(doc, source=str(path))


def save_journey(root: Path, journey: Journey) -> Journey:
    """Write ``journey``; an existing different version is kept in ``history/`` and the version bumped."""
    folder = journeys_dir(root)
    (folder / "history").mkdir(parents=True, exist_ok=True)
    path = folder / f"{journey.name}.toml"
    saved = journey
    if path.is_file():
        old = load_journey(root, journey.name)
        if _content(old) == _content(journey):
            return old
        os.replace(path, _history(root, journey.name, old.version))
        saved = Journey(journey.name, journey.stages, journey.touchpoints, journey.description,
                        journey.segment, old.version + 1)
    tmp = path.with_suffix(".toml.partial")
    tmp.write_text(tomli_w.dumps(saved.to_dict()), encoding="utf-8")
    os.replace(tmp, path)
    return saved


def _content(j: Journey) -> dict[str, Any]:
    doc = j.to_dict()
    doc.pop("version")
    return doc


def _path(root: Path, name: str, version: int | None) -> Path:
    if not _NAME_RE.match(name):
        raise CxlensInputError(f"The journey name must be letters, digits, '.', '_' or '-'. Got {name!r} instead.")
    folder = journeys_dir(root)
    if version is None:
        return folder / f"{name}.toml"
    current = folder / f"{name}.toml"
    if current.is_file() and tomllib.loads(current.read_text(encoding="utf-8")).get("version") == version:
        return current
    return _history(root, name, version)


def _history(root: Path, name: str, version: int) -> Path:
    return journeys_dir(root) / "history" / f"{name}.v{version}.toml"


@dataclass(frozen=True)
class JourneyDiff:
    """What changed between two versions of a journey."""

    name: str
    old_version: int
    new_version: int
    stages_added: tuple[str, ...]
    stages_removed: tuple[str, ...]
    order_changed: bool
    stages_changed: tuple[tuple[str, dict[str, Any], dict[str, Any]], ...]
    touchpoints_moved: tuple[tuple[str, str | None, str | None], ...]

    @property
    def unchanged(self) -> bool:
        return not (self.stages_added or self.stages_removed or self.order_changed or self.stages_changed
                    or self.touchpoints_moved)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "old_version": self.old_version, "new_version": self.new_version,
            "stages_added": list(self.stages_added), "stages_removed": list(self.stages_removed),
            "order_changed": self.order_changed,
            "stages_changed": [{"stage": s, "old": o, "new": n} for s, o, n in self.stages_changed],
            "touchpoints_moved": [{"touchpoint": t, "old": o, "new": n} for t, o, n in self.touchpoints_moved],
        }


def compare_journeys(old: Journey, new: Journey) -> JourneyDiff:
    """Stages added/removed/reordered/changed and touchpoints whose stage changed."""
    old_names, new_names = old.stage_names, new.stage_names
    common = [s for s in old_names if s in new_names]
    changed = tuple(
        (s, old.stage(s).to_dict(), new.stage(s).to_dict()) for s in common
        if old.stage(s) != new.stage(s)
    )
    moved = tuple(
        (tp, old.touchpoints.get(tp), new.touchpoints.get(tp))
        for tp in sorted(set(old.touchpoints) | set(new.touchpoints))
        if old.touchpoints.get(tp) != new.touchpoints.get(tp)
    )
    return JourneyDiff(
        new.name, old.version, new.version,
        tuple(s for s in new_names if s not in old_names), tuple(s for s in old_names if s not in new_names),
        common != [s for s in new_names if s in old_names], changed, moved,
    )
