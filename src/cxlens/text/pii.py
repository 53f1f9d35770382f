"""PII redaction: e-mail addresses, phone numbers, payment card numbers and IBANs.

``redact(text)`` finds personal data and replaces each finding with a placeholder (``[EMAIL]``,
``[PHONE]``, ``[CARD]``, ``[IBAN]`` by default); the result keeps the kind and position of each
finding but never the value. ``redact_many(texts)`` does the same for a batch.

What is found, and how false alarms are avoided:

- **email**: ``local@domain.tld`` with the usual characters; the domain needs a dot and a
  2-24 letter top-level domain.
- **iban**: a country code of ISO 13616 with its exact length (``IBAN_LENGTHS``), written in one
  piece or in groups separated by single spaces or dashes, that passes the mod-97 check. A string
  of that shape that fails the check is a mistyped IBAN: it is not reported, and its digits are
  not read as a phone or card number either.
- **card**: 13-19 digits, in one piece or in groups of four (4-6-5 and 4-6-4 for Amex and
  Diners, 4-3-3-3 for 13-digit Visa) separated by single spaces or dashes; the prefix and length must be those of a card
  network (Visa, Mastercard, Amex, Discover, JCB, Diners, UnionPay, Maestro) and the Luhn check
  must pass. Random 16-digit numbers pass Luhn one time in ten; the network rules and the
  grouping rules reject most of those.
- **phone**: international numbers (``+`` or ``00`` then 8-15 digits, ``(0)`` allowed), North
  American numbers (``(415) 555-2671``, ``415-555-2671``, ``415.555.2671``, ``1-800-...``) and
  national numbers with a trunk ``0`` (``020 7946 0958``, ``030/12345678``, ``06.12.34.56.78``).
  Numbers without those marks (``4155552671``, ``612 34 56 78``) count only after a phone word
  ("call", "phone", "mobile", "number", ...). Dates, times, money amounts and version numbers are
  masked first, and a number right after an identifier word ("order", "invoice", "tracking",
  "ticket", "ref", "IMEI", ...) is never a phone.

Findings never overlap: e-mails are found first, then IBANs, cards and phones in the rest.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from cxlens.errors import CxlensInputError

KINDS: tuple[str, ...] = ("email", "phone", "card", "iban")
DEFAULT_PLACEHOLDER = "[{KIND}]"

IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BR": 29, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20,
    "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18,
    "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IS": 26, "IT": 27, "JO": 30,
    "KW": 30, "KZ": 20, "LB": 28, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24,
    "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28,
    "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SE": 24, "SI": 19, "SK": 24,
    "SM": 27, "TN": 24, "TR": 26, "UA": 29, "VG": 24, "XK": 20,
}
"""IBAN length per country (ISO 13616 registry)."""


@dataclass(frozen=True)
class PiiSpan:
    """One finding: its kind and its position ``[start, end)`` in the original text."""

    kind: str
    start: int
    end: int


@dataclass(frozen=True)
class Redaction:
    """A redacted text and what was taken out of it (positions refer to the original text)."""

    text: str
    spans: tuple[PiiSpan, ...]

    @property
    def found(self) -> bool:
        return bool(self.spans)

    def counts(self) -> dict[str, int]:
        """Number of findings per kind (kinds with none are left out)."""
        out: dict[str, int] = {}
        for span in self.spans:
            out[span.kind] = out.get(span.kind, 0) + 1
        return out


def redact(text: str, kinds: Iterable[str] | str = KINDS, placeholder: str = DEFAULT_PLACEHOLDER) -> Redaction:
    """Replace the PII of ``kinds`` in ``text`` by ``placeholder``.

    ``placeholder`` may use ``{KIND}`` (``EMAIL``) and ``{kind}`` (``email``).
    """
    wanted = check_kinds(kinds)
    _check_placeholder(placeholder)
    return _redact(_as_text(text), wanted, placeholder)


def redact_many(texts: Iterable[str | None], kinds: Iterable[str] | str = KINDS,
                placeholder: str = DEFAULT_PLACEHOLDER) -> list[Redaction]:
    """``redact`` for each text; ``None``/NaN give an empty text with no findings."""
    if isinstance(texts, str):
        raise CxlensInputError("texts is a single string; redact_many() takes a list. Use redact(text) for one text.")
    wanted = check_kinds(kinds)
    _check_placeholder(placeholder)
    return [_redact(_as_text(t), wanted, placeholder) for t in texts]


def find_pii(text: str, kinds: Iterable[str] | str = KINDS) -> list[PiiSpan]:
    """The findings of ``kinds`` in ``text``, in order of position."""
    wanted = check_kinds(kinds)
    return [s for s in _find_all(text) if s.kind in wanted]


def check_kinds(kinds: Iterable[str] | str) -> frozenset[str]:
    """Validate a list (or comma-separated string) of kinds."""
    items = [k.strip() for k in kinds.split(",")] if isinstance(kinds, str) else [str(k).strip() for k in kinds]
    items = [k.lower() for k in items if k]
    unknown = [k for k in items if k not in KINDS]
    if unknown or not items:
        shown = ", ".join(unknown) if unknown else "(none)"
        raise CxlensInputError(
            f"kinds={shown} is not allowed: choose one or more of {', '.join(KINDS)} "
            "(for example kinds=('email', 'phone'))."
        )
    return frozenset(items)


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check of a string of digits."""
    if not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_valid(iban: str) -> bool:
    """The ISO 13616 check of an IBAN (spaces and dashes ignored): country length and mod 97."""
    compact = re.sub(r"[ -]", "", iban).upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]+", compact):
        return False
    if IBAN_LENGTHS.get(compact[:2]) != len(compact):
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


