"""``cxlens text ...`` invoked through click's runner (the group works without a workspace)."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

from click.testing import CliRunner

from conftest import write
from cxlens.text.cli import text

runner = CliRunner()

COMMENTS = (
    "response_id,comment,channel\n"
    "r1,The agent was very helpful and friendly,email\n"
    "r2,I was on hold for an hour and nobody could help,phone\n"
    "r3,,web\n"
    "r4,El pedido llegó tarde y nadie respondió a mis correos.,email\n"
)


def comments(tmp_path: Path) -> Path:
    return write(tmp_path / "comments.csv", COMMENTS)


def test_sentiment_json_with_ids(tmp_path: Path) -> None:
    result = runner.invoke(text, ["sentiment", str(comments(tmp_path)), "--text-column", "comment",
                                  "--id-column", "response_id", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["response_id"] for r in rows] == ["r1", "r2", "r3", "r4"]
    assert [r["label"] for r in rows] == ["positive", "negative", "empty", "unsupported_language"]
    assert rows[0]["score"] > 0.5 and rows[3]["score"] is None and "Spanish" in rows[3]["reason"]


def test_sentiment_csv_default_with_row_numbers(tmp_path: Path) -> None:
    result = runner.invoke(text, ["sentiment", str(comments(tmp_path)), "--text-column", "comment"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == ["row", "score", "label", "language", "reason"]
    assert [r["row"] for r in rows] == ["1", "2", "3", "4"]
    assert rows[2]["score"] == ""  # empty comment: no score


def test_sentiment_table_and_language_en(tmp_path: Path) -> None:
    result = runner.invoke(text, ["sentiment", str(comments(tmp_path)), "--text-column", "comment",
                                  "--format", "table", "--language", "en"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["row", "score", "label", "language", "reason"]
    assert "unsupported_language" not in result.stdout


def test_semicolon_csv_with_bom(tmp_path: Path) -> None:
    path = write(tmp_path / "semi.csv", "\ufeffid;text\n1;Great service!\n2;Terrible delay 😡\n")
    result = runner.invoke(text, ["sentiment", str(path), "--text-column", "text", "--id-column", "id",
                                  "--format", "json"])
    assert result.exit_code == 0, result.output
    assert [r["label"] for r in json.loads(result.stdout)] == ["positive", "negative"]


def test_emotions_command(tmp_path: Path) -> None:
    result = runner.invoke(text, ["emotions", str(comments(tmp_path)), "--text-column", "comment",
                                  "--id-column", "response_id", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert list(rows[0]) == ["response_id", "anger", "frustration", "joy", "sadness", "fear", "surprise", "trust",
                             "dominant", "language", "reason"]
    assert rows[0]["dominant"] == "trust" and rows[1]["dominant"] == "frustration"
    assert rows[3]["anger"] is None and rows[3]["language"] == "es"


def test_language_command(tmp_path: Path) -> None:
    result = runner.invoke(text, ["language", str(comments(tmp_path)), "--text-column", "comment",
                                  "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [(r["language"], r["analysed"]) for r in rows] == [("en", True), ("en", True), ("und", True),
                                                              ("es", False)]


def test_redact_to_file_keeps_other_columns(tmp_path: Path) -> None:
    source = write(tmp_path / "tickets.csv",
                   "ticket_id,subject,description\n"
                   "t1,Refund,Please refund to DE89 3704 0044 0532 0130 00 or call +44 20 7946 0958\n"
                   "t2,Login,\"My email anna@example.com, order 4829104721\"\n")
    out = tmp_path / "redacted.csv"
    result = runner.invoke(text, ["redact", str(source), "--text-column", "description", "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert rows[0] == {"ticket_id": "t1", "subject": "Refund",
                       "description": "Please refund to [IBAN] or call [PHONE]"}
    assert rows[1]["description"] == "My email [EMAIL], order 4829104721"
    assert "iban 1" in result.stderr and "phone 1" in result.stderr and "email 1" in result.stderr
    assert result.stdout == ""


def test_redact_kinds_placeholder_to_stdout(tmp_path: Path) -> None:
    source = write(tmp_path / "c.csv", "id,comment\n1,anna@example.com or 020 7946 0958\n")
    result = runner.invoke(text, ["redact", str(source), "--text-column", "comment", "--kinds", "phone",
                                  "--placeholder", "<{kind}>"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "id,comment\n1,anna@example.com or <phone>\n"


def test_errors_exit_2_with_a_clear_message(tmp_path: Path) -> None:
    path = comments(tmp_path)
    cases = [
        (["sentiment", str(tmp_path / "missing.csv"), "--text-column", "comment"], "does not exist"),
        (["sentiment", str(path), "--text-column", "text"],
         "column 'text' is not in .*comments.csv; its columns are: response_id, comment, channel"),
        (["emotions", str(path), "--text-column", "comment", "--id-column", "id"], "column 'id' is not in"),
        (["sentiment", str(write(tmp_path / "empty.csv", "")), "--text-column", "comment"], "is empty"),
        (["sentiment", str(write(tmp_path / "header.csv", "comment\n")), "--text-column", "comment"],
         "has a header but no rows"),
        (["redact", str(path), "--text-column", "comment", "--kinds", "email,ssn"], "kinds=ssn is not allowed"),
        (["sentiment", str(tmp_path), "--text-column", "comment"], "is a folder"),
    ]
    for args, message in cases:
        result = runner.invoke(text, args)
        assert result.exit_code == 2, (args, result.output)
        assert result.stderr.startswith("Error: "), result.stderr
        assert re.search(message, result.stderr), (message, result.stderr)


def test_wrong_encoding_is_explained(tmp_path: Path) -> None:
    path = write(tmp_path / "latin.csv", "comment\nTrès bien, merci\n", encoding="cp1252")
    result = runner.invoke(text, ["sentiment", str(path), "--text-column", "comment"])
    assert result.exit_code == 2 and "--encoding" in result.stderr
    ok = runner.invoke(text, ["sentiment", str(path), "--text-column", "comment", "--encoding", "cp1252"])
    assert ok.exit_code == 0, ok.output
