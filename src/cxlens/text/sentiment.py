"""Sentiment per text: VADER with a customer-experience lexicon extension (the fast path).

``score(texts)`` gives one ``SentimentScore`` per text: ``score`` is VADER's compound score in
[-1, 1] and ``label`` is ``"positive"`` (score >= 0.05), ``"negative"`` (score <= -0.05) or
``"neutral"`` (in between), the thresholds of Hutto & Gilbert (2014). VADER handles negation
("not good"), intensifiers ("very good"), contrast ("but"), ALL CAPS emphasis, exclamation marks,
emoticons and emoji.

``score(texts, model="embedding")`` uses the embedding model instead (sentence embeddings blended
with this score; ``cxlens.text.sentiment_model``, imported only then), and ``model=head`` or a
head file fitted to your own rated texts; blanks, languages and labels are handled the same way.

The customer-experience extension (``lexicon="cx"``, the default) changes VADER in three ways,
all through its own lexicon (``SentimentIntensityAnalyzer.lexicon``):

- ``CX_LEXICON``: words added or re-rated on VADER's -4..4 scale ("waited", "outage",
  "overcharged", "seamless", ...);
- ``CX_NEUTRAL``: words of customer service that carry no feeling there and are kept out of the
  lexicon ("refund", "ticket", "support", "credit", ...);
- ``CX_PHRASES``: multi-word expressions ("on hold for an hour", "cancelled my order", "never
  arrived", "went above and beyond", ...). Each is rewritten into one token before scoring, and
  that token is added to the lexicon with the phrase's valence, so VADER's negation and
  emphasis rules still apply around it. Service names ("customer service", "credit card") become
  neutral tokens, so "support" or "care" inside them no longer count as praise;
- ``CX_EMOJI``: emoji that VADER reads as neutral or with the wrong sign (😡, 👎, 🙄, 👍, 🔥...);
  and "pretty" before a rated word ("pretty bad") is read as the booster "quite", not as the
  adjective VADER rates +2.2.

Language: sentiment is for English only. With ``language="auto"`` each text's language is
detected (``cxlens.text.language``); texts detected as another language get the label
``"unsupported_language"``, ``score=None`` and the reason. Texts too short to tell (``"und"``)
are scored as English. Missing or blank texts get the label ``"empty"`` and ``score=None``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from functools import cache
from types import MappingProxyType
from typing import Any, Literal

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from cxlens.errors import CxlensInputError
from cxlens.text.language import LANGUAGES, UNDETERMINED, LanguageGuess, detect_language

POSITIVE_THRESHOLD = 0.05
NEGATIVE_THRESHOLD = -0.05
SUPPORTED_LANGUAGES: tuple[str, ...] = ("en",)
"""Languages sentiment (and emotions) are computed for; others are labelled unsupported."""

LABELS: tuple[str, ...] = ("negative", "neutral", "positive", "unsupported_language", "empty")
LanguageMode = Literal["auto", "en"]
LexiconName = Literal["cx", "vader"]
ModelChoice = Any
"""``"lexicon"``, ``"embedding"``, a ``SentimentHead`` or the path of a saved head."""
_LANGUAGE_MODES = ("auto", "en")
_LEXICONS = ("cx", "vader")

CX_LEXICON: Mapping[str, float] = MappingProxyType({
    # waiting, delays and speed
    "wait": -0.4, "waited": -0.8, "waiting": -0.6, "delays": -1.3, "late": -0.8, "slow": -1.0,
    "laggy": -1.5, "lagging": -1.0, "canceled": -1.0,
    # things that break
    "crashed": -1.5, "crashes": -1.5, "crashing": -1.5, "freezes": -1.0, "buggy": -1.7,
    "glitch": -1.2, "glitches": -1.2, "glitchy": -1.5, "outage": -1.6, "outages": -1.6,
    "downtime": -1.0, "unresponsive": -1.6, "unreachable": -1.3, "unreliable": -1.7, "clunky": -1.2,
    # service and money
    "unhelpful": -1.9, "unresolved": -1.4, "overcharged": -2.1, "overpriced": -1.6, "pricey": -0.7,
    "expensive": -0.6, "ripoff": -2.5, "rip-off": -2.5, "scammed": -2.7, "hassle": -1.3,
    "hassles": -1.3, "nightmare": -2.4, "garbage": -2.0, "trash": -1.8, "pointless": -1.6,
    "nonexistent": -1.2, "tedious": -1.2,
    # praise typical of service feedback
    "effortless": 1.8, "seamless": 1.8, "hassle-free": 2.0, "intuitive": 1.5, "reliable": 1.5,
    "smooth": 1.2, "attentive": 1.6, "knowledgeable": 1.5, "professional": 1.2, "prompt": 1.2,
    "promptly": 1.3, "user-friendly": 1.6, "painless": 1.5, "lifesaver": 2.3,
})
"""Words added to (or re-rated in) VADER's lexicon, on its -4..4 scale."""

