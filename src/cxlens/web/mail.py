"""Outgoing mail of the web app (survey invitations, case notifications, customer follow-up).

Configured by ``CXLENS_SMTP_URL`` and ``CXLENS_MAIL_FROM`` (see ``config.py``); sending uses
Django's SMTP backend. Links in mail are made absolute with ``CXLENS_PUBLIC_URL`` or, when that
is not set, the address the running server listens on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives

from cxlens.errors import CxlensError


class MailNotConfigured(CxlensError):
    """Mail was asked for but no SMTP server is configured."""


def enabled() -> bool:
    return bool(getattr(settings, "CXLENS_MAIL_ENABLED", False)) or "locmem" in settings.EMAIL_BACKEND


def send(to: Sequence[str], subject: str, text: str, *, html: str | None = None,
         headers: Mapping[str, str] | None = None, sender: str | None = None, connection: Any = None) -> None:
    """Send one message (raises on SMTP failure, so callers can record and retry).

    ``connection`` (from :func:`connection`) reuses one SMTP session for a batch of messages.
    """
    if not enabled():
        raise MailNotConfigured(
            "No mail server is configured, so cxlens cannot send email. Set CXLENS_SMTP_URL (e.g. "
            "smtp://user:password@mail.example.com:587?starttls=true) and restart 'cxlens serve'."
        )
    message = EmailMultiAlternatives(subject, text, sender or settings.DEFAULT_FROM_EMAIL, list(to),
                                     headers=dict(headers or {}), connection=connection)
    if html is not None:
        message.attach_alternative(html, "text/html")
    message.send(fail_silently=False)


def connection() -> Any:
    """An SMTP connection for sending several messages (use as a context manager)."""
    from django.core.mail import get_connection

    return get_connection(fail_silently=False)


_served_url: str | None = None


def set_served_url(url: str) -> None:
    """Called by ``cxlens serve`` with the address it listens on (the default public URL)."""
    global _served_url
    _served_url = url.rstrip("/")


def absolute_url(path: str) -> str:
    """``path`` (starting with ``/``) as a full address people can open from their mail."""
    base = getattr(settings, "CXLENS_PUBLIC_URL", None) or _served_url or "http://127.0.0.1:8000"
    return f"{base}{path}"
