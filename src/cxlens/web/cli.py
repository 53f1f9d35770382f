"""``cxlens serve``, ``cxlens collect``, ``cxlens users``, ``cxlens projects`` and ``cxlens apikeys``.

Registered in the main command by ``cxlens.cli``; Django is configured only when one of these
commands runs.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import click

from cxlens import workspace as ws_module
from cxlens.cli_support import _run, format_option, print_rows, workspace_option
from cxlens.errors import CxlensInputError, MissingDependencyError, UnknownNameError

ROLE_CHOICE = click.Choice(["admin", "analyst", "viewer"])


def _require_web() -> None:
    # find_spec, not import: django-ninja reads Django's settings as soon as it is imported.
    if any(importlib.util.find_spec(name) is None for name in ("django", "ninja", "waitress", "whitenoise", "axes")):
        raise MissingDependencyError(
            "The web app needs its optional dependencies. Install them with: pip install 'cxlens[web]'"
        )


def _require_granian() -> None:
    if importlib.util.find_spec("granian") is None:
        raise MissingDependencyError("The survey collection endpoint runs on granian. Install it with: "
                                     "pip install 'cxlens[web]'")


def _app(workspace: Path | None) -> Path:
    """Configure Django for the workspace (migrating its app database) and return its path."""
    _require_web()
    from cxlens.web.server import prepare

    path = ws_module.resolve_path(workspace).resolve()
    prepare(path, "127.0.0.1")
    return path


def _check_fields(instance: Any, fields: tuple[str, ...]) -> None:
    """Django's own checks of ``fields`` (length, allowed characters, format) as a clear error.

    SQLite would store a value that is too long; PostgreSQL refuses it, so check before saving.
    """
    from django.core.exceptions import ValidationError

    others = [f.name for f in instance._meta.get_fields() if f.concrete and f.name not in fields]
    try:
        instance.full_clean(exclude=others, validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        name, messages = next(iter(exc.message_dict.items()))
        value = str(getattr(instance, name, ""))
        shown = value if len(value) <= 40 else value[:40] + "..."
        raise CxlensInputError(f"The {name} {shown!r} is not accepted: {' '.join(messages)}") from None


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0 for every interface; put TLS in front when not local).")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="TCP port (0: any free).")
@click.option("--threads", type=click.IntRange(1, 64), default=32, show_default=True,
              help="Worker threads (survey answers arriving together share one commit, so more threads "
                   "collect faster).")
@click.option("--collect-port", type=click.IntRange(1, 65535), default=None,
              help="Also answer the survey widget (/s/widget.js, /s/SLUG/collect) on this port, in processes of "
                   "their own (see 'cxlens collect'); widget snippets then point there.")
@click.option("--collect-workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Processes answering the widget (with --collect-port).")
@click.option("--collect-threads", type=click.IntRange(1, 256), default=16, show_default=True,
              help="Threads per widget process (with --collect-port).")
@workspace_option
def serve(host: str, port: int, threads: int, collect_port: int | None, collect_workers: int,
          collect_threads: int, workspace: Path | None) -> None:
    """Serve the workspace's dashboards and REST API (Ctrl+C stops).

    Settings come from environment variables (CXLENS_SECRET_KEY, CXLENS_ALLOWED_HOSTS,
    CXLENS_DATABASE_URL, CXLENS_SECURE_COOKIES...; see docs/web.md).
    """
    def run() -> None:
        _require_web()
        from cxlens.web.collector import CollectOptions
        from cxlens.web.server import ServeOptions
        from cxlens.web.server import serve as run_server

        if collect_port is not None:
            _require_granian()
        path = ws_module.resolve_path(workspace)
        collect = None if collect_port is None else CollectOptions(path, host, collect_port, collect_workers,
                                                                   collect_threads)
        run_server(ServeOptions(path, host, port, threads, collect), echo=click.echo)
    _run(run)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8001, show_default=True, help="TCP port.")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Processes (rate limits are counted per process).")
@click.option("--threads", type=click.IntRange(1, 256), default=16, show_default=True, help="Threads per process.")
@workspace_option
def collect(host: str, port: int, workers: int, threads: int, workspace: Path | None) -> None:
    """Answer the survey widget only (/s/widget.js, /s/SLUG/collect, /healthz), on processes of its own.

    Answers are committed to the app database; a running 'cxlens serve' (or 'cxlens jobs run
    surveys-flush') moves them to the warehouse. Set CXLENS_COLLECT_URL on the server to this
    endpoint's public address so widget snippets point here.
    """
    def run() -> None:
        _require_web()
        _require_granian()
        from cxlens.web.collector import CollectOptions
        from cxlens.web.collector import run as run_collector

        run_collector(CollectOptions(ws_module.resolve_path(workspace), host, port, workers, threads),
                      echo=click.echo)
    _run(run)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def users() -> None:
    """Create and manage user accounts of the web app."""


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def _project(slug: str) -> Any:
    from cxlens.web.models import Project

    project = Project.objects.filter(slug=slug).first()
    if project is None:
        known = ", ".join(Project.objects.values_list("slug", flat=True)) or "none"
        raise UnknownNameError(
            f"Unknown project '{slug}'. The projects are: {known}. Add one with 'cxlens projects add'."
        )
    return project


@users.command(name="create")
@click.argument("username")
@click.option("--email", default="", help="E-mail address.")
@click.option("--role", type=ROLE_CHOICE, default="viewer", show_default=True, help="Role in the project.")
@click.option("--project", "project_slug", default="main", show_default=True, help="Project the user joins.")
@click.option("--superuser", is_flag=True, help="Site administrator: every project and the /admin/ pages.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (for scripts).")
@workspace_option
def users_create(username: str, email: str, role: str, project_slug: str, superuser: bool, password_stdin: bool,
                 workspace: Path | None) -> None:
    """Create USERNAME with a password and a role in a project (e.g. the first admin)."""
    def run() -> None:
        _app(workspace)
        from django.contrib.auth import get_user_model
        from django.contrib.auth.password_validation import validate_password
        from django.core.exceptions import ValidationError
        from django.db import transaction

        from cxlens.web.models import Membership

        user_model = get_user_model()
        if user_model.objects.filter(username=username).exists():
            raise CxlensInputError(f"The user '{username}' exists already. Change a role with 'cxlens users role'.")
        project = _project(project_slug)
        password = _read_password(password_stdin)
        candidate = user_model(username=username, email=email)
        _check_fields(candidate, ("username", "email"))
        try:
            validate_password(password, candidate)
        except ValidationError as exc:
            raise CxlensInputError("The password is not accepted: " + " ".join(exc.messages)) from None
        with transaction.atomic():
            user = user_model.objects.create_user(username, email, password, is_staff=superuser,
                                                  is_superuser=superuser)
            Membership.objects.create(user=user, project=project, role=role)
        click.echo(f"Created user {username} ({'superuser, ' if superuser else ''}{role} of project {project.slug}).")
    _run(run)


@users.command(name="role")
@click.argument("username")
@click.argument("role", type=click.Choice(["admin", "analyst", "viewer", "none"]))
@click.option("--project", "project_slug", default="main", show_default=True, help="Project.")
@workspace_option
def users_role(username: str, role: str, project_slug: str, workspace: Path | None) -> None:
    """Give USERNAME a ROLE in a project ('none' removes the membership)."""
    def run() -> None:
        _app(workspace)
        from cxlens.web.models import Membership

        user = _user(username)
        project = _project(project_slug)
        if role == "none":
            Membership.objects.filter(user=user, project=project).delete()
        else:
            Membership.objects.update_or_create(user=user, project=project, defaults={"role": role})
        click.echo(f"{username}: {role} in project {project.slug}.")
    _run(run)


def _user(username: str) -> Any:
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise UnknownNameError(f"Unknown user '{username}'. List users with 'cxlens users list'.")
    return user


@users.command(name="list")
@format_option("table", "json")
@workspace_option
def users_list(fmt: str, workspace: Path | None) -> None:
    """Users with their roles per project."""
    def run() -> None:
        _app(workspace)
        from cxlens.web.models import Membership

        rows = [{"user": m.user.username, "email": m.user.email, "project": m.project.slug, "role": m.role,
                 "superuser": m.user.is_superuser, "active": m.user.is_active}
                for m in Membership.objects.select_related("user", "project").order_by("user__username")]
        print_rows(rows, fmt)
    _run(run)


@users.command(name="unlock")
@click.argument("username")
@workspace_option
def users_unlock(username: str, workspace: Path | None) -> None:
    """Lift a lock-out after too many failed logins of USERNAME."""
    def run() -> None:
        _app(workspace)
        from axes.utils import reset

        count = reset(username=username)
        click.echo(f"Cleared {count} lock-out record(s) of {username}.")
    _run(run)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def projects() -> None:
    """Projects (workspaces) served by the web app."""


@projects.command(name="add")
@click.argument("slug")
@click.argument("path", type=click.Path(file_okay=False, path_type=Path))
@click.option("--name", help="Display name (default: the folder's name).")
@workspace_option
def projects_add(slug: str, path: Path, name: str | None, workspace: Path | None) -> None:
    """Serve the workspace at PATH as project SLUG too (members are added with 'cxlens users role')."""
    def run() -> None:
        _app(workspace)
        from cxlens.web.models import Project
        from cxlens.web.projects import ensure_project

        ws_module.open_workspace(path).close()
        if Project.objects.filter(slug=slug).exists():
            raise CxlensInputError(f"The project '{slug}' exists already; choose another name.")
        _check_fields(Project(slug=slug, name=name or path.resolve().name, workspace_path=str(path.resolve())),
                      ("slug", "name", "workspace_path"))
        project = ensure_project(path, slug, name)
        click.echo(f"Added project {project.slug} ({project.workspace_path}). Restart a running 'cxlens serve' "
                   f"so that 'cxlens import' into it goes through the server.")
    _run(run)


@projects.command(name="list")
@format_option("table", "json")
@workspace_option
def projects_list(fmt: str, workspace: Path | None) -> None:
    """Projects with their workspace folders."""
    def run() -> None:
        _app(workspace)
        from cxlens.web.models import Project

        print_rows([{"project": p.slug, "name": p.name, "organization": p.organization.name,
                     "workspace": p.workspace_path, "members": p.memberships.count()}
                    for p in Project.objects.select_related("organization")], fmt)
    _run(run)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def apikeys() -> None:
    """API keys for machines (shown once, stored hashed)."""


@apikeys.command(name="create")
@click.argument("name")
@click.option("--scope", "scopes", multiple=True, type=click.Choice(["read", "ingest"]), required=True,
              help="What the key may do (repeatable).")
@click.option("--project", "project_slug", default="main", show_default=True, help="Project of the key.")
@workspace_option
def apikeys_create(name: str, scopes: tuple[str, ...], project_slug: str, workspace: Path | None) -> None:
    """Create an API key NAME; the secret is printed once."""
    def run() -> None:
        _app(workspace)
        from cxlens.web.models import ApiKey
        from cxlens.web.roles import parse_scopes

        project = _project(project_slug)
        _check_fields(ApiKey(project=project, name=name, prefix="x", digest="x"), ("name",))
        new = ApiKey.issue(project, name, parse_scopes(list(scopes)))
        click.echo(new.secret)
        click.echo(f"Key {new.key.prefix} ({', '.join(new.key.scopes)}) for project {project_slug}. Store the secret "
                   f"now: it is not shown again. Send it as 'Authorization: Bearer <secret>'.", err=True)
    _run(run)


@apikeys.command(name="list")
@click.option("--project", "project_slug", default="main", show_default=True, help="Project.")
@format_option("table", "json")
@workspace_option
def apikeys_list(project_slug: str, fmt: str, workspace: Path | None) -> None:
    """Keys of a project (never their secrets)."""
    def run() -> None:
        _app(workspace)
        from cxlens.web.models import ApiKey

        rows = [{"prefix": k.prefix, "name": k.name, "scopes": ",".join(k.scopes), "created_at": k.created_at,
                 "last_used_at": k.last_used_at, "revoked_at": k.revoked_at}
                for k in ApiKey.objects.filter(project=_project(project_slug))]
        print_rows(rows, fmt)
    _run(run)


@apikeys.command(name="revoke")
@click.argument("prefix")
@workspace_option
def apikeys_revoke(prefix: str, workspace: Path | None) -> None:
    """Revoke the key whose prefix is PREFIX (see 'cxlens apikeys list')."""
    def run() -> None:
        _app(workspace)
        from cxlens.web.models import ApiKey

        key = ApiKey.objects.filter(prefix=prefix, revoked_at__isnull=True).first()
        if key is None:
            raise UnknownNameError(f"No live API key with prefix '{prefix}'. List keys with 'cxlens apikeys list'.")
        key.revoke()
        click.echo(f"Revoked key {prefix} ({key.name}).")
    _run(run)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def jobs() -> None:
    """Background jobs: alert rules, notifications, invitations, SLA escalations.

    'cxlens serve' runs them every second; without a server, run them from cron with
    'cxlens jobs run'.
    """


@jobs.command(name="list")
@format_option("table", "json")
@workspace_option
def jobs_list(fmt: str, workspace: Path | None) -> None:
    """List the registered jobs with their last run per project."""
    def run() -> None:
        _app(workspace)
        from cxlens.web import jobs as job_registry
        from cxlens.web.models import JobRun

        rows = []
        for found in job_registry.registered():
            records = {r.project.slug: r for r in JobRun.objects.filter(name=found.name).select_related("project")}
            for slug, record in sorted(records.items()) or [("", None)]:
                rows.append({"job": found.name, "every_seconds": int(found.every.total_seconds()), "project": slug,
                             "last_run": record.last_started_at.isoformat() if record and record.last_started_at
                             else "", "runs": record.runs if record else 0,
                             "failures": record.failures if record else 0,
                             "last_error": record.last_error if record else ""})
        print_rows(rows, fmt)
    _run(run)


@jobs.command(name="run")
@click.option("--job", "names", multiple=True, help="Run only this job (repeatable; default: all).")
@click.option("--now", "now_text", default=None, help="The time to run at (ISO 8601; default: now).")
@format_option("table", "json")
@workspace_option
def jobs_run(names: tuple[str, ...], now_text: str | None, fmt: str, workspace: Path | None) -> None:
    """Run every background job once for every project (for cron when no server runs)."""
    def run() -> None:
        from cxlens.cli_support import parse_now
        from cxlens.web.client import running_server

        now = parse_now(now_text)
        path = ws_module.resolve_path(workspace).resolve()
        if running_server(path) is not None:
            raise CxlensInputError(
                "'cxlens serve' is running for this workspace and already runs the background jobs every "
                "second; there is nothing to do. Stop the server to run them from the command line.")
        _app(path)
        from cxlens.web import jobs as job_registry
        from cxlens.web.models import Project

        known = {j.name for j in job_registry.registered()}
        unknown = sorted(set(names) - known)
        if unknown:
            raise UnknownNameError(f"No job named {', '.join(unknown)}. Jobs: {', '.join(sorted(known)) or 'none'}.")
        outcomes = [o for p in Project.objects.all() for o in job_registry.run_all(p, now, names)]
        print_rows([o.to_dict() for o in outcomes], fmt)
        if any(not o.ok for o in outcomes):
            sys.exit(1)
    _run(run)


#: The commands cxlens.cli registers: main.add_command(cmd) for each.
COMMANDS = (serve, collect, users, projects, apikeys, jobs)
