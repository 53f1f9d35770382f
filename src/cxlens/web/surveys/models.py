"""Surveys, their versions and the responses to them (app database).

A survey's questions live in versions. Editing a draft that nobody has answered rewrites its
latest version; any other edit adds a version, so a response keeps the version it started on
and its answers (keyed by stable question ids) keep their meaning.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from cxlens.web.models import Project


class Status(models.TextChoices):
    DRAFT = "draft", "draft"
    LIVE = "live", "live"
    CLOSED = "closed", "closed"


def new_public_key() -> str:
    """A survey's public collection key (shown in the widget snippet; rotate it from the builder)."""
    return "pk_" + secrets.token_urlsafe(18)


class Survey(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="surveys")
    slug = models.SlugField(max_length=60, unique=True)
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    touchpoint = models.CharField(max_length=100, blank=True, default="")
    language = models.CharField(max_length=20, default="en")
    hidden_fields = models.JSONField(default=list)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # The embeddable widget: its key, and the web sites (origins) allowed to post answers.
    public_key = models.CharField(max_length=40, default=new_public_key)
    allowed_origins = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title

    def latest(self) -> SurveyVersion:
        version = self.versions.order_by("-number").first()
        assert version is not None, "a survey always has a version"
        return version

    def open_problem(self, now: datetime) -> str | None:
        """Why the survey takes no answers at ``now`` (None when it does)."""
        if self.status == Status.DRAFT:
            return "This survey is not open yet."
        if self.status == Status.CLOSED:
            return "This survey is closed. Thank you for your interest."
        if self.starts_at and now < self.starts_at:
            return f"This survey opens on {self.starts_at:%Y-%m-%d}."
        if self.ends_at and now >= self.ends_at:
            return "This survey has ended. Thank you for your interest."
        return None


class SurveyVersion(models.Model):
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    questions = models.JSONField(default=list)
    # Texts per language: {"ar": {"q1": {"text": ..., "options": [...]}}}; question ids stay the same.
    translations = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["survey", "number"], name="one_number_per_survey")]

    def question(self, qid: str) -> dict[str, Any] | None:
        return next((q for q in self.questions if q["id"] == qid), None)


def _public_id() -> str:
    return uuid.uuid4().hex


class Response(models.Model):
    """One respondent's answers, kept from the first page on. ``completed_at`` makes it final (durable
    here before the respondent is thanked); the ``surveys-flush`` job then writes it to the warehouse
    in a batch and records that import's id in ``import_id``."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="responses")
    version = models.ForeignKey(SurveyVersion, on_delete=models.PROTECT, related_name="responses")
    public_id = models.CharField(max_length=32, unique=True, default=_public_id)
    # The nonce of the personal link it came from: one response per link.
    link = models.CharField(max_length=64, unique=True, null=True, blank=True)
    hidden = models.JSONField(default=dict)
    answers = models.JSONField(default=dict)
    page = models.PositiveIntegerField(default=0)
    language = models.CharField(max_length=20, default="en")
    started_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    import_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["survey", "completed_at"], name="survey_completed"),
                   models.Index(fields=["completed_at"], name="survey_pending_import",
                                condition=models.Q(import_id__isnull=True, completed_at__isnull=False))]

    @property
    def response_id(self) -> str:
        """The row key in the warehouse ``responses`` table."""
        return f"{self.survey.slug}-{self.public_id}"
