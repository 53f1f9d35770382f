"""Comment and ticket text of the demo company, composed from a small grammar per language.

A comment is built from an opener (by tone), one or two theme clauses joined by a connector
("and" for the same polarity, "but" for mixed feelings), sometimes a generic sentence, a closer and
an emoji; then some comments are lower-cased, some are ALL CAPS rants, some lose their final full
stop and some get a typo. Alternatives inside templates (``[a|b]``) are expanded once per process,
so composing a text is a handful of list look-ups driven by pre-drawn random integers (the chunk's
numpy generator: the text is deterministic).

Every clause of a theme contains one of that theme's match strings (``match_terms``), which is how
the planted truths can be checked with a plain substring search.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from types import ModuleType

import numpy as np

from cxlens.demo import lexicon_de, lexicon_en, lexicon_es, lexicon_fr
from cxlens.demo.design import PLANS, THEMES

_LEXICONS: dict[str, ModuleType] = {"en": lexicon_en, "es": lexicon_es, "de": lexicon_de, "fr": lexicon_fr}
_ALTERNATIVES = re.compile(r"\[([^\[\]]*)\]")
_RANDOM_COLUMNS = 24

#: The theme a ticket topic is about (topics without a theme use their own clauses).
TOPIC_THEME = {
    "billing": "billing_errors", "pricing": "price_increase", "app": "app_crashes",
    "connectivity": "connection_drops", "installation": "installation_delay", "login": "login_codes",
    "checkout": "checkout_failure",
}


def expand(template: str) -> tuple[str, ...]:
    """All texts a template stands for: ``"the [app|box] [crashes|freezes]"`` gives four texts."""
    parts = _ALTERNATIVES.split(template)
    fixed, choices = parts[0::2], [p.split("|") for p in parts[1::2]]
    out = []
    for combo in itertools.product(*choices):
        text = fixed[0] + "".join(c + f for c, f in zip(combo, fixed[1:], strict=True))
        out.append(" ".join(text.split()))
    return tuple(out)


def _expand_all(templates: Sequence[str]) -> tuple[str, ...]:
    return tuple(text for t in templates for text in expand(t))


@dataclass(frozen=True)
class Grammar:
    """The expanded word lists of one language."""

    language: str
    match: dict[str, tuple[str, ...]]
    clauses: dict[str, tuple[str, ...]]
    openers: dict[int, tuple[str, ...]]
    generic: dict[int, tuple[str, ...]]
    short: dict[int, tuple[str, ...]]
    closers: dict[int, tuple[str, ...]]
    context: tuple[str, ...]
    mixed_positive: tuple[str, ...]
    mixed_negative: tuple[str, ...]
    and_connectors: tuple[str, ...]
    but_connectors: tuple[str, ...]
    emoji: dict[int, tuple[str, ...]]
    slots: dict[str, tuple[str, ...]]
    subjects: dict[str, tuple[str, ...]]
    topic_clauses: dict[str, tuple[str, ...]]
    cancel_leads: tuple[str, ...]
    cancel_reasons: tuple[str, ...]
    because: tuple[str, ...]
    greetings: tuple[str, ...]
    requests: tuple[str, ...]
    signoffs: tuple[str, ...]
    subject_prefixes: tuple[str, ...]

    def texts(self) -> dict[str, tuple[str, ...]]:
        """Every text fragment, keyed by where it is used (``clause:THEME`` for theme clauses)."""
        out: dict[str, tuple[str, ...]] = {f"clause:{k}": v for k, v in self.clauses.items()}
        for name in ("openers", "generic", "short", "closers"):
            out[name] = tuple(t for v in getattr(self, name).values() for t in v)
        for topic, v in self.subjects.items():
            out[f"subject:{topic}"] = v
        for topic, v in self.topic_clauses.items():
            out[f"topic:{topic}"] = v
        for name in ("context", "mixed_positive", "mixed_negative", "and_connectors", "but_connectors",
                     "cancel_leads", "cancel_reasons", "because", "greetings", "requests", "signoffs",
                     "subject_prefixes"):
            out[name] = getattr(self, name)
        out["slots"] = tuple(t for v in self.slots.values() for t in v)
        return out


@cache
def grammar(language: str) -> Grammar:
    """The expanded grammar of ``language`` (en, es, de, fr)."""
    lex = _LEXICONS[language]

    def by_key(d: dict) -> dict:
        return {k: _expand_all(v) for k, v in d.items()}

    return Grammar(
        language=language, match=dict(lex.MATCH), clauses=by_key(lex.CLAUSES), openers=dict(lex.OPENERS),
        generic=dict(lex.GENERIC), short=dict(lex.SHORT), closers=dict(lex.CLOSERS),
        context=_expand_all(lex.CONTEXT), mixed_positive=lex.MIXED_POSITIVE, mixed_negative=lex.MIXED_NEGATIVE,
        and_connectors=lex.AND_CONNECTORS, but_connectors=lex.BUT_CONNECTORS, emoji=dict(lex.EMOJI),
        slots=dict(lex.SLOTS), subjects=by_key(lex.SUBJECTS), topic_clauses=by_key(lex.TOPIC_CLAUSES),
        cancel_leads=_expand_all(lex.CANCEL_LEADS), cancel_reasons=lex.CANCEL_REASONS, because=lex.BECAUSE,
        greetings=lex.GREETINGS, requests=_expand_all(lex.REQUESTS), signoffs=lex.SIGNOFFS,
        subject_prefixes=lex.SUBJECT_PREFIXES,
    )


def languages() -> tuple[str, ...]:
    return tuple(_LEXICONS)


def match_terms(theme: str) -> dict[str, tuple[str, ...]]:
    """Per language, the lower-case strings one of which every mention of ``theme`` contains."""
    return {lang: grammar(lang).match[theme] for lang in _LEXICONS}


_THEME_POLARITY = {t.name: t.polarity for t in THEMES}
_PLAN_NAMES = tuple(p.name for p in PLANS)


class _Draws:
    """Pre-drawn random integers of one text, consumed in order (cheap and deterministic)."""

    __slots__ = ("row", "i")

    def __init__(self, row: Sequence[int]) -> None:
        self.row = row
        self.i = 0

    def number(self) -> int:
        value = self.row[self.i % _RANDOM_COLUMNS] + self.i  # the offset keeps a rare wrap-around varied
        self.i += 1
        return value

    def pick(self, options: Sequence[str]) -> str:
        return options[self.number() % len(options)]

    def chance(self, percent: int) -> bool:
        return self.number() % 100 < percent


def _fill(text: str, g: Grammar, d: _Draws, days: int | None, hours: int | None, plan: str | None = None) -> str:
    if "{" not in text:
        return text
    return text.format(
        amount=5 + d.number() % 116, days=days if days is not None else 3 + d.number() % 18,
        weeks=2 + d.number() % 5, hours=hours if hours is not None else 3 + d.number() % 44, times=2 + d.number() % 8,
        month=d.pick(g.slots["month"]), weekday=d.pick(g.slots["weekday"]), device=d.pick(g.slots["device"]),
        hour=d.pick(g.slots["hour"]), name=d.pick(g.slots["name"]), plan=plan or d.pick(_PLAN_NAMES),
    )


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _sentence_case(text: str) -> str:
    """Capitalise the first letter and every letter after a sentence end."""
    return re.sub(r"([.!?]\s+)(\w)", lambda m: m.group(1) + m.group(2).upper(), _cap(text))


def _typo(text: str, d: _Draws) -> str:
    words = text.split(" ")
    candidates = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    if not candidates:
        return text
    i = candidates[d.number() % len(candidates)]
    w = words[i]
    j = 1 + d.number() % (len(w) - 2)
    words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2:]
    return " ".join(words)


def _body(g: Grammar, themes: Sequence[str], tone: int, d: _Draws, days: int | None,
          hours: int | None, plan: str | None) -> str:
    """One or two clauses, mixed with a generic clause when the feeling and the themes disagree."""
    clauses = [(_THEME_POLARITY[t], _fill(d.pick(g.clauses[t]), g, d, days, hours, plan)) for t in themes]
    polarities = {p for p, _ in clauses}
    if tone >= 3 and polarities == {"negative"}:
        clauses.append(("positive", d.pick(g.mixed_positive)))
    elif tone <= 1 and polarities == {"positive"}:
        clauses.append(("negative", d.pick(g.mixed_negative)))
    if len(clauses) == 1:
        return clauses[0][1]
    if clauses[0][0] == clauses[1][0]:
        return clauses[0][1] + d.pick(g.and_connectors) + clauses[1][1]
    # mixed: the clause that matches the overall feeling comes last ("..., but <what matters>")
    neg = [c for p, c in clauses if p == "negative"][0]
    pos = [c for p, c in clauses if p == "positive"][0]
    first, last = (neg, pos) if tone >= 3 else (pos, neg)
    return first + d.pick(g.but_connectors) + last


def _end(text: str, tone: int, d: _Draws) -> str:
    if text[-1:] in ".!?":
        return text
    if tone in (0, 4) and d.chance(40):
        return text + ("!" if d.chance(60) else "!!")
    return text + "."


def compose_comment(language: str, themes: Sequence[str], tone: int, row: Sequence[int],
                    days: int | None = None, hours: int | None = None, plan: str | None = None) -> str:
    """One survey comment about ``themes`` (may be empty) with feeling ``tone`` (0 very negative .. 4)."""
    g = grammar(language)
    d = _Draws(row)
    if not themes and d.chance(25):
        return d.pick(g.short[tone])
    body = _body(g, themes, tone, d, days, hours, plan) if themes else d.pick(g.generic[tone])
    if themes and d.chance(15):  # bare: just the clause(s)
        text = _end(_cap(body), tone, d)
    else:
        parts = []
        if d.chance(70):
            opener = d.pick(g.openers[tone])
            if d.chance(8):
                opener = _typo(opener, d)
            parts.append(opener)
        parts.append(_end(body, tone, d))
        if d.chance(20):  # a little context about the customer
            parts.append(_end(_fill(d.pick(g.context), g, d, days, hours, plan), tone, d))
        if themes and d.chance(25):  # long comment: a second, generic sentence
            parts.append(_end(d.pick(g.generic[tone]), tone, d))
        if d.chance(35):
            parts.append(d.pick(g.closers[tone]))
        text = _sentence_case(" ".join(parts))
    return _style(text, g, tone, d)


def _style(text: str, g: Grammar, tone: int, d: _Draws) -> str:
    """ALL CAPS rants, lower case, a missing full stop, an emoji."""
    if tone == 0 and d.chance(25):
        return text.upper().rstrip(".") + "!!!"
    if d.chance(10):
        text = text.lower()
    if d.chance(15):
        text = text.rstrip(".")
    if d.chance(12):
        text = text + ("" if d.chance(30) else " ") + d.pick(g.emoji[tone])
    return text


def compose_comments(rng: np.random.Generator, languages_: Sequence[str], themes: Sequence[Sequence[str]],
                     tones: np.ndarray, days: np.ndarray | None = None, hours: np.ndarray | None = None,
                     plans: Sequence[str | None] | None = None) -> list[str]:
    """Comments for many responses at once (random integers drawn in one numpy call)."""
    n = len(languages_)
    plan_list = [None] * n if plans is None else list(plans)
    draws = rng.integers(0, 1 << 30, size=(n, _RANDOM_COLUMNS)).tolist()
    tone_list = np.asarray(tones, dtype=np.int64).tolist()
    day_list = [None] * n if days is None else [int(x) for x in days]
    hour_list = [None] * n if hours is None else [int(x) for x in hours]
    return [compose_comment(languages_[i], themes[i], tone_list[i], draws[i], day_list[i], hour_list[i],
                            plan_list[i]) for i in range(n)]


# --------------------------------------------------------------------------------------------------
# Tickets
# --------------------------------------------------------------------------------------------------


def compose_subject(language: str, topic: str, row: Sequence[int], plan: str | None = None) -> str:
    g = grammar(language)
    d = _Draws(row)
    subject = _fill(d.pick(g.subjects[topic]), g, d, None, None, plan)
    if d.chance(6):
        subject = d.pick(g.subject_prefixes) + subject
    if d.chance(4):
        subject = subject.upper()
    elif d.chance(6):
        subject = subject + "!!"
    return subject


def compose_description(language: str, topic: str, reason: str | None, row: Sequence[int],
                        plan: str | None = None) -> str:
    """The first message of a ticket; ``reason`` is the theme behind a cancellation (or None)."""
    g = grammar(language)
    d = _Draws(row)
    theme = TOPIC_THEME.get(topic)
    if topic == "cancellation":
        why = (_fill(d.pick(g.clauses[reason]), g, d, None, None, plan) if reason is not None
               else d.pick(g.cancel_reasons))
        body = d.pick(g.cancel_leads) + d.pick(g.because) + why
    elif theme is not None:
        body = _fill(d.pick(g.clauses[theme]), g, d, None, None, plan)
    else:
        body = _fill(d.pick(g.topic_clauses[topic]), g, d, None, None, plan)
    body = _end(_cap(body), 1, d)
    if theme is not None and d.chance(30):
        body += " " + _end(_cap(d.pick(g.generic[1])), 1, d)
    lines = [d.pick(g.greetings), body + " " + d.pick(g.requests), d.pick(g.signoffs)]
    text = "\n".join(line for line in lines if line)
    if d.chance(5):
        text = text.lower()
    return text


def compose_tickets(rng: np.random.Generator, languages_: Sequence[str], topics: Sequence[str],
                    reasons: Sequence[str | None]) -> tuple[list[str], list[str]]:
    """Subjects and descriptions of many tickets (both name the same plan when they name one)."""
    n = len(languages_)
    draws = rng.integers(0, 1 << 30, size=(n, _RANDOM_COLUMNS)).tolist()
    plans = [_PLAN_NAMES[row[-1] % len(_PLAN_NAMES)] for row in draws]
    subjects = [compose_subject(languages_[i], topics[i], draws[i], plans[i]) for i in range(n)]
    descriptions = [compose_description(languages_[i], topics[i], reasons[i], draws[i][::-1], plans[i])
                    for i in range(n)]
    return subjects, descriptions
