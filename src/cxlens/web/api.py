"""The REST API under /api/: ingest batches and files, metrics, status, customer profiles.

Authentication: an API key (``Authorization: Bearer cxl_...``, scoped to one project) or the
browser's session (unsafe methods then need the CSRF token). Every operation names the one
permission it needs (:mod:`cxlens.web.roles`). Every error has one JSON shape::

    {"error": {"code": "invalid_input", "message": "...", "field": "grain", "details": null}}
"""

from __future__ import annotations

import logging
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from ninja import File, Form, NinjaAPI, Query, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.files import UploadedFile
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf
from pydantic import Field

from cxlens.errors import CxlensError, CxlensInputError, UnknownNameError, WorkspaceError
from cxlens.ingest.sources import json_value_as_text
from cxlens.metrics import metric_names
from cxlens.web import jobs
from cxlens.web.models import ApiKey, Project
from cxlens.web.pages import customer_profile
from cxlens.web.projects import POOL, AccessDenied, ProjectNotFound, project_for_user, visible_projects
from cxlens.web.roles import Permission

log = logging.getLogger("cxlens.web")

TableName = Literal["customers", "interactions", "responses", "tickets", "orders", "subscriptions", "touchpoints"]
MAX_BATCH_ROWS = 50_000


# ------------------------------------------------------------------------------------- errors


def error_body(code: str, message: str, field: str | None = None, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "field": field, "details": details}}


def error_response(status: int, code: str, message: str, field: str | None = None,
                   details: Any = None) -> JsonResponse:
    return JsonResponse(error_body(code, message, field, details), status=status)


class ApiError(Exception):
    """An error raised by an operation with its HTTP status and stable code."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field


def _cxlens_status(exc: CxlensError) -> int:
    if isinstance(exc, (CxlensInputError, UnknownNameError)):
        return 400
    if isinstance(exc, WorkspaceError):
        return 503
    return 500


# ------------------------------------------------------------------------------------- auth


class KeyAuth(HttpBearer):
    """``Authorization: Bearer cxl_<prefix>_<secret>``: a project's API key."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        key = ApiKey.verify(token)
        if key is not None and (key.last_used_at is None
                                or (timezone.now() - key.last_used_at).total_seconds() > 60):
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now())
        return key


class SessionAuth(APIKeyCookie):
    """The logged-in browser session; unsafe methods must carry the CSRF token."""

    param_name = "sessionid"

    def __init__(self) -> None:
        super().__init__(csrf=False)  # checked below, only once we know a session is used

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if request.method not in ("GET", "HEAD", "OPTIONS", "TRACE") and check_csrf(request):
            raise ApiError(403, "csrf_failed", "The CSRF token is missing or wrong. Send the 'X-CSRFToken' "
                                               "header with the value of the csrftoken cookie.")
        return user


api = NinjaAPI(
    title="cxlens API",
    version="1",
    description="Send customer experience data and read metrics. Errors share one shape: "
                "{\"error\": {\"code\", \"message\", \"field\", \"details\"}}.",
    auth=[KeyAuth(), SessionAuth()],
    docs_url=None,  # the interactive docs page loads scripts from a CDN; the JSON document is served
    urls_namespace="api",
)


@api.exception_handler(ApiError)
def _api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    return error_response(exc.status, exc.code, exc.message, exc.field)


@api.exception_handler(CxlensError)
def _cxlens_error(request: HttpRequest, exc: CxlensError) -> HttpResponse:
    return error_response(_cxlens_status(exc), exc.code, str(exc))


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    details = [{"field": _field(tuple(e.get("loc", ()))), "location": (e.get("loc") or ["?"])[0],
                "message": e.get("msg"), "type": e.get("type")} for e in exc.errors]
    first = details[0] if details else {"field": None, "message": "invalid request"}
    message = f"Invalid value for '{first['field']}': {first['message']}." if first["field"] else str(first["message"])
    return error_response(422, "validation_error", message, first["field"], details)


def _field(loc: tuple[Any, ...]) -> str | None:
    """The field of a validation error: ('body', 'body', 'rows', 0) -> 'rows.0', ('query', 'grain') -> 'grain'."""
    # A JSON body's location also names the operation's body argument ("body"); users never see it.
    path = loc[2:] if loc[:1] == ("body",) and len(loc) > 2 else loc[1:]
    return ".".join(str(p) for p in path) or None


@api.exception_handler(AuthenticationError)
def _not_authenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error_response(401, "not_authenticated", "Log in, or send an API key as 'Authorization: Bearer "
                                                    "cxl_...'. Admins create keys with 'cxlens apikeys create'.")


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    codes = {400: "bad_request", 403: "forbidden", 404: "not_found", 405: "method_not_allowed", 429: "throttled"}
    return error_response(exc.status_code, codes.get(exc.status_code, "http_error"), exc.message)


@api.exception_handler(ProjectNotFound)
def _project_not_found(request: HttpRequest, exc: ProjectNotFound) -> HttpResponse:
    return error_response(404, "project_not_found", str(exc), "project")


