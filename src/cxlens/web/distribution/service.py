"""Survey distribution: invite customers by e-mail under the project's contact rules, deliver the
queued invitations, honour unsubscribes and measure response rates.

Contact rules, checked by :func:`invite` (and by triggers, which call it) in this order:

1. an unsubscribed or opted-out customer is never invited (``unsubscribed``);
2. a customer whose consent is ``unknown`` is invited only when the project's policy allows it
   (``mail_unknown``, default yes: invitations are transactional follow-ups of the customer's
   own ticket or order);
3. resting period: no two invitations to the same customer, across all surveys of the project,
   are planned less than ``resting_days`` apart (``resting period until 2026-12-20``);
4. cap: at most ``cap_count`` invitations per customer within any ``cap_days`` (``cap``).

A suppressed invitation is stored with its reason and never sent. Everything else is queued and
delivered by the ``distribution-send`` job (:func:`send_due`), which records every attempt and
retries failures with exponential backoff.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from django.core import signing
from django.db import transaction
from django.db.models import Count, F, Q
from django.template.loader import render_to_string
from django.utils.html import escape, format_html

from cxlens.errors import CxlensError, CxlensInputError
from cxlens.loop.rules import parse_condition
from cxlens.stats import wilson_interval
from cxlens.web import jobs, mail
from cxlens.web.distribution.models import (
    ACTIVE_STATUSES,
    Consent,
    Contact,
    ContactPolicy,
    Invitation,
    InvitationStatus,
    Trigger,
)
from cxlens.web.models import Project
from cxlens.web.projects import POOL
from cxlens.web.surveys import i18n, links
from cxlens.web.surveys.models import Response, Status, Survey, SurveyVersion

CHANNELS = ("email",)
EMAIL = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;]+$")
MAX_ATTEMPTS = 10
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=6)
UNSUBSCRIBE_SALT = "cxlens.distribution.unsubscribe"
UNSUBSCRIBE_DAYS = 730
SEND_BATCH = 200
SEND_LEASE = timedelta(minutes=10)


class DistributionError(CxlensInputError):
    """An invitation, consent or trigger request that cannot be done as asked (shown to the user)."""


@dataclass(frozen=True)
class InviteResult:
    status: Literal["queued", "sent", "suppressed"]
    reason: str
    invitation: Invitation | None

    def to_dict(self) -> dict[str, Any]:
        inv = self.invitation
        return {"status": self.status, "reason": self.reason, "invitation": inv.pk if inv else None,
                "customer_id": inv.customer_id if inv else None,
                "send_at": inv.send_at.isoformat() if inv else None}


# ------------------------------------------------------------------------------- contacts, policy


def policy_for(project: Project) -> ContactPolicy:
    """The project's contact policy (the defaults until an admin changes them)."""
    found, _ = ContactPolicy.objects.get_or_create(project=project)
    return found


def update_policy(project: Project, values: Mapping[str, Any], now: datetime) -> ContactPolicy:
    """Change the contact policy; every number is checked and named when wrong."""
    policy = policy_for(project)
    limits = {"resting_days": (0, 3650), "cap_count": (1, 1000), "cap_days": (1, 3650), "link_days": (1, 365)}
    for name, (low, high) in limits.items():
        if name not in values or values[name] in (None, ""):
            continue
        raw = values[name]
        try:
            number = int(raw)
        except (TypeError, ValueError):
            number = None
        if number is None or not low <= number <= high:
            raise DistributionError(f"The contact policy's '{name}' must be a whole number from {low} to {high}. "
                                    f"Got {raw!r} instead.")
        setattr(policy, name, number)
    if "mail_unknown" in values:
        policy.mail_unknown = values["mail_unknown"] in (True, "true", "on", "1", "yes")
    policy.updated_at = now
    policy.save()
    return policy


def contact_for(project: Project, customer_id: str) -> Contact | None:
    return Contact.objects.filter(project=project, customer_id=customer_id).first()


def check_email(email: str, field_name: str = "email") -> str:
    value = email.strip()
    if not EMAIL.match(value) or len(value) > 254:
        raise DistributionError(f"The '{field_name}' must be an e-mail address like name@example.com. "
                                f"Got {email!r} instead.")
    return value


