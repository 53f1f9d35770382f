"""The REST API under /api/: ingest batches and files, metrics, status, customer profiles.

Authentication: an API key (``Authorization: Bearer cxl_...``, scoped to one project) or the
browser's session (unsafe methods then need the CSRF token). Every operation names the one
permission it needs (:mod:`cxlens.web.roles`). Every error has one JSON shape::

    {"error": {"code": "invalid_input", "message": "...", "field": "grain", "details": null}}
"""

from __future__ import annotations

import logging
import math
import tempfile
import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils import timezone
from ninja import File, Form, NinjaAPI, Query, Schema
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError
from ninja.files import UploadedFile
from ninja.security import APIKeyCookie, HttpBearer
from ninja.throttling import BaseThrottle
from ninja.utils import check_csrf
from pydantic import Field

from cxlens.errors import CxlensError, CxlensInputError, UnknownNameError, WorkspaceError
from cxlens.ingest.sources import json_value_as_text
from cxlens.metrics import drill, metric_names
from cxlens.text.theme_model import has_model
from cxlens.text.themes import theme_summary
from cxlens.web import jobs, pages
from cxlens.web.config import DEFAULT_API_RATE
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


class RateLimit(BaseThrottle):
    """Token buckets in Django's cache: one per API key (or logged-in user), one per client address.

    Each bucket holds up to N tokens and refills at N per period (setting ``CXLENS_API_RATE``, default
    600 per minute); a request takes one token from both buckets or, when either is empty, is refused
    with 429 and ``Retry-After`` (the seconds until a token is back). The client address is the
    connection's (``REMOTE_ADDR``): behind a proxy, that is the proxy's.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._local = threading.local()

    @staticmethod
    def rate() -> tuple[int, int] | None:
        return getattr(settings, "CXLENS_API_RATE", DEFAULT_API_RATE)

    def allow_request(self, request: HttpRequest) -> bool:
        rate = self.rate()
        if rate is None:
            return True
        capacity, seconds = rate
        auth = getattr(request, "auth", None)
        caller = f"key:{auth.prefix}" if isinstance(auth, ApiKey) else f"user:{getattr(auth, 'pk', '')}"
        address = f"addr:{request.META.get('REMOTE_ADDR')}"
        keys = [f"cxlens:rate:{capacity}/{seconds}:{who}" for who in (caller, address)]
        now = time.time()
        with self._lock:  # get-then-set: one request at a time per process
            tokens = {k: self._refilled(cache.get(k), capacity, seconds, now) for k in keys}
            short = [(1 - t) * seconds / capacity for t in tokens.values() if t < 1]
            if short:
                self._local.wait = max(short)
                return False
            for k, t in tokens.items():
                cache.set(k, (t - 1, now), timeout=seconds + 1)
        return True

    @staticmethod
    def _refilled(state: tuple[float, float] | None, capacity: int, seconds: int, now: float) -> float:
        if state is None:
            return float(capacity)
        tokens, stamp = state
        return min(float(capacity), tokens + max(now - stamp, 0.0) * capacity / seconds)

    def wait(self) -> float | None:
        return getattr(self._local, "wait", None)


api = NinjaAPI(
    title="cxlens API",
    version="1",
    description="Send customer experience data and read metrics. Errors share one shape: "
                "{\"error\": {\"code\", \"message\", \"field\", \"details\"}}.",
    auth=[KeyAuth(), SessionAuth()],
    docs_url=None,  # the interactive docs page loads scripts from a CDN; the JSON document is served
    urls_namespace="api",
    throttle=[RateLimit()],
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


@api.exception_handler(Throttled)
def _throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
    rate = RateLimit.rate() or DEFAULT_API_RATE
    wait = math.ceil(exc.wait) if exc.wait is not None else None
    response = error_response(
        429, "rate_limited", f"Too many requests: the API allows {rate[0]} requests per {rate[1]} seconds per key "
        f"and per client address. Retry after {wait} seconds.", details={"retry_after": wait})
    if wait is not None:
        response["Retry-After"] = str(wait)
    return response


@api.exception_handler(MultiPartParserError)
def _bad_multipart(request: HttpRequest, exc: MultiPartParserError) -> HttpResponse:
    return error_response(400, "invalid_multipart", f"The multipart/form-data body cannot be read ({exc}). Send "
                                                    f"the form with its boundary, e.g. curl -F table=orders "
                                                    f"-F file=@orders.csv.")


@api.exception_handler(SuspiciousOperation)
def _refused_request(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
    """Django refuses a body before the operation runs (too large, too many fields or files): 400, as Django says."""
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE / 2**20
        return error_response(400, "request_too_large", f"The request body is larger than the {limit:g} MiB the "
                                                        f"server accepts. Send smaller batches, or upload a file.")
    return error_response(400, "bad_request", f"The request was refused: {exc}")


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
                                   429: ErrorOut, 503: ErrorOut}


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
    delimiter: str | None = Form(None, min_length=1, max_length=1, pattern=r'^[^"\r\n]$',
                                 description="One character other than a quote or a line break (default: "
                                             "sniffed from the header line)."),
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


# ------------------------------------------------------------------------------------- journeys and text


class FunnelParams(Schema):
    steps: list[str] = Field(default_factory=list, description="Steps in order (repeatable or comma-separated; "
                             "default: the journey's stages, stage:NAME).")
    window: str = Field("14d", description="Conversion window from step 1 (30m, 36h, 14d, 2w).")
    order: Literal["sequential", "strict", "any"] = "sequential"
    by: str | None = Field(None, description="Break down by an interactions column (value at step 1) or a "
                                             "customers column.")
    attribution: Literal["first_touch", "customer"] = "first_touch"
    exclude: list[str] = Field(default_factory=list, description="Leave out customers with this step between "
                               "step 1 and the last step (repeatable).")
    grain: Literal["day", "week", "month", "quarter", "year"] | None = None
    since: str | None = Field(None, description="First day included (ISO date).")
    until: str | None = Field(None, description="Last day included (ISO date; default: now).")
    confidence: float = Field(0.95, gt=0, lt=1)
    now: datetime | None = Field(None, description="Reference time (ISO 8601; default: the current time).")


class FunnelStepOut(Schema):
    step: int
    label: str
    customers: int
    conversion: float | None
    ci_low: float | None
    ci_high: float | None
    from_previous: float | None
    from_previous_ci_low: float | None
    from_previous_ci_high: float | None
    drop_off: int
    drop_off_rate: float | None
    median_seconds: float | None = Field(description="Median time from step 1 of the customers reaching the step.")
    distribution: dict[str, int]


class FunnelGroupOut(Schema):
    group: dict[str, Any]
    steps: list[FunnelStepOut]


class FunnelOut(Schema):
    journey: str
    steps: list[str]
    window_seconds: int
    order: str
    by: str | None
    attribution: str
    since: str | None
    until: str | None
    exclusions: list[dict[str, Any]]
    groups: list[FunnelGroupOut]
    trend: list[dict[str, Any]]
    warnings: list[str]


class PeriodParams(Schema):
    journey: str | None = Field(None, description="Saved journey (DIR/journeys/NAME.toml; default: the default "
                                                  "template).")
    since: str | None = Field(None, description="First day included (ISO date).")
    until: str | None = Field(None, description="Last day included (ISO date; default: now).")
    now: datetime | None = Field(None, description="Reference time (ISO 8601; default: the current time).")


class ScopeOut(Schema):
    since: str | None
    until: str
    now: str


class ConversionOut(Schema):
    eligible: int
    converted: int
    value: float | None
    ci_low: float | None
    ci_high: float | None


class EmotionOut(Schema):
    stage: str
    responses: int
    comments: int
    sentiment: float | None
    target: float | None
    gap: float | None
    nps: float | None
    csat_top_box: float | None
    ces_easy: float | None


class StageThemeOut(Schema):
    theme_id: str
    label: str
    comments: int
    share: float


class TouchpointCellOut(Schema):
    touchpoint: str
    channel: str | None
    direct: bool | None
    customers: int


class StageOut(Schema):
    stage: str
    touchpoints: list[TouchpointCellOut]
    channels: list[str]
    customers: int
    events: int
    conversion: ConversionOut | None = Field(description="Customers reaching the next stage in its window "
                                                         "(none for the last stage).")
    median_days_in_stage: float | None
    emotion: EmotionOut
    pain_points: list[dict[str, Any]]
    delights: list[dict[str, Any]]
    themes: list[StageThemeOut]


class JourneyMapOut(Schema):
    journey: str
    version: int
    description: str
    segment: dict[str, Any] | None
    scope: ScopeOut
    stages: list[StageOut]


class ImpactOut(Schema):
    n_with: int
    n_without: int
    value_with: float | None
    value_without: float | None
    difference: float | None
    ci_low: float | None
    ci_high: float | None
    significant: bool
    method: str


class TrendPointOut(Schema):
    period: str
    count: int
    share: float | None


class SubThemeOut(Schema):
    sub_theme_id: str
    parent_id: str
    label: str
    keywords: list[str]
    count: int
    share_of_parent: float | None
    examples: list[str]


class ThemeOut(Schema):
    theme_id: str
    label: str
    keywords: list[str]
    count: int
    share: float | None
    trend: list[TrendPointOut]
    nps: ImpactOut = Field(description="NPS of the responses with the theme minus the others (points).")
    csat: ImpactOut = Field(description="CSAT top-box share with the theme minus the others (percentage points).")
    examples: list[str] = Field(description="Example texts with personal data redacted.")
    sub_themes: list[SubThemeOut] = Field(default_factory=list)
    kind: str = Field("theme", description="theme, language (texts of a language not clustered) or other.")


class ThemesOut(Schema):
    model_version: str
    fitted_at: str | None
    grain: str
    periods: list[str]
    total: int
    themes: list[ThemeOut]


class ThemeParams(Schema):
    grain: Literal["day", "week", "month", "quarter", "year"] = "month"
    periods: int = Field(6, ge=1, le=60, description="Trend periods, ending with the current one.")
    examples: int = Field(3, ge=0, le=20, description="Example texts per theme.")
    confidence: float = Field(0.95, gt=0, lt=1)
    now: datetime | None = Field(None, description="Reference time (ISO 8601; default: the current time).")


class ResponsesParams(Schema):
    metric: str | None = Field(None, description="Required: the metric of the figure (a metric that counts "
                                                  "rows: not churn, retention or backlog).")
    by: list[str] = Field(default_factory=list, description="The figure's breakdown columns (repeatable).")
    value: list[str] = Field(default_factory=list, description=f"The figure's group: one value per 'by', in the "
                             f"same order ('{drill.NULL}' for a missing value).")
    grain: Literal["day", "week", "month", "quarter", "year"] | None = None
    period: str | None = Field(None, description="The figure's period (its first day; needs 'grain').")
    since: str | None = Field(None, description="First day included (ISO date).")
    until: str | None = Field(None, description="Last day included (ISO date; default: now).")
    where: list[str] = Field(default_factory=list, description="COL=VALUE filters (repeatable).")
    offset: int = Field(0, ge=0)
    limit: int = Field(100, ge=1, le=1000)
    now: datetime | None = Field(None, description="Reference time (ISO 8601; default: the current time).")


class ResponsesOut(Schema):
    metric: str
    table: str = Field(description="The table the rows come from (responses or tickets).")
    id_column: str
    time_column: str
    value_column: str | None
    group: dict[str, str | None]
    period: str | None
    total: int = Field(description="Rows behind the figure in all: the figure's n.")
    offset: int
    limit: int
    columns: list[str]
    rows: list[dict[str, Any]]


def _now(value: datetime | None) -> datetime:
    now = value or datetime.now(UTC)
    return now if now.tzinfo else now.replace(tzinfo=UTC)


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, (datetime, date)) else value


@api.get("/projects/{project}/funnels/{journey}", response={200: FunnelOut, **ERRORS}, tags=["journeys"])
def funnel(request: HttpRequest, project: str, journey: str, params: Query[FunnelParams]) -> dict[str, Any]:
    """The funnel of a journey's stages (or of 'steps'), exactly as 'cxlens journey funnel --journey JOURNEY':
    customers per step, conversion with Wilson intervals, drop-off, median time from step 1. JOURNEY is a
    saved journey or 'default' (the template). Needs 'read'."""
    p = authorize(request, project, Permission.READ)
    with POOL.use(p) as ws:
        steps = ",".join(params.steps) if params.steps else ",".join(pages.journey_steps(ws, journey))
        result = ws.funnel(steps, journey=journey, now=_now(params.now), window=params.window, order=params.order,
                           by=params.by, attribution=params.attribution, exclude=list(params.exclude),
                           grain=params.grain, since=params.since, until=params.until,
                           confidence=params.confidence)
    return {"journey": journey, **result.to_dict()}


@api.get("/projects/{project}/journey-map", response={200: JourneyMapOut, **ERRORS}, tags=["journeys"])
def journey_map(request: HttpRequest, project: str, params: Query[PeriodParams]) -> dict[str, Any]:
    """The journey map, as 'cxlens journey map': per stage the customers, events, conversion to the next
    stage, time in stage, experience (sentiment, NPS, CSAT, CES), pain points and top themes. Needs 'read'."""
    p = authorize(request, project, Permission.READ)
    with POOL.use(p) as ws:
        result = ws.journey_map(journey=params.journey, since=params.since, until=params.until,
                                now=_now(params.now))
    return result.to_dict()


@api.get("/projects/{project}/themes", response={200: ThemesOut, **ERRORS}, tags=["text"])
def themes(request: HttpRequest, project: str, params: Query[ThemeParams]) -> dict[str, Any]:
    """Themes of the comments and tickets, as 'cxlens text themes show': count, share, trend, impact on NPS
    and CSAT with intervals, redacted examples. 404 until a theme model is fitted. Needs 'read'."""
    p = authorize(request, project, Permission.READ)
    with POOL.use(p) as ws:
        if not has_model(ws.path):
            raise ApiError(404, "not_found", f"Project '{project}' has no theme model yet. Fit one on the server "
                                             f"with 'cxlens text themes'.")
        summary = theme_summary(ws, grain=params.grain, periods=params.periods, examples=params.examples,
                                confidence=params.confidence, now=_now(params.now))
    return summary.to_dict()


@api.get("/projects/{project}/responses", response={200: ResponsesOut, **ERRORS}, tags=["metrics"])
def responses(request: HttpRequest, project: str, params: Query[ResponsesParams]) -> dict[str, Any]:
    """The rows behind one figure of a metric (drill-down), newest first, paged: the same filters, range and
    period as GET .../metrics/{metric}, so 'total' equals the figure's n. Needs 'read'."""
    p = authorize(request, project, Permission.READ)
    if not params.metric:
        raise ApiError(400, "invalid_input", "The 'metric' parameter is missing. Give the metric of the figure, "
                                             "e.g. metric=nps.", "metric")
    if len(params.value) != len(params.by):
        raise ApiError(400, "invalid_input", f"Give one 'value' per 'by' column: got {len(params.by)} breakdowns "
                                             f"and {len(params.value)} values.", "value")
    with POOL.use(p) as ws:
        result = ws.responses_behind(params.metric, group=dict(zip(params.by, params.value, strict=True)),
                                     period=params.period, offset=params.offset, limit=params.limit,
                                     now=_now(params.now), by=params.by, grain=params.grain, since=params.since,
                                     until=params.until, where=parse_where(params.where))
    out = result.to_dict()
    out["rows"] = [{k: _jsonable(v) for k, v in r.items()} for r in result.rows]
    return out


def api_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django's 404 for paths under /api/ that match no operation, in the API's error shape."""
    return error_response(404, "not_found", f"No API operation at {request.path}. The operations are listed "
                                            f"in /api/openapi.json.")


from cxlens.web.loop.api import router as loop_router  # noqa: E402 - the loop's operations (alert rules, cases)

api.add_router("", loop_router)

from cxlens.web.distribution.api import router as distribution_router  # noqa: E402 - survey invitations, consent

api.add_router("", distribution_router)