CX_NEUTRAL: frozenset[str] = frozenset({
    "refund", "refunds", "refunded", "return", "returns", "exchange", "order", "orders", "ticket",
    "tickets", "hold", "charge", "charges", "support", "credit", "invoice", "subscription",
    "shipping", "delivery", "account", "agent", "please",
})
"""Words of customer service kept out of the lexicon: they name things, they are not feelings."""


@dataclass(frozen=True)
class CxPhrase:
    """A multi-word expression scored as one token (``valence`` on VADER's -4..4 scale)."""

    name: str
    pattern: str
    valence: float
    example: str

    @property
    def token(self) -> str:
        return f"cx_{self.name}"


CX_PHRASES: tuple[CxPhrase, ...] = (
    CxPhrase("on_hold_long",
             r"on hold for (?:over |more than |almost |nearly |about |around )?"
             r"(?:an?|one|two|three|four|five|several|many|\d+)\+? ?(?:hours?|hrs?|minutes?|mins?)",
             -2.0, "I was on hold for an hour"),
    CxPhrase("put_on_hold", r"(?:put|placed|kept|left) (?:me |us )?on hold", -1.0, "they put me on hold"),
    CxPhrase("cancelled_order",
             r"cancel(?:l?ed) (?:my|our|the) (?:order|subscription|account|booking|reservation|flight|plan)",
             -1.8, "they cancelled my order"),
    CxPhrase("still_waiting", r"still waiting", -1.8, "still waiting for my package"),
    CxPhrase("still_not",
             r"still (?:hasn't|haven't|has not|have not|not|hasnt|havent) "
             r"(?:arrived|received|come|shipped|heard|been (?:shipped|delivered|fixed|resolved|refunded))",
             -1.8, "it still hasn't arrived"),
    CxPhrase("never_arrived",
             r"never (?:arrived|came|showed up|received|delivered|shipped|heard back|got back to me|"
             r"responded|replied|called back)",
             -2.0, "the parcel never arrived"),
    CxPhrase("not_arrived",
             r"(?:hasn't|has not|haven't|have not|didn't|did not|hasnt|didnt|has yet to|have yet to) "
             r"(?:arrive|arrived|come|shipped|been delivered|been shipped)",
             -1.6, "my order hasn't arrived"),
    CxPhrase("no_response",
             r"(?:no (?:response|reply|replies|answer|call ?back|follow[- ]up|update)s?"
             r"|(?:no one|nobody|noone) (?:answered|responded|replied|called back|got back|helped))",
             -1.6, "no response to my emails"),
    CxPhrase("waste_of", r"waste of (?:time|money|effort)", -2.3, "a total waste of money"),
    CxPhrase("hung_up", r"hung up on (?:me|us)", -2.2, "the agent hung up on me"),
    CxPhrase("transferred_around",
             r"(?:transferred|passed|bounced) (?:around|from one \w+ to another|(?:\w+ ){0,2}times)",
             -1.4, "I was transferred three times"),
    CxPhrase("charged_twice",
             r"(?:charged|billed) (?:me )?(?:twice|two times|three times|double|multiple times)"
             r"|double[- ](?:charged|billed)",
             -2.0, "I was charged twice"),
    CxPhrase("took_forever", r"(?:took|takes|taking|take) (?:forever|ages)", -1.6, "delivery took forever"),
    CxPhrase("a_joke", r"(?:is|was|what|such) an? (?:complete |total |absolute )?joke", -2.0,
             "your service is a joke"),
    CxPhrase("one_star", r"(?:1|one|zero|0) stars?", -2.5, "one star"),
    CxPhrase("five_stars", r"(?:5|five) stars", 2.5, "five stars"),
    CxPhrase("out_of_stock", r"out of stock|back[- ]?ordered", -0.8, "the item was out of stock"),
    CxPhrase("no_issues", r"no (?:issues?|hassles?|fuss|complaints?)", 1.5, "no issues at all"),
    CxPhrase("above_and_beyond", r"above and beyond", 2.8, "the agent went above and beyond"),
    CxPhrase("worth_every_penny", r"worth every (?:penny|cent)", 2.6, "worth every penny"),
    CxPhrase("service_name",
             r"(?:customer|client) (?:service|services|support|care)"
             r"|(?:support|service|help|care) (?:team|agent|agents|staff|desk|line|center|centre|chat)"
             r"|tech(?:nical)? support|credit card|store credit|gift card",
             0.0, "I contacted customer support"),
)
"""Multi-word expressions of customer feedback, scored as one lexicon token each."""