def set_consent(project: Project, customer_id: str, consent: str, now: datetime, *, source: str = "",
                email: str | None = None, language: str | None = None) -> Contact:
    """Record a customer's consent (``opt_in``, ``opt_out`` or ``unknown``) and where it came from.

    Opting out cancels the customer's queued invitations, like the unsubscribe link does.
    """
    customer_id = _customer_id(customer_id)
    if consent not in Consent.values:
        raise DistributionError(f"The 'consent' must be one of {', '.join(Consent.values)}. Got {consent!r} instead.")
    with transaction.atomic():
        contact, _ = Contact.objects.select_for_update().get_or_create(project=project, customer_id=customer_id)
        contact.consent, contact.consent_source, contact.consent_at = consent, source[:200], now
        if email is not None and email.strip():
            contact.email = check_email(email)
        if language:
            contact.language = language[:20]
        if consent == Consent.OPT_OUT:
            contact.unsubscribed_at = contact.unsubscribed_at or now
            _cancel_queued(project, customer_id, "opted out")
        elif consent == Consent.OPT_IN:
            contact.unsubscribed_at = None
        contact.updated_at = now
        contact.save()
    return contact


def consent_allows(project: Project, customer_id: str, now: datetime) -> bool:
    """Whether the project may e-mail ``customer_id`` at all at ``now`` (consent and unsubscribes only;
    the resting period and cap apply to survey invitations, not to acknowledgements)."""
    contact = contact_for(project, customer_id)
    return _consent_problem(project, contact, policy_for(project)) is None


def _consent_problem(project: Project, contact: Contact | None, policy: ContactPolicy) -> str | None:
    if contact is not None and contact.unsubscribed:
        return "unsubscribed"
    consent = contact.consent if contact is not None else Consent.UNKNOWN
    if consent == Consent.UNKNOWN and not policy.mail_unknown:
        return "no consent (consent unknown, and the contact policy mails only customers who opted in)"
    return None


def _customer_id(value: Any) -> str:
    text = str(value or "").strip()
    if not text or len(text) > 200:
        raise DistributionError(f"The 'customer_id' must be 1 to 200 characters. Got {value!r} instead.")
    return text


# --------------------------------------------------------------------------------------- rules


def contact_rule_problem(project: Project, customer_id: str, send_at: datetime,
                         policy: ContactPolicy | None = None) -> str | None:
    """Why an invitation of ``customer_id`` planned for ``send_at`` must not be sent (None: it may)."""
    policy = policy or policy_for(project)
    problem = _consent_problem(project, contact_for(project, customer_id), policy)
    if problem:
        return problem
    active = Invitation.objects.filter(project=project, customer_id=customer_id, status__in=ACTIVE_STATUSES)
    if policy.resting_days > 0:
        near = active.filter(send_at__gt=send_at - policy.resting, send_at__lt=send_at + policy.resting)
        latest = near.order_by("-send_at").first()
        if latest is not None:
            until = latest.send_at + policy.resting
            return f"resting period until {until:%Y-%m-%d}"
    within = active.filter(send_at__gt=send_at - policy.cap_period, send_at__lte=send_at).count()
    if within >= policy.cap_count:
        return f"cap ({policy.cap_count} invitations per {policy.cap_days} days reached)"
    return None


# ------------------------------------------------------------------------------------- invite


def warehouse_emails(project: Project, customer_ids: Sequence[str]) -> dict[str, str]:
    """The valid addresses in the warehouse ``customers.email`` column of ``customer_ids`` (one query)."""
    ids = sorted(set(customer_ids))
    if not ids:
        return {}
    with POOL.use(project) as ws:
        t = ws.table("customers")
        if "email" not in t.columns:
            return {}
        rows = t.filter(t.customer_id.isin(ids)).select("customer_id", "email").to_pyarrow().to_pylist()
    found = {str(r["customer_id"]): str(r["email"] or "").strip() for r in rows}
    return {k: v for k, v in found.items() if EMAIL.match(v) and len(v) <= 254}


def resolve_email(project: Project, customer_id: str, email: str = "",
                  warehouse: Mapping[str, str] | None = None) -> str:
    """The address to mail: the one given, else the contact's, else the warehouse ``customers.email``
    (empty when none is known or the stored one is not an address). ``warehouse``: addresses
    looked up already (:func:`warehouse_emails`) for a batch."""
    if email and email.strip():
        return check_email(email)
    contact = contact_for(project, customer_id)
    if contact is not None and contact.email:
        return contact.email
    if warehouse is None:
        warehouse = warehouse_emails(project, [customer_id])
    return warehouse.get(customer_id, "")


