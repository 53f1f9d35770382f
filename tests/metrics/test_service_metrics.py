"""Service metrics on a hand-made tickets table, with hand-computed expected figures.

The table (2024-01-01 is a Monday; all times UTC):

ticket  created (weekday)  channel  first response  resolved             status   contacts  reopened
T1      Jan 05 16:00 Fri   email    +2.0 h          Jan 08 10:00 (66 h)  resolved 1         false
T2      Jan 09 09:00 Tue   chat     +0.5 h          Jan 09 12:00 (3 h)   closed   1         false
T3      Jan 10 10:00 Wed   email    +4.0 h          Jan 11 10:00 (24 h)  resolved 2         true
T4      Jan 20 08:00 Sat   chat     +1.5 h          Jan 22 11:00 (51 h)  Closed   3         false
T5      Jan 25 12:00 Thu   email    -               -                    open     1         -
T6      Feb 01 09:00 Thu   chat     +1.0 h          Feb 01 15:00 (6 h)   resolved 1         false
T7      Feb 05 13:00 Mon   email    +3.0 h          Feb 07 13:00 (48 h)  closed   2         false
T8      Feb 12 10:00 Mon   chat     +1.0 h          -                    pending  -         true
T9      Feb 20 15:00 Tue   email    +0.5 h          - (status closed)    closed   1         true
T10     Feb 26 11:00 Mon   chat     -               -                    open     -         false
T11     Feb 27 09:00 Tue   email    +2.0 h          Feb 28 17:00 (32 h)  resolved 1         false

Business hours (Mon-Fri 09:00-17:00 UTC) to resolution: T1 Fri 16-17 + Mon 9-10 = 2; T2 3;
T3 Wed 10-17 + Thu 9-10 = 8; T4 Sat, Sun, Mon 9-11 = 2; T6 6; T7 Mon 13-17 + Tue 8 + Wed 9-13 = 16;
T11 Tue 8 + Wed 8 = 16.
Customers: C1 smb (T1, T4, T11), C2 enterprise (T2, T6), C3 smb (T3, T7), C4 consumer (T5, T9),
C5 enterprise (T8, T10).
"""

from __future__ import annotations

import json
import math
import statistics
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import ibis
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import cxlens
from conftest import NOW, write
from cxlens import settings as settings_registry
from cxlens.cli import main
from cxlens.errors import CxlensInputError
from cxlens.metrics import MetricQuery, run_metric
from cxlens.metrics.calendar import BusinessCalendar, business_hours_between, parse_days, parse_hours

TICKETS = """ticket_id,created_at,customer_id,channel,first_response_at,resolved_at,status,contacts,reopened,topic
T1,2024-01-05T16:00:00Z,C1,email,2024-01-05T18:00:00Z,2024-01-08T10:00:00Z,resolved,1,false,billing
T2,2024-01-09T09:00:00Z,C2,chat,2024-01-09T09:30:00Z,2024-01-09T12:00:00Z,closed,1,false,login
T3,2024-01-10T10:00:00Z,C3,email,2024-01-10T14:00:00Z,2024-01-11T10:00:00Z,resolved,2,true,billing
T4,2024-01-20T08:00:00Z,C1,chat,2024-01-20T09:30:00Z,2024-01-22T11:00:00Z,Closed,3,false,login
T5,2024-01-25T12:00:00Z,C4,email,,,open,1,,billing
T6,2024-02-01T09:00:00Z,C2,chat,2024-02-01T10:00:00Z,2024-02-01T15:00:00Z,resolved,1,false,billing
T7,2024-02-05T13:00:00Z,C3,email,2024-02-05T16:00:00Z,2024-02-07T13:00:00Z,closed,2,false,login
T8,2024-02-12T10:00:00Z,C5,chat,2024-02-12T11:00:00Z,,pending,,true,login
T9,2024-02-20T15:00:00Z,C4,email,2024-02-20T15:30:00Z,,closed,1,true,billing
T10,2024-02-26T11:00:00Z,C5,chat,,,open,,false,login
T11,2024-02-27T09:00:00Z,C1,email,2024-02-27T11:00:00Z,2024-02-28T17:00:00Z,resolved,1,false,billing
"""
CUSTOMERS = """customer_id,segment
C1,smb
C2,enterprise
C3,smb
C4,consumer
C5,enterprise
"""
AT = datetime(2024, 3, 1, tzinfo=UTC)  # "now" for the literal table: the end of February
Z95 = 1.959964


