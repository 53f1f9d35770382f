"""Notifications of the closed loop: the outbox (``Delivery``) and its delivery with retries.

Messages are written to the outbox in the same transaction as the change they announce and sent
afterwards by the ``loop-send`` job, so none is lost when a receiver is down or the process stops.

- Webhooks POST the JSON payload with ``X-Cxlens-Timestamp`` (Unix seconds) and
  ``X-Cxlens-Signature: sha256=<hex>``, the HMAC-SHA256 of ``"<timestamp>." + body`` keyed with the
  channel's secret (see :func:`signature`; receivers should also reject old timestamps).
- Slack-compatible incoming webhooks get ``{"text": "..."}``.
- Email goes through :func:`cxlens.web.mail.send`.

A failed attempt is retried after 1, 2, 4, 8… minutes (capped at an hour); after
``MAX_ATTEMPTS`` the delivery is ``failed`` and stays in the log, where "retry now" sends it again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction

from cxlens.web import mail
from cxlens.web.loop.models import Case, Channel, ChannelKind, Delivery, DeliveryStatus
from cxlens.web.models import Project

log = logging.getLogger("cxlens.loop")

MAX_ATTEMPTS = 8
FIRST_BACKOFF = timedelta(minutes=1)
MAX_BACKOFF = timedelta(hours=1)
TIMEOUT_SECONDS = 10
USER_AGENT = "cxlens-webhooks/1"


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 of ``timestamp + "." + body`` with the channel's secret."""
    digest = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, header: str) -> bool:
    """True when ``header`` is the signature of ``body`` sent at ``timestamp`` (constant time)."""
    return hmac.compare_digest(signature(secret, timestamp, body), header)


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: 1, 2, 4… minutes, at most an hour."""
    return min(FIRST_BACKOFF * (2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def body_of(delivery: Delivery) -> bytes:
    """The HTTP body: ``{"text": ...}`` for Slack-compatible channels, else the event's JSON."""
    if delivery.kind == ChannelKind.SLACK:
        return json.dumps({"text": delivery.payload.get("_text", "")}).encode("utf-8")
    event = {k: v for k, v in delivery.payload.items() if not k.startswith("_")}
    return json.dumps(event, sort_keys=True, separators=(",", ":")).encode("utf-8")


# ------------------------------------------------------------------------------------- outbox


def enqueue(project: Project, event: str, payload: Mapping[str, Any], *, now: datetime,
            case: Case | None = None, text: str = "", subject: str = "") -> list[Delivery]:
    """One delivery per active channel of ``project`` that wants ``event``.

    The stored payload is the event's JSON (what a webhook receives) plus ``_text`` and
    ``_subject``, the one-line forms used by Slack-compatible and email channels.
    """
    out = []
    stored = {**payload, "_text": text or subject or event, "_subject": subject or event}
    for channel in Channel.objects.filter(project=project, active=True):
        if not channel.wants(event):
            continue
        out.append(Delivery.objects.create(project=project, channel=channel, case=case, kind=channel.kind, event=event,
                                           recipients=list(channel.emails) if channel.kind == ChannelKind.EMAIL
                                           else [], payload=stored, next_attempt_at=now, created_at=now))
    if out:
        transaction.on_commit(_kick)
    return out


def enqueue_email(project: Project, recipients: Sequence[str], subject: str, text: str, *, event: str,
                  now: datetime, case: Case | None = None, language: str = "") -> Delivery:
    """Queue a plain-text e-mail (``language``: its ``Content-Language``, for mail to customers)."""
    payload = {"_subject": subject, "_text": text, **({"_language": language} if language else {})}
    delivery = Delivery.objects.create(project=project, case=case, kind=ChannelKind.EMAIL, event=event,
                                       recipients=list(recipients), payload=payload,
                                       next_attempt_at=now, created_at=now)
    transaction.on_commit(_kick)
    return delivery


TEST_EVENT = "channel.test"


def send_test(channel: Channel, now: datetime) -> Delivery:
    """Send a ``channel.test`` event to ``channel`` once, at once (also when it is paused or does not
    take every event), and keep it in the delivery log. A failed test is not retried: it is marked
    failed with the error, and "retry now" sends it again."""
    project = channel.project
    payload = {"event": TEST_EVENT, "project": project.slug, "channel": channel.name, "sent_at": now.isoformat(),
               "_text": f"[{project.name}] Test message of the channel {channel.name!r}: cxlens can reach it.",
               "_subject": f"[{project.name}] Test of the notification channel {channel.name}"}
    delivery = Delivery.objects.create(project=project, channel=channel, kind=channel.kind, event=TEST_EVENT,
                                       recipients=list(channel.emails) if channel.kind == ChannelKind.EMAIL else [],
                                       payload=payload, next_attempt_at=now, created_at=now)
    attempt(delivery, now)
    if delivery.status == DeliveryStatus.PENDING:
        delivery.status = DeliveryStatus.FAILED
        delivery.save(update_fields=["status"])
    return delivery


