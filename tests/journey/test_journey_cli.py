"""``cxlens journey``: every command prints results or a one-line error with exit code 2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import cxlens
from cxlens.journey.cli import journey

Demo = tuple[cxlens.Workspace, dict[str, Any]]
NOW = "2026-11-01T00:00:00"


def run(demo: Demo, *args: str) -> Any:
    ws, _ = demo
    return CliRunner().invoke(journey, [*args, "--workspace", str(ws.path)])


def test_funnel_json_and_csv(demo: Demo) -> None:
    res = run(demo, "funnel", "--steps", "plans_page,web_checkout,stage:Onboarding", "--window", "14d",
              "--now", NOW, "--format", "json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    counts = [s["customers"] for s in data["groups"][0]["steps"]]
    assert counts[0] >= counts[1] >= counts[2] > 0
    csv = run(demo, "funnel", "--steps", "plans_page,web_checkout", "--by", "segment", "--attribution", "customer",
              "--now", NOW, "--format", "csv")
    assert csv.exit_code == 0 and csv.stdout.startswith("segment,step,label,customers")


def test_painpoints_paths_stuck_map(demo: Demo, tmp_path: Path) -> None:
    ws, truths = demo
    broken = truths["planted"]["broken_touchpoint"]
    pp = run(demo, "painpoints", "--by", "channel", "--since", broken["start"][:10], "--until", broken["end"][:10],
             "--min-responses", "5", "--now", NOW, "--format", "json")
    assert pp.exit_code == 0, pp.output
    assert json.loads(pp.stdout)["pain_points"][0]["touchpoint"] == "web_checkout"
    paths = run(demo, "paths", "--from", "web_checkout", "--top", "2", "--now", NOW)
    assert paths.exit_code == 0 and "web_checkout → welcome_email" in paths.output
    sankey = run(demo, "paths", "--from", "web_checkout", "--sankey", "--now", NOW, "--format", "csv")
    assert sankey.stdout.startswith("source,target,customers")
    stuck = run(demo, "stuck", "--days", "30", "--summary", "--now", NOW, "--format", "csv")
    assert stuck.exit_code == 0 and "Purchase" in stuck.output
    out = tmp_path / "map.html"
    m = run(demo, "map", "--out", str(out), "--now", NOW)
    assert m.exit_code == 0 and out.read_text().startswith("<!DOCTYPE html>")


@pytest.mark.parametrize(("args", "message"), [
    (["funnel", "--steps", "plans_page,web_chekout"], "Unknown touchpoint 'web_chekout'"),
    (["funnel", "--steps", "plans_page"], "at least 2 steps"),
    (["funnel", "--steps", "a,b", "--window", "0d"], "longer than zero"),
    (["funnel", "--steps", "plans_page,stage:Buying"], "Unknown stage 'Buying'"),
    (["funnel", "--steps", "plans_page,web_checkout", "--by", "colour"], "Unknown breakdown column 'colour'"),
    (["paths", "--from", "nowhere"], "Unknown touchpoint 'nowhere'"),
    (["painpoints", "--since", "yesterday"], "ISO date"),
    (["map", "--journey", "ghost"], "Unknown journey 'ghost'"),
    (["map", "--out", "map.pdf"], "name it .html or .json"),
    (["stuck", "--days", "-1"], "'days'"),
])
def test_user_errors_exit_2_without_traceback(demo: Demo, args: list[str], message: str) -> None:
    res = run(demo, *args, "--now", NOW) if args[0] != "stuck" else run(demo, *args)
    assert res.exit_code == 2, res.output
    assert message in res.output and "Traceback" not in res.output


def test_save_list_diff(demo: Demo, tmp_path: Path) -> None:
    first = tmp_path / "j.toml"
    first.write_text('name = "trial"\n[[stages]]\nname = "Awareness"\nwindow = "7d"\n[[stages]]\nname = "Purchase"\n')
    assert "version 1" in run(demo, "save", str(first)).output
    first.write_text('name = "trial"\n[[stages]]\nname = "Awareness"\nwindow = "3d"\n[[stages]]\nname = "Purchase"\n')
    assert "version 2" in run(demo, "save", str(first)).output
    assert "trial" in run(demo, "list").output
    diff = json.loads(run(demo, "diff", "trial", "--old", "1").stdout)
    assert diff["stages_changed"][0]["new"]["window"] == "3d"
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\n[[stages]]\nname = "Only"\n')
    res = run(demo, "save", str(bad))
    assert res.exit_code == 2 and "at least two stages" in res.output


def test_docs_cover_every_command_and_order_mode() -> None:
    from cxlens.journey.funnel import Order

    text = (Path(__file__).resolve().parents[2] / "docs" / "journeys.md").read_text(encoding="utf-8")
    for name in journey.commands:
        assert f"cxlens journey {name}" in text, name
    for order in Order:
        assert f"`{order.value}`" in text, order
    for command in journey.commands.values():
        for param in command.params:
            assert param.help or param.param_type_name == "argument", f"{command.name} {param.name} lacks help"
