"""The REST API: ingest through the import pipeline, metrics from the same runner as the CLI,
and roles/scopes enforced on every operation listed in the OpenAPI document."""

from __future__ import annotations

import re
from typing import Any

import pytest

from .conftest import NOW, UNTIL, WebApp, bearer, require_web

require_web()


def post_rows(app: WebApp, table: str, rows: list[dict[str, Any]], key: str = "ingest", **extra: Any) -> Any:
    return app.client().post(f"/api/projects/main/ingest/{table}", {"rows": rows, **extra},
                             content_type="application/json", headers=bearer(app.keys[key]))


def status_rows(app: WebApp, table: str) -> int:
    body = app.client().get("/api/projects/main/status", headers=bearer(app.keys["read"])).json()
    return {t["table"]: t for t in body["tables"]}[table]["rows"]


def test_ingest_validates_quarantines_and_is_idempotent(app: WebApp) -> None:
    before = status_rows(app, "responses")
    rows = [
        {"response_id": "api-r1", "submitted_at": "2026-11-20T09:30:00", "customer_id": "C0000001", "nps": 10,
         "comment": "Quick fix"},
        {"response_id": "api-r2", "submitted_at": "2026-11-21", "nps": "3", "touchpoint": "support_chat"},
        {"response_id": "api-r3", "submitted_at": "2026-11-21", "nps": 11},
        {"response_id": "api-r4", "submitted_at": "not a date", "nps": 5},
    ]
    first = post_rows(app, "responses", rows, source="pytest batch")
    assert first.status_code == 200, first.content
    report = first.json()
    assert {k: report[k] for k in ("table", "read", "accepted", "rejected", "duplicates", "source")} == {
        "table": "responses", "read": 4, "accepted": 2, "rejected": 2, "duplicates": 0, "source": "pytest batch"}
    assert status_rows(app, "responses") == before + 2  # durable before the answer: visible at once
    quarantined = app.client().get(f"/api/projects/main/quarantine/responses?import_id={report['import_id']}",
                                   headers=bearer(app.keys["read"])).json()
    assert sorted((q["line"], q["column_name"]) for q in quarantined) == [(3, "nps"), (4, "submitted_at")]
    again = post_rows(app, "responses", rows).json()
    assert (again["accepted"], again["duplicates"], again["rejected"]) == (0, 2, 2)
    assert status_rows(app, "responses") == before + 2


def test_ingest_conflicts_follow_on_conflict(app: WebApp) -> None:
    post_rows(app, "customers", [{"customer_id": "api-c1", "segment": "smb"}])
    changed = [{"customer_id": "api-c1", "segment": "enterprise"}]
    rejected = post_rows(app, "customers", changed).json()
    assert (rejected["conflicts"], rejected["rejected"], rejected["updated"]) == (1, 1, 0)
    updated = post_rows(app, "customers", changed, on_conflict="update").json()
    assert (updated["conflicts"], updated["updated"]) == (1, 1)


def test_json_values_of_every_kind_become_text(app: WebApp) -> None:
    r = post_rows(app, "interactions", [{
        "event_id": "api-e1", "customer_id": "C0000002", "occurred_at": "2026-11-22T08:00:00", "touchpoint": "tv_app",
        "properties": {"screen": "home", "items": [1, 2]}, "duration_ms": 1200, "flagged": True}])
    assert r.status_code == 200 and r.json()["accepted"] == 1
    assert r.json()["new_columns"] == ["flagged"]


@pytest.mark.parametrize("options", [
    {},
    {"by": ["segment"], "grain": "quarter", "since": "2025-06-01"},
    {"by": ["touchpoint"], "compare": "previous", "since": "2026-08-01", "until": UNTIL},
    {"where": {"country": ["DE", "FR"]}, "confidence": 0.9},
])
def test_metrics_equal_the_python_api(app: WebApp, options: dict[str, Any]) -> None:
    from cxlens.web.projects import POOL

    query: list[tuple[str, str]] = [("now", NOW.isoformat())]
    for name, value in options.items():
        if name == "where":
            query += [("where", f"{col}={v}") for col, vals in value.items() for v in vals]
        elif isinstance(value, list):
            query += [(name, v) for v in value]
        else:
            query.append((name, str(value)))
    qs = "&".join(f"{k}={v}" for k, v in query).replace("+", "%2B")
    r = app.client().get(f"/api/projects/main/metrics/nps?{qs}", headers=bearer(app.keys["read"]))
    assert r.status_code == 200, r.content
    with POOL.use(app.projects["main"]) as ws:
        expected = ws.metric("nps", now=NOW, **options)
    assert r.json()["rows"] == expected.to_records()
    assert r.json()["definition"] == expected.definition
    assert len(expected.rows) > 0


