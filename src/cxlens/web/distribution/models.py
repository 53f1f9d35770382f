"""Contacts and their consent, the contact policy of a project, survey invitations and triggers.

An :class:`Invitation` is an outbox row: it is written (queued, or suppressed with its reason)
inside the same transaction as whatever decided it, and the ``distribution-send`` job delivers
it afterwards, recording each attempt.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import models
from django.utils import timezone

from cxlens.web.models import Project
from cxlens.web.surveys.models import Survey


class Consent(models.TextChoices):
    OPT_IN = "opt_in", "opt in"
    OPT_OUT = "opt_out", "opt out"
    UNKNOWN = "unknown", "unknown"


class Contact(models.Model):
    """What the project knows about mailing one customer: address, language and consent."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="contacts")
    customer_id = models.CharField(max_length=200)
    email = models.CharField(max_length=254, blank=True, default="")
    language = models.CharField(max_length=20, blank=True, default="")
    consent = models.CharField(max_length=10, choices=Consent.choices, default=Consent.UNKNOWN)
    consent_source = models.CharField(max_length=200, blank=True, default="")
    consent_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "customer_id"], name="one_contact_per_customer")]

    def __str__(self) -> str:
        return f"{self.customer_id} ({self.consent})"

    @property
    def unsubscribed(self) -> bool:
        return self.unsubscribed_at is not None or self.consent == Consent.OPT_OUT


class ContactPolicy(models.Model):
    """How often a project may invite the same customer (across all its surveys)."""

    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="contact_policy")
    resting_days = models.PositiveIntegerField(default=30)
    cap_count = models.PositiveIntegerField(default=3)
    cap_days = models.PositiveIntegerField(default=90)
    mail_unknown = models.BooleanField(default=True)
    link_days = models.PositiveIntegerField(default=30)
    updated_at = models.DateTimeField(default=timezone.now)

    @property
    def resting(self) -> timedelta:
        return timedelta(days=self.resting_days)

    @property
    def cap_period(self) -> timedelta:
        return timedelta(days=self.cap_days)


class Trigger(models.Model):
    """Invite the customer of each new row of ``table`` that matches ``condition``, ``delay`` after the event."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="survey_triggers")
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="triggers")
    name = models.CharField(max_length=200)
    table = models.CharField(max_length=20)
    condition = models.JSONField(default=dict, blank=True)
    delay = models.DurationField(default=timedelta(0))
    max_age = models.DurationField(default=timedelta(days=7))
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def consumer(self) -> str:
        """The feed consumer name of this trigger (its own cursor on ``table``)."""
        return f"survey-trigger-{self.pk}"


class InvitationStatus(models.TextChoices):
    QUEUED = "queued", "queued"
    SENT = "sent", "sent"
    FAILED = "failed", "failed"
    SUPPRESSED = "suppressed", "suppressed"
    CANCELLED = "cancelled", "cancelled"


#: Invitations that count for the resting period and the cap (planned or delivered).
ACTIVE_STATUSES = (InvitationStatus.QUEUED, InvitationStatus.SENT, InvitationStatus.FAILED)


class Invitation(models.Model):
    """One invitation of one customer to one survey, with its personal link and delivery record."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="invitations")
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="invitations")
    customer_id = models.CharField(max_length=200)
    email = models.CharField(max_length=254, blank=True, default="")
    channel = models.CharField(max_length=20, default="email")
    language = models.CharField(max_length=20, blank=True, default="")
    reason = models.CharField(max_length=200, blank=True, default="")
    context = models.JSONField(default=dict, blank=True)
    token = models.TextField(blank=True, default="")
    nonce = models.CharField(max_length=64, unique=True, null=True, blank=True)
    status = models.CharField(max_length=12, choices=InvitationStatus.choices, default=InvitationStatus.QUEUED)
    status_reason = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    send_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    trigger = models.ForeignKey(Trigger, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="invitations")
    source_key = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["trigger", "source_key"],
                                               condition=models.Q(trigger__isnull=False),
                                               name="one_invitation_per_trigger_event")]
        indexes = [models.Index(fields=["project", "customer_id", "send_at"], name="invitation_customer"),
                   models.Index(fields=["status", "next_attempt_at"], name="invitation_due")]

    def __str__(self) -> str:
        return f"{self.survey.slug} → {self.customer_id} ({self.status})"
