"""Dashboards: every figure is the runner's, user text is escaped, explorer and customer 360 work."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import UTC, datetime, time

from .conftest import UNTIL, WebApp, bearer, require_web

require_web()

AS_OF = datetime.combine(datetime.fromisoformat(UNTIL).date(), time.max, tzinfo=UTC)


def kpi_value(page: str, metric: str) -> str:
    card = re.search(rf'data-metric="{metric}">(.*?)</article>', page, re.S)
    assert card, f"no card for {metric}"
    found = re.search(r'<div class="value">([^<]+)', card.group(1))
    assert found
    return found.group(1).strip()


def test_overview_shows_the_runners_figures(app: WebApp) -> None:
    from cxlens.web.projects import POOL

    r = app.client("vic").get(f"/p/main/?period=365&until={UNTIL}")
    assert r.status_code == 200
    page = r.content.decode()
    with POOL.use(app.projects["main"]) as ws:
        for metric in ("nps", "csat", "ces", "churn", "first_response_time", "fcr"):
            result = ws.metric(metric, now=AS_OF, since="2025-11-24", until=UNTIL, compare="previous")
            row = result.to_records()[0]
            assert kpi_value(page, metric) == f"{row['value']:.1f}", metric
        volume = ws.metric("responses", now=AS_OF, since="2025-11-24", until=UNTIL).to_records()[0]
    assert kpi_value(page, "responses") == f"{volume['value']:.0f}"
    assert "2025-11-24 to 2026-11-23" in page or "Nov. 24, 2025 to Nov. 23, 2026" in page
    assert page.count('<svg class="chart"') == 4
    assert "What changed significantly" in page


def test_overview_of_an_empty_project(app: WebApp) -> None:
    page = app.client("oscar").get("/p/other/?period=30").content.decode()
    assert kpi_value(page, "nps") == "–"
    assert "No data in this range." in page
    assert "No metric moved significantly" in page


def test_overview_rejects_unknown_periods(app: WebApp) -> None:
    r = app.client("vic").get("/p/main/?period=7")
    assert r.status_code == 400 and b"must be one of 30, 90, 180, 365" in r.content


def test_user_text_is_escaped_everywhere(app: WebApp) -> None:
    attack = '<script>alert("owned")</script>'
    ingest = app.client().post("/api/projects/main/ingest/customers", {"rows": [
        {"customer_id": "xss-1", "email": "xss@example.com", "name": attack, "segment": attack}]},
        content_type="application/json", headers=bearer(app.keys["ingest"]))
    assert ingest.json()["accepted"] == 1
    app.client().post("/api/projects/main/ingest/responses", {"rows": [
        {"response_id": "xss-r1", "customer_id": "xss-1", "submitted_at": "2026-11-20", "nps": 2,
         "comment": attack, "touchpoint": attack}]},
        content_type="application/json", headers=bearer(app.keys["ingest"]))
    c = app.client("vic")
    pages = [
        c.get("/p/main/customers/xss-1/").content.decode(),
        c.get("/p/main/customers/?q=xss").content.decode(),
        c.get(f"/p/main/explore/?metric=nps&by=touchpoint&since=2026-11-01&until={UNTIL}").content.decode(),
        c.get(f"/p/main/explore/?metric=nps&by=segment&grain=month&since=2026-11-01&until={UNTIL}").content.decode(),
        c.get(f"/p/main/explore/?metric=nps&by={attack}").content.decode(),
    ]
    for page in pages:
        assert "<script>" not in page
    assert html.escape(attack, quote=False).replace('"', "&quot;") in pages[0]
    assert "&lt;script&gt;" in pages[2] and "&lt;script&gt;" in pages[3]


def test_explorer_table_chart_and_csv_export(app: WebApp) -> None:
    from cxlens.web.projects import POOL

    c = app.client("vic")
    query = f"metric=csat&by=segment&grain=quarter&since=2025-07-01&until={UNTIL}&where=country%3DDE%0Acountry%3DFR"
    page = c.get(f"/p/main/explore/?{query}").content.decode()
    assert '<table class="table" id="result-table">' in page and '<svg class="chart"' in page
    export = c.get(f"/p/main/explore/?{query}&format=csv")
    assert export["Content-Type"].startswith("text/csv")
    assert 'filename="main-csat.csv"' in export["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(export.content.decode())))
    with POOL.use(app.projects["main"]) as ws:
        expected = ws.metric("csat", now=datetime.now(UTC), by="segment", grain="quarter", since="2025-07-01",
                             until=UNTIL, where={"country": ["DE", "FR"]}).to_records()
    assert len(rows) == len(expected) > 0
    assert [(r["segment"], r["period"], r["n"]) for r in rows] == [(e["segment"], e["period"], str(e["n"]))
                                                                   for e in expected]
    assert [float(r["value"]) for r in rows if r["value"]] == [e["value"] for e in expected if e["value"] is not None]


def test_explorer_figures_are_cached_until_new_data_arrives(app: WebApp) -> None:
    import pandas as pd

    from cxlens.web.projects import POOL

    c = app.client("vic")
    query = "metric=responses&since=2021-03-01&until=2021-03-31&format=csv"

    def n() -> int:
        rows = list(csv.DictReader(io.StringIO(c.get(f"/p/main/explore/?{query}").content.decode())))
        return sum(int(r["n"]) for r in rows)

    before = n()
    assert n() == before  # the same figure again (from the cache)
    with POOL.use(app.projects["main"]) as ws:
        ws.import_data("responses", pd.DataFrame({"response_id": ["cache-1", "cache-2"],
                                                  "submitted_at": ["2021-03-10T10:00:00Z"] * 2, "nps": [9, 3]}))
    assert n() == before + 2  # a new import is a new data version: recomputed at once


def test_explorer_explains_bad_input(app: WebApp) -> None:
    r = app.client("vic").get("/p/main/explore/?metric=nps&since=last+tuesday")
    assert r.status_code == 400
    assert b'id="explorer-error"' in r.content and b"since" in r.content
    r = app.client("vic").get("/p/main/explore/?metric=nps&where=country")
    assert r.status_code == 400 and b"COLUMN=VALUE" in r.content


def test_customer_search_and_profile(app: WebApp) -> None:
    from cxlens.web.projects import POOL

    c = app.client("vic")
    with POOL.use(app.projects["main"]) as ws:
        email = ws.table("customers").filter(lambda t: t.customer_id == "C0000004").email.execute().iloc[0]
    r = c.get(f"/p/main/customers/?q={email.upper()}")
    assert r.status_code == 302 and r["Location"] == "/p/main/customers/C0000004/"
    page = c.get("/p/main/customers/C0000004/").content.decode()
    assert "Timeline" in page and email in page
    assert c.get("/p/main/customers/?q=C00000").content.decode().count("/p/main/customers/C00000") == 20
    assert b"No customer matches" in c.get("/p/main/customers/?q=nobody-at-all").content
    assert c.get("/p/main/customers/NOPE/").status_code == 404
    app.client().post("/api/projects/main/ingest/customers", {"rows": [{"customer_id": "no-orders-1"}]},
                      content_type="application/json", headers=bearer(app.keys["ingest"]))
    empty = c.get("/p/main/customers/no-orders-1/").content.decode()
    assert "<dt>revenue</dt><dd>–</dd>" in empty and "nan" not in empty
    assert "Nothing recorded for this customer yet." in empty


def test_customer_profile_shows_clv_once_fitted(app: WebApp) -> None:
    from cxlens.web.projects import POOL

    assert "No CLV model is fitted yet" in app.client("vic").get("/p/main/customers/C0000001/").content.decode()
    with POOL.use(app.projects["main"]) as ws:
        ws.clv_fit(until="2026-06-30", now=AS_OF)
        prediction = ws.clv_predict(horizon="52w").to_pandas()
    row = prediction[prediction["expected_value"].notna()].iloc[0]
    page = app.client("vic").get(f"/p/main/customers/{row['customer_id']}/").content.decode()
    assert "probability alive" in page
    assert f"{row['probability_alive']:.3f}" in page
    assert f"{row['expected_value']:,.2f}".replace(",", "") in page.replace(",", "")


def test_overview_looks_tables_up_once_without_changing_a_figure(app: WebApp) -> None:
    """The overview runs its metrics on tables looked up once; every figure equals Workspace.metric's."""
    from cxlens.web import pages
    from cxlens.web.projects import POOL

    window = pages.Window.parse("180", UNTIL, AS_OF)
    with POOL.use(app.projects["main"]) as ws:
        fast = pages.overview(ws, window)
        one_call_each = pages.Overview(
            window, tuple(pages.figure(ws, m, window, trend=True) for m in pages.HEADLINE),
            pages.figure(ws, "responses", window, trend=True), pages.figure(ws, "churn", window),
            tuple(pages.figure(ws, m, window) for m in pages.SERVICE), pages.significant_changes(ws, window))
    assert fast == one_call_each
    assert fast.headline[0].n > 0 and len(fast.headline[0].trend) >= 6