def test_file_import_endpoint(app: WebApp, tmp_path: Any) -> None:
    data = tmp_path / "orders.csv"
    data.write_text("order_id,customer_id,ordered_at,amount\nAPI-O1,C0000003,2026-11-01,19.90\n"
                    "API-O2,C0000003,2026-11-02,abc\n")
    with data.open("rb") as fh:
        r = app.client().post("/api/projects/main/imports", {"table": "orders", "file": fh},
                              headers=bearer(app.keys["ingest"]))
    assert r.status_code == 200, r.content
    report = r.json()
    assert (report["source"], report["format"], report["accepted"], report["rejected"]) == ("orders.csv", "csv", 1, 1)


def test_customer_profile_endpoint(app: WebApp) -> None:
    body = app.client().get("/api/projects/main/customers/C0000001", headers=bearer(app.keys["read"])).json()
    assert body["customer_id"] == "C0000001"
    assert body["counts"]["interactions"] > 0
    times = [e["at"] for e in body["timeline"]]
    assert times == sorted(times, reverse=True)


def test_projects_list_per_caller(app: WebApp) -> None:
    assert [p["slug"] for p in app.client().get("/api/projects", headers=bearer(app.keys["other"])).json()] == ["other"]
    assert [p["slug"] for p in app.client("ana").get("/api/projects").json()] == ["main"]
    assert [p["slug"] for p in app.client("oscar").get("/api/projects").json()] == ["other"]


# ------------------------------------------------------------------ every operation is guarded


def operations(app: WebApp) -> list[tuple[str, str, dict[str, Any]]]:
    doc = app.client().get("/api/openapi.json").json()
    return [(method, path, op) for path, item in doc["paths"].items() for method, op in item.items()]


def concrete(path: str) -> str:
    values = {"project": "main", "table": "responses", "metric": "nps", "customer_id": "C0000001",
              "journey": "default"}
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), "1"), path)  # other ids: any value