@pytest.fixture
def tk(ws: cxlens.Workspace, tmp_path: Path) -> cxlens.Workspace:
    ws.import_data("tickets", write(tmp_path / "t.csv", TICKETS), now=NOW)
    ws.import_data("customers", write(tmp_path / "c.csv", CUSTOMERS), now=NOW)
    return ws


def one(ws: cxlens.Workspace, metric: str, **options: object) -> dict:
    (row,) = ws.metric(metric, now=AT, **options).to_records()
    return row


def t_interval(values: list[float]) -> tuple[float, float]:
    n, mean, sd = len(values), statistics.fmean(values), statistics.stdev(values)
    half = stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n)
    return max(0.0, mean - half), mean + half


def wilson(x: int, n: int, z: float = Z95) -> tuple[float, float]:
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return 100 * (centre - half), 100 * (centre + half)


# --------------------------------------------------------------------------------------------------
# Times
# --------------------------------------------------------------------------------------------------


def test_first_response_time_overall(tk: cxlens.Workspace) -> None:
    row = one(tk, "first_response_time")
    # Answered: T1 2, T2 0.5, T3 4, T4 1.5, T6 1, T7 3, T8 1, T9 0.5, T11 2 -> 15.5 / 9 h.
    frt = [2, 0.5, 4, 1.5, 1, 3, 1, 0.5, 2]
    assert (row["n"], row["answered"], row["tickets"]) == (9, 9, 11)
    assert row["value"] == pytest.approx(15.5 / 9)
    lo, hi = t_interval(frt)
    assert row["ci_low"] == pytest.approx(lo) and row["ci_high"] == pytest.approx(hi)
    # Sorted 0.5 0.5 1 1 1.5 2 2 3 4: median 1.5; p90 at rank 8 * 0.9 = 7.2 -> 3 + 0.2 * (4 - 3) = 3.2.
    assert (row["median_hours"], row["p90_hours"]) == (pytest.approx(1.5), pytest.approx(3.2))
    assert "minimum" in row["warnings"]


def test_first_response_time_by_channel_and_month(tk: cxlens.Workspace) -> None:
    rows = tk.metric("first_response_time", by="channel", now=AT).to_records()
    got = {r["channel"]: (r["n"], r["tickets"], round(r["value"], 6)) for r in rows}
    # email: T1 2, T3 4, T7 3, T9 0.5, T11 2 = 11.5 / 5 (T5 unanswered); chat: 0.5 + 1.5 + 1 + 1 = 4 / 4.
    assert got == {"email": (5, 6, 2.3), "chat": (4, 5, 1.0)}
    months = tk.metric("first_response_time", grain="month", now=AT).to_records()
    # January: (2 + 0.5 + 4 + 1.5) / 4 = 2.0; February: (1 + 3 + 1 + 0.5 + 2) / 5 = 1.5.
    assert [(r["period"], r["n"], r["value"]) for r in months] == [
        ("2024-01-01", 4, pytest.approx(2.0)), ("2024-02-01", 5, pytest.approx(1.5))]


def test_first_response_time_month_on_month_welch(tk: cxlens.Workspace) -> None:
    (feb,) = tk.metric("first_response_time", grain="month", since="2024-02-01", until="2024-02-29",
                       compare="previous", now=AT).to_records()
    assert (feb["compare_period"], feb["previous_value"], feb["previous_n"]) == ("2024-01-01", 2.0, 4)
    assert feb["change"] == pytest.approx(1.5 - 2.0)
    ref = stats.ttest_ind([1, 3, 1, 0.5, 2], [2, 0.5, 4, 1.5], equal_var=False)
    assert feb["p_value"] == pytest.approx(ref.pvalue, rel=1e-6) and feb["test"] == "Welch t-test on the mean"


def test_resolution_time_mean_median_interval_p90(tk: cxlens.Workspace) -> None:
    row = one(tk, "resolution_time")
    # Resolved with resolved_at: 66, 3, 24, 51, 6, 48, 32 h (T9 has no resolved_at) -> 230 / 7.
    ttr = [66, 3, 24, 51, 6, 48, 32]
    assert (row["n"], row["resolved"], row["tickets"]) == (7, 7, 11)
    assert row["value"] == pytest.approx(230 / 7)
    lo, hi = t_interval(ttr)
    assert row["ci_low"] == pytest.approx(lo) and row["ci_high"] == pytest.approx(hi)
    # Sorted 3 6 24 32 48 51 66: median 32; p90 at 6 * 0.9 = 5.4 -> 51 + 0.4 * 15 = 57.
    assert (row["median_hours"], row["p90_hours"]) == (pytest.approx(32), pytest.approx(57))
    # n = 7: P(Binom(7, 1/2) = 0) = 1/128, so [x(1), x(7)] covers 1 - 2/128 >= 95% and [x(2), x(6)]
    # covers only 1 - 2 * 8/128 = 87.5%: the interval is [3, 66].
    assert (row["median_ci_low"], row["median_ci_high"]) == (3.0, 66.0)
    ref = stats.quantile_test(ttr, p=0.5).confidence_interval(0.95)
    assert (ref.low, ref.high) == (3.0, 66.0)