@api.exception_handler(AccessDenied)
def _access_denied(request: HttpRequest, exc: AccessDenied) -> HttpResponse:
    return error_response(403, "forbidden", str(exc), details={"permission": exc.permission.value})


@api.exception_handler(Exception)
def _internal(request: HttpRequest, exc: Exception) -> HttpResponse:
    log.exception("Unhandled error in %s %s", request.method, request.path)
    return error_response(500, "internal_error", "The server failed to handle this request; the error is in "
                                                 "the server's log.")


def authorize(request: HttpRequest, slug: str, permission: Permission) -> Project:
    """The project ``slug`` when the caller (key or user) holds ``permission`` on it."""
    auth = request.auth  # type: ignore[attr-defined]
    if isinstance(auth, ApiKey):
        if auth.project.slug != slug:
            raise ProjectNotFound(slug)
        if permission not in auth.permissions():
            raise AccessDenied(permission, "key scopes: " + ", ".join(auth.scopes))
        return auth.project
    project, _role = project_for_user(auth, slug, permission)
    return project


# ------------------------------------------------------------------------------------- schemas


class ErrorDetail(Schema):
    code: str
    message: str
    field: str | None = None
    details: Any = None


class ErrorOut(Schema):
    error: ErrorDetail


class ProjectOut(Schema):
    slug: str
    name: str
    organization: str


class ImportOut(Schema):
    table: str
    source: str
    format: str
    import_id: int
    read: int
    accepted: int
    rejected: int
    duplicates: int
    conflicts: int
    updated: int
    quarantine: str
    warnings: list[str]
    new_columns: list[str]


class IngestIn(Schema):
    rows: list[dict[str, Any]] = Field(..., min_length=1, max_length=MAX_BATCH_ROWS,
                                       description="Records with the table's column names (see 'cxlens schema').")
    on_conflict: Literal["reject", "update"] = "reject"
    source: str | None = Field(None, max_length=200, description="A name for this batch in the import history.")


class MetricOut(Schema):
    metric: str
    definition: str
    rows: list[dict[str, Any]]


class TableStatusOut(Schema):
    table: str
    rows: int
    first: str | None
    last: str | None
    quarantined: int


class StatusOut(Schema):
    project: str
    tables: list[TableStatusOut]


ERRORS: dict[int, type[Schema]] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut,
                                   503: ErrorOut}


# ------------------------------------------------------------------------------------- operations


@api.get("/projects", response={200: list[ProjectOut], **ERRORS}, tags=["projects"])
def list_projects(request: HttpRequest) -> list[dict[str, str]]:
    """Projects the caller may see (a key sees its own project)."""
    auth = request.auth  # type: ignore[attr-defined]
    if isinstance(auth, ApiKey):
        projects = [auth.project]
    else:
        projects = list(visible_projects(auth).select_related("organization"))
    return [{"slug": p.slug, "name": p.name, "organization": p.organization.name} for p in projects]


@api.get("/projects/{project}/status", response={200: StatusOut, **ERRORS}, tags=["projects"])
def status(request: HttpRequest, project: str) -> dict[str, Any]:
    """Rows, time range and quarantined rows per table. Needs 'read'."""
    p = authorize(request, project, Permission.READ)
    with POOL.use(p) as ws:
        st = ws.status().to_dict()
    return {"project": p.slug, "tables": st["tables"]}


def rows_to_arrow(rows: list[dict[str, Any]]) -> pa.Table:
    """JSON records as a table of text columns (the pipeline types and validates them)."""
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    return pa.table({c: pa.array([json_value_as_text(r.get(c)) for r in rows], pa.string()) for c in columns})


@api.post("/projects/{project}/ingest/{table}", response={200: ImportOut, **ERRORS}, tags=["ingest"])
def ingest(request: HttpRequest, project: str, table: TableName, body: IngestIn) -> dict[str, Any]:
    """Import a batch of records into TABLE with validation, quarantine and idempotency.

    The answer comes after the batch is committed (durable). Rows failing validation are
    quarantined and counted in ``rejected``; re-sending the same rows adds nothing. Needs 'ingest'.
    """
    p = authorize(request, project, Permission.INGEST)
    with POOL.use(p) as ws:
        report = ws.import_data(table, rows_to_arrow(body.rows), on_conflict=body.on_conflict,
                                source_name=body.source or f"api:{table}")
    jobs.kick()  # alert rules and survey triggers see the new rows within about a second
    return report.to_dict()