def test_openapi_document(app: WebApp) -> None:
    doc = app.client().get("/api/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    paths = set(doc["paths"])
    assert {"/api/projects/{project}/ingest/{table}", "/api/projects/{project}/metrics/{metric}",
            "/api/projects/{project}/imports", "/api/projects/{project}/status"} <= paths
    for method, path, op in operations(app):
        assert op.get("security"), f"{method} {path} declares no authentication"
        assert "401" in op["responses"] and "403" in op["responses"], f"{method} {path}"


def test_every_operation_refuses_anonymous_callers(app: WebApp) -> None:
    for method, path, _op in operations(app):
        r = getattr(app.client(), method)(concrete(path))
        assert r.status_code == 401, f"{method} {path}: {r.status_code}"
        assert r.json()["error"]["code"] == "not_authenticated"


def valid_body(method: str, path: str) -> dict[str, Any]:
    """A well-formed body, so that only the permission can fail (validation runs before the operation)."""
    if method != "post":
        return {}
    if path.endswith("/imports"):
        from django.core.files.uploadedfile import SimpleUploadedFile

        return {"data": {"table": "responses", "file": SimpleUploadedFile("g.csv", b"response_id,submitted_at\n")}}
    return {"data": {"rows": [{"response_id": "guard"}]}, "content_type": "application/json"}


def test_every_operation_enforces_its_permission(app: WebApp) -> None:
    """A viewer and a read-only key may call GET operations only; an ingest-only key no GET operation;
    operations that need 'manage' nobody of these."""
    for method, path, _op in operations(app):
        url = concrete(path)
        for caller in ("viewer", "read-key", "ingest-key"):
            client = app.client("vic") if caller == "viewer" else app.client()
            headers = {} if caller == "viewer" else bearer(app.keys["read" if caller == "read-key" else "ingest"])
            r = getattr(client, method)(url, headers=headers, **valid_body(method, path))
            # Operations that need 'manage' (an admin's session) are refused to every key and to a viewer.
            manage = "Needs 'manage'" in (_op.get("description") or "")
            allowed = not manage and (method == "get") != (caller == "ingest-key")
            if path == "/api/projects":  # lists what the caller may see; needs no permission
                continue
            if allowed:
                assert r.status_code != 403, f"{caller} {method} {path}: {r.content!r}"
            else:
                assert r.status_code == 403, f"{caller} {method} {path}: {r.status_code} {r.content!r}"
                assert r.json()["error"]["code"] == "forbidden"


# ------------------------------------------------------------------ journeys, themes, drill-down


NOW_Q = NOW.isoformat().replace("+", "%2B")


def as_json(value: Any) -> Any:
    import json

    return json.loads(json.dumps(value, default=str))


def test_funnel_of_a_journey_equals_the_python_api(app: WebApp) -> None:
    from cxlens.web import pages
    from cxlens.web.projects import POOL

    read = bearer(app.keys["read"])
    r = app.client().get(f"/api/projects/main/funnels/default?window=30d&now={NOW_Q}", headers=read)
    assert r.status_code == 200, r.content
    with POOL.use(app.projects["main"]) as ws:
        steps = ",".join(pages.journey_steps(ws, "default"))
        expected = ws.funnel(steps, journey="default", window="30d", now=NOW)
    assert r.json() == {"journey": "default", **as_json(expected.to_dict())}
    assert [s["label"] for s in r.json()["groups"][0]["steps"]][0] == "stage:Awareness"
    qs = "steps=plans_page,web_checkout&by=segment&window=14d&order=strict&grain=quarter&since=2026-01-01"
    r = app.client().get(f"/api/projects/main/funnels/default?{qs}&now={NOW_Q}", headers=read)
    assert r.status_code == 200, r.content
    with POOL.use(app.projects["main"]) as ws:
        expected = ws.funnel("plans_page,web_checkout", journey="default", window="14d", order="strict",
                             by="segment", grain="quarter", since="2026-01-01", now=NOW)
    assert r.json()["groups"] == as_json(expected.to_dict())["groups"] and len(r.json()["groups"]) > 1
    bad = app.client().get("/api/projects/main/funnels/nope", headers=read)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "unknown_name"
    assert "Unknown journey 'nope'" in bad.json()["error"]["message"]
    bad = app.client().get("/api/projects/main/funnels/default?window=soon", headers=read)
    assert bad.status_code == 400 and "window" in bad.json()["error"]["message"]


def test_journey_map_equals_the_python_api(app: WebApp) -> None:
    from cxlens.web.projects import POOL

    r = app.client().get(f"/api/projects/main/journey-map?since=2026-01-01&now={NOW_Q}",
                         headers=bearer(app.keys["read"]))
    assert r.status_code == 200, r.content
    with POOL.use(app.projects["main"]) as ws:
        expected = ws.journey_map(since="2026-01-01", now=NOW)
    assert r.json() == as_json(expected.to_dict())
    assert [s["stage"] for s in r.json()["stages"]][:2] == ["Awareness", "Consideration"]


def test_themes_before_a_model_is_fitted(app: WebApp) -> None:
    r = app.client().get("/api/projects/other/themes", headers=bearer(app.keys["other"]))
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found" and "cxlens text themes" in r.json()["error"]["message"]


def test_responses_behind_a_figure(app: WebApp) -> None:
    from cxlens.web.projects import POOL

    read = bearer(app.keys["read"])
    with POOL.use(app.projects["main"]) as ws:
        result = ws.metric("csat", now=NOW, by="touchpoint", grain="quarter", since="2026-01-01")
    checked = 0
    for row in result.rows[:5]:
        (col, value), = row.groups
        qs = (f"metric=csat&by=touchpoint&value={value}&grain=quarter&period={row.period}&since=2026-01-01"
              f"&limit=3&now={NOW_Q}")
        body = app.client().get(f"/api/projects/main/responses?{qs}", headers=read).json()
        assert body["total"] == row.n and len(body["rows"]) == min(3, row.n)
        assert body["group"] == {"touchpoint": value} and body["period"] == row.period.isoformat()
        assert all(r["touchpoint"] == value and r["csat"] is not None for r in body["rows"])
        checked += 1
    assert checked
    everything = app.client().get(f"/api/projects/main/responses?metric=responses&limit=1000&now={NOW_Q}",
                                  headers=read).json()
    paged = app.client().get(f"/api/projects/main/responses?metric=responses&limit=7&offset=7&now={NOW_Q}",
                             headers=read).json()
    assert paged["total"] == everything["total"]
    assert paged["rows"] == everything["rows"][7:14]
    assert isinstance(paged["rows"][0]["submitted_at"], str)
    for qs, field in (("metric=nps&by=segment", "value"), ("metric=churn", None), ("", "metric")):
        bad = app.client().get(f"/api/projects/main/responses?{qs}", headers=read)
        assert bad.status_code == 400, qs
        assert bad.json()["error"]["field"] == field, bad.json()


def test_openapi_documents_the_query_operations(app: WebApp) -> None:
    doc = app.client().get("/api/openapi.json").json()
    for path, schema in (("/api/projects/{project}/funnels/{journey}", "FunnelOut"),
                         ("/api/projects/{project}/journey-map", "JourneyMapOut"),
                         ("/api/projects/{project}/themes", "ThemesOut"),
                         ("/api/projects/{project}/responses", "ResponsesOut")):
        op = doc["paths"][path]["get"]
        assert op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(schema)
        assert "400" in op["responses"] and "404" in op["responses"]
    components = doc["components"]["schemas"]
    assert "median_seconds" in components["FunnelStepOut"]["properties"]
    assert "total" in components["ResponsesOut"]["properties"]


# ------------------------------------------------------------------ found by tests/web/test_schemathesis.py


@pytest.mark.parametrize("delimiter", ["ab", "null", '"', "\n"])
def test_file_import_refuses_a_delimiter_it_cannot_use(app: WebApp, tmp_path: Any, delimiter: str) -> None:
    """A delimiter of several characters (or a quote, or a line break) was a 500 from deep in the CSV reader."""
    data = tmp_path / "orders.csv"
    data.write_text("order_id,customer_id,ordered_at,amount\nAPI-D1,C0000003,2026-11-01,19.90\n")
    with data.open("rb") as fh:
        r = app.client().post("/api/projects/main/imports", {"table": "orders", "file": fh, "delimiter": delimiter},
                              headers=bearer(app.keys["ingest"]))
    assert r.status_code == 422, r.content
    assert r.json()["error"]["code"] == "validation_error" and r.json()["error"]["field"] == "delimiter"
    with data.open("rb") as fh:
        ok = app.client().post("/api/projects/main/imports", {"table": "orders", "file": fh, "delimiter": ","},
                               headers=bearer(app.keys["ingest"]))
    assert ok.status_code == 200 and ok.json()["read"] == 1, ok.content


def test_every_operation_documents_the_rate_limit(app: WebApp) -> None:
    """Any operation may answer 429 (CXLENS_API_RATE); the document said so for none."""
    for method, path, op in operations(app):
        assert "429" in op["responses"], f"{method} {path}"
        assert op["responses"]["429"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorOut")


def test_case_conflict_is_a_documented_409(app: WebApp) -> None:
    """Opening a second case for the same customer and reason answers 409, which the document did not list."""
    import json

    body = json.dumps({"customer_id": "api-dup-1", "reason": "api duplicate check", "title": "first"})
    c, key = app.client(), bearer(app.keys["both"])
    first = c.post("/api/projects/main/loop/cases", body, content_type="application/json", headers=key)
    assert first.status_code == 201, first.content
    again = c.post("/api/projects/main/loop/cases", body, content_type="application/json", headers=key)
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict", again.content
    doc = c.get("/api/openapi.json").json()["paths"]
    assert "409" in doc["/api/projects/{project}/loop/cases"]["post"]["responses"]
    assert "409" in doc["/api/projects/{project}/loop/cases/{case_id}"]["patch"]["responses"]


def test_json_lines_file_with_bytes_that_are_not_utf8(app: WebApp, tmp_path: Any) -> None:
    """Lines that are not UTF-8 are quarantined one by one; the other lines are imported (was: a 500)."""
    good = b'{"subscription_id": "API-U%d", "customer_id": "C0000004", "started_at": "2026-11-0%d", "plan": "basic"}\n'
    data = tmp_path / "subs.jsonl"
    data.write_bytes(good % (1, 1) + b"\xce\n" + good % (2, 2) + b"-\xce")
    with data.open("rb") as fh:
        r = app.client().post("/api/projects/main/imports", {"table": "subscriptions", "file": fh},
                              headers=bearer(app.keys["ingest"]))
    assert r.status_code == 200, r.content
    assert (r.json()["read"], r.json()["accepted"], r.json()["rejected"]) == (4, 2, 2)


def test_multipart_body_without_a_boundary_is_a_400(app: WebApp) -> None:
    """Content-Type multipart/form-data without its boundary was a 500 (Django's MultiPartParserError)."""
    r = app.client().post("/api/projects/main/imports", b"table=orders", content_type="multipart/form-data",
                          headers=bearer(app.keys["ingest"]))
    assert r.status_code == 400, r.content
    assert r.json()["error"]["code"] == "invalid_multipart" and "boundary" in r.json()["error"]["message"]


def test_body_over_the_upload_limit_is_a_400(app: WebApp) -> None:
    """A body over DATA_UPLOAD_MAX_MEMORY_SIZE was a 500 (Django's RequestDataTooBig)."""
    from django.test import override_settings

    with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1024):
        r = post_rows(app, "responses", [{"response_id": f"api-big-{i}", "comment": "x" * 50} for i in range(40)])
    assert r.status_code == 400, r.content
    error = r.json()["error"]
    assert error["code"] == "request_too_large" and "smaller batches" in error["message"], error
