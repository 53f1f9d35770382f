"""Projects as the server sees them: who may open which, and the workspaces it keeps open.

The server process owns the warehouse file of every project it serves (DuckDB allows one
writing process per file): each workspace is opened once and used by one request at a time
(a lock per workspace), so requests never see a lock error and the CLI goes through the API.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.db.models import QuerySet

from cxlens import workspace as ws_module
from cxlens.web.models import Membership, Organization, Project
from cxlens.web.roles import Permission, Role

DEFAULT_ORG = "default"
DEFAULT_PROJECT = "main"


class AccessDenied(Exception):
    """The caller is known but lacks the permission (HTTP 403)."""

    def __init__(self, permission: Permission, role: str | None) -> None:
        self.permission = permission
        self.role = role
        super().__init__(
            f"This needs the '{permission.value}' permission, which your role or key "
            f"({role or 'none'}) does not have. Ask a project admin for a role that includes it."
        )


class ProjectNotFound(Exception):
    """No such project, or the caller is not a member (both look the same: HTTP 404)."""

    def __init__(self, slug: str) -> None:
        self.slug = slug
        super().__init__(f"No project '{slug}' is visible to you. List yours at /api/projects.")


def visible_projects(user: Any) -> QuerySet[Project]:
    if not getattr(user, "is_authenticated", False):
        return Project.objects.none()
    if user.is_superuser:
        return Project.objects.all()
    return Project.objects.filter(memberships__user=user).distinct()


def role_of(user: Any, project: Project) -> Role | None:
    if not getattr(user, "is_authenticated", False):
        return None
    if user.is_superuser:
        return Role.ADMIN
    m = Membership.objects.filter(user=user, project=project).first()
    return Role(m.role) if m else None


def project_for_user(user: Any, slug: str, permission: Permission) -> tuple[Project, Role]:
    """The project ``slug`` if ``user`` is a member whose role grants ``permission``."""
    project = Project.objects.filter(slug=slug).first()
    role = role_of(user, project) if project else None
    if project is None or role is None:
        raise ProjectNotFound(slug)
    if permission not in role.permissions:
        raise AccessDenied(permission, role.value)
    return project, role


def ensure_project(workspace: Path, slug: str = DEFAULT_PROJECT, name: str | None = None) -> Project:
    """The project serving ``workspace`` (created with the default organisation when missing)."""
    path = str(workspace.resolve())
    existing = Project.objects.filter(slug=slug).first()
    if existing is not None:
        if existing.workspace_path != path:
            existing.workspace_path = path
            existing.save(update_fields=["workspace_path"])
        return existing
    org, _ = Organization.objects.get_or_create(slug=DEFAULT_ORG, defaults={"name": "Default organisation"})
    return Project.objects.create(organization=org, slug=slug, name=name or workspace.resolve().name,
                                  workspace_path=path)


class WorkspacePool:
    """Open workspaces by project, each used by one thread at a time."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._open: dict[str, tuple[ws_module.Workspace, threading.RLock]] = {}

    @contextmanager
    def use(self, project: Project) -> Iterator[ws_module.Workspace]:
        ws, lock = self._entry(project)
        with lock:
            yield ws

    def _entry(self, project: Project) -> tuple[ws_module.Workspace, threading.RLock]:
        with self._guard:
            entry = self._open.get(project.workspace_path)
            if entry is None:
                entry = (ws_module.open_workspace(Path(project.workspace_path)), threading.RLock())
                self._open[project.workspace_path] = entry
            return entry

    def close(self) -> None:
        with self._guard:
            for ws, lock in self._open.values():
                with lock:
                    ws.close()
            self._open.clear()


POOL = WorkspacePool()