def test_resolution_time_business_hours(tk: cxlens.Workspace) -> None:
    row = one(tk, "resolution_time_business")
    bh = [2, 3, 8, 2, 6, 16, 16]  # see the module docstring
    assert (row["n"], row["value"]) == (7, pytest.approx(53 / 7))
    lo, hi = t_interval(bh)
    assert row["ci_low"] == pytest.approx(lo) and row["ci_high"] == pytest.approx(hi)
    # Sorted 2 2 3 6 8 16 16: median 6, p90 = 16 + 0.4 * 0 = 16; median interval [x(1), x(7)].
    assert (row["median_hours"], row["p90_hours"], row["median_ci_low"], row["median_ci_high"]) == (6, 16, 2, 16)
    assert row["calendar"] == "mon-fri 09:00-17:00 UTC"
    months = tk.metric("resolution_time_business", grain="month", now=AT).to_records()
    # January 2 + 3 + 8 + 2 = 15 / 4; February 6 + 16 + 16 = 38 / 3.
    assert [(r["period"], r["value"]) for r in months] == [
        ("2024-01-01", pytest.approx(3.75)), ("2024-02-01", pytest.approx(38 / 3))]


def test_business_calendar_from_settings(tk: cxlens.Workspace) -> None:
    tables = {n: tk.table(n) for n in ("tickets", "customers")}
    custom = {**tk.settings, "business_days": "mon-fri", "business_hours": "10:00-16:00",
              "business_timezone": "Europe/Berlin"}
    query = MetricQuery.build("resolution_time_business", now=AT, where={"ticket_id": ["T1", "T7"]})
    (row,) = run_metric(tables, custom, query).to_records()
    # Berlin is UTC+1 in winter. T1: Fri 17:00 -> Mon 11:00 local = Mon 10-11 = 1 h.
    # T7: Mon 14:00 -> Wed 14:00 local = Mon 14-16 (2) + Tue 6 + Wed 10-14 (4) = 12 h.
    assert (row["n"], row["value"], row["calendar"]) == (2, pytest.approx(6.5), "mon-fri 10:00-16:00 Europe/Berlin")
    with pytest.raises(CxlensInputError, match="business_hours"):
        run_metric(tables, {**tk.settings, "business_hours": "nine to five"}, query)


# --------------------------------------------------------------------------------------------------
# Rates
# --------------------------------------------------------------------------------------------------


def test_resolution_rate_with_wilson(tk: cxlens.Workspace) -> None:
    row = one(tk, "resolution_rate")
    # Resolved: T1 T2 T3 T4 T6 T7 T11 (resolved_at) + T9 (status closed) = 8 of 11.
    assert (row["n"], row["resolved"], row["value"]) == (11, 8, pytest.approx(800 / 11))
    lo, hi = wilson(8, 11)
    assert row["ci_low"] == pytest.approx(lo, abs=1e-4) and row["ci_high"] == pytest.approx(hi, abs=1e-4)
    rows = tk.metric("resolution_rate", by="channel", now=AT).to_records()
    # email: T1 T3 T7 T9 T11 of 6 (T5 open); chat: T2 T4 T6 of 5 (T8, T10 open).
    assert {r["channel"]: (r["resolved"], r["n"]) for r in rows} == {"email": (5, 6), "chat": (3, 5)}


