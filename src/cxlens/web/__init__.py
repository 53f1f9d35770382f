"""The cxlens web app: dashboards, accounts and roles, and the REST API, on Django.

Importing this package does not touch Django. :func:`setup` configures Django for one served
workspace (once per process) and applies the app database's migrations when asked to::

    from cxlens.web import setup
    setup(load_config(Path("my-workspace")), migrate=True)

Layout: ``config.py`` (settings), ``models.py`` (organisations, projects, memberships, API
keys), ``roles.py`` (what each role and scope may do), ``projects.py`` (the open workspaces the
server owns), ``api.py`` (REST API and its error shape), ``pages.py`` (what each dashboard
shows, assembled from the metric runners), ``charts.py`` (server-side SVG), ``views.py``
(pages), ``server.py`` (the WSGI server), ``client.py`` (the CLI talking to a running server),
``manage.py`` (members and keys of a project), ``cli.py`` (``cxlens serve``, ``cxlens users``,
``cxlens projects``, ``cxlens apikeys``; also ``python -m cxlens.web``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cxlens.web.config import WebConfig

_configured: WebConfig | None = None


def setup(config: WebConfig, *, migrate: bool = False) -> None:
    """Configure Django for ``config`` (idempotent for the same config) and optionally migrate."""
    global _configured
    import django
    from django.conf import settings

    from cxlens.errors import WorkspaceError
    from cxlens.web.config import django_settings

    if _configured is None:
        settings.configure(**django_settings(config))
        django.setup()
        _configured = config
    elif _configured.workspace != config.workspace or _configured.database["NAME"] != config.database["NAME"]:
        raise WorkspaceError(
            f"This process already serves {_configured.workspace}; start another process to serve "
            f"{config.workspace}."
        )
    if migrate:
        from django.core.management import call_command
        from django.db import DatabaseError

        try:
            call_command("migrate", interactive=False, verbosity=0)
        except DatabaseError as exc:
            reason = " ".join(str(exc).split())
            raise WorkspaceError(
                f"Cannot create or update the tables of the app database: {reason}. The database user needs "
                f"the right to create tables; on PostgreSQL make it the database's owner "
                f"(ALTER DATABASE name OWNER TO user), then start again."
            ) from None


def configured() -> WebConfig | None:
    return _configured
