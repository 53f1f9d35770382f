"""The command line: exit codes, formats and messages."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from cxlens.cli import main
from cxlens.settings import SETTINGS

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_init_import_status_quarantine_export(tmp_path: Path) -> None:
    ws = str(tmp_path / "ws")
    assert run("init", ws)[0] == 0
    data = tmp_path / "r.csv"
    data.write_text("response_id,submitted_at,nps\nR1,2024-01-01,9\nR2,2024-01-02,11\n")
    code, out = run("import", "responses", str(data), "--workspace", ws, "--format", "json")
    report = json.loads(out)
    assert code == 0
    assert {k: report[k] for k in ("table", "read", "accepted", "rejected", "duplicates", "conflicts")} == {
        "table": "responses", "read": 2, "accepted": 1, "rejected": 1, "duplicates": 0, "conflicts": 0}
    assert report["quarantine"] == "cxlens quarantine responses --import 1"
    code, out = run("status", "-w", ws, "--format", "json")
    tables = {t["table"]: t for t in json.loads(out)["tables"]}
    assert tables["responses"]["rows"] == 1 and tables["responses"]["quarantined"] == 1
    assert tables["responses"]["first"] == "2024-01-01T00:00:00"
    code, out = run("quarantine", "responses", "-w", ws, "--format", "json")
    assert json.loads(out)[0]["line"] == 3
    out_file = tmp_path / "out.parquet"
    assert run("export", "responses", "--out", str(out_file), "-w", ws)[0] == 0
    assert out_file.exists()


def test_workspace_from_environment(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    ws = tmp_path / "ws"
    run("init", str(ws))
    monkeypatch.setenv("CXLENS_WORKSPACE", str(ws))
    code, out = run("status")
    assert code == 0 and str(ws) in out


def test_errors_exit_2_with_a_message(tmp_path: Path) -> None:
    code, out = run("status", "-w", str(tmp_path / "missing"))
    assert code == 2 and "cxlens init" in out
    ws = str(tmp_path / "ws")
    run("init", ws)
    bad = tmp_path / "bad.csv"
    bad.write_text("nps\n9\n")
    code, out = run("import", "responses", str(bad), "-w", ws)
    assert code == 2 and "required column" in out and "response_id" in out
    code, out = run("import", "nonsense", str(bad), "-w", ws)
    assert code == 2 and "customers" in out


def test_config_set_validates(tmp_path: Path) -> None:
    ws = str(tmp_path / "ws")
    run("init", ws, "--set", "csat_scale_max=7", "--set", "csat_top_box=6")
    assert run("config", "get", "csat_scale_max", "-w", ws)[1].strip() == "7"
    code, out = run("config", "set", "csat_scale_max", "seven", "-w", ws)
    assert code == 2 and "must be of type int" in out
    code, out = run("config", "list", "-w", ws, "--format", "json")
    assert [r["name"] for r in json.loads(out)] == [s.name for s in SETTINGS]


def test_csat_scale_setting_changes_validation(tmp_path: Path) -> None:
    ws = str(tmp_path / "ws")
    run("init", ws, "--set", "csat_scale_max=7")
    data = tmp_path / "r.csv"
    data.write_text("response_id,submitted_at,csat\nR1,2024-01-01,7\nR2,2024-01-01,8\n")
    report = json.loads(run("import", "responses", str(data), "-w", ws, "--format", "json")[1])
    assert (report["accepted"], report["rejected"]) == (1, 1)


def test_every_option_has_help() -> None:
    def walk(cmd, path=()):  # type: ignore[no-untyped-def]
        for p in cmd.params:
            if p.param_type_name == "option":
                assert p.help, f"{' '.join(path)} {p.opts} has no help"
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, (*path, name))
    walk(main)


def test_schema_command() -> None:
    code, out = run("schema", "tickets", "--format", "json")
    cols = [r["column"] for r in json.loads(out)]
    assert code == 0 and cols[:2] == ["ticket_id", "created_at"]


def test_metrics_command_json_rows(tmp_path: Path) -> None:
    ws = str(tmp_path / "ws")
    run("init", ws)
    data = tmp_path / "r.csv"
    data.write_text("response_id,submitted_at,nps,channel\nR1,2024-01-01,10,web\nR2,2024-01-02,3,web\n"
                    "R3,2024-02-01,9,app\n")
    run("import", "responses", str(data), "-w", ws)
    code, out = run("metrics", "nps", "--by", "channel", "--grain", "month", "--format", "json", "-w", ws,
                    "--now", "2024-03-01")
    rows = json.loads(out)
    assert code == 0
    assert [(r["channel"], r["period"], r["value"], r["n"], r["promoters"], r["detractors"]) for r in rows] == [
        ("app", "2024-02-01", 100.0, 1, 1, 0), ("web", "2024-01-01", 0.0, 2, 1, 1)]
    assert {"ci_low", "ci_high", "passives"} <= set(rows[0])
    code, out = run("metrics", "nps", "--where", "channel=web", "--compare", "previous", "--since", "2024-01-01",
                    "--until", "2024-01-31", "-w", ws, "--format", "csv")
    assert code == 0 and out.splitlines()[0].startswith("period,value,ci_low,ci_high,n")
    code, out = run("metrics", "nps", "--by", "nope", "-w", ws)
    assert code == 2 and "Unknown column 'nope'" in out


def test_retention_commands(tmp_path: Path) -> None:
    ws = str(tmp_path / "ws")
    run("init", ws)
    customers = tmp_path / "c.csv"
    customers.write_text("customer_id,created_at,segment\nA,2024-01-05,smb\nB,2024-01-20,smb\nC,2024-02-03,ent\n")
    subs = tmp_path / "s.csv"
    subs.write_text("subscription_id,customer_id,started_at,ended_at,plan\n"
                    "S1,A,2024-01-05,2024-03-10,basic\nS2,B,2024-01-20,,pro\nS3,C,2024-02-03,2024-02-20,basic\n")
    run("import", "customers", str(customers), "-w", ws)
    run("import", "subscriptions", str(subs), "-w", ws)
    code, out = run("retention", "cohorts", "-w", ws, "--now", "2024-04-01", "--periods", "3", "--format", "json")
    assert code == 0 and json.loads(out)
    code, out = run("retention", "cohorts", "-w", ws, "--now", "2024-04-01", "--periods", "3")
    assert code == 0 and "cohort" in out
    code, out = run("retention", "survival", "-w", ws, "--now", "2024-04-01", "--unit", "day", "--format", "json")
    (summary,) = json.loads(out)
    assert code == 0 and summary["n"] == 3 and summary["events"] == 2
    code, out = run("metrics", "churn", "--since", "2024-02-01", "--until", "2024-02-29", "-w", ws,
                    "--now", "2024-04-01", "--format", "json")
    (row,) = json.loads(out)
    # Active on Feb 1: A, B (C starts Feb 3). Lost by Mar 1: nobody (A ends Mar 10).
    assert code == 0 and (row["n"], row["value"]) == (2, 0.0)


def test_imports_history(tmp_path: Path) -> None:
    ws = str(tmp_path / "ws")
    run("init", ws)
    data = tmp_path / "c.csv"
    data.write_text("customer_id,segment\nC1,smb\n")
    run("import", "customers", str(data), "-w", ws)
    run("import", "customers", str(data), "-w", ws)
    code, out = run("imports", "-w", ws, "--format", "json")
    rows = json.loads(out)
    assert code == 0 and [(r["import_id"], r["accepted"], r["duplicates"]) for r in rows] == [(1, 1, 0), (2, 0, 1)]
