"""The demo company: contract-valid, deterministic, chunked, and every planted truth is visible.

The checks read the generated Arrow tables with pandas directly (no cxlens import pipeline).
"""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from cxlens.demo import DemoChunk, DemoCompany
from cxlens.demo import language as lang
from cxlens.errors import CxlensInputError
from cxlens.schema import TABLES, ColumnType

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
NOW_NAIVE = pd.Timestamp(NOW.replace(tzinfo=None))
CUSTOMERS = 5000
TABLE_NAMES = ("customers", "interactions", "responses", "tickets", "orders", "subscriptions")
ARROW_TYPES = {
    ColumnType.STRING: pa.string(), ColumnType.INTEGER: pa.int64(), ColumnType.FLOAT: pa.float64(),
    ColumnType.TIMESTAMP: pa.timestamp("us"), ColumnType.BOOLEAN: pa.bool_(), ColumnType.JSON: pa.string(),
}


@pytest.fixture(scope="module")
def company() -> DemoCompany:
    return DemoCompany(CUSTOMERS, seed=42, now=NOW, chunk_customers=1000)


@pytest.fixture(scope="module")
def chunks(company: DemoCompany) -> list[DemoChunk]:
    return list(company.chunks())


@pytest.fixture(scope="module")
def arrow(chunks: list[DemoChunk]) -> dict[str, pa.Table]:
    return {name: pa.concat_tables([c.tables[name] for c in chunks]) for name in TABLE_NAMES}


@pytest.fixture(scope="module")
def df(arrow: dict[str, pa.Table]) -> dict[str, pd.DataFrame]:
    return {name: table.to_pandas() for name, table in arrow.items()}


@pytest.fixture(scope="module")
def truths(company: DemoCompany) -> dict:
    return company.truths()


def terms(truths: dict, theme: str) -> str:
    """A regular expression of a theme's match strings in every language."""
    strings = {s for values in truths["themes"][theme]["match"].values() for s in values}
    return "|".join(re.escape(s) for s in sorted(strings))


def mentions(comments: pd.Series, pattern: str) -> pd.Series:
    return comments.str.lower().str.contains(pattern, regex=True)


def nps(scores: pd.Series) -> float:
    return 100.0 * ((scores >= 9).mean() - (scores <= 6).mean())


# --------------------------------------------------------------------------------------------------
# API, chunking, determinism
# --------------------------------------------------------------------------------------------------


def test_chunks_are_bounded_and_complete(chunks: list[DemoChunk], df: dict[str, pd.DataFrame]) -> None:
    assert len(chunks) == 5
    for chunk in chunks:
        assert set(chunk.tables) == set(TABLE_NAMES)
        assert chunk.tables["customers"].num_rows == 1000
    assert len(df["customers"]) == CUSTOMERS
    with pytest.raises(dataclasses.FrozenInstanceError):
        chunks[0].tables = {}  # type: ignore[misc]


def test_same_inputs_give_identical_tables() -> None:
    def run(seed: int, now: datetime) -> list[DemoChunk]:
        return list(DemoCompany(1200, seed, now=now, chunk_customers=500).chunks())

    first, second = run(7, NOW), run(7, NOW.replace(tzinfo=None))  # naive means UTC
    assert len(first) == len(second) == 3
    for a, b in zip(first, second, strict=True):
        for name in TABLE_NAMES:
            assert a.tables[name].equals(b.tables[name]), name
    other = run(8, NOW)
    assert not other[0].tables["responses"].equals(first[0].tables["responses"])


def test_bad_parameters_are_refused() -> None:
    for kwargs in ({"customers": 0}, {"chunk_customers": 0}, {"seed": -1}):
        with pytest.raises(CxlensInputError):
            DemoCompany(**{"customers": 10, "seed": 1, "chunk_customers": 10, **kwargs}, now=NOW)


