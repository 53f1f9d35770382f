"""The closed loop in the app database: alert rules, teams, cases and their history,
notification channels, the delivery outbox and the SLA settings of a project.

A case is open until it is closed; the database allows one open case per (project, customer,
reason) by a partial unique index (SQLite and PostgreSQL both support it), which backs the check
the service makes before opening one.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from cxlens.web.models import Project


class Source(models.TextChoices):
    RESPONSES = "responses", "responses"
    TICKETS = "tickets", "tickets"
    SIGNALS = "signals", "signals"


class Priority(models.TextChoices):
    LOW = "low", "low"
    NORMAL = "normal", "normal"
    HIGH = "high", "high"
    URGENT = "urgent", "urgent"


PRIORITY_ORDER: tuple[str, ...] = ("low", "normal", "high", "urgent")


class Status(models.TextChoices):
    NEW = "new", "new"
    ACKNOWLEDGED = "acknowledged", "acknowledged"
    IN_PROGRESS = "in_progress", "in progress"
    RESOLVED = "resolved", "resolved"
    CLOSED = "closed", "closed"


OPEN_STATUSES: tuple[str, ...] = ("new", "acknowledged", "in_progress", "resolved")


class Team(models.Model):
    """People who share cases; new cases go to the active members in turn (round-robin)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="loop_teams")
    name = models.CharField(max_length=100)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="loop_teams")
    next_index = models.PositiveIntegerField(default=0)  # the round-robin position
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="loop_one_team_name")]

    def __str__(self) -> str:
        return self.name


class AlertRule(models.Model):
    """A condition on new rows (responses, tickets) or signals and what to do when it matches."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="alert_rules")
    name = models.CharField(max_length=200)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.RESPONSES)
    condition = models.JSONField(default=dict)
    open_case = models.BooleanField(default=True)
    notify = models.BooleanField(default=True)
    acknowledge_customer = models.BooleanField(default=False)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    reason = models.CharField(max_length=200)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="rules")
    active = models.BooleanField(default=True)
    max_cases_per_run = models.PositiveIntegerField(default=100)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    last_error_at = models.DateTimeField(null=True, blank=True)
    matched = models.PositiveBigIntegerField(default=0)
    cases_opened = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="loop_one_rule_name")]

    def __str__(self) -> str:
        return self.name


class Case(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="cases")
    customer_id = models.CharField(max_length=200, blank=True, default="")
    title = models.CharField(max_length=300, blank=True, default="")
    reason = models.CharField(max_length=200)
    theme = models.CharField(max_length=200, blank=True, default="")
    source_table = models.CharField(max_length=20, blank=True, default="")
    source_id = models.CharField(max_length=200, blank=True, default="")
    rule = models.ForeignKey(AlertRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="cases")
    evidence = models.JSONField(default=list)
    value_at_stake = models.FloatField(null=True, blank=True)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="loop_cases")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="cases")
    opened_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    ack_due_at = models.DateTimeField(null=True, blank=True)
    resolve_due_at = models.DateTimeField(null=True, blank=True)
    ack_escalated_at = models.DateTimeField(null=True, blank=True)
    resolve_escalated_at = models.DateTimeField(null=True, blank=True)
    root_cause = models.CharField(max_length=200, blank=True, default="")
    resolution = models.TextField(blank=True, default="")
    reopened = models.PositiveIntegerField(default=0)
    customer_contacted = models.BooleanField(default=False)
    followup = models.CharField(max_length=200, blank=True, default="")  # the follow-up invitation's outcome
    changed_at = models.DateTimeField(default=timezone.now)
    revision = models.PositiveIntegerField(default=1)  # +1 on every change
    synced_revision = models.PositiveIntegerField(default=0)  # the revision last written to the warehouse

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "customer_id", "reason"],
                                    condition=~Q(status="closed") & ~Q(customer_id=""),
                                    name="loop_one_open_case_per_customer_reason"),
        ]
        indexes = [models.Index(fields=["project", "status"], name="loop_case_status"),
                   models.Index(fields=["project", "customer_id"], name="loop_case_customer")]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.reason}"

    @property
    def case_id(self) -> str:
        """The case's key outside the app database (warehouse, API, mail)."""
        return f"C{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status != Status.CLOSED