def _hidden(survey: Survey, customer_id: str, context: Mapping[str, str] | None) -> dict[str, str]:
    allowed = set(survey.hidden_fields)
    values = {"customer_id": customer_id, **{str(k): str(v) for k, v in (context or {}).items()}}
    return {k: v for k, v in values.items() if k in allowed and v}


def invite(survey: Survey, *, customer_id: str, email: str, now: datetime, channel: str = "email",
           reason: str = "", context: Mapping[str, str] | None = None, language: str | None = None,
           send_at: datetime | None = None, trigger: Trigger | None = None, source_key: str = "",
           warehouse: Mapping[str, str] | None = None) -> InviteResult:
    """Invite ``customer_id`` to ``survey``: apply the contact rules, then queue the invitation (or store
    it as suppressed with the reason). ``email`` may be empty: the contact's or the warehouse's address
    is used (``warehouse``: addresses of a batch looked up at once). The ``distribution-send`` job delivers
    it at ``send_at`` (default ``now``)."""
    customer_id = _customer_id(customer_id)
    if channel not in CHANNELS:
        raise DistributionError(f"The 'channel' must be one of {', '.join(CHANNELS)}. Got {channel!r} instead.")
    if survey.status != Status.LIVE:
        raise DistributionError(f"The survey {survey.slug!r} is {survey.status}; publish it before inviting "
                                f"customers to it.")
    send_at = max(send_at or now, now)
    address = resolve_email(survey.project, customer_id, email, warehouse)
    policy = policy_for(survey.project)
    contact = contact_for(survey.project, customer_id)
    lang = language or (contact.language if contact and contact.language else "") or survey.language
    fields: dict[str, Any] = {"project": survey.project, "survey": survey, "customer_id": customer_id,
                              "email": address, "channel": channel, "language": lang[:20], "reason": reason[:200],
                              "context": {str(k): str(v) for k, v in (context or {}).items()}, "created_at": now,
                              "send_at": send_at, "trigger": trigger, "source_key": source_key[:300]}
    with transaction.atomic():
        # One customer at a time: the resting period must see invitations being created right now.
        known, _ = Contact.objects.select_for_update().get_or_create(project=survey.project, customer_id=customer_id)
        if address and not known.email:  # remember the address for later invitations
            known.email, known.updated_at = address, now
            known.save(update_fields=["email", "updated_at"])
        problem = ("no e-mail address (give one, or import customers with a valid email column)"
                   if not address else contact_rule_problem(survey.project, customer_id, send_at, policy))
        if problem is None and survey.ends_at is not None and send_at >= survey.ends_at:
            problem = f"the survey ends on {survey.ends_at:%Y-%m-%d}, before the invitation would be sent"
        if problem:
            inv = Invitation.objects.create(**fields, status=InvitationStatus.SUPPRESSED, status_reason=problem)
            return InviteResult("suppressed", problem, inv)
        expires_at = send_at + timedelta(days=policy.link_days)
        # The link remembers the language too, for when it is opened without its '&lang='.
        token = links.make_token(survey.slug, _hidden(survey, customer_id, context), expires_at, lang[:20])
        nonce = links.read_token(token, survey.slug, now).nonce
        inv = Invitation.objects.create(**fields, status=InvitationStatus.QUEUED, token=token, nonce=nonce,
                                        expires_at=expires_at)
    if send_at <= now:
        transaction.on_commit(jobs.kick)
    return InviteResult("queued", "", inv)


def invite_many(survey: Survey, customer_ids: list[str], now: datetime, *, reason: str = "manual",
                emails: Mapping[str, str] | None = None) -> list[InviteResult]:
    """Invite each customer id once (blank and repeated ids are skipped)."""
    ids = list(dict.fromkeys(c.strip() for c in customer_ids if c.strip()))
    known = warehouse_emails(survey.project, ids)
    return [invite(survey, customer_id=cid, email=(emails or {}).get(cid, ""), now=now, reason=reason,
                   warehouse=known) for cid in ids]


def parse_customer_ids(text: str, limit: int = 1000) -> list[str]:
    """Customer ids pasted one per line (or separated by commas, semicolons or spaces)."""
    ids = [part for part in re.split(r"[\s,;]+", text or "") if part]
    if not ids:
        raise DistributionError("Paste at least one customer id ('customer_ids', one per line).")
    if len(ids) > limit:
        raise DistributionError(f"At most {limit} customer ids at a time. Got {len(ids)}; send them in parts.")
    return ids


# ------------------------------------------------------------------------------ unsubscribing