def test_truths_are_json_and_complete(company: DemoCompany, truths: dict) -> None:
    again = json.loads(json.dumps(truths))
    assert again == truths
    for key in ("version", "seed", "customers", "now", "journey", "themes", "scales", "planted", "clv"):
        assert key in truths, key
    assert truths["customers"] == CUSTOMERS and truths["seed"] == 42
    assert truths["now"] == "2026-11-23T12:00:00"
    assert truths["scales"]["ces"]["direction"] == "higher_is_easier"
    assert set(truths["planted"]) == {"detractor_churn", "theme_drivers", "broken_touchpoint", "emerging_issue",
                                      "segment_channel", "resolution_csat"}
    assert truths["journey"]["stages"] == ["Awareness", "Consideration", "Purchase", "Onboarding",
                                           "Retention/Service", "Loyalty", "Advocacy"]
    assert {"r", "alpha", "a", "b"} <= set(truths["clv"]["bgnbd"])
    assert {"p", "q", "gamma"} <= set(truths["clv"]["gamma_gamma"])
    for theme in truths["themes"].values():
        assert theme["keywords"] and set(theme["match"]) == {"en", "es", "de", "fr"}


# --------------------------------------------------------------------------------------------------
# The contract
# --------------------------------------------------------------------------------------------------


def test_columns_and_types_follow_the_contract(arrow: dict[str, pa.Table]) -> None:
    for name, table in arrow.items():
        spec = TABLES[name]
        for column in spec.columns:
            if column.required:
                assert column.name in table.column_names, (name, column.name)
            if column.name in table.column_names:
                assert table.schema.field(column.name).type == ARROW_TYPES[column.type], (name, column.name)
                assert table.column(column.name).null_count < table.num_rows, (name, column.name)
        for column in spec.required:
            assert table.column(column).null_count == 0, (name, column)
        filled = sum(c in table.column_names for c in spec.column_names) / len(spec.column_names)
        assert filled == 1.0, name
    extras = {"customers": "age_band", "responses": "q_delivery", "orders": "items"}
    for name, column in extras.items():
        assert column in arrow[name].column_names
    assert arrow["responses"].schema.field("q_value").type == pa.int64()


def test_touchpoints_reference(company: DemoCompany, df: dict[str, pd.DataFrame]) -> None:
    tp = company.touchpoints.to_pandas()
    assert list(tp.columns) == list(TABLES["touchpoints"].column_names)
    assert tp.touchpoint.is_unique
    assert set(tp.stage) == set(company.truths()["journey"]["stages"])
    assert {"web", "app", "phone", "email", "chat", "store"} <= set(tp.channel)
    assert tp.direct.any() and (~tp.direct).any()
    ref = tp.set_index("touchpoint")
    events = df["interactions"]
    assert set(events.touchpoint) <= set(tp.touchpoint)
    assert (events.stage.to_numpy() == ref.stage[events.touchpoint].to_numpy()).all()
    assert (events.channel.to_numpy() == ref.channel[events.touchpoint].to_numpy()).all()
    assert set(events.stage) == set(tp.stage)
    assert set(df["responses"].touchpoint) <= set(tp.touchpoint)


def test_keys_are_unique_and_foreign_keys_valid(df: dict[str, pd.DataFrame]) -> None:
    customers = df["customers"]
    assert customers.customer_id.is_unique
    assert customers.customer_id.str.fullmatch(r"C\d{7}").all()
    for name in TABLE_NAMES:
        key = TABLES[name].key
        assert df[name][key].is_unique, name
        if name != "customers":
            assert df[name].customer_id.isin(customers.customer_id).all(), name


def test_values_respect_the_rules(df: dict[str, pd.DataFrame]) -> None:
    r, t, o, s, i = (df[n] for n in ("responses", "tickets", "orders", "subscriptions", "interactions"))
    assert r.nps.dropna().between(0, 10).all() and r.nps.notna().any()
    assert r.csat.dropna().between(1, 5).all() and r.csat.notna().any()
    assert r.ces.dropna().between(1, 7).all() and r.ces.notna().any()
    for q in ("q_value", "q_reliability", "q_delivery"):
        assert r[q].dropna().between(1, 5).all()
    assert r[["nps", "csat", "ces"]].notna().any(axis=1).all()
    assert set(r.language) <= {"en", "es", "de", "fr"}
    assert (t.first_response_at.dropna() >= t.created_at[t.first_response_at.notna()]).all()
    assert (t.resolved_at.dropna() >= t.created_at[t.resolved_at.notna()]).all()
    assert (t.contacts >= 0).all() and t.reopened.dtype == bool
    assert (t.status[t.resolved_at.isna()].isin(["open", "pending"])).all()
    assert (t.status[t.resolved_at.notna()].isin(["resolved", "closed"])).all()
    assert (s.ended_at.dropna() >= s.started_at[s.ended_at.notna()]).all()
    assert (s.mrr >= 0).all() and (o.amount >= 0).all() and (o.currency == "EUR").all()
    assert (i.duration_ms.dropna() >= 0).all()
    for text in i.properties.dropna().sample(2000, random_state=1):
        assert isinstance(json.loads(text), dict)
    oldest = NOW_NAIVE - pd.Timedelta(days=731)
    for name, table in df.items():
        for column in table.columns:
            if pd.api.types.is_datetime64_any_dtype(table[column]):
                values = table[column].dropna()
                assert (values <= NOW_NAIVE).all() and (values >= oldest).all(), (name, column)