def test_resolution_rate_month_on_month_newcombe(tk: cxlens.Workspace) -> None:
    rows = tk.metric("resolution_rate", grain="month", since="2024-01-01", until="2024-02-29",
                     compare="previous", now=AT).to_records()
    jan, feb = rows
    # January 4 / 5 = 80 %; February T6 T7 T9 T11 of 6 = 66.7 %; change -13.3 points.
    assert (jan["value"], jan["previous_n"], jan["change"]) == (pytest.approx(80.0), 0, None)
    assert (feb["value"], feb["previous_value"], feb["change"]) == (
        pytest.approx(400 / 6), pytest.approx(80.0), pytest.approx(400 / 6 - 80))
    # Newcombe (1998) hybrid: d - sqrt((p1 - l1)^2 + (u0 - p0)^2), d + sqrt((u1 - p1)^2 + (p0 - l0)^2).
    l1, u1 = wilson(4, 6)
    l0, u0 = wilson(4, 5)
    d = 400 / 6 - 80
    assert feb["change_ci_low"] == pytest.approx(d - math.hypot(400 / 6 - l1, u0 - 80), abs=1e-4)
    assert feb["change_ci_high"] == pytest.approx(d + math.hypot(u1 - 400 / 6, 80 - l0), abs=1e-4)
    assert feb["significant"] is False


def test_fcr_by_customer_segment(tk: cxlens.Workspace) -> None:
    row = one(tk, "fcr")
    # Resolved with known contacts: T1 1, T2 1, T3 2, T4 3, T6 1, T7 2, T9 1, T11 1 -> 5 of 8.
    assert (row["n"], row["first_contact_resolved"], row["value"]) == (8, 5, 62.5)
    rows = tk.metric("fcr", by="segment", now=AT).to_records()
    # smb: T1 1, T3 2, T4 3, T7 2, T11 1 -> 2/5; enterprise: T2 1, T6 1 -> 2/2; consumer: T9 1 -> 1/1.
    got = {r["segment"]: (r["first_contact_resolved"], r["n"], r["value"]) for r in rows}
    assert got == {"smb": (2, 5, 40.0), "enterprise": (2, 2, 100.0), "consumer": (1, 1, 100.0)}
    assert sum(r["n"] for r in rows) == row["n"]


def test_reopen_rate_counts_reopened_tickets_that_are_open_again(tk: cxlens.Workspace) -> None:
    row = one(tk, "reopen_rate")
    # Ever resolved with a known flag: T1 T2 T3 T4 T6 T7 T9 T11 + T8 (pending but reopened) = 9;
    # reopened: T3, T8, T9 -> 3 / 9. T5 (flag unknown) and T10 (open, never resolved) are out.
    assert (row["n"], row["reopened"], row["value"]) == (9, 3, pytest.approx(100 / 3))
    lo, hi = wilson(3, 9)
    assert row["ci_low"] == pytest.approx(lo, abs=1e-4) and row["ci_high"] == pytest.approx(hi, abs=1e-4)


# --------------------------------------------------------------------------------------------------
# Volume and backlog
# --------------------------------------------------------------------------------------------------


def test_ticket_volume_by_channel_topic_and_month(tk: cxlens.Workspace) -> None:
    row = one(tk, "tickets")
    # Exact Poisson (Garwood) 95 % interval for 11 events: 5.49 to 19.68 (standard tables).
    assert (row["value"], row["n"], round(row["ci_low"], 2), round(row["ci_high"], 2)) == (11, 11, 5.49, 19.68)
    by_channel = {r["channel"]: r["n"] for r in tk.metric("tickets", by="channel", now=AT).to_records()}
    assert by_channel == {"email": 6, "chat": 5}
    by_topic = {r["topic"]: r["n"] for r in tk.metric("tickets", by="topic", now=AT).to_records()}
    assert by_topic == {"billing": 6, "login": 5}
    months = [(r["period"], r["n"]) for r in tk.metric("tickets", grain="month", now=AT).to_records()]
    assert months == [("2024-01-01", 5), ("2024-02-01", 6)]


def test_ticket_volume_compare_previous_range(tk: cxlens.Workspace) -> None:
    row = one(tk, "tickets", since="2024-02-01", until="2024-02-29", compare="previous")
    # The 29 days before February 1 start on January 3: T1..T5 = 5; February: 6.
    assert (row["n"], row["previous_n"], row["change"]) == (6, 5, 1.0)
    # Exact conditional test: P(X >= 6 | Binom(11, 1/2)) = 1024 / 2048, two-sided p = 1.
    assert row["p_value"] == pytest.approx(1.0)
    assert row["change_ci_low"] == pytest.approx(1 - Z95 * math.sqrt(11), abs=1e-4)