def card_network(digits: str) -> str | None:
    """The card network whose prefix and length fit ``digits`` (``None`` if none does)."""
    n = len(digits)
    for network, prefixes, lengths in _NETWORKS:
        if n in lengths and any(lo <= int(digits[:len(lo_s)]) <= hi for lo_s, lo, hi in prefixes):
            return network
    return None


# --- internals -----------------------------------------------------------------------------------

def _prefixes(*ranges: str) -> tuple[tuple[str, int, int], ...]:
    out = []
    for r in ranges:
        lo, _, hi = r.partition("-")
        out.append((lo, int(lo), int(hi or lo)))
    return tuple(out)


_NETWORKS: tuple[tuple[str, tuple[tuple[str, int, int], ...], frozenset[int]], ...] = (
    ("visa", _prefixes("4"), frozenset({13, 16, 19})),
    ("mastercard", _prefixes("51-55", "2221-2720"), frozenset({16})),
    ("amex", _prefixes("34", "37"), frozenset({15})),
    ("discover", _prefixes("6011", "644-649", "65"), frozenset(range(16, 20))),
    ("jcb", _prefixes("3528-3589"), frozenset(range(16, 20))),
    ("diners", _prefixes("300-305", "36", "38", "39"), frozenset(range(14, 20))),
    ("unionpay", _prefixes("62"), frozenset(range(16, 20))),
    ("maestro", _prefixes("50", "56-58", "63", "67"), frozenset(range(13, 20))),
)

_EMAIL = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9](?:[A-Za-z0-9._%+-]{0,62}[A-Za-z0-9_%+-])?"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w-])"
)
_IBAN_START = re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{2})(\d{2})(?=[ -]?[A-Za-z0-9])")
_CARD = re.compile(r"(?<![\w+.,/-])(?<!\d[ -])\d(?:[ -]?\d){12,18}(?![ -]?\d)(?!\w)(?![.,/-]\w)")
_PHONE_RUN = re.compile(r"(?<![\w+#/.,$€£%-])(?:\+|(?=\())?\(?\d+(?:[ ./()-]{1,3}\d+)*\)?(?![\w%])")
_PHONE_GROUP = re.compile(r"\d+")
_SEPARATOR = re.compile(r"(?<=\d)\D+(?=\d)")

# Masked before phones are looked for: they look like numbers but are not phones.
_NOT_PHONE = re.compile(
    r"(?<![\d./-])(?:\d{4}[./-]\d{1,2}[./-]\d{1,2}|\d{1,2}[./-]\d{1,2}[./-](?:\d{4}|\d{2}))(?![./-]?\d)"  # dates
    r"|(?<!\d)\d{1,2}:\d{2}(?::\d{2})?(?!\d)"  # times
    r"|(?:[$€£¥₹]|\b(?:EUR|USD|GBP|CHF)\b)\s?\d+(?:[,.]\d{3})*(?:[.,]\d{1,2})?"  # amounts, currency before
    r"|\d+(?:[ ,.]\d{3})*(?:[.,]\d{1,2})?\s?(?:€|\$|£|%|(?:EUR|USD|GBP|CHF|euros?|dollars?|pounds?)\b)"
    r"|\b[vV]\d+(?:\.\d+)+\b"  # versions written v2.13.0
    r"|(?i:\b(?:version|build|release|firmware|ios|android|windows|macos|ver\.?)\s+\d[\d.]*)"
)
_ID_WORDS = (r"order|invoice|inv|ticket|case|tracking|track|ref|reference|confirmation|booking|serial|"
             r"sku|account|acct|id|po|parcel|shipment|awb|imei|isbn|receipt|transaction|txn|customer no")
