"""Drill-down: every bar and point links to the rows behind it, and their number is the figure's n."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import UTC, datetime, time

from .conftest import UNTIL, WebApp, require_web

require_web()

AS_OF = datetime.combine(datetime.fromisoformat(UNTIL).date(), time.max, tzinfo=UTC)


def links(page: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(r'<a class="drill" href="([^"]+)"', page)]


def row_ids(page: str) -> list[str]:
    body = page.split('<table class="table" id="drill-table">', 1)[1].split("</table>", 1)[0]
    return re.findall(r"<tr><td>([^<]*)</td>", body)


def total(app: WebApp, url: str, user: str = "vic") -> int:
    r = app.client(user).get(url)
    assert r.status_code == 200, r.content[:1000]
    found = re.search(r'<strong id="drill-total">(\d+)</strong>', r.content.decode())
    assert found
    return int(found.group(1))


def test_explorer_bars_link_to_rows_as_many_as_n(app: WebApp) -> None:
    url = (f"/p/main/explore/?metric=nps&by=segment&since=2026-01-01&until={UNTIL}"
           f"&where=touchpoint%3Drelationship_survey")
    r = app.client("vic").get(url)
    assert r.status_code == 200
    page = r.content.decode()
    hrefs = links(page)
    assert hrefs and all(h.startswith("/p/main/responses/?metric=nps&by=segment&value=") for h in hrefs)
    from cxlens.web.projects import POOL

    with POOL.use(app.projects["main"]) as ws:
        result = ws.metric("nps", now=AS_OF, by="segment", since="2026-01-01", until=UNTIL,
                           where={"touchpoint": "relationship_survey"})
    assert len(hrefs) == len([r for r in result.rows if r.value is not None]) > 1
    for href, row in zip(hrefs, [r for r in result.rows if r.value is not None], strict=True):
        assert total(app, href) == row.n
    assert 'id="result-table"' in page  # the table is there too


def test_explorer_points_per_period_link_to_their_rows(app: WebApp) -> None:
    for metric, extra in (("csat", "&by=touchpoint&grain=quarter"), ("responses", "&grain=month"),
                          ("resolution_time", "&grain=month&by=channel"), ("fcr", "&grain=quarter")):
        url = f"/p/main/explore/?metric={metric}&since=2026-01-01&until={UNTIL}{extra}"
        page = app.client("vic").get(url).content.decode()
        hrefs = links(page)
        assert hrefs, metric
        from cxlens.web.projects import POOL

        params = dict(p.split("=") for p in extra.strip("&").split("&"))
        with POOL.use(app.projects["main"]) as ws:
            result = ws.metric(metric, now=AS_OF, since="2026-01-01", until=UNTIL, grain=params["grain"],
                               by=params.get("by", ()))
        shown = [r for r in result.rows if r.value is not None]
        assert len(hrefs) == len(shown)
        for href, row in list(zip(hrefs, shown, strict=True))[:4]:
            assert f"period={row.period.isoformat()}" in href
            assert total(app, href) == row.n, (metric, href)


def test_overview_trend_points_link_to_their_responses(app: WebApp) -> None:
    page = app.client("vic").get(f"/p/main/?period=365&until={UNTIL}").content.decode()
    hrefs = links(page)
    assert {re.search(r"metric=(\w+)", h).group(1) for h in hrefs} == {"nps", "csat", "ces", "responses"}
    from cxlens.web.projects import POOL

    with POOL.use(app.projects["main"]) as ws:
        monthly = ws.metric("nps", now=AS_OF, since="2025-11-01", until=UNTIL, grain="month")
    nps_links = [h for h in hrefs if "metric=nps" in h]
    assert len(nps_links) == len([r for r in monthly.rows if r.value is not None])
    for href, row in list(zip(nps_links, [r for r in monthly.rows if r.value is not None], strict=True))[-3:]:
        assert total(app, href) == row.n


def test_rows_page_lists_pages_and_exports_csv(app: WebApp) -> None:
    base = f"/p/main/responses/?metric=responses&since=2026-01-01&until={UNTIL}"
    first = app.client("vic").get(base).content.decode()
    n = int(re.search(r'<strong id="drill-total">(\d+)</strong>', first).group(1))
    assert n > 50
    ids_first = row_ids(first)
    assert len(ids_first) == 50
    assert '<a href="/p/main/customers/C' in first
    nxt = html.unescape(re.search(r'id="next-page" href="\?([^"]+)"', first.replace('class="button" ', "")).group(1))
    second = app.client("vic").get(f"/p/main/responses/?{nxt}").content.decode()
    ids_second = row_ids(second)
    assert ids_second and not set(ids_first) & set(ids_second)
    r = app.client("vic").get(base + "&format=csv")
    assert r["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.content.decode())))
    assert len(rows) == n
    assert [row["response_id"] for row in rows[:50]] == ids_first


def test_rows_page_explains_bad_requests_and_checks_access(app: WebApp) -> None:
    for query, message in (("metric=churn", "not a count of rows"), ("metric=nps&by=segment", "one &#x27;value&#x27;"),
                           ("", "is missing"), ("metric=nps&grain=month&period=soon", "first day"),
                           ("metric=nps&by=nope&value=x", "Unknown column &#x27;nope&#x27;")):
        r = app.client("vic").get(f"/p/main/responses/?{query}")
        assert r.status_code == 400, query
        assert message in r.content.decode(), (query, r.content[:600])
    assert app.client("oscar").get("/p/main/responses/?metric=nps").status_code == 404
    assert app.client().get("/p/main/responses/?metric=nps").status_code == 302