def test_backlog_at_the_end_of_the_range(tk: cxlens.Workspace) -> None:
    row = one(tk, "backlog", until="2024-02-29")
    # Open at 2024-03-01 00:00: T5, T8, T10. T9 (closed, no resolved_at) cannot be placed in time.
    assert (row["value"], row["n"], row["created"], row["resolved"], row["as_of"]) == (
        3.0, 3, 10, 7, "2024-03-01T00:00:00")
    assert (row["ci_low"], row["ci_high"]) == (3.0, 3.0)
    # At 2024-01-22 00:00 T4 (resolved 11:00 that day) is still open: T1 T2 T3 resolved -> 1.
    assert one(tk, "backlog", until="2024-01-21")["value"] == 1.0
    rows = tk.metric("backlog", by="channel", until="2024-02-29", now=AT).to_records()
    assert {r["channel"]: r["value"] for r in rows} == {"email": 1.0, "chat": 2.0}
    segs = tk.metric("backlog", by="segment", until="2024-02-29", now=AT).to_records()
    # T5 C4 consumer; T8, T10 C5 enterprise; smb has none open.
    assert {r["segment"]: r["value"] for r in segs} == {"consumer": 1.0, "enterprise": 2.0, "smb": 0.0}


def test_backlog_by_month_with_comparison(tk: cxlens.Workspace) -> None:
    rows = tk.metric("backlog", grain="month", since="2024-01-01", until="2024-02-29",
                     compare="previous", now=AT).to_records()
    # End of January: created T1..T5, resolved before Feb 1: T1 T2 T3 T4 -> 1 (T5).
    # End of February: 3 (T5, T8, T10). December 2023: no tickets yet -> 0.
    got = [(r["period"], r["as_of"], r["value"], r["previous_value"], r["change"]) for r in rows]
    assert got == [("2024-01-01", "2024-02-01T00:00:00", 1.0, 0.0, 1.0),
                   ("2024-02-01", "2024-03-01T00:00:00", 3.0, 1.0, 2.0)]
    (row,) = tk.metric("backlog", since="2024-02-01", until="2024-02-29", compare="previous", now=AT).to_records()
    assert (row["value"], row["previous_value"], row["change"]) == (3.0, 1.0, 2.0)


def test_backlog_partial_last_period_ends_now(tk: cxlens.Workspace) -> None:
    rows = tk.metric("backlog", grain="month", now=datetime(2024, 2, 10, tzinfo=UTC)).to_records()
    # At Feb 10 00:00: T5 open, T6 and T7 resolved (T7 on Feb 7) -> 1; T8.. not created yet.
    assert [(r["period"], r["as_of"], r["value"]) for r in rows] == [
        ("2024-01-01", "2024-02-01T00:00:00", 1.0), ("2024-02-01", "2024-02-10T00:00:00", 1.0)]


# --------------------------------------------------------------------------------------------------
# Empty slices, CLI
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("metric", ["first_response_time", "resolution_time", "resolution_time_business",
                                    "resolution_rate", "fcr", "reopen_rate"])
def test_empty_slice_gives_n_zero_no_value_and_a_warning(tk: cxlens.Workspace, metric: str) -> None:
    for options in ({"since": "2030-01-01", "until": "2030-01-31"}, {"where": {"channel": "fax"}}):
        row = one(tk, metric, **options)
        assert (row["n"], row["value"], row["ci_low"], row["ci_high"]) == (0, None, None, None)
        assert row["warnings"]


def test_empty_slice_of_counts_is_zero(tk: cxlens.Workspace) -> None:
    row = one(tk, "tickets", where={"channel": "fax"})
    assert (row["n"], row["value"], row["ci_low"]) == (0, 0.0, 0.0) and row["warnings"]
    row = one(tk, "backlog", where={"channel": "fax"})
    assert (row["n"], row["value"], row["warnings"]) == (0, 0.0, "no tickets in this slice")


def test_metrics_on_an_empty_tickets_table(ws: cxlens.Workspace) -> None:
    for metric in ("first_response_time", "resolution_time_business", "fcr"):
        (row,) = ws.metric(metric, now=AT).to_records()
        assert (row["n"], row["value"]) == (0, None)
    assert ws.metric("backlog", grain="month", now=AT).to_records() == []


def test_cli_runs_service_metrics(tk: cxlens.Workspace) -> None:
    result = CliRunner().invoke(main, [
        "metrics", "fcr", "--by", "channel", "--grain", "month", "--compare", "previous",
        "--format", "json", "--now", "2024-03-01T00:00:00", "-w", str(tk.path)])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    # email Feb: T7 (2 contacts), T9 (1), T11 (1) -> 2/3; January T1 (1), T3 (2) -> 1/2.
    email_feb = next(r for r in rows if r["channel"] == "email" and r["period"] == "2024-02-01")
    assert (email_feb["value"], email_feb["previous_value"]) == (pytest.approx(200 / 3), 50.0)


