"""The one JSON error shape of the REST API, pinned: every failure answers
``{"error": {"code", "message", "field", "details"}}`` with a stable code and the right status."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import WebApp, bearer, require_web

require_web()


def assert_error(response: Any, status: int, code: str, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert list(body) == ["error"]
    error = body["error"]
    assert set(error) == {"code", "message", "field", "details"}
    assert error["code"] == code
    assert isinstance(error["message"], str) and len(error["message"]) > 20
    assert error["field"] == field
    return error


def test_not_authenticated(app: WebApp) -> None:
    error = assert_error(app.client().get("/api/projects"), 401, "not_authenticated")
    assert "Authorization: Bearer" in error["message"]


def test_wrong_key_is_not_authenticated(app: WebApp) -> None:
    forged = app.keys["both"][:-4] + "AAAA"
    assert_error(app.client().get("/api/projects", headers=bearer(forged)), 401, "not_authenticated")
    assert_error(app.client().get("/api/projects", headers=bearer("not-a-key")), 401, "not_authenticated")


def test_missing_scope_is_forbidden(app: WebApp) -> None:
    r = app.client().post("/api/projects/main/ingest/responses", {"rows": [{"response_id": "x"}]},
                          content_type="application/json", headers=bearer(app.keys["read"]))
    error = assert_error(r, 403, "forbidden")
    assert error["details"] == {"permission": "ingest"}
    assert "'ingest'" in error["message"]


def test_project_of_someone_else_is_not_found(app: WebApp) -> None:
    error = assert_error(app.client().get("/api/projects/main/status", headers=bearer(app.keys["other"])),
                         404, "project_not_found", "project")
    assert "main" in error["message"]


def test_unknown_metric(app: WebApp) -> None:
    error = assert_error(app.client("vic").get("/api/projects/main/metrics/happiness"), 404, "unknown_metric",
                         "metric")
    assert "nps" in error["message"]


def test_validation_error_names_the_field(app: WebApp) -> None:
    error = assert_error(app.client("vic").get("/api/projects/main/metrics/nps?grain=fortnight"), 422,
                         "validation_error", "grain")
    assert "'day'" in error["message"]
    assert error["details"][0]["location"] == "query"


def test_body_validation_error(app: WebApp) -> None:
    r = app.client().post("/api/projects/main/ingest/responses", {"rows": []}, content_type="application/json",
                          headers=bearer(app.keys["ingest"]))
    error = assert_error(r, 422, "validation_error", "rows")
    assert error["details"][0]["location"] == "body"


def test_unknown_table_in_path(app: WebApp) -> None:
    r = app.client().post("/api/projects/main/ingest/invoices", {"rows": [{"a": 1}]},
                          content_type="application/json", headers=bearer(app.keys["ingest"]))
    assert_error(r, 422, "validation_error", "table")


def test_core_input_error_is_400_with_the_core_message(app: WebApp) -> None:
    r = app.client("vic").get("/api/projects/main/metrics/nps?by=shoe_size")
    error = assert_error(r, 400, "unknown_name")
    assert "shoe_size" in error["message"] and "segment" in error["message"]
    r = app.client("vic").get("/api/projects/main/metrics/nps?since=yesterday")
    assert_error(r, 400, "invalid_input")


def test_bad_filter(app: WebApp) -> None:
    r = app.client("vic").get("/api/projects/main/metrics/nps?where=segment")
    assert_error(r, 400, "invalid_input", "where")


def test_csrf_failure_for_session_posts(app: WebApp) -> None:
    c = app.client("ana", enforce_csrf_checks=True)
    r = c.post("/api/projects/main/ingest/responses", {"rows": [{"response_id": "csrf-1"}]},
               content_type="application/json")
    assert_error(r, 403, "csrf_failed")


def test_unknown_api_path(app: WebApp) -> None:
    assert_error(app.client().get("/api/no/such/thing"), 404, "not_found")


@pytest.mark.parametrize("path", ["/api/projects", "/api/projects/main/status"])
def test_success_bodies_are_not_errors(app: WebApp, path: str) -> None:
    r = app.client().get(path, headers=bearer(app.keys["read"]))
    assert r.status_code == 200
    assert "error" not in r.json()