def test_journey_has_realistic_drop_off(df: dict[str, pd.DataFrame], truths: dict) -> None:
    events = df["interactions"]
    reached = events.groupby("stage").customer_id.nunique() / CUSTOMERS
    order = truths["journey"]["stages"]
    assert reached["Awareness"] == 1.0
    for earlier, later in zip(order[:3], order[1:4], strict=True):
        assert reached[later] < reached[earlier], (earlier, later)
    assert reached["Retention/Service"] <= reached["Onboarding"]
    assert reached["Loyalty"] < reached["Retention/Service"]
    assert reached["Advocacy"] < reached["Retention/Service"]
    converted = df["subscriptions"].customer_id.nunique() / CUSTOMERS
    assert abs(converted - truths["journey"]["funnel"]["expected_purchase_share_of_customers"]) < 0.05


# --------------------------------------------------------------------------------------------------
# Planted truths, checked with plain pandas
# --------------------------------------------------------------------------------------------------


def test_detractors_churn_more(df: dict[str, pd.DataFrame], truths: dict) -> None:
    design = truths["planted"]["detractor_churn"]
    window = pd.Timedelta(days=design["window_days"])
    periods = df["subscriptions"].groupby("customer_id").ended_at
    churned_at = periods.max().where(periods.count() == periods.size())  # every period ended
    r = df["responses"]
    rel = r[(r.survey_id == design["survey_id"]) & (r.submitted_at <= NOW_NAIVE - window)].copy()
    end = rel.customer_id.map(churned_at)
    rel["churned"] = (end > rel.submitted_at) & (end <= rel.submitted_at + window)
    detractor = rel.churned[rel.nps <= 6].mean()
    promoter = rel.churned[rel.nps >= 9].mean()
    assert (rel.nps <= 6).sum() > 200 and (rel.nps >= 9).sum() > 200
    assert detractor - promoter >= 0.6 * design["designed_margin"]
    assert abs(detractor - design["detractor_churn_rate"]) < 0.07
    assert abs(promoter - design["promoter_churn_rate"]) < 0.04


def test_billing_errors_and_app_crashes_drive_detractors(df: dict[str, pd.DataFrame], truths: dict) -> None:
    design = truths["planted"]["theme_drivers"]
    r = df["responses"]
    rel = r[(r.survey_id == design["survey_id"]) & r.comment.notna()]
    detractor, promoter = rel.nps <= 6, rel.nps >= 9
    for theme in design["drivers_of_detractors"]:
        hit = mentions(rel.comment, terms(truths, theme))
        assert hit[detractor].mean() > 3 * hit[promoter].mean(), theme
        assert hit[detractor].mean() > 0.04, theme
        effect = design["effects"][theme]["expected_nps_score_effect"]
        assert rel.nps[hit].mean() - rel.nps[~hit].mean() < 0.6 * effect, theme
    speed = mentions(rel.comment, terms(truths, "great_speed"))
    assert speed[promoter].mean() > speed[detractor].mean()