def make_unsubscribe_token(project: Project, customer_id: str, expires_at: datetime) -> str:
    payload = {"p": project.pk, "c": customer_id, "e": int(expires_at.timestamp())}
    return signing.dumps(payload, salt=UNSUBSCRIBE_SALT, compress=True)


@dataclass(frozen=True)
class UnsubscribeLink:
    project: Project
    customer_id: str
    expires_at: datetime


class UnsubscribeError(CxlensError):
    """An unsubscribe link that cannot be used; ``reason`` is tampered or expired (``when``: the expiry)."""

    def __init__(self, reason: str, message: str, when: datetime | None = None) -> None:
        self.reason, self.when = reason, when
        super().__init__(message)


def read_unsubscribe_token(token: str, now: datetime) -> UnsubscribeLink:
    try:
        payload = signing.loads(token, salt=UNSUBSCRIBE_SALT)
        project = Project.objects.get(pk=int(payload["p"]))
        link = UnsubscribeLink(project, str(payload["c"]), datetime.fromtimestamp(int(payload["e"]), UTC))
    except (signing.BadSignature, KeyError, TypeError, ValueError, Project.DoesNotExist):
        raise UnsubscribeError("tampered", "This unsubscribe link is not valid. Please use the link exactly as "
                                           "you received it, or reply to the e-mail to be removed.") from None
    if now >= link.expires_at:
        raise UnsubscribeError("expired", f"This unsubscribe link expired on {link.expires_at:%Y-%m-%d}. Please "
                                          "use the link in a more recent e-mail, or reply to it to be removed.",
                               link.expires_at)
    return link


def _cancel_queued(project: Project, customer_id: str, why: str) -> int:
    return Invitation.objects.filter(project=project, customer_id=customer_id,
                                     status__in=(InvitationStatus.QUEUED, InvitationStatus.FAILED)).update(
        status=InvitationStatus.CANCELLED, status_reason=why, next_attempt_at=None)


def unsubscribe(project: Project, customer_id: str, now: datetime, source: str = "unsubscribe link") -> Contact:
    """Opt the customer out: no invitation is created or sent to them from now on."""
    return set_consent(project, customer_id, Consent.OPT_OUT, now, source=source)


# ------------------------------------------------------------------------------------ sending


@dataclass(frozen=True)
class SendSummary:
    sent: int = 0
    failed: int = 0
    cancelled: int = 0
    errors: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {"sent": self.sent, "failed": self.failed, "cancelled": self.cancelled, "errors": list(self.errors)}


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    html: str
    headers: dict[str, str]


def mail_language(inv: Invitation, version: SurveyVersion) -> str:
    """The invitation e-mail's language: the invitation's among the survey's languages, else the survey's
    default (the hosted page picks the same way, so mail and page never mix languages)."""
    survey = inv.survey
    return i18n.pick(i18n.languages(survey.language, version.translations), [inv.language]) or survey.language


def survey_url(inv: Invitation, nps: int | None = None, lang: str = "") -> str:
    """The personal link; ``lang`` opens the page in the e-mail's language, ``nps`` picks the score."""
    query = "t=" + urllib.parse.quote(inv.token, safe="")
    if lang:
        query += "&lang=" + urllib.parse.quote(lang, safe="")
    if nps is not None:
        query += f"&nps={nps}"
    return mail.absolute_url(f"/s/{inv.survey.slug}/?{query}")


def unsubscribe_url(project: Project, customer_id: str, now: datetime, lang: str = "") -> str:
    """The signed unsubscribe link (valid ``UNSUBSCRIBE_DAYS``), its page in ``lang``."""
    token = make_unsubscribe_token(project, customer_id, now + timedelta(days=UNSUBSCRIBE_DAYS))
    query = "?lang=" + urllib.parse.quote(lang, safe="") if lang else ""
    return mail.absolute_url(f"/u/{token}/{query}")


def compose(inv: Invitation, now: datetime) -> Message:
    """The invitation's e-mail in its language (:func:`mail_language`): greeting, survey title, one-click
    NPS links, the link, unsubscribe."""
    version = inv.survey.latest()
    lang = mail_language(inv, version)
    ctx = _mail_context(inv, version, lang, now)
    headers = {"List-Unsubscribe": f"<{ctx['unsubscribe_url']}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
               "Auto-Submitted": "auto-generated", "Content-Language": lang}
    subject = " ".join(i18n.text(lang, "mail_subject", title=ctx["title"]).split())  # one line, whatever the title
    return Message(subject,
                   render_to_string("cxlens/distribution/invitation.txt", ctx),
                   render_to_string("cxlens/distribution/invitation.html", ctx), headers)


