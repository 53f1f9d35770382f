"""The app database: organisations, their projects (workspaces), memberships and API keys."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import models
from django.utils import timezone

from cxlens.web.roles import Permission, Role

KEY_PREFIX = "cxl"


class Organization(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name


class Project(models.Model):
    """A workspace served by this app; its members see it, nobody else does."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="projects")
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    workspace_path = models.CharField(max_length=1000)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=[(r.value, r.value) for r in Role])
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "project"], name="one_membership_per_project")]

    def permissions(self) -> frozenset[Permission]:
        return Role(self.role).permissions


@dataclass(frozen=True)
class NewKey:
    """A freshly created key: ``secret`` is shown once and never stored."""

    key: ApiKey
    secret: str


def _digest(secret: str) -> str:
    # The secret is 256 random bits, so one SHA-256 is enough (no password stretching needed).
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class ApiKey(models.Model):
    """A machine credential for one project, with scopes; only its SHA-256 digest is stored."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=200)
    prefix = models.CharField(max_length=16, unique=True)
    digest = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    @classmethod
    def issue(cls, project: Project, name: str, scopes: tuple[str, ...], created_by: object = None) -> NewKey:
        prefix = secrets.token_hex(4)
        secret = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
        key = cls.objects.create(project=project, name=name, prefix=prefix, digest=_digest(secret),
                                 scopes=list(scopes), created_by=created_by)
        return NewKey(key, secret)

    @classmethod
    def verify(cls, secret: str) -> ApiKey | None:
        """The live key matching ``secret``, or None (unknown, malformed or revoked)."""
        parts = secret.split("_", 2)
        if len(parts) != 3 or parts[0] != KEY_PREFIX:
            return None
        key = cls.objects.select_related("project").filter(prefix=parts[1], revoked_at__isnull=True).first()
        if key is None or not hmac.compare_digest(key.digest, _digest(secret)):
            return None
        return key

    def permissions(self) -> frozenset[Permission]:
        return frozenset(Permission(s) for s in self.scopes)

    def revoke(self) -> None:
        self.revoked_at = timezone.now()
        self.save(update_fields=["revoked_at"])


class FeedCursor(models.Model):
    """How far one consumer (alert rules, survey triggers…) has read a project's table feed."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="feed_cursors")
    consumer = models.CharField(max_length=60)
    table = models.CharField(max_length=40)
    import_id = models.BigIntegerField(default=0)
    line = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "consumer", "table"], name="one_cursor_per_feed")]

    def __str__(self) -> str:
        return f"{self.consumer} on {self.table} at {self.import_id}:{self.line}"


class JobRun(models.Model):
    """The last run of a background job for a project (when it ran, how it ended)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="job_runs")
    name = models.CharField(max_length=60)
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_finished_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    runs = models.BigIntegerField(default=0)
    failures = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="one_run_record_per_job")]