def _kick() -> None:
    from cxlens.web import jobs  # noqa: PLC0415

    jobs.kick()


# ------------------------------------------------------------------------------------- sending


@dataclass(frozen=True)
class SendSummary:
    delivered: int
    retrying: int
    failed: int

    def to_dict(self) -> dict[str, int]:
        return {"delivered": self.delivered, "retrying": self.retrying, "failed": self.failed}


def send_due(project: Project, now: datetime, *, limit: int = 100) -> SendSummary:
    """Attempt every pending delivery of ``project`` that is due at ``now``."""
    due = list(Delivery.objects.filter(project=project, status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
               .select_related("channel", "case").order_by("next_attempt_at", "id")[:limit])
    counts = {DeliveryStatus.DELIVERED: 0, DeliveryStatus.PENDING: 0, DeliveryStatus.FAILED: 0}
    for delivery in due:
        counts[attempt(delivery, now).status] += 1  # type: ignore[index]
    return SendSummary(counts[DeliveryStatus.DELIVERED], counts[DeliveryStatus.PENDING],
                       counts[DeliveryStatus.FAILED])


def attempt(delivery: Delivery, now: datetime) -> Delivery:
    """Send ``delivery`` once and record the outcome (the next attempt's time on failure)."""
    delivery.attempts += 1
    delivery.last_attempt_at = now
    try:
        delivery.response_code = _send(delivery, now)
    except Exception as exc:  # any failure of the receiver is recorded and retried
        delivery.last_error = _redacted(_error_text(exc), delivery.channel)[:2000]
        delivery.response_code = getattr(exc, "code", None) if isinstance(exc, urllib.error.HTTPError) else None
        if delivery.attempts >= MAX_ATTEMPTS:
            delivery.status = DeliveryStatus.FAILED
        else:
            delivery.next_attempt_at = now + backoff(delivery.attempts)
        log.warning("delivery %s (%s) attempt %s failed: %s", delivery.pk, delivery.event, delivery.attempts,
                    delivery.last_error)
    else:
        delivery.status, delivery.delivered_at, delivery.last_error = DeliveryStatus.DELIVERED, now, ""
        _after_delivery(delivery)
    delivery.save()
    return delivery


def retry_now(delivery: Delivery, now: datetime) -> Delivery:
    """Put a failed (or waiting) delivery back at the head of the queue with fresh attempts."""
    if delivery.status == DeliveryStatus.DELIVERED:
        return delivery
    delivery.status, delivery.next_attempt_at, delivery.attempts = DeliveryStatus.PENDING, now, 0
    delivery.save(update_fields=["status", "next_attempt_at", "attempts"])
    return attempt(delivery, now)


def _send(delivery: Delivery, now: datetime) -> int | None:
    if delivery.kind == ChannelKind.EMAIL:
        payload = delivery.payload
        language = str(payload.get("_language") or "")
        subject = " ".join(str(payload.get("_subject", "")).split())  # a header: no line breaks
        mail.send(delivery.recipients, subject, str(payload.get("_text", "")),
                  headers={"Content-Language": language} if language else None)
        return None
    channel = delivery.channel
    if channel is None or not channel.url:
        raise RuntimeError("the channel of this delivery was removed or has no URL")
    body = body_of(delivery)
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    if delivery.kind == ChannelKind.WEBHOOK:
        timestamp = str(int(now.timestamp()))
        headers.update({"X-Cxlens-Event": delivery.event, "X-Cxlens-Delivery": str(delivery.pk),
                        "X-Cxlens-Timestamp": timestamp,
                        "X-Cxlens-Signature": signature(channel.secret, timestamp, body)})
    request = urllib.request.Request(channel.url, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 - admin-set URL
        return int(response.status)


def _error_text(exc: Exception) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        return f"cannot connect: {exc.reason}"
    return f"{type(exc).__name__}: {exc}"


def _redacted(text: str, channel: Channel | None) -> str:
    """``text`` without the channel's URL or secret (the log and the delivery log show it)."""
    from cxlens.web.loop.models import masked_url  # noqa: PLC0415

    if channel is None:
        return text
    if channel.url:
        text = text.replace(channel.url, masked_url(channel.url, channel.kind))
    if channel.secret:
        text = text.replace(channel.secret, "whsec_…" + channel.secret_hint)
    return text


def _after_delivery(delivery: Delivery) -> None:
    if delivery.event == "customer.acknowledgement" and delivery.case_id is not None:
        Case.objects.filter(pk=delivery.case_id).update(customer_contacted=True)
        case = Case.objects.get(pk=delivery.case_id)
        case.revision += 1
        case.save(update_fields=["revision"])
