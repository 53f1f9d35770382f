"""A deactivated user's open cases go back to their team at once (the ``loop-reassign`` job
also catches owners who lost their role)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone


@receiver(post_save, sender=get_user_model(), dispatch_uid="cxlens-loop-deactivated-owner")
def _owner_saved(sender: Any, instance: Any, created: bool = False, **kwargs: Any) -> None:
    if created or instance.is_active:
        return
    from cxlens.web.loop import service  # noqa: PLC0415
    from cxlens.web.loop.models import Case, Status  # noqa: PLC0415

    projects = {c.project for c in Case.objects.filter(owner=instance).exclude(status=Status.CLOSED)
                .select_related("project")}
    for project in projects:
        service.reassign_inactive(project, timezone.now())