_PHONE_WORDS = (r"phone|call|tel|telephone|mobile|cell|cellphone|number|whatsapp|text me|sms|reach me|"
                r"ring|fax|contact|landline|dial|hotline|callback|call back")
# "order number 123..." is an identifier: the id word takes the following "number"/"no."/"#".
_CONTEXT = re.compile(
    rf"\b(?:(?P<id>(?:{_ID_WORDS})(?:\s*(?:number|num|no\.?|nr\.?|#))?)|(?P<phone>{_PHONE_WORDS}))(?!\w)"
)
_CONTEXT_WINDOW = 32
_NANP_GROUPS = ([3, 3, 4], [1, 3, 3, 4])


def _as_text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return value if isinstance(value, str) else str(value)


def _check_placeholder(placeholder: str) -> None:
    try:
        placeholder.format(KIND="EMAIL", kind="email")
    except (KeyError, IndexError, ValueError, AttributeError):
        raise CxlensInputError(
            f"placeholder={placeholder!r} is not allowed: it may only use the fields {{KIND}} and {{kind}} "
            "(for example '[{KIND}]' or '<{kind}>'); double any literal braces."
        ) from None


def _redact(text: str, wanted: frozenset[str], placeholder: str) -> Redaction:
    spans = tuple(s for s in _find_all(text) if s.kind in wanted)
    if not spans:
        return Redaction(text, ())
    pieces: list[str] = []
    end = 0
    for span in spans:
        pieces.append(text[end:span.start])
        pieces.append(placeholder.format(KIND=span.kind.upper(), kind=span.kind))
        end = span.end
    pieces.append(text[end:])
    return Redaction("".join(pieces), spans)


def _find_all(text: str) -> list[PiiSpan]:
    """All findings of every kind (so that kinds never overlap), sorted by position."""
    if not text:
        return []
    has_at = "@" in text
    digits = sum(ch.isdigit() for ch in text)
    if digits < 7 and not has_at:
        return []
    spans: list[PiiSpan] = []
    scan = text
    if has_at:
        scan = _claim(scan, spans, "email", ((m.start(), m.end()) for m in _EMAIL.finditer(scan)))
    if digits >= 7:
        valid, shaped = _iban_spans(scan)
        scan = _claim(scan, spans, "iban", valid)
        scan = _blank(scan, shaped)  # IBAN-shaped but failing mod 97: a mistyped IBAN, not a phone
        scan = _claim(scan, spans, "card", _card_spans(scan))
        _claim(scan, spans, "phone", _phone_spans(scan))
    return sorted(spans, key=lambda s: s.start)


def _claim(scan: str, spans: list[PiiSpan], kind: str, found: Iterable[tuple[int, int]]) -> str:
    """Record findings and blank them out of the text later detectors see."""
    found = list(found)
    spans.extend(PiiSpan(kind, start, end) for start, end in found)
    return _blank(scan, found)


def _blank(scan: str, regions: Iterable[tuple[int, int]]) -> str:
    for start, end in regions:
        scan = scan[:start] + "x" * (end - start) + scan[end:]
    return scan


