"""Abuse limits of the public survey endpoints: rate limits per client address and per token or
key, kept in Django's cache, and the honeypot field.

Limits are fixed windows of one minute counted in Django's cache (per process with the default
local-memory cache; configure a shared ``CACHES`` backend when several server processes answer).
They are set by ``CXLENS_SURVEY_LIMITS`` (the Django setting, or the environment variable of the
same name), e.g. ``address=300,key=6000,token=60`` answers per minute; ``0`` turns a limit off.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.core.cache import cache

from cxlens.errors import CxlensInputError

WINDOW = 60
DEFAULTS = {"address": 300, "key": 6000, "token": 60}
# The honeypot: a form field people never see or fill (hidden from sight, screen readers and the
# tab order); a bot that fills every field gets an answer that looks accepted and nothing is kept.
HONEYPOT = "website"


@dataclass(frozen=True)
class Limits:
    """Answers per minute: per client address, per widget key, per personal link or response."""

    address: int = DEFAULTS["address"]
    key: int = DEFAULTS["key"]
    token: int = DEFAULTS["token"]


@lru_cache(maxsize=16)  # read on every public request; the text rarely changes
def parse(value: str | None) -> Limits:
    """``address=300,key=6000,token=60`` (any subset; per minute; 0 = no limit)."""
    if not value or not value.strip():
        return Limits()
    found = dict(DEFAULTS)
    for part in value.split(","):
        name, _, number = part.strip().partition("=")
        if name.strip() not in DEFAULTS or not number.strip().isdigit():
            raise CxlensInputError(f"CXLENS_SURVEY_LIMITS must look like address=300,key=6000,token=60 (answers "
                                   f"per minute; 0 for no limit). Got {part.strip()!r} instead.")
        found[name.strip()] = int(number)
    return Limits(**found)


def current() -> Limits:
    configured = getattr(settings, "CXLENS_SURVEY_LIMITS", None)
    if isinstance(configured, Limits):
        return configured
    return parse(configured if isinstance(configured, str) else os.environ.get("CXLENS_SURVEY_LIMITS"))


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0


def hit(kind: str, ident: str, limit: int, now: float | None = None) -> Verdict:
    """Count one request of ``ident`` against ``limit`` per minute; refused once over it."""
    if limit <= 0 or not ident:
        return Verdict(True)
    clock = time.time() if now is None else now
    window = int(clock // WINDOW)
    digest = hashlib.blake2b(ident.encode("utf-8"), digest_size=12).hexdigest()
    name = f"cxs:rl:{kind}:{digest}:{window}"
    if cache.add(name, 1, WINDOW + 5):
        count = 1
    else:
        try:
            count = cache.incr(name)
        except ValueError:  # expired between add and incr: start the window again
            cache.add(name, 1, WINDOW + 5)
            count = 1
    if count <= limit:
        return Verdict(True)
    return Verdict(False, max(1, int((window + 1) * WINDOW - clock) + 1))


def check(address: str, *, key: str = "", token: str = "", limits: Limits | None = None) -> Verdict:
    """Every limit that applies to one answer: the client address, then the key or token."""
    chosen = limits or current()
    for kind, ident, limit in (("address", address, chosen.address), ("key", key, chosen.key),
                               ("token", token, chosen.token)):
        verdict = hit(kind, ident, limit)
        if not verdict.allowed:
            return verdict
    return Verdict(True)