class CaseEvent(models.Model):
    """One entry of a case's history: who changed what, when, from what to what."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    actor_label = models.CharField(max_length=200, blank=True, default="")
    kind = models.CharField(max_length=30)
    field = models.CharField(max_length=40, blank=True, default="")
    old = models.TextField(blank=True, default="")
    new = models.TextField(blank=True, default="")
    note = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["at", "id"]

    @property
    def who(self) -> str:
        return self.actor.get_username() if self.actor is not None else (self.actor_label or "system")


class ChannelKind(models.TextChoices):
    WEBHOOK = "webhook", "webhook"
    EMAIL = "email", "email"
    SLACK = "slack", "slack"


EVENTS: tuple[str, ...] = ("case.opened", "case.assigned", "case.escalated", "case.resolved", "case.closed",
                           "case.reopened", "rule.matched")


class Channel(models.Model):
    """Where notifications go: a signed webhook, email addresses or a Slack-compatible webhook."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="loop_channels")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=ChannelKind.choices)
    url = models.CharField(max_length=1000, blank=True, default="")
    secret = models.CharField(max_length=200, blank=True, default="")  # signing key; shown once at creation
    emails = models.JSONField(default=list)
    events = models.JSONField(default=list)  # empty: every event
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="loop_one_channel_name")]

    def __str__(self) -> str:
        return self.name

    def wants(self, event: str) -> bool:
        return self.active and (not self.events or event in self.events)

    @property
    def target(self) -> str:
        """Where it sends, for display and the API: never a token (see :func:`masked_url`)."""
        if self.kind == ChannelKind.EMAIL:
            return ", ".join(self.emails)
        return masked_url(self.url, self.kind)

    @property
    def secret_hint(self) -> str:
        """The last 4 characters of the signing secret (enough to tell two secrets apart)."""
        return self.secret[-4:] if self.secret else ""


def masked_url(url: str, kind: str) -> str:
    """``url`` without what may be a credential: user and password, the query string and the path
    (Slack, Discord and Teams webhooks carry their token there), of which the last 4 characters are
    kept to tell channels apart."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    path = parts.path.rstrip("/")
    shown = f"{parts.scheme}://{host}/…{path[-4:]}" if path.strip("/") else f"{parts.scheme}://{host}/"
    return shown + ("?…" if parts.query else "")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "pending"
    DELIVERED = "delivered", "delivered"
    FAILED = "failed", "failed"


class Delivery(models.Model):
    """One message to send (the outbox) and what happened to it (the delivery log)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="loop_deliveries")
    channel = models.ForeignKey(Channel, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries")
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries")
    kind = models.CharField(max_length=10, choices=ChannelKind.choices)
    event = models.CharField(max_length=40)
    recipients = models.JSONField(default=list)  # for email deliveries
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    response_code = models.IntegerField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="loop_delivery_due")]

    def describe_target(self) -> str:
        if self.kind == ChannelKind.EMAIL:
            return ", ".join(self.recipients)
        return self.channel.target if self.channel is not None else ""


def default_targets() -> dict[str, Any]:
    """Hours to acknowledge and to resolve per priority (business hours of the calendar)."""
    return {"urgent": {"acknowledge": 1, "resolve": 8}, "high": {"acknowledge": 4, "resolve": 24},
            "normal": {"acknowledge": 8, "resolve": 40}, "low": {"acknowledge": 16, "resolve": 80}}


def default_days() -> list[str]:
    return ["mon", "tue", "wed", "thu", "fri"]


class SlaSettings(models.Model):
    """The project's business calendar and SLA targets per priority."""

    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="sla_settings")
    timezone = models.CharField(max_length=60, default="UTC")
    business_hours = models.BooleanField(default=True)  # False: the clock runs around the clock
    days = models.JSONField(default=default_days)
    opens = models.CharField(max_length=5, default="09:00")
    closes = models.CharField(max_length=5, default="17:00")
    holidays = models.JSONField(default=list)
    targets = models.JSONField(default=default_targets)
    high_value = models.FloatField(null=True, blank=True)  # value at stake that raises a case's priority
    followup_survey = models.CharField(max_length=60, blank=True, default="")  # slug; made on first use


class OwnerPreference(models.Model):
    """A user's choices about the loop's own e-mail to them (absent: the defaults)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="loop_preference")
    assignment_email = models.BooleanField(default=True)  # an e-mail when a case is assigned to them