def _iban_spans(scan: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """IBANs that pass the check, and IBAN-shaped strings that do not."""
    valid, shaped = [], []
    for m in _IBAN_START.finditer(scan):
        length = IBAN_LENGTHS.get(m.group(1).upper())
        if length is None:
            continue
        end = _iban_end(scan, m.end(), length - 4)
        if end is not None:
            (valid if iban_valid(scan[m.start():end]) else shaped).append((m.start(), end))
    return valid, shaped


def _iban_end(scan: str, pos: int, needed: int) -> int | None:
    """Where an IBAN body of ``needed`` characters starting at ``pos`` ends (single separators)."""
    count = 0
    while count < needed:
        if pos < len(scan) and scan[pos] in " -" and pos + 1 < len(scan) and scan[pos + 1].isalnum():
            pos += 1
        if pos >= len(scan) or not (scan[pos].isascii() and scan[pos].isalnum()):
            return None
        count += 1
        pos += 1
    if pos < len(scan) and scan[pos].isalnum():
        return None
    return pos


def _card_spans(scan: str) -> list[tuple[int, int]]:
    out = []
    for m in _CARD.finditer(scan):
        raw = m.group(0)
        digits = re.sub(r"\D", "", raw)
        if (_card_grouping_ok(raw) and luhn_valid(digits) and card_network(digits)
                and _context(scan, m.start()) != "id"):
            out.append((m.start(), m.end()))
    return out


def _card_grouping_ok(raw: str) -> bool:
    seps = set(re.findall(r"[ -]", raw))
    if not seps:
        return True
    if len(seps) > 1:
        return False
    sizes = [len(g) for g in re.split(r"[ -]", raw)]
    if sizes in ([4, 6, 5], [4, 6, 4], [4, 3, 3, 3]):
        return True
    return all(s == 4 for s in sizes[:-1]) and 1 <= sizes[-1] <= 4


def _context(scan: str, start: int) -> str | None:
    """"id" or "phone": the kind of the nearest cue word just before ``start``, if any."""
    window = scan[max(0, start - _CONTEXT_WINDOW):start].lower()
    last = None
    for m in _CONTEXT.finditer(window):
        last = m
    if last is None:
        return None
    return "id" if last.group("id") else "phone"


def _phone_spans(scan: str) -> list[tuple[int, int]]:
    masked = _NOT_PHONE.sub(lambda m: "x" * len(m.group(0)), scan)
    out: list[tuple[int, int]] = []
    pos = 0
    while True:
        m = _PHONE_RUN.search(masked, pos)
        if m is None:
            return out
        end = _longest_phone(masked, m.start(), m.end())
        if end is None:
            pos = m.end()
            continue
        out.append((m.start(), end))
        pos = end


def _longest_phone(scan: str, start: int, end: int) -> int | None:
    """The end of the longest phone number that starts at ``start`` within ``scan[start:end]``."""
    groups = [(g.start(), g.end()) for g in _PHONE_GROUP.finditer(scan, start, end)]
    context = _context(scan, start)
    if context == "id":
        return None
    for k in range(len(groups), 0, -1):
        stop = groups[k - 1][1]
        if stop < len(scan) and scan[stop] == ")":
            stop += 1
        if _is_phone(scan[start:stop], context == "phone"):
            return stop
    return None


def _is_phone(candidate: str, phone_context: bool) -> bool:
    digits = re.sub(r"\D", "", candidate)
    sizes = [len(g) for g in _PHONE_GROUP.findall(candidate)]
    if candidate.count("(") != candidate.count(")") or not _separators_ok(candidate):
        return False
    if candidate.startswith("+"):
        return 8 <= len(digits) - _trunk_zero(candidate) <= 15 and len(sizes) <= 7
    if candidate.startswith("00") and not candidate.startswith("000"):
        return 10 <= len(digits) <= 17 and len(sizes) >= 2
    if digits.startswith("0"):
        return 9 <= len(digits) <= 12 and (len(sizes) >= 2 or phone_context)
    if _is_nanp(candidate, sizes):
        return True
    if phone_context:
        return _is_bare_national(sizes, digits)
    return False


def _separators_ok(candidate: str) -> bool:
    """Dots only with dots; a slash only after the first group ("030/1234567"); else spaces and dashes."""
    seps = [sep.replace("(", "").replace(")", "") for sep in _SEPARATOR.findall(candidate)]
    if any("/" in sep for sep in seps[1:]):
        return False
    rest = [sep.strip() for sep in seps if "/" not in sep]
    if any(sep == "." for sep in rest):
        return all(sep == "." for sep in rest)
    return all(sep in ("", "-") for sep in rest)


def _trunk_zero(candidate: str) -> int:
    return 1 if "(0)" in candidate else 0


def _is_nanp(candidate: str, sizes: list[int]) -> bool:
    if sizes not in _NANP_GROUPS:
        return False
    if sizes[0] == 1 and not candidate.startswith("1"):
        return False
    area = _PHONE_GROUP.findall(candidate)[-3]
    if area[0] in "01":
        return False
    if candidate.lstrip("1 .-").startswith("("):
        return True
    seps = set(re.findall(r"[^\d]+", candidate))
    return len(seps) == 1 and seps <= {" ", "-", "."}


def _is_bare_national(sizes: Sequence[int], digits: str) -> bool:
    """Numbers without trunk or country code, accepted after a phone word."""
    return 9 <= len(digits) <= 11 and len(sizes) <= 4 and all(s >= 2 for s in sizes)