def _mail_context(inv: Invitation, version: SurveyVersion, lang: str, now: datetime) -> dict[str, Any]:
    """What both parts of the invitation show, worded in ``lang`` (user texts stay plain: the HTML
    template escapes them)."""
    words = i18n.words(lang)
    title = i18n.title(inv.survey.title, version.translations, lang)
    first = next(iter(version.questions), None)
    nps = first if first is not None and first["type"] == "nps" else None  # answered in one click from the mail
    question = i18n.localized(nps, version.translations, lang)[0] if nps else ""
    scores = [(n, survey_url(inv, n, lang), words["mail_score"].format(n=n)) for n in range(11)] if nps else []
    intro = escape(words["mail_intro"])  # our words, escaped like any text, before the title goes in
    return {
        "lang": lang, "dir": i18n.direction(lang), "words": words, "title": title, "question": question,
        "intro": words["mail_intro"].format(title=title),
        "intro_html": format_html(intro, title=format_html("<strong>{}</strong>", title)),
        "scale": words["mail_scale"].format(low=words["nps_low"], high=words["nps_high"]), "nps_links": scores,
        "url": survey_url(inv, lang=lang), "unsubscribe_url": unsubscribe_url(inv.project, inv.customer_id, now, lang),
        "expiry": words["mail_expiry"].format(date=f"{inv.expires_at:%Y-%m-%d}") if inv.expires_at else "",
        "footer": words["mail_footer"].format(project=inv.project.name),
    }


def _backoff(attempts: int) -> timedelta:
    return min(FIRST_RETRY * (2 ** max(attempts - 1, 0)), LONGEST_RETRY)


def due_invitations(project: Project, now: datetime) -> list[Invitation]:
    return list(Invitation.objects.select_related("survey", "project").filter(
        project=project, status__in=(InvitationStatus.QUEUED, InvitationStatus.FAILED), send_at__lte=now,
        attempts__lt=MAX_ATTEMPTS).filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .order_by("send_at", "id")[:SEND_BATCH])


def send_one(inv: Invitation, now: datetime, connection: Any = None) -> str:
    """Deliver one due invitation; returns ``sent``, ``failed``, ``cancelled`` or ``skipped`` (claimed by
    another worker)."""
    problem = _consent_problem(inv.project, contact_for(inv.project, inv.customer_id), policy_for(inv.project))
    if problem is None and inv.survey.open_problem(now):
        problem = f"survey not open: {inv.survey.open_problem(now)}"
    if problem:
        inv.status, inv.status_reason, inv.next_attempt_at = InvitationStatus.CANCELLED, problem, None
        inv.save(update_fields=["status", "status_reason", "next_attempt_at"])
        return "cancelled"
    # Claim the attempt (another worker, e.g. a cron 'cxlens jobs run' next to 'cxlens serve', skips it);
    # if this process stops before recording the outcome, the invitation is tried again after the lease.
    claimed = Invitation.objects.filter(pk=inv.pk, status=inv.status, attempts=inv.attempts).update(
        attempts=F("attempts") + 1, next_attempt_at=now + SEND_LEASE)
    if not claimed:
        return "skipped"
    inv.attempts += 1
    try:
        message = compose(inv, now)
        mail.send([inv.email], message.subject, message.text, html=message.html, headers=message.headers,
                  connection=connection)
    except Exception as exc:  # SMTP down, refused, not configured: recorded and retried
        inv.status, inv.last_error = InvitationStatus.FAILED, f"{type(exc).__name__}: {exc}"[:2000]
        if inv.attempts >= MAX_ATTEMPTS:
            inv.next_attempt_at = None
            inv.status_reason = f"gave up after {inv.attempts} attempts"
        else:
            inv.next_attempt_at = now + _backoff(inv.attempts)
            inv.status_reason = f"retry at {inv.next_attempt_at:%Y-%m-%d %H:%M} UTC"
        inv.save(update_fields=["status", "last_error", "attempts", "next_attempt_at", "status_reason"])
        return "failed"
    inv.status, inv.sent_at, inv.next_attempt_at, inv.status_reason = InvitationStatus.SENT, now, None, ""
    inv.save(update_fields=["status", "sent_at", "attempts", "next_attempt_at", "status_reason"])
    return "sent"