# --------------------------------------------------------------------------------------------------
# Business hours
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("start", "end", "hours"), [
    ("2024-01-05T16:00", "2024-01-08T10:00", 2.0),  # Friday 16:00 -> Monday 10:00
    ("2024-01-08T08:00", "2024-01-08T20:00", 8.0),  # a whole Monday, outside hours at both ends
    ("2024-01-06T10:00", "2024-01-07T15:00", 0.0),  # a weekend
    ("2024-01-09T12:15", "2024-01-09T12:45", 0.5),  # within one day
    ("2024-01-09T12:00", "2024-01-09T12:00", 0.0),  # zero length
    ("2024-01-01T09:30", "2024-01-15T12:00", 82.5),  # 7.5 + 9 full days * 8 + 3
    ("2024-01-12T17:00", "2024-01-15T09:00", 0.0),  # Friday close -> Monday open
])
def test_business_hours_literals(start: str, end: str, hours: float) -> None:
    got = business_hours_between(np.array([start], dtype="datetime64[us]"), np.array([end], dtype="datetime64[us]"),
                                 BusinessCalendar())
    assert got.tolist() == [hours]


def test_business_hours_holidays_time_zone_and_missing_values() -> None:
    xmas = BusinessCalendar(holidays=("2024-12-25", date(2024, 12, 26)))
    # Tuesday 24th 16:00 -> Friday 27th 10:00: 1 + (25th, 26th holidays) + 1 = 2.
    assert business_hours_between(["2024-12-24T16:00"], ["2024-12-27T10:00"], xmas).tolist() == [2.0]
    ny = BusinessCalendar(timezone="America/New_York")  # UTC-5 in January
    # 13:00 UTC = 08:00 local -> 23:00 UTC = 18:00 local: 09:00-17:00 = 8 h.
    assert business_hours_between(["2024-01-09T13:00"], ["2024-01-09T23:00"], ny).tolist() == [8.0]
    aware = datetime(2024, 1, 9, 14, 0, tzinfo=UTC)  # aware input is converted too
    assert business_hours_between([aware], [aware + timedelta(hours=1)], ny).tolist() == [1.0]
    got = business_hours_between(["2024-01-09T10:00", None], [None, "2024-01-09T11:00"], BusinessCalendar())
    assert np.isnan(got).all()
    round_the_clock = BusinessCalendar(days=tuple(range(7)), start=time(0), end=time.max)
    assert business_hours_between(["2024-01-06T10:00"], ["2024-01-08T10:30"], round_the_clock).tolist() == [48.5]
    with pytest.raises(CxlensInputError, match="end must not be before its start"):
        business_hours_between(["2024-01-09T10:00"], ["2024-01-09T09:00"], BusinessCalendar())


def test_calendar_validation_and_settings_parsing() -> None:
    for bad, match in [({"days": ()}, "weekday numbers"), ({"days": (7,)}, "weekday numbers"),
                       ({"start": time(17), "end": time(9)}, "start before they end"),
                       ({"timezone": "Mars/Olympus"}, "Unknown time zone"),
                       ({"holidays": ("Christmas",)}, "ISO dates")]:
        with pytest.raises(CxlensInputError, match=match):
            BusinessCalendar(**bad)  # type: ignore[arg-type]
    assert parse_days("mon-fri") == (0, 1, 2, 3, 4)
    assert parse_days("sun-thu") == (0, 1, 2, 3, 6)
    assert parse_days("mon,wed-fri") == (0, 2, 3, 4)
    assert parse_days(["Saturday", "sun"]) == (5, 6)
    assert parse_hours("09:00-17:30") == (time(9), time(17, 30))
    assert parse_hours("8-24") == (time(8), time.max)
    with pytest.raises(CxlensInputError, match="not a day"):
        parse_days("mon-fry")
    cal = BusinessCalendar.from_settings({"business_days": "sun-thu", "business_hours": "08:00-16:00",
                                          "business_timezone": "Asia/Jerusalem",
                                          "business_holidays": "2024-04-23, 2024-04-24"})
    assert cal.describe() == "sun-thu 08:00-16:00 Asia/Jerusalem, 2 holiday(s)"
    assert BusinessCalendar.from_settings({}) == BusinessCalendar()
    assert BusinessCalendar().hours_per_day == 8.0


