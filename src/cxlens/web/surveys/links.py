"""Personal survey links: signed tokens (Django's signing) carrying the respondent's hidden
fields, an expiry and a nonce; a token answers one survey once.

The token is signed with the server's secret key and a salt of its own, so it cannot be forged
or altered (a changed customer id breaks the signature), and it names its survey, so a link
for one survey does not open another.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from django.core import signing

SALT = "cxlens.surveys.link"


class LinkError(Exception):
    """A personal link that cannot be used; ``reason`` is tampered, expired or wrong_survey."""

    def __init__(self, reason: str, message: str, when: datetime | None = None) -> None:
        self.reason, self.when = reason, when
        super().__init__(message)


@dataclass(frozen=True)
class Link:
    survey: str
    nonce: str
    hidden: dict[str, str]
    expires_at: datetime
    language: str | None = None


def make_token(survey: str, hidden: dict[str, str], expires_at: datetime, language: str | None = None) -> str:
    """A new personal link token for ``survey`` (one response), valid until ``expires_at``; the
    page opens in ``language`` when given."""
    payload: dict[str, object] = {"s": survey, "n": secrets.token_hex(12), "h": {k: v for k, v in hidden.items() if v},
                                  "e": int(expires_at.timestamp())}
    if language:
        payload["l"] = language
    return signing.dumps(payload, salt=SALT, compress=True)


def read_token(token: str, survey: str, now: datetime) -> Link:
    """The link in ``token`` if it is intact, for ``survey`` and not expired at ``now``."""
    try:
        payload = signing.loads(token, salt=SALT)
        link = Link(str(payload["s"]), str(payload["n"]), {str(k): str(v) for k, v in dict(payload["h"]).items()},
                    datetime.fromtimestamp(int(payload["e"]), UTC), str(payload["l"]) if payload.get("l") else None)
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise LinkError("tampered", "This survey link is not valid. Please use the link exactly as you "
                                    "received it.") from None
    if link.survey != survey:
        raise LinkError("wrong_survey", "This link belongs to another survey.")
    if now >= link.expires_at:
        raise LinkError("expired", f"This survey link expired on {link.expires_at:%Y-%m-%d}. "
                                   "Thank you for your interest.", link.expires_at)
    return link
