"""Stored text annotations: incremental, resumable, versioned, and robust to bad input."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import cxlens
from cxlens.errors import CxlensInputError
from cxlens.text import redact, score
from cxlens.text.annotate import ANNOTATIONS_TABLE, MODEL_VERSION, annotate, annotate_texts
from cxlens.text.cli_analyze import analyze

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

COMMENTS = {
    "r1": "The agent was very helpful, thank you!",
    "r2": "I was on hold for an hour and nobody answered. Call me on +44 20 7946 0958",
    "r3": None,
    "r4": "   \t  ",
    "r5": "Ich warte immer noch auf meine Rückerstattung, das ist nicht in Ordnung.",
    "r6": "Fast and reliable, worth every penny",
    "r7": "Mail me at anna@example.com about the refund",
}
TICKETS = [
    ("t1", "Login code not arriving", "I never get the SMS code, please help."),
    ("t2", None, "Charged twice this month"),
    ("t3", "Router", None),
]


def _responses(comments: dict[str, str | None]) -> pd.DataFrame:
    return pd.DataFrame({"response_id": list(comments), "submitted_at": ["2026-11-01T10:00:00"] * len(comments),
                         "comment": list(comments.values())})


def _tickets() -> pd.DataFrame:
    return pd.DataFrame({"ticket_id": [t[0] for t in TICKETS], "created_at": ["2026-11-02T09:00:00"] * len(TICKETS),
                         "subject": [t[1] for t in TICKETS], "description": [t[2] for t in TICKETS]})


def _fill(ws: cxlens.Workspace) -> None:
    assert ws.import_data("responses", _responses(COMMENTS), now=NOW).rejected == 0
    assert ws.import_data("tickets", _tickets(), now=NOW).rejected == 0


def _stored(ws: cxlens.Workspace) -> pd.DataFrame:
    df = ws.warehouse.duckdb.execute(f"SELECT * FROM {ANNOTATIONS_TABLE}").df()
    return df.drop(columns=["annotated_at"]).sort_values(["source_table", "source_id", "model_version"]).reset_index(
        drop=True)


@pytest.fixture
def filled(ws: cxlens.Workspace) -> cxlens.Workspace:
    _fill(ws)
    return ws


# ------------------------------------------------------------------------------------------ pure


def test_each_text_gets_language_sentiment_emotions_and_redaction() -> None:
    text = "I was on hold for an hour and nobody answered. Call me on +44 20 7946 0958"
    (a,) = annotate_texts([text])
    assert a.status == "analysed"
    assert a.sentiment_score == score([text], language="en")[0].score
    assert a.sentiment_label == "negative"
    assert a.redacted_text == redact(text).text == "I was on hold for an hour and nobody answered. Call me on [PHONE]"
    assert a.pii_found == 1 and a.chars == len(text) and not a.truncated and a.note is None


def test_bad_input_is_cleaned_truncated_or_labelled() -> None:
    long = "The app is slow. " * 700  # 11,900 characters
    out = annotate_texts(["\x00\x07\x1b", "Great\x00 service\x07, thanks", long,
                          "El servicio es muy malo y nadie me ayuda con la factura."], max_chars=5000)
    empty, control, truncated, spanish = out
    assert (empty.status, empty.sentiment_label, empty.sentiment_score) == ("empty", "empty", None)
    assert "removed 3 control or non-text character(s)" in (empty.note or "")
    assert control.status == "analysed" and control.redacted_text == "Great service, thanks"
    assert control.note == "removed 2 control or non-text character(s)" and control.sentiment_label == "positive"
    assert truncated.truncated and truncated.chars == len(long) == 11900
    assert len(truncated.redacted_text) == 5000
    assert truncated.note == "truncated from 11900 to 5000 characters"
    assert spanish.status == "unsupported_language" and spanish.language == "es"
    assert spanish.sentiment_score is None and spanish.dominant_emotion is None
    assert "only English is supported" in (spanish.note or "")
    with pytest.raises(CxlensInputError, match="max_chars"):
        annotate_texts(["x"], max_chars=0)


# ------------------------------------------------------------------------------------------ stored


def test_first_run_stores_every_text_with_its_hash(filled: cxlens.Workspace) -> None:
    result = annotate(filled.warehouse, now=NOW)
    counts = {r["source"]: r for r in result.to_records()}
    assert counts["responses"] == {
        "source": "responses", "new": 5, "changed": 0, "unchanged": 0, "skipped_empty": 2,
        "unsupported_language": 1, "truncated": 0, "batches": 1, "model_version": MODEL_VERSION}
    assert (counts["tickets"]["new"], counts["tickets"]["skipped_empty"]) == (3, 0)
    df = _stored(filled)
    assert len(df) == 8 and not df.duplicated(["source_table", "source_id", "model_version"]).any()
    tickets = df[df.source_table == "tickets"].set_index("source_id")
    joined = "Login code not arriving\nI never get the SMS code, please help."
    assert tickets.loc["t1", "text_hash"] == hashlib.md5(joined.encode()).hexdigest()
    assert tickets.loc["t2", "text_hash"] == hashlib.md5(b"Charged twice this month").hexdigest()
    responses = df[df.source_table == "responses"].set_index("source_id")
    assert responses.loc["r7", "redacted_text"] == "Mail me at [EMAIL] about the refund"
    assert responses.loc["r5", "status"] == "unsupported_language"
    assert set(responses.index) == {"r1", "r2", "r5", "r6", "r7"}


def test_second_run_annotates_nothing_and_a_changed_comment_once(filled: cxlens.Workspace) -> None:
    annotate(filled.warehouse, now=NOW)
    before = _stored(filled)
    again = annotate(filled.warehouse, now=NOW)
    assert again.annotated == 0 and again.total("unchanged") == 8
    assert _stored(filled).equals(before)

    changed = {**COMMENTS, "r1": "The agent was rude and unhelpful."}
    filled.import_data("responses", _responses(changed), on_conflict="update", now=NOW)
    third = annotate(filled.warehouse, now=NOW)
    assert (third.total("new"), third.total("changed"), third.total("unchanged")) == (0, 1, 7)
    row = _stored(filled).set_index("source_id").loc["r1"]
    assert row["sentiment_label"] == "negative"
    assert row["text_hash"] == hashlib.md5(b"The agent was rude and unhelpful.").hexdigest()
    assert len(_stored(filled)) == 8


def test_a_comment_that_became_blank_loses_its_annotation(filled: cxlens.Workspace) -> None:
    annotate(filled.warehouse, now=NOW)
    filled.import_data("responses", _responses({**COMMENTS, "r6": " "}), on_conflict="update", now=NOW)
    result = annotate(filled.warehouse, now=NOW)
    assert result.annotated == 0 and result.sources[0].skipped_empty == 3
    assert "r6" not in set(_stored(filled).source_id)


def test_bad_texts_are_stored_cleaned_and_truncated(ws: cxlens.Workspace) -> None:
    comments = {"c1": "\x1b[31mRED\x1b[0m alert: the app keeps crashing", "c2": "Slow. " * 1000, "c3": "\x00\x01"}
    ws.import_data("responses", _responses(comments), now=NOW)
    result = annotate(ws.warehouse, now=NOW, source="responses", max_chars=1000)
    assert (result.total("new"), result.total("truncated"), result.total("skipped_empty")) == (3, 1, 0)
    rows = _stored(ws).set_index("source_id")
    assert rows.loc["c1", "redacted_text"] == "[31mRED[0m alert: the app keeps crashing"
    assert rows.loc["c1", "note"] == "removed 2 control or non-text character(s)"
    assert bool(rows.loc["c2", "truncated"]) and rows.loc["c2", "chars"] == 5999  # the import trims the final space
    assert len(rows.loc["c2", "redacted_text"]) == 1000
    assert rows.loc["c2", "note"] == "truncated from 5999 to 1000 characters"
    assert rows.loc["c3", "status"] == "empty" and pd.isna(rows.loc["c3", "sentiment_score"])


def test_a_new_model_version_annotates_again_and_keeps_the_old_rows(filled: cxlens.Workspace) -> None:
    annotate(filled.warehouse, now=NOW)
    result = annotate(filled.warehouse, now=NOW, model_version="cxlens-text-next", source="responses")
    assert result.total("new") == 5 and result.total("unchanged") == 0
    df = _stored(filled)
    assert df.groupby("model_version").size().to_dict() == {MODEL_VERSION: 8, "cxlens-text-next": 5}


def test_bad_parameters_name_the_field(filled: cxlens.Workspace) -> None:
    with pytest.raises(CxlensInputError, match="'source' parameter must be one of responses, tickets, all"):
        annotate(filled.warehouse, now=NOW, source="emails")
    with pytest.raises(CxlensInputError, match="batch_size"):
        annotate(filled.warehouse, now=NOW, batch_size=0)


_KILL_AFTER_FIRST_BATCH = textwrap.dedent("""
    import os, signal, sys
    from datetime import datetime, UTC
    import cxlens
    from cxlens.text.annotate import annotate

    def die(table, batch, size):
        os.kill(os.getpid(), signal.SIGKILL)  # no clean-up of any kind: like a power cut

    ws = cxlens.open(sys.argv[1])
    annotate(ws.warehouse, now=datetime(2026, 11, 23, tzinfo=UTC), batch_size=2, progress=die)