def test_broken_web_checkout_causes_drop_off_and_complaints(df: dict[str, pd.DataFrame], truths: dict) -> None:
    design = truths["planted"]["broken_touchpoint"]
    start, end = pd.Timestamp(design["start"]), pd.Timestamp(design["end"])
    events = df["interactions"]
    checkout = events[events.touchpoint == design["touchpoint"]].groupby("customer_id").occurred_at.first()
    onboarded = set(events.customer_id[events.stage == design["next_stage"]])
    inside = (checkout >= start) & (checkout < end)
    reach = pd.Series(checkout.index.isin(list(onboarded)), index=checkout.index)
    assert inside.sum() >= 25
    assert reach[inside].mean() < reach[~inside].mean() - 0.3
    assert abs(reach[~inside].mean() - design["conversion_outside"]) < 0.05
    assert reach[inside].mean() < design["conversion_inside"] + 0.2
    failed = events[events.properties.str.contains('"error":"HTTP_500"', regex=False, na=False)]
    assert len(failed) > 0 and failed.occurred_at.between(start, end).all()
    tickets = df["tickets"]
    about = tickets[tickets.topic == design["ticket_topic"]]
    days_inside = (end - start).days + 2
    in_window = about.created_at.between(start, end + pd.Timedelta(days=2))
    per_day_inside = in_window.sum() / days_inside
    per_day_outside = (~in_window).sum() / (730 - days_inside)
    assert per_day_inside > 5 * per_day_outside
    r = df["responses"]
    ces = r[(r.survey_id == "ces-checkout") & (r.touchpoint == design["touchpoint"]) & r.comment.notna()]
    complaint = mentions(ces.comment, terms(truths, design["complaint_theme"]))
    ces_inside = ces.submitted_at.between(start, end)
    assert complaint[ces_inside].mean() > complaint[~ces_inside].mean() + 0.2


def test_login_code_issue_emerges_in_the_last_week(df: dict[str, pd.DataFrame], truths: dict) -> None:
    design = truths["planted"]["emerging_issue"]
    start = pd.Timestamp(design["start"])
    assert NOW_NAIVE - start == pd.Timedelta(days=7)
    tickets = df["tickets"]
    recent = tickets.created_at >= start
    share_recent = (tickets.topic[recent] == design["ticket_topic"]).mean()
    share_before = (tickets.topic[~recent] == design["ticket_topic"]).mean()
    assert share_recent > 0.4 and share_before < 0.02
    assert share_recent > 0.5 * design["expected_ticket_share_in_window"]
    pattern = "|".join(re.escape(s) for v in design["match"].values() for s in v)
    comments = df["responses"].dropna(subset=["comment"])
    hit = mentions(comments.comment, pattern)
    recent_comments = comments.submitted_at >= start
    assert hit[recent_comments].mean() > 0.2 and hit[~recent_comments].mean() < 0.01
    events = df["interactions"]
    failed = events[events.properties.str.contains("code_not_received", regex=False, na=False)]
    assert (failed.occurred_at >= start).mean() > 0.8


def test_segment_and_channel_differences(df: dict[str, pd.DataFrame], truths: dict) -> None:
    design = truths["planted"]["segment_channel"]
    r = df["responses"].merge(df["customers"][["customer_id", "segment"]], on="customer_id")
    rel = r[r.survey_id == "nps-relationship"]
    by_segment = rel.groupby("segment").nps.apply(nps)
    assert by_segment["enterprise"] - by_segment["consumer"] > 0.4 * design["enterprise_minus_consumer_nps"]
    support = r[r.survey_id == "csat-support"]
    top_box = support.groupby("channel").csat.apply(lambda x: (x >= 4).mean())
    counts = support.channel.value_counts()
    assert top_box["phone"] == top_box[counts[counts >= 100].index].min()
    assert top_box["chat"] - top_box["phone"] > 0.15
    for channel, expected in design["expected_support_csat_top_box_by_channel"].items():
        margin = 3 * np.sqrt(expected * (1 - expected) / counts[channel]) + 0.05  # designed, before churn
        assert abs(top_box[channel] - expected) < margin, channel


def test_long_resolution_lowers_post_ticket_csat(df: dict[str, pd.DataFrame], truths: dict) -> None:
    tickets = df["tickets"].dropna(subset=["resolved_at"]).copy()
    tickets["hours"] = (tickets.resolved_at - tickets.created_at).dt.total_seconds() / 3600
    r = df["responses"]
    support = r[r.survey_id == truths["planted"]["resolution_csat"]["survey_id"]].sort_values("submitted_at")
    joined = pd.merge_asof(support, tickets.sort_values("resolved_at")[["customer_id", "resolved_at", "hours"]],
                           left_on="submitted_at", right_on="resolved_at", by="customer_id", direction="backward")
    fast = joined.csat[joined.hours <= 24]
    slow = joined.csat[joined.hours > 72]
    assert len(slow) > 50 and len(fast) > 200
    assert fast.mean() - slow.mean() > 0.5
    assert (fast >= 4).mean() - (slow >= 4).mean() > 0.2
    assert joined[["csat", "hours"]].corr(method="spearman").iloc[0, 1] < -0.15