def brute_force_hours(start: datetime, end: datetime, cal: BusinessCalendar) -> float:
    """Minute by minute: count each minute [m, m + 1) whose local start is in business time."""
    count = int((end - start).total_seconds() // 60)
    minutes = pd.date_range(start, periods=count, freq="min", tz="UTC").tz_convert(cal.timezone)
    tod = minutes.hour * 60 + minutes.minute
    open_min = cal.start.hour * 60 + cal.start.minute
    close_min = 24 * 60 if cal.end == time.max else cal.end.hour * 60 + cal.end.minute
    ok = (np.isin(minutes.weekday, cal.days) & ~np.isin(minutes.date, cal.holidays)
          & (tod >= open_min) & (tod < close_min))
    return int(ok.sum()) / 60


@st.composite
def calendars(draw: st.DrawFn) -> BusinessCalendar:
    zone = draw(st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"]))
    # Outside UTC keep the hours clear of the 01:00-03:00 daylight-saving jumps, where the wall
    # clock (which the calendar measures) and elapsed time differ.
    first = 0 if zone == "UTC" else 4 * 60
    open_min = draw(st.integers(first, 23 * 60 - 1))
    close_min = draw(st.integers(open_min + 1, 24 * 60))
    days = draw(st.sets(st.integers(0, 6), min_size=1))
    holidays = draw(st.lists(st.dates(date(2024, 1, 1), date(2024, 12, 31)), max_size=5))
    end = time.max if close_min == 24 * 60 else time(close_min // 60, close_min % 60)
    return BusinessCalendar(tuple(days), time(open_min // 60, open_min % 60), end, zone, tuple(holidays))


@settings(max_examples=150, deadline=None)
@given(cal=calendars(), start=st.integers(0, 360 * 1440), lengths=st.lists(st.integers(0, 9 * 1440), min_size=1,
                                                                         max_size=3))
def test_business_hours_match_a_minute_by_minute_reference(cal: BusinessCalendar, start: int,
                                                           lengths: list[int]) -> None:
    t0 = datetime(2024, 1, 1) + timedelta(minutes=start)
    starts = [t0 + timedelta(minutes=i * 37) for i in range(len(lengths))]
    ends = [s + timedelta(minutes=m) for s, m in zip(starts, lengths, strict=True)]
    got = business_hours_between(np.array(starts, dtype="datetime64[us]"), np.array(ends, dtype="datetime64[us]"), cal)
    want = [brute_force_hours(s, e, cal) for s, e in zip(starts, ends, strict=True)]
    assert got == pytest.approx(want, abs=1e-9)
    assert all(0 <= g <= (e - s).total_seconds() / 3600 + 1e-9 for g, s, e in zip(got, starts, ends, strict=True))


# --------------------------------------------------------------------------------------------------
# Invariants on random tables
# --------------------------------------------------------------------------------------------------

ticket_rows = st.lists(st.tuples(
    st.integers(0, 59 * 24),  # created: hours after 2024-01-01
    st.one_of(st.none(), st.integers(0, 72)),  # first response after (h)
    st.one_of(st.none(), st.integers(0, 24 * 40)),  # resolved after (h)
    st.sampled_from(["open", "pending", "resolved", "closed", None]),
    st.one_of(st.none(), st.integers(0, 3)),  # contacts
    st.one_of(st.none(), st.booleans()),  # reopened
    st.sampled_from(["email", "chat", "phone"]),
), min_size=1, max_size=30)


@settings(max_examples=25, deadline=None)
@given(rows=ticket_rows)
def test_service_invariants(rows: list[tuple]) -> None:
    base = datetime(2024, 1, 1)
    created = [base + timedelta(hours=r[0]) for r in rows]
    frame = pd.DataFrame({
        "ticket_id": [f"H{i}" for i in range(len(rows))],
        "created_at": pd.to_datetime(created),
        "customer_id": pd.Series([None] * len(rows), dtype="string"),
        "first_response_at": pd.to_datetime([None if r[1] is None else c + timedelta(hours=r[1])
                                             for r, c in zip(rows, created, strict=True)]),
        "resolved_at": pd.to_datetime([None if r[2] is None else c + timedelta(hours=r[2])
                                       for r, c in zip(rows, created, strict=True)]),
        "status": pd.Series([r[3] for r in rows], dtype="string"),
        "contacts": pd.Series([r[4] for r in rows], dtype="Int64"),
        "reopened": pd.Series([r[5] for r in rows], dtype="boolean"),
        "channel": pd.Series([r[6] for r in rows], dtype="string"),
    })
    tables = {"tickets": ibis.memtable(frame),
              "customers": ibis.memtable(pd.DataFrame({"customer_id": pd.Series([], dtype="string")}))}
    config = settings_registry.defaults()

    def records(metric: str, **options: object) -> list[dict]:
        return run_metric(tables, config, MetricQuery.build(metric, now=AT, **options)).to_records()

    for metric in ("resolution_rate", "fcr", "reopen_rate"):
        (total,) = records(metric)
        parts = records(metric, by="channel")
        assert sum(p["n"] for p in parts) == total["n"]
        for r in [total, *parts]:
            if r["n"]:
                assert 0 <= r["ci_low"] <= r["value"] <= r["ci_high"] <= 100
            else:
                assert r["value"] is None
    for metric in ("first_response_time", "resolution_time", "resolution_time_business"):
        (total,) = records(metric)
        parts = records(metric, by="channel", grain="month")
        assert sum(p["n"] for p in parts) == total["n"]
        for r in [total, *parts]:
            if r["n"] >= 2:
                assert 0 <= r["ci_low"] <= r["value"] <= r["ci_high"]
                assert r["median_hours"] <= r["p90_hours"] + 1e-9
    (elapsed,) = records("resolution_time")
    (business,) = records("resolution_time_business")
    assert business["n"] == elapsed["n"]
    if business["n"]:
        assert business["value"] <= elapsed["value"] + 1e-9
    (volume,) = records("tickets")
    assert volume["n"] == len(rows) and volume["ci_low"] <= volume["value"] <= volume["ci_high"]
    # Backlog at each month end against a direct count on the rows.
    backlog = records("backlog", grain="month", by="channel")
    for r in backlog:
        at = datetime.fromisoformat(r["as_of"])
        want = 0
        for row, c in zip(rows, created, strict=True):
            resolved_at = None if row[2] is None else c + timedelta(hours=row[2])
            unplaced = resolved_at is None and row[3] in ("resolved", "closed")
            if row[6] == r["channel"] and c < at and not unplaced and (resolved_at is None or resolved_at >= at):
                want += 1
        assert r["value"] == want
    (now_total,) = records("backlog")
    assert sum(r["value"] for r in records("backlog", by="channel")) == now_total["value"]


# --------------------------------------------------------------------------------------------------
# A second engine
# --------------------------------------------------------------------------------------------------


def copy_to_sqlite(ws: cxlens.Workspace, path: Path) -> dict[str, ibis.Table]:
    """The tickets and customers in a SQLite file (timestamps as ISO text in TIMESTAMP columns)."""
    import sqlite3

    def sql_type(dt: ibis.DataType) -> str:
        if dt.is_timestamp():
            return "TIMESTAMP"
        return "BOOLEAN" if dt.is_boolean() else "INTEGER" if dt.is_integer() else "TEXT"

    with sqlite3.connect(path) as raw:
        for name in ("tickets", "customers"):
            t = ws.table(name).drop("_import_id", "_line")
            cols = {c: sql_type(dt) for c, dt in t.schema().items()}
            raw.execute(f"CREATE TABLE {name} ({', '.join(f'{c} {ty}' for c, ty in cols.items())})")
            for rec in t.to_pyarrow().to_pylist():
                values = [v.isoformat(sep=" ") if isinstance(v, datetime) else v for v in rec.values()]
                raw.execute(f"INSERT INTO {name} VALUES ({', '.join('?' * len(values))})", values)
    con = ibis.sqlite.connect(str(path))
    return {n: con.table(n) for n in ("tickets", "customers")}


@pytest.mark.parametrize("options", [
    {"metric": "resolution_rate", "by": ("channel",), "grain": "month", "compare": "previous"},
    {"metric": "fcr", "by": ("segment",)},
    {"metric": "reopen_rate", "where": {"topic": ["login"]}},
    {"metric": "tickets", "by": ("topic",), "grain": "month"},
    {"metric": "backlog", "by": ("channel",), "grain": "week", "since": "2024-01-01", "compare": "previous"},
    {"metric": "backlog", "since": "2024-02-01", "until": "2024-02-29", "compare": "previous"},
])
def test_counts_and_rates_agree_on_sqlite(tk: cxlens.Workspace, tmp_path: Path, options: dict) -> None:
    lite = copy_to_sqlite(tk, tmp_path / "copy.sqlite")
    query = MetricQuery.build(now=AT, **options)
    duck = run_metric({n: tk.table(n) for n in ("tickets", "customers")}, tk.settings, query)
    assert run_metric(lite, tk.settings, query).to_records() == duck.to_records()
    with pytest.raises(CxlensInputError, match="needs quantiles, which the 'sqlite' warehouse"):
        run_metric(lite, tk.settings, MetricQuery.build("first_response_time", now=AT))