""")


def test_a_killed_run_resumes_to_the_same_table(tmp_path: Path) -> None:
    killed, whole = cxlens.init(tmp_path / "killed"), cxlens.init(tmp_path / "whole")
    for ws in (killed, whole):
        _fill(ws)
    killed.close()
    script = tmp_path / "kill.py"
    script.write_text(_KILL_AFTER_FIRST_BATCH)
    proc = subprocess.run([sys.executable, str(script), str(killed.path)], capture_output=True, timeout=120)
    assert proc.returncode == -9, proc.stderr.decode()

    resumed = cxlens.open(killed.path)
    assert len(_stored(resumed)) == 2  # exactly the first committed batch survived
    result = annotate(resumed.warehouse, now=NOW, batch_size=2)
    assert (result.total("new"), result.total("unchanged")) == (6, 2)
    annotate(whole.warehouse, now=NOW, batch_size=100)
    assert _stored(resumed).equals(_stored(whole))
    resumed.close()
    whole.close()


def test_cli_analyze_reports_counts(filled: cxlens.Workspace) -> None:
    filled.close()
    runner = CliRunner()
    first = runner.invoke(analyze, ["--workspace", str(filled.path), "--format", "json", "--batch-size", "3"])
    assert first.exit_code == 0, first.output
    doc = json.loads(first.stdout)
    assert [(s["source"], s["new"], s["batches"]) for s in doc["sources"]] == [("responses", 5, 2), ("tickets", 3, 1)]
    second = runner.invoke(analyze, ["--workspace", str(filled.path), "--source", "tickets"])
    assert second.exit_code == 0 and "unchanged" in second.stdout
    assert "tickets" in second.stdout and "responses" not in second.stdout
    bad = runner.invoke(analyze, ["--workspace", str(filled.path), "--batch-size", "0"])
    assert bad.exit_code == 2 and "Traceback" not in bad.output