def test_orders_follow_the_designed_purchase_process(df: dict[str, pd.DataFrame], truths: dict) -> None:
    orders, subs = df["orders"], df["subscriptions"]
    first_order = orders.groupby("customer_id").ordered_at.min()
    first_period = subs.groupby("customer_id").started_at.min()
    assert set(first_order.index) == set(first_period.index)
    assert (first_order[first_period.index] == first_period).all()
    gg = truths["clv"]["gamma_gamma"]
    assert abs(orders.amount.mean() - gg["mean_order_value"]) < 0.15 * gg["mean_order_value"]
    bg = truths["clv"]["bgnbd"]
    repeat = orders.groupby("customer_id").size() - 1
    assert 0.5 < repeat.mean() < 6 and (repeat == 0).mean() > 0.2
    assert bg["time_unit"] == "days"


# --------------------------------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------------------------------


def test_comment_text_is_varied(df: dict[str, pd.DataFrame], truths: dict) -> None:
    r = df["responses"]
    comments = r.comment.dropna()
    assert 0.3 < r.comment.isna().mean() < 0.8
    sample = comments.head(2000)
    assert len(sample) >= 1500
    assert sample.nunique() / len(sample) >= 0.7
    assert sample.str.split().str[0].str.lower().nunique() >= 60
    assert (comments.str.len() < 15).any() and (comments.str.len() > 150).any()
    letters = comments.str.replace(r"[^A-Za-z]", "", regex=True)
    assert (letters.str.len().gt(20) & (letters == letters.str.upper())).sum() >= 5  # ALL CAPS rants
    assert comments.str.contains("[\U0001F300-\U0001FAFF]", regex=True).sum() >= 10  # emoji
    languages = r.language[r.comment.notna()].value_counts(normalize=True)
    assert set(languages.index) == {"en", "es", "de", "fr"}
    assert 0.05 < 1 - languages["en"] < 0.3
    german = r.comment[(r.language == "de") & r.comment.notna()]
    assert not german.str.contains(r"\b(?:the|and|with|my)\b", case=False, regex=True).any()
    german_words = r"[äöüß]|\b(?:die|der|das|ich|nicht|und|sehr|gut)\b"
    assert german.str.contains(german_words, case=False, regex=True).mean() > 0.4
    tickets = df["tickets"]
    assert tickets.subject.notna().all() and tickets.description.notna().all()
    assert tickets.description.nunique() / len(tickets) > 0.6


def test_every_theme_clause_carries_its_match_string() -> None:
    for code in lang.languages():
        g = lang.grammar(code)
        for theme, clauses in g.clauses.items():
            for clause in clauses:
                assert any(m in clause.lower() for m in g.match[theme]), (code, theme, clause)


def test_checked_themes_do_not_leak_into_other_text(truths: dict) -> None:
    checked = ("billing_errors", "app_crashes", "checkout_failure", "login_codes")
    topic_of = {theme: topic for topic, theme in lang.TOPIC_THEME.items()}
    for theme in checked:
        pattern = re.compile(terms(truths, theme))
        allowed = {f"clause:{theme}", f"subject:{topic_of[theme]}"}
        for code in lang.languages():
            for where, texts in lang.grammar(code).texts().items():
                if where in allowed:
                    continue
                for text in texts:
                    assert not pattern.search(text.lower()), (theme, code, where, text)


def test_timestamps_are_naive_utc_seconds(arrow: dict[str, pa.Table]) -> None:
    created = arrow["customers"].column("created_at").to_numpy()
    assert created.dtype == np.dtype("datetime64[us]")
    assert (created.astype("int64") % 1_000_000 == 0).all()
    assert NOW_NAIVE - pd.Timestamp(created.max()) < timedelta(days=30)