CX_EMOJI: Mapping[str, tuple[str, float]] = MappingProxyType({
    "\U0001F621": ("pouting", -2.5), "\U0001F92C": ("cursing", -3.0), "\U0001F624": ("steam", -1.8),
    "\U0001F644": ("eye_roll", -1.5), "\U0001F44E": ("thumbs_down", -2.0), "\U0001F4A9": ("poo", -2.0),
    "\U0001F92E": ("vomiting", -2.5), "\U0001F922": ("nauseated", -1.8), "\U0001F612": ("unamused", -1.5),
    "\U0001F494": ("broken_heart", -2.0), "\U0001F971": ("yawning", -1.0), "\U0001F40C": ("snail", -1.0),
    "\u274C": ("cross_mark", -1.0), "\U0001F44D": ("thumbs_up", 1.8), "\U0001F64F": ("folded_hands", 1.0),
    "\U0001F4AF": ("hundred", 1.8), "\U0001F31F": ("glowing_star", 1.5), "\U0001F929": ("star_struck", 2.5),
    "\U0001F44F": ("clapping", 1.8), "\U0001F4AA": ("biceps", 1.2), "\U0001F609": ("wink", 1.0),
    "\u2705": ("check_mark", 0.8), "\U0001F525": ("fire", 1.5),
})
"""Emoji whose VADER reading (via its emoji-description file) is missing or has the wrong sign in
feedback: emoji -> (name, valence). They become the lexicon token ``cx_emoji_<name>``."""

# Variation selectors and skin-tone modifiers hide the emoji before them from VADER's emoji table.
_EMOJI_MODIFIERS = re.compile("[\ufe0e\ufe0f\U0001F3FB-\U0001F3FF]")
_EMOJI_RE = re.compile("[" + "".join(CX_EMOJI) + "]")

_PRETTY_RE = re.compile(r"\b(pretty)(\s+)([^\W\d_][\w'-]*)", re.IGNORECASE)
_PHRASE_RE = re.compile(
    r"\b(?:" + "|".join(f"(?P<{p.name}>{p.pattern})" for p in CX_PHRASES) + r")\b"
)  # matched on the lower-cased text: faster than re.IGNORECASE
_PHRASE_RE_ANY_CASE = re.compile(_PHRASE_RE.pattern, re.IGNORECASE)


