"""Journey definitions: the default template, validation, versioned storage and comparison."""

from __future__ import annotations

from pathlib import Path

import pytest

from cxlens.errors import CxlensInputError, UnknownNameError
from cxlens.journey.definition import (
    DEFAULT_STAGES,
    Journey,
    Stage,
    compare_journeys,
    default_journey,
    format_duration,
    journey_from_dict,
    list_journeys,
    load_journey,
    parse_duration,
    save_journey,
)


def test_default_template_follows_the_design() -> None:
    j = default_journey()
    assert j.stage_names == DEFAULT_STAGES == (
        "Awareness", "Consideration", "Purchase", "Onboarding", "Retention/Service", "Loyalty", "Advocacy")
    assert j.stage("Purchase").window == 14 * 86400
    assert j.stage("Retention/Service").window is None
    assert j.next_stage("Purchase") == j.stage("Onboarding")
    assert j.next_stage("Advocacy") is None


@pytest.mark.parametrize(("text", "seconds"), [("30m", 1800), ("36h", 129600), ("14d", 1209600), ("2w", 1209600),
                                               (3, 259200), ("1.5d", 129600)])
def test_durations(text: object, seconds: int) -> None:
    assert parse_duration(text) == seconds  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["0d", "-2d", "fortnight", "14 days", "", True])
def test_bad_durations_name_the_field(bad: object) -> None:
    with pytest.raises(CxlensInputError, match="'window'"):
        parse_duration(bad)  # type: ignore[arg-type]


def test_format_duration_round_trips() -> None:
    for s in (60, 3600, 86400, 604800, 90):
        assert parse_duration(format_duration(s)) == s


@pytest.mark.parametrize(("doc", "message"), [
    ({"name": "x", "stages": [{"name": "A"}]}, "at least two stages"),
    ({"name": "x", "stages": [{"name": "A"}, {"name": "B"}, {"name": "A"}]}, "repeats the stage"),
    ({"name": "x", "stages": [{"name": "A", "window": "0d"}, {"name": "B"}]}, "longer than zero"),
    ({"name": "x", "stages": [{"name": "A", "window": "-1d"}, {"name": "B"}]}, "duration"),
    ({"name": "x", "stages": [{"name": "A", "target": 3}, {"name": "B"}]}, "between -1 and 1"),
    ({"name": "bad name!", "stages": ["A", "B"]}, "letters, digits"),
    ({"stages": ["A", "B"]}, "needs a 'name'"),
    ({"name": "x", "stages": "A,B"}, "must be a list"),
    ({"name": "x", "stages": ["A", "B"], "version": 0}, "positive integer"),
])
def test_bad_journeys(doc: dict, message: str) -> None:
    with pytest.raises(CxlensInputError, match=message):
        journey_from_dict(doc)


def test_touchpoint_mapped_to_unknown_stage_lists_the_stages() -> None:
    with pytest.raises(UnknownNameError, match="stages are: A, B"):
        journey_from_dict({"name": "x", "stages": ["A", "B"], "touchpoints": {"web_checkout": "C"}})


def test_unknown_stage_lists_the_stages() -> None:
    with pytest.raises(UnknownNameError, match="Its stages are: Awareness, Consideration"):
        default_journey().stage("Buying")


def test_save_versions_and_compare(tmp_path: Path) -> None:
    v1 = Journey("smb", (Stage("Trial", 14 * 86400, 0.2), Stage("Paid"), Stage("Renewal")),
                 {"trial_signup": "Trial"}, "SMB customers")
    assert save_journey(tmp_path, v1).version == 1
    assert save_journey(tmp_path, v1).version == 1  # unchanged: no new version
    v2 = Journey("smb", (Stage("Trial", 7 * 86400, 0.2), Stage("Paid"), Stage("Expansion")),
                 {"trial_signup": "Trial", "upgrade": "Expansion"}, "SMB customers")
    saved = save_journey(tmp_path, v2)
    assert saved.version == 2
    assert list_journeys(tmp_path) == ("smb",)
    assert load_journey(tmp_path, "smb").version == 2
    old = load_journey(tmp_path, "smb", 1)
    assert old.stage("Trial").window == 14 * 86400
    diff = compare_journeys(old, load_journey(tmp_path, "smb"))
    assert diff.to_dict() == {
        "name": "smb", "old_version": 1, "new_version": 2,
        "stages_added": ["Expansion"], "stages_removed": ["Renewal"], "order_changed": False,
        "stages_changed": [{"stage": "Trial", "old": {"name": "Trial", "window": "2w", "target": 0.2},
                            "new": {"name": "Trial", "window": "1w", "target": 0.2}}],
        "touchpoints_moved": [{"touchpoint": "upgrade", "old": None, "new": "Expansion"}],
    }
    assert compare_journeys(old, old).unchanged


def test_missing_journey_and_default(tmp_path: Path) -> None:
    assert load_journey(tmp_path, None).stage_names == DEFAULT_STAGES
    with pytest.raises(UnknownNameError, match="saved journeys are: \\(none\\)"):
        load_journey(tmp_path, "consumer")


def test_corrupt_file_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "journeys").mkdir()
    (tmp_path / "journeys" / "broken.toml").write_text("name = [", encoding="utf-8")
    with pytest.raises(CxlensInputError, match="broken.toml is not valid TOML"):
        load_journey(tmp_path, "broken")
