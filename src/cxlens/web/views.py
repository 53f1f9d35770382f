"""Pages: login, project list, overview, metric explorer, customer 360, health check.

Views parse the request, call :mod:`cxlens.web.pages` (which calls the metric runners) and
render a template. No figure is computed here.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from cxlens.errors import CxlensError, CxlensInputError, UnknownNameError
from cxlens.web import charts, figures, manage, pages
from cxlens.web.models import Project
from cxlens.web.projects import POOL, AccessDenied, ProjectNotFound, project_for_user, visible_projects
from cxlens.web.roles import Permission, Role

TIMELINE_EVENTS = 100
DRILL_PAGE = 50
THEME_PAGE = 25


def context(request: HttpRequest) -> dict[str, Any]:
    """Template context of every page: the projects the user may open."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"my_projects": list(visible_projects(user))}


def utcnow() -> datetime:
    return datetime.now(UTC)


def project_view(permission: Permission) -> Callable[..., Any]:
    """Resolve ``slug`` to a project the logged-in user may use with ``permission``."""
    def decorate(fn: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @login_required
        @wraps(fn)
        def wrapper(request: HttpRequest, slug: str, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                project, role = project_for_user(request.user, slug, permission)
            except ProjectNotFound:
                raise Http404(f"No project {slug!r}") from None
            except AccessDenied as exc:
                return render(request, "cxlens/error.html", {"title": "Not allowed", "message": str(exc)}, status=403)
            request.project, request.role = project, role  # type: ignore[attr-defined]
            return fn(request, project, *args, **kwargs)
        return wrapper
    return decorate


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and readiness: the app database answers."""
    with connection.cursor() as cur:
        cur.execute("SELECT 1")
    from cxlens import __version__

    return JsonResponse({"status": "ok", "version": __version__})


@login_required
def home(request: HttpRequest) -> HttpResponse:
    projects = list(visible_projects(request.user))
    if len(projects) == 1:
        return redirect("overview", slug=projects[0].slug)
    return render(request, "cxlens/home.html", {"projects": projects})


def _explorer_key(project: Project, request: HttpRequest, version: int) -> str:
    """The cache key of an explorer figure: the project's data version, today's date (default
    ranges end today) and the query's parameters (not the output format)."""
    params = sorted((k, v) for k, values in request.GET.lists() for v in values if k != "format")
    digest = hashlib.sha256(repr(params).encode("utf-8")).hexdigest()[:32]
    return f"explorer:{project.pk}:{version}:{utcnow().date()}:{digest}"


@project_view(Permission.READ)
def overview(request: HttpRequest, project: Project) -> HttpResponse:
    try:
        window = pages.Window.parse(request.GET.get("period"), request.GET.get("until"), utcnow())
    except CxlensError as exc:
        return render(request, "cxlens/error.html", {"title": "Invalid period", "message": str(exc)}, status=400)
    data = figures.overview(project, window)
    def link(metric: str, period: Any) -> str | None:
        return pages.drill_link(project.slug, metric, grain="month", period=period, since=window.trend_since,
                                until=window.until)

    trends = [(f.label, charts.line_chart([charts.Series(f.label, tuple(
        charts.Point(str(p), v, lo, hi, link(f.metric, p)) for p, v, lo, hi in f.trend))],
        unit=f.unit, title=f"{f.label} by month", height=220)) for f in (*data.headline, data.volume)]
    return render(request, "cxlens/overview.html", {
        "project": project, "data": data, "trends": trends, "periods": pages.PERIODS, "nav": "overview",
    })


@project_view(Permission.READ)
def explorer(request: HttpRequest, project: Project) -> HttpResponse:
    ctx: dict[str, Any] = {
        "project": project, "nav": "explore", "params": request.GET, "where_text": request.GET.get("where", ""),
        "metrics": [(m, pages.LABELS[m]) for m in pages.EXPLORER_METRICS],
        "grains": ("day", "week", "month", "quarter", "year"),
    }
    with POOL.use(project) as ws:
        ctx["columns"] = pages.breakdown_columns(ws)
        if "metric" not in request.GET:
            return render(request, "cxlens/explorer.html", ctx)
        try:
            query = pages.ExplorerQuery.from_params(request.GET)
            key = _explorer_key(project, request, figures.data_version(project))
            result = cache.get(key)
            if result is None:
                result = query.run(ws, utcnow())
                cache.set(key, result, figures.CACHE_SECONDS)
        except CxlensError as exc:
            ctx["error"] = str(exc)
            return render(request, "cxlens/explorer.html", ctx, status=400)
    records = result.to_records()
    if request.GET.get("format") == "csv":
        return _csv_response(records, f"{project.slug}-{result.metric}.csv")
    unit = pages.UNITS.get(result.metric, "")
    links = [pages.drill_link(project.slug, result.metric, by=query.by, values=tuple(r.get(b) for b in query.by),
                              grain=query.grain, period=r.get("period"), since=query.since, until=query.until,
                              where=query.where) for r in records]
    if query.grain:
        chart = charts.line_chart(charts.series_from_records(records, query.by, links), unit=unit,
                                  title=result.metric)
    else:
        points = [charts.Point(" / ".join(str(r.get(b)) for b in query.by) or "all", r.get("value"),
                               r.get("ci_low"), r.get("ci_high"), link) for r, link in zip(records, links, strict=True)]
        chart = charts.bar_chart(points, unit=unit, title=result.metric)
    export = request.GET.copy()
    export["format"] = "csv"
    ctx.update(result=result, result_label=pages.LABELS.get(result.metric, result.metric), records=records,
               headers=list(records[0]) if records else [], chart=chart, query=query,
               export_query=export.urlencode())
    return render(request, "cxlens/explorer.html", ctx)


@project_view(Permission.READ)
def responses(request: HttpRequest, project: Project) -> HttpResponse:
    """The rows behind one figure of the explorer or the overview (drill-down), paged or as CSV."""
    ctx: dict[str, Any] = {"project": project, "nav": "explore"}
    try:
        drill = pages.DrillRequest.from_params(request.GET, limit=DRILL_PAGE)
        with POOL.use(project) as ws:
            if request.GET.get("format") == "csv":
                rows = drill.all_rows(ws, utcnow())
                return _csv_response(rows, f"{project.slug}-{drill.metric}-rows.csv")
            result = drill.run(ws, utcnow())
    except CxlensError as exc:
        ctx.update(title="Invalid drill-down", message=str(exc))
        return render(request, "cxlens/error.html", ctx, status=400)
    base = request.GET.copy()
    base.pop("offset", None)
    export = base.copy()
    export["format"] = "csv"
    explorer_query = base.copy()
    explorer_query.pop("value", None)
    explorer_query.pop("period", None)
    ctx.update(result=result, drill=drill, label=pages.LABELS.get(drill.metric, drill.metric),
               export_query=export.urlencode(), explorer_query=explorer_query.urlencode(),
               next_query=_page_query(base, result.offset + result.limit) if result.has_next else None,
               prev_query=_page_query(base, max(result.offset - result.limit, 0)) if result.offset else None,
               shown_to=result.offset + len(result.rows),
               extra_columns=[c for c in pages.DRILL_EXTRA_COLUMNS if c in result.columns])
    return render(request, "cxlens/responses.html", ctx)


def _page_query(base: Any, offset: int) -> str:
    q = base.copy()
    q["offset"] = str(offset)
    return str(q.urlencode())


@project_view(Permission.READ)
def journeys(request: HttpRequest, project: Project) -> HttpResponse:
    ctx: dict[str, Any] = {"project": project, "nav": "journeys", "windows": pages.FUNNEL_WINDOWS}
    try:
        with POOL.use(project) as ws:
            data = pages.journeys_page(ws, request.GET.get("journey") or None, request.GET.get("window") or None,
                                       utcnow(), since=request.GET.get("since") or None,
                                       until=request.GET.get("until") or None)
    except CxlensError as exc:
        ctx.update(title="Invalid journey query", message=str(exc))
        return render(request, "cxlens/error.html", ctx, status=400)
    ctx.update(data=data, charts=charts.journey_charts(data))
    return render(request, "cxlens/journeys.html", ctx)


@project_view(Permission.READ)
def text(request: HttpRequest, project: Project) -> HttpResponse:
    with POOL.use(project) as ws:
        data = pages.text_page(ws, utcnow())
    return render(request, "cxlens/text.html", {"project": project, "nav": "text", "data": data,
                                                "charts": charts.text_charts(data)})


@project_view(Permission.READ)
def theme(request: HttpRequest, project: Project, theme_id: str) -> HttpResponse:
    offset_text = request.GET.get("offset") or "0"
    offset = int(offset_text) if offset_text.isdigit() else 0
    try:
        with POOL.use(project) as ws:
            data = pages.theme_verbatims(ws, theme_id, offset=offset, limit=THEME_PAGE)
    except UnknownNameError:
        raise Http404(f"No theme {theme_id!r}") from None
    except CxlensError as exc:
        return render(request, "cxlens/error.html", {"project": project, "title": "No themes",
                                                     "message": str(exc)}, status=404)
    return render(request, "cxlens/theme.html", {
        "project": project, "nav": "text", "data": data,
        "next_offset": data.offset + data.limit if data.has_next else None,
        "prev_offset": max(data.offset - data.limit, 0) if data.offset else None,
        "shown_to": data.offset + len(data.verbatims)})


def _csv_response(records: list[dict[str, Any]], filename: str) -> HttpResponse:
    buf = io.StringIO()
    if records:
        writer = csv.DictWriter(buf, fieldnames=list(records[0]))
        writer.writeheader()
        writer.writerows(records)
    response = HttpResponse(buf.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@project_view(Permission.READ)
def customers(request: HttpRequest, project: Project) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    with POOL.use(project) as ws:
        found = pages.find_customers(ws, q) if q else []
    if len(found) == 1 and q:
        return redirect("customer", slug=project.slug, customer_id=found[0]["customer_id"])
    return render(request, "cxlens/customers.html", {"project": project, "q": q, "found": found,
                                                     "nav": "customers"})


@project_view(Permission.READ)
def customer(request: HttpRequest, project: Project, customer_id: str) -> HttpResponse:
    with POOL.use(project) as ws:
        try:
            clv = pages.customer_clv(ws, customer_id)
        except CxlensError:
            clv = None
        profile = pages.customer_profile(ws, customer_id, limit=TIMELINE_EVENTS, clv=clv)
    if profile is None:
        raise Http404(f"No customer {customer_id!r}")
    return render(request, "cxlens/customer.html", {"project": project, "profile": profile, "nav": "customers"})


@project_view(Permission.MANAGE)
def settings_page(request: HttpRequest, project: Project) -> HttpResponse:
    """Members and API keys of the project (admins only)."""
    ctx: dict[str, Any] = {"project": project, "nav": "settings", "roles": [r.value for r in Role]}
    if request.method == "POST":
        try:
            outcome = _settings_action(request, project)
        except CxlensError as exc:
            ctx["error"] = str(exc)
        else:
            if outcome is None:
                return redirect("settings", slug=project.slug)
            ctx["new_key"] = outcome
    ctx.update(members=manage.members(project), keys=manage.keys(project))
    response = render(request, "cxlens/settings.html", ctx, status=400 if "error" in ctx else 200)
    response["Cache-Control"] = "no-store"  # a new key's secret is on this page once
    return response


def _settings_action(request: HttpRequest, project: Project) -> Any:
    action, form = request.POST.get("action"), request.POST
    if action == "set_role":
        manage.set_role(project, form.get("username", ""), form.get("role", ""))
    elif action == "remove_member":
        manage.remove_member(project, form.get("username", ""))
    elif action == "create_key":
        return manage.create_key(project, form.get("name", ""), form.getlist("scopes"), request.user)
    elif action == "revoke_key":
        manage.revoke_key(project, form.get("prefix", ""))
    else:
        raise CxlensInputError(f"Unknown action {action!r}.")
    return None


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/api/"):
        from cxlens.web.api import api_not_found

        return api_not_found(request, exception)
    return render(request, "cxlens/error.html", {"title": "Not found",
                                                 "message": "This page does not exist or is not visible to you."},
                  status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        from cxlens.web.api import error_response

        return error_response(500, "internal_error", "The server failed to handle this request; the error is in "
                                                     "the server's log.")
    return render(request, "cxlens/error.html", {"title": "Something went wrong",
                                                 "message": "The error is in the server's log."}, status=500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "cxlens/error.html", {"title": "Form expired",
                                                 "message": "Reload the page and submit again."}, status=403)