@dataclass(frozen=True)
class SentimentScore:
    """The sentiment of one text.

    ``score`` is in [-1, 1] (``None`` when the text is empty or not in a supported language);
    ``label`` is one of ``LABELS``; ``language`` is the detected language code (``"und"`` when
    undetermined, ``"en"`` when the caller declared English); ``reason`` explains a ``None`` score.
    """

    score: float | None
    label: str
    language: str
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def score(texts: Iterable[str | None], *, language: LanguageMode = "auto",
          lexicon: LexiconName = "cx", model: ModelChoice = "lexicon") -> list[SentimentScore]:
    """Score each text; see the module docstring for the method and the labels.

    ``texts`` is any iterable of strings (a list, a pandas Series...); ``None``/NaN give
    ``"empty"``. ``language="en"`` skips detection when all texts are known to be English.
    ``lexicon="vader"`` uses VADER 3.3.2 unchanged.

    ``model="lexicon"`` (the default) is the fast path. ``model="embedding"`` uses sentence
    embeddings blended with the lexicon score (``cxlens.text.sentiment_model``; needs the
    ``text`` extra): better on longer, review-like texts, 50 to 250 times slower. A
    ``SentimentHead`` or the path of a head file written by ``save_head`` uses that head (fitted
    to your own rated texts with ``fit_head``); a head keeps the lexicon it was fitted with.
    """
    if isinstance(texts, str):
        raise CxlensInputError(
            "texts is a single string; score() takes a list of texts. "
            "Use score_text(text) for one text or score([text])."
        )
    _check_choice("language", language, _LANGUAGE_MODES)
    _check_choice("lexicon", lexicon, _LEXICONS)
    if isinstance(model, str) and model == "lexicon":
        polarity = lexicon_polarity(lexicon)
        return [_score_one(t, language, polarity) for t in texts]
    from cxlens.text.sentiment_model import resolve_model  # noqa: PLC0415 - torch only when asked for

    return _score_with(resolve_model(model), list(texts), language)


def score_text(text: str | None, *, language: LanguageMode = "auto",
               lexicon: LexiconName = "cx", model: ModelChoice = "lexicon") -> SentimentScore:
    """``score`` for one text."""
    return score([text], language=language, lexicon=lexicon, model=model)[0]


def label_for(compound: float) -> str:
    """The label of a compound score with the standard +/-0.05 thresholds."""
    if compound >= POSITIVE_THRESHOLD:
        return "positive"
    if compound <= NEGATIVE_THRESHOLD:
        return "negative"
    return "neutral"


def is_blank(text: object) -> bool:
    """True for None, NaN and strings of white space only."""
    if text is None:
        return True
    if isinstance(text, float) and math.isnan(text):
        return True
    return isinstance(text, str) and not text.strip()


def unsupported_reason(guess: LanguageGuess) -> str | None:
    """Why a text cannot be analysed (``None`` when it can be, as English)."""
    if guess.code in SUPPORTED_LANGUAGES:
        return None
    if guess.code != UNDETERMINED:
        return (f"detected {LANGUAGES[guess.code]} ({guess.code}, confidence {guess.confidence:.2f}); "
                "only English is supported")
    if guess.script == "other":
        return "mostly non-Latin letters; only English is supported"
    return None


def prepare_cx(text: str) -> str:
    """Rewrite the ``CX_EMOJI`` and ``CX_PHRASES`` of ``text`` into their lexicon tokens."""
    if not text.isascii():
        # curly apostrophes ("don’t") would hide VADER's negations; emoji become tokens
        text = _EMOJI_RE.sub(_emoji_token, _EMOJI_MODIFIERS.sub("", text.replace("\u2019", "'")))
    text = _rewrite_phrases(text)
    if "pretty" in text or "PRETTY" in text or "Pretty" in text:
        text = _PRETTY_RE.sub(_pretty_as_booster, text)
    return text


def emoji_as_words(text: str) -> str:
    """``text`` with each emoji replaced by its name from VADER's emoji table ("😡" -> "pouting face").

    For models that do not read emoji (the MiniLM vocabulary has almost none). Variation selectors
    and skin tones are dropped first.
    """
    if text.isascii():
        return text
    names = _analyzer("vader").emojis
    cleaned = _EMOJI_MODIFIERS.sub("", text)
    return "".join(f" {names[c]} " if c in names else c for c in cleaned)