@api.post("/projects/{project}/imports", response={200: ImportOut, **ERRORS}, tags=["ingest"])
def import_file(
    request: HttpRequest,
    project: str,
    table: Form[TableName],
    file: File[UploadedFile],
    mapping: File[UploadedFile] | None = None,
    on_conflict: Form[Literal["reject", "update"]] = "reject",
    input_format: Form[Literal["csv", "parquet", "jsonl"] | None] = None,
    delimiter: Form[str | None] = None,
    encoding: Form[str | None] = None,
    source: Form[str | None] = None,
) -> dict[str, Any]:
    """Import an uploaded CSV, Parquet or JSON Lines file (what 'cxlens import' sends while the
    server runs). Same options as the command. Needs 'ingest'."""
    p = authorize(request, project, Permission.INGEST)
    with POOL.use(p) as ws:
        scratch = ws.path / "tmp"
        scratch.mkdir(exist_ok=True)
        with tempfile.TemporaryDirectory(dir=scratch, prefix="upload-") as tmp:
            data = _save(file, Path(tmp))
            mapping_path = _save(mapping, Path(tmp) / "mapping") if mapping is not None else None
            report = ws.import_data(table, data, mapping=mapping_path, on_conflict=on_conflict,
                                    input_format=input_format, delimiter=delimiter, encoding=encoding,
                                    source_name=source or file.name)
    jobs.kick()
    return report.to_dict()


def _save(upload: UploadedFile, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / Path(upload.name or "upload").name
    with target.open("wb") as fh:
        for chunk in upload.chunks():
            fh.write(chunk)
    return target


class MetricParams(Schema):
    by: list[str] = Field(default_factory=list, description="Breakdown columns (repeatable).")
    grain: Literal["day", "week", "month", "quarter", "year"] | None = None
    since: str | None = Field(None, description="First day included (ISO date).")
    until: str | None = Field(None, description="Last day included (ISO date; default: now).")
    where: list[str] = Field(default_factory=list, description="COL=VALUE filters (repeatable).")
    compare: Literal["previous", "year"] | None = None
    confidence: float = Field(0.95, gt=0, lt=1)
    now: datetime | None = Field(None, description="Reference time (ISO 8601; default: the current time).")


def parse_where(items: list[str]) -> dict[str, list[str]]:
    filters: dict[str, list[str]] = {}
    for item in items:
        if "=" not in item:
            raise ApiError(400, "invalid_input", f"A 'where' filter must look like COLUMN=VALUE. Got {item!r} "
                                                 f"instead.", "where")
        col, value = item.split("=", 1)
        filters.setdefault(col.strip(), []).append(value.strip())
    return filters


@api.get("/projects/{project}/metrics/{metric}", response={200: MetricOut, **ERRORS}, tags=["metrics"])
def metric(request: HttpRequest, project: str, metric: str, params: Query[MetricParams]) -> dict[str, Any]:
    """Compute METRIC exactly like 'cxlens metrics': breakdowns, grain, range, filters,
    comparison and intervals. Needs 'read'."""
    p = authorize(request, project, Permission.READ)
    if metric not in metric_names():
        raise ApiError(404, "unknown_metric", f"Unknown metric '{metric}'. The metrics are: "
                                              f"{', '.join(metric_names())}.", "metric")
    now = params.now or datetime.now(UTC)
    now = now if now.tzinfo else now.replace(tzinfo=UTC)
    with POOL.use(p) as ws:
        result = ws.metric(metric, now=now, by=params.by, grain=params.grain, since=params.since,
                           until=params.until, where=parse_where(params.where), compare=params.compare,
                           confidence=params.confidence)
    return {"metric": result.metric, "definition": result.definition, "rows": result.to_records()}


@api.get("/projects/{project}/customers/{customer_id}", response={200: dict[str, Any], **ERRORS},
         tags=["customers"])
def customer(request: HttpRequest, project: str, customer_id: str) -> dict[str, Any]:
    """One customer's attributes, counts and timeline (newest first). Needs 'read'."""
    p = authorize(request, project, Permission.READ)
    with POOL.use(p) as ws:
        profile = customer_profile(ws, customer_id, limit=200)
    if profile is None:
        raise ApiError(404, "not_found", f"No customer '{customer_id}' in project '{project}'.", "customer_id")
    return {
        "customer_id": profile.customer_id,
        "attributes": {k: json_value_as_text(v) for k, v in profile.attributes},
        "counts": dict(profile.counts),
        "revenue": profile.revenue,
        "timeline": [{"at": e.at.isoformat(), "kind": e.kind, "title": e.title, "detail": e.detail}
                     for e in profile.timeline],
    }


@api.get("/projects/{project}/quarantine/{table}", response={200: list[dict[str, Any]], **ERRORS},
         tags=["ingest"])
def quarantine(request: HttpRequest, project: str, table: TableName, import_id: int | None = None,
               limit: int = Query(100, ge=1, le=10_000)) -> list[dict[str, Any]]:
    """Rejected rows of TABLE (optionally of one import) with line, column, value and reason. Needs 'read'."""
    p = authorize(request, project, Permission.READ)
    with POOL.use(p) as ws:
        rows = ws.quarantine(table, import_id).slice(0, limit).to_pylist()
    return [{k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in r.items()} for r in rows]


def api_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django's 404 for paths under /api/ that match no operation, in the API's error shape."""
    return error_response(404, "not_found", f"No API operation at {request.path}. The operations are listed "
                                            f"in /api/openapi.json.")

