"""Project administration: members and their roles, API keys (what the settings page does)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from cxlens.errors import CxlensInputError, UnknownNameError
from cxlens.web.models import ApiKey, Membership, NewKey, Project
from cxlens.web.roles import Role, parse_scopes


def members(project: Project) -> list[Membership]:
    return list(Membership.objects.filter(project=project).select_related("user").order_by("user__username"))


def set_role(project: Project, username: str, role: str) -> Membership:
    """Add ``username`` to the project with ``role``, or change their role."""
    parsed = Role.parse(role)
    user = get_user_model().objects.filter(username=username.strip()).first()
    if user is None:
        raise UnknownNameError(
            f"There is no user '{username}'. Create the account first: cxlens users create {username or 'NAME'}"
        )
    with transaction.atomic():
        if parsed is not Role.ADMIN:
            _keep_an_admin(project, exclude=user.pk)
        membership, _ = Membership.objects.update_or_create(user=user, project=project,
                                                            defaults={"role": parsed.value})
    return membership


def remove_member(project: Project, username: str) -> None:
    with transaction.atomic():
        m = Membership.objects.filter(project=project, user__username=username).select_related("user").first()
        if m is None:
            raise UnknownNameError(f"'{username}' is not a member of {project.name}.")
        _keep_an_admin(project, exclude=m.user.pk)
        m.delete()


def _keep_an_admin(project: Project, exclude: Any) -> None:
    others = Membership.objects.filter(project=project, role=Role.ADMIN.value).exclude(user_id=exclude)
    if not others.exists():
        raise CxlensInputError(
            f"{project.name} must keep at least one admin. Make someone else admin first."
        )


def keys(project: Project) -> list[ApiKey]:
    return list(ApiKey.objects.filter(project=project))


def create_key(project: Project, name: str, scopes: list[str], user: Any) -> NewKey:
    if not name.strip():
        raise CxlensInputError("Give the API key a name that says who uses it (e.g. 'survey tool').")
    return ApiKey.issue(project, name.strip()[:200], parse_scopes(scopes), created_by=user)


def revoke_key(project: Project, prefix: str) -> ApiKey:
    key = ApiKey.objects.filter(project=project, prefix=prefix, revoked_at__isnull=True).first()
    if key is None:
        raise UnknownNameError(f"No live API key '{prefix}' in {project.name}.")
    key.revoke()
    return key