def _pretty_as_booster(match: re.Match[str]) -> str:
    """Read "pretty" before a rated word ("pretty bad") as the booster "quite".

    VADER rates "pretty" +2.2 as an adjective; before a rated word it is a degree adverb.
    """
    word, space, following = match.group(1), match.group(2), match.group(3)
    if following.lower() not in _analyzer("cx").lexicon:
        return match.group(0)
    return ("QUITE" if word.isupper() else "quite") + space + following


def _emoji_token(match: re.Match[str]) -> str:
    return f" cx_emoji_{CX_EMOJI[match.group(0)][0]} "


def _rewrite_phrases(text: str) -> str:
    lowered = text.lower()
    if len(lowered) != len(text):  # a few letters change length when lower-cased: slower path
        return _PHRASE_RE_ANY_CASE.sub(_phrase_token, text)
    pieces: list[str] = []
    end = 0
    for match in _PHRASE_RE.finditer(lowered):
        start = match.start()
        pieces.append(text[end:start])
        token = f"cx_{match.lastgroup}"
        pieces.append(token.upper() if text[start:match.end()].isupper() else token)
        end = match.end()
    if not pieces:
        return text
    pieces.append(text[end:])
    return "".join(pieces)


def _phrase_token(match: re.Match[str]) -> str:
    token = f"cx_{match.lastgroup}"
    return token.upper() if match.group(0).isupper() else token


def _check_choice(field: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise CxlensInputError(
            f"{field}={value!r} is not allowed: use one of {', '.join(repr(a) for a in allowed)}."
        )


def _triage(text: str | None, language: str) -> SentimentScore | tuple[str, str]:
    """A final result for blank and unsupported texts, else (the text, its language code)."""
    if is_blank(text):
        return SentimentScore(None, "empty", UNDETERMINED, "no text")
    body = text if isinstance(text, str) else str(text)
    if language == "auto":
        guess = detect_language(body)
        reason = unsupported_reason(guess)
        if reason is not None:
            return SentimentScore(None, "unsupported_language", guess.code, reason)
        return body, guess.code
    return body, "en"


def _score_one(text: str | None, language: str, polarity: Callable[[str], float]) -> SentimentScore:
    triaged = _triage(text, language)
    if isinstance(triaged, SentimentScore):
        return triaged
    body, code = triaged
    compound = polarity(body)
    return SentimentScore(compound, label_for(compound), code)


def _score_with(model: Any, texts: list[str | None], language: str) -> list[SentimentScore]:
    """Score the texts that can be scored in one batch (the embedding model embeds in batches)."""
    triaged = [_triage(t, language) for t in texts]
    todo = [t for t in triaged if not isinstance(t, SentimentScore)]
    values = iter(model.predict([body for body, _ in todo]).tolist())
    results = []
    for item in triaged:
        if isinstance(item, SentimentScore):
            results.append(item)
        else:
            value = round(float(next(values)), 4)
            results.append(SentimentScore(value, label_for(value), item[1]))
    return results


def lexicon_polarity(lexicon: str = "cx") -> Callable[[str], float]:
    """The fast path's score of one English text, for lexicon ``"cx"`` or ``"vader"``."""
    _check_choice("lexicon", lexicon, _LEXICONS)
    return _polarity_function(lexicon)


def _polarity_function(lexicon: str) -> Callable[[str], float]:
    analyzer = _analyzer(lexicon)
    if lexicon == "vader":
        return lambda text: float(analyzer.polarity_scores(text)["compound"])
    return lambda text: float(analyzer.polarity_scores(prepare_cx(text))["compound"])


@cache
def _analyzer(lexicon: str) -> SentimentIntensityAnalyzer:
    analyzer = SentimentIntensityAnalyzer()
    if lexicon == "cx":
        _extend(analyzer.lexicon)
    return analyzer


def _extend(lex: dict[str, float]) -> None:
    """Apply the customer-experience extension to a VADER lexicon, in place."""
    for word in CX_NEUTRAL:
        lex.pop(word, None)
    lex.update(CX_LEXICON)
    for phrase in CX_PHRASES:
        if phrase.valence != 0.0:
            lex[phrase.token] = phrase.valence
    for name, valence in CX_EMOJI.values():
        lex[f"cx_emoji_{name}"] = valence
