"""``cxlens text ...`` invoked through click's runner (the group works without a workspace)."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
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


# --- the embedding model and heads fitted to rated texts -------------------------------------------

RATED_CSV = "id,review,stars\n" + "".join(f"{i},{t},{r}\n" for i, (t, r) in enumerate([
    ("Absolutely love this and it works perfectly", 5), ("Great value and fast shipping", 5),
    ("Excellent support that solved it in minutes", 5), ("Best purchase I made this year", 5),
    ("Really happy with the quality", 5), ("Good product that arrived on time", 4), ("Nice and does what it says", 4),
    ("Pretty good overall with a few small issues", 4), ("Works well after a firmware update", 4),
    ("It is okay and nothing special", 3), ("Average quality for the price", 3), ("Arrived but not tried yet", 3),
    ("Fast delivery but flimsy", 3), ("Not great as the battery drains quickly", 2),
    ("Disappointed because it stopped working after a week", 2), ("The instructions are confusing", 2),
    ("Slow delivery and poor packaging", 2), ("Terrible and it broke on the first day", 1),
    ("Awful customer service and never buying again", 1), ("Complete waste of money", 1),
    ("Still waiting for my refund after a month", 1), ("Worst product ever so do not buy", 1),
    ("Charged twice and nobody answers", 1), ("Lovely design and very comfortable", 5), ("No rating given", ""),
], start=1))


def test_sentiment_with_the_embedding_model(tmp_path: Path) -> None:
    pytest.importorskip("sentence_transformers", reason="the embedding model needs the text extra")
    result = runner.invoke(text, ["sentiment", str(comments(tmp_path)), "--text-column", "comment",
                                  "--id-column", "response_id", "--format", "json", "--model", "embedding"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["label"] for r in rows] == ["positive", "negative", "empty", "unsupported_language"]
    assert list(rows[0]) == ["response_id", "score", "label", "language", "reason"]


def test_sentiment_fit_then_score_with_the_head(tmp_path: Path) -> None:
    pytest.importorskip("sentence_transformers", reason="the embedding model needs the text extra")
    rated = write(tmp_path / "rated.csv", RATED_CSV)
    head = tmp_path / "head.json"
    result = runner.invoke(text, ["sentiment-fit", str(rated), "--text-column", "review", "--rating-column", "stars",
                                  "--scale", "1,5", "--out", str(head)])
    assert result.exit_code == 0, result.output
    assert re.search(r"Fitted a sentiment head on 24 of 25 rows \(ratings 1\.\.5 mapped to -1\.\.1", result.stderr)
    assert json.loads(head.read_text(encoding="utf-8"))["rating_scale"] == [1.0, 5.0]
    scored = runner.invoke(text, ["sentiment", str(comments(tmp_path)), "--text-column", "comment",
                                  "--format", "json", "--model", str(head)])
    assert scored.exit_code == 0, scored.output
    assert [r["label"] for r in json.loads(scored.stdout)] == ["positive", "negative", "empty",
                                                               "unsupported_language"]


def test_sentiment_model_errors_exit_2(tmp_path: Path) -> None:
    rated = write(tmp_path / "rated.csv", RATED_CSV)
    bad = write(tmp_path / "bad.csv", RATED_CSV.replace(",5\n", ",five\n", 1))
    cases = [
        (["sentiment", str(comments(tmp_path)), "--text-column", "comment", "--model", "bert"],
         "model='bert' is not allowed"),
        (["sentiment", str(comments(tmp_path)), "--text-column", "comment", "--model", str(tmp_path / "no.json")],
         "does not exist"),
        (["sentiment-fit", str(rated), "--text-column", "review", "--rating-column", "stars", "--scale", "1-5",
          "--out", str(tmp_path / "h.json")], "--scale '1-5' is not allowed"),
        (["sentiment-fit", str(rated), "--text-column", "review", "--rating-column", "score",
          "--out", str(tmp_path / "h.json")], "column 'score' is not in"),
        (["sentiment-fit", str(bad), "--text-column", "review", "--rating-column", "stars",
          "--out", str(tmp_path / "h.json")], "rating 'five' of text 1 is not a number"),
    ]
    for args, message in cases:
        result = runner.invoke(text, args)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.stderr and "Traceback" not in result.output, (args, result.stderr)