def send_due(project: Project, now: datetime) -> SendSummary:
    """Send every invitation of ``project`` that is due at ``now`` (the ``distribution-send`` job)."""
    counts = {"sent": 0, "failed": 0, "cancelled": 0, "skipped": 0}
    errors: list[str] = []
    invitations = list(due_invitations(project, now))
    connection = _open_connection() if invitations else None
    try:
        for inv in invitations:
            outcome = send_one(inv, now, connection)
            counts[outcome] += 1
            if outcome == "failed":
                errors.append(inv.last_error)
    finally:
        if connection is not None:
            connection.close()
    return SendSummary(counts["sent"], counts["failed"], counts["cancelled"], tuple(errors[:5]))


def _open_connection() -> Any:
    """One SMTP session for a batch, or None (then each message connects and records its own error)."""
    if not mail.enabled():
        return None
    connection = mail.connection()
    try:
        connection.open()
    except Exception:  # the server is down: every message of the batch records the error and is retried
        return None
    return connection


def retry_now(inv: Invitation, now: datetime) -> Invitation:
    """Queue a failed (or given-up) invitation again for the next run of the job."""
    if inv.status != InvitationStatus.FAILED:
        raise DistributionError(f"Only failed invitations can be retried; invitation {inv.pk} is {inv.status}.")
    inv.status, inv.attempts, inv.next_attempt_at, inv.send_at = InvitationStatus.QUEUED, 0, None, now
    inv.save(update_fields=["status", "attempts", "next_attempt_at", "send_at"])
    return inv


# ------------------------------------------------------------------------------ response rates


@dataclass(frozen=True)
class Rate:
    """Invitations sent on ``channel`` and how many of them were answered (completed responses)."""

    channel: str
    sent: int
    answered: int
    rate: float | None
    ci_low: float | None
    ci_high: float | None
    confidence: float = 0.95

    @property
    def label(self) -> str:
        """``40.0% (95% interval 11.8% to 76.9%)`` for pages; ``no invitations sent`` when none were."""
        if self.rate is None or self.ci_low is None or self.ci_high is None:
            return "no invitations sent"
        return (f"{self.rate * 100:.1f}% ({self.confidence * 100:g}% interval {self.ci_low * 100:.1f}% "
                f"to {self.ci_high * 100:.1f}%)")

    def to_dict(self) -> dict[str, Any]:
        return {"channel": self.channel, "sent": self.sent, "answered": self.answered, "rate": self.rate,
                "ci_low": self.ci_low, "ci_high": self.ci_high, "confidence": self.confidence}


def response_rates(survey: Survey, confidence: float = 0.95) -> list[Rate]:
    """Per channel: invitations sent, completed responses from their links, and the rate with its
    Wilson score interval."""
    completed = Response.objects.filter(survey=survey, completed_at__isnull=False, link__isnull=False)
    sent = Invitation.objects.filter(survey=survey, status=InvitationStatus.SENT)
    rates = []
    for channel in sorted(set(sent.values_list("channel", flat=True))):
        of_channel = sent.filter(channel=channel)
        n = of_channel.count()
        answered = of_channel.filter(nonce__in=completed.values("link")).count()
        p = wilson_interval(answered, n, confidence)
        rates.append(Rate(channel, n, answered, p.value, p.ci_low, p.ci_high, confidence))
    return rates


@dataclass(frozen=True)
class Overview:
    """What the distribution page shows for one survey."""

    rates: list[Rate]
    counts: dict[str, int]
    invitations: list[Invitation]
    triggers: list[tuple[Trigger, str]]
    policy: ContactPolicy


def describe_trigger(trigger: Trigger) -> str:
    """``tickets where status = 'resolved', 2 days after the event`` (for pages)."""
    when = f"where {parse_condition(trigger.condition).describe()}" if trigger.condition else "every new row"
    hours = trigger.delay.total_seconds() / 3600
    delay = "at once" if hours == 0 else (f"{hours / 24:g} days after the event" if hours % 24 == 0
                                         else f"{hours:g} hours after the event")
    return f"{trigger.table}, {when}, {delay}"


def overview(survey: Survey, limit: int = 200) -> Overview:
    counts = {s: 0 for s in InvitationStatus.values}
    for row in Invitation.objects.filter(survey=survey).values("status").annotate(n=Count("id")):
        counts[row["status"]] = row["n"]
    invitations = list(Invitation.objects.filter(survey=survey).order_by("-created_at", "-id")[:limit])
    found = [(t, describe_trigger(t)) for t in Trigger.objects.filter(survey=survey)]
    return Overview(response_rates(survey), counts, invitations, found, policy_for(survey.project))
