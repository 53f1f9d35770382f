"""Emotions per text: a documented lexicon-and-rules method for customer feedback (English).

The set (``EMOTIONS``): **anger**, **frustration**, **joy** (delight), **sadness** (incl.
disappointment), **fear** (incl. worry), **surprise** and **trust**.

Method, per text:

1. Multi-word cues of customer feedback ("fed up", "still waiting", "on hold for an hour",
   "can't believe", "over the moon", ...) are rewritten into single tokens; then the text is split
   into words, punctuation and emoji.
2. Each word, stem (``frustrat*``) or emoji of ``EMOTION_LEXICON`` gives one or more
   (emotion, weight) cues; weights are in (0, 1].
3. A cue is **negated** when "not", "no", "never", "without", "hardly", a "n't" contraction, ...
   stands in the three tokens before it, in the same clause (punctuation and "but" end a clause).
   As in VADER, cues before a contrasting "but" count half ("nice app, but support is useless").
   A negated cue of a negative emotion is dropped ("not angry"); a negated cue of joy or trust
   counts as **frustration** at half its weight ("not happy", "not helpful" voice dissatisfaction).
4. Intensifiers within two tokens before ("very", "so", "extremely", ...) multiply the weight by
   1.3, downtoners ("slightly", "a bit", ...) by 0.6; a word in ALL CAPS (in a text that is not all
   caps) by 1.25; each "!" (up to three) raises anger, joy and surprise by 10 %. One cue counts at
   most 0.95.
5. Intensity per emotion = 1 - prod(1 - w) over its cues (a "noisy or"): one strong cue gives
   about its weight, several weak cues add up, and the result stays in [0, 1].
6. ``dominant`` is the emotion with the highest intensity when it reaches ``DOMINANT_THRESHOLD``
   (0.3), else ``None``; ties go to the emotion listed first in ``EMOTIONS``.

English only: other languages (detected with ``cxlens.text.language``) give ``None``
intensities and the reason, as for sentiment.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from types import MappingProxyType
from typing import Any, Literal

from cxlens.errors import CxlensInputError
from cxlens.text.language import UNDETERMINED, detect_language
from cxlens.text.sentiment import is_blank, unsupported_reason

EMOTIONS: tuple[str, ...] = ("anger", "frustration", "joy", "sadness", "fear", "surprise", "trust")
DOMINANT_THRESHOLD = 0.3
_NEGATIVE = frozenset({"anger", "frustration", "sadness", "fear", "surprise"})
_EXCLAIMED = ("anger", "joy", "surprise")

Cue = Mapping[str, float]


def _lex(spec: dict[str, str]) -> dict[str, dict[str, float]]:
    """Parse ``{"emotion:weight emotion:weight": "word word stem* ..."}`` into word -> cues."""
    out: dict[str, dict[str, float]] = {}
    for cues, words in spec.items():
        parsed = {e: float(w) for e, w in (c.split(":") for c in cues.split())}
        for word in words.split():
            out.setdefault(word, {}).update(parsed)
    return out


EMOTION_LEXICON: Mapping[str, Cue] = MappingProxyType(_lex({
    # anger
    "anger:0.95": "furious livid enraged infuriat* cx_ripped_off \U0001F92C",
    "anger:0.85": "outraged irate appalled cx_how_dare pissed cx_pissed_off \U0001F621",
    "anger:0.75": "angry outrage outrageous hate hated hates appalling disgust* scammed cx_never_again \U0001F620",
    "anger:0.65": "anger rage insult* insulting disgrace* scam ripoff rip-off liar liars lied cheat* "
                  "unacceptable rude disrespect* shameful pathetic",
    "anger:0.5": "mad ridiculous incompetent cx_what_a_joke",
    # frustration
    "frustration:0.85": "frustrat* cx_sick_and_tired cx_fed_up cx_waste_of_time argh",
    "frustration:0.75": "cx_still_waiting cx_on_hold_long cx_took_forever annoy* cx_no_response "
                        "cx_sick_of ugh \U0001F624",
    "frustration:0.6": "irritat* useless unhelpful unresolved cx_tired_of cx_yet_again cx_doesnt_work "
                       "cx_keeps_crashing hassle impossible exasperat* \U0001F644 \U0001F629 \U0001F62B",
    "frustration:0.45": "stuck confusing complicated pointless cx_on_hold broken cx_transferred seriously "
                        "cx_once_again \U0001F612",
    "frustration:0.3": "waited waiting slow forever delay delayed delays",
    # joy
    "joy:0.9": "delighted thrilled ecstatic cx_over_the_moon overjoyed",
    "joy:0.8": "love loved loving wonderful fantastic awesome amazing superb delight* \U0001F60D \U0001F970",
    "joy:0.7": "happy glad excellent brilliant perfect fun yay enjoy* \U0001F60A \U0001F604 \U0001F601 \u2764 "
               "\U0001F389",
    "joy:0.6": "great pleased lovely nice \U0001F600 \U0001F603 \U0001F602",
    "joy:0.45": "good satisfied cool smooth \U0001F642",
    # sadness
    "sadness:0.9": "heartbroken devastated gutted",
    "sadness:0.8": "sad miserable depress* heartbreaking cx_let_down letdown \U0001F62D \U0001F622 \U0001F494",
    "sadness:0.65": "unhappy disappoint* upset regret* crying cry tears \U0001F61E",
    "sadness:0.5": "unfortunately sadly lonely hopeless cx_what_a_shame shame \U0001F614 \u2639 \U0001F641",
    # fear
    "fear:0.95": "terrified petrified cx_identity_theft",
    "fear:0.8": "afraid scared frighten* panic* \U0001F628 \U0001F630",
    "fear:0.7": "fear worried worry* anxious anxiety unsafe danger* hacked nervous",
    "fear:0.5": "concern* fraud stolen insecure threat* uneasy risk* \U0001F61F",
    # surprise
    "surprise:0.85": "astonish* stunned cx_cant_believe",
    "surprise:0.75": "surprised shocked shocking amazed wow whoa \U0001F632 \U0001F62E",
    "surprise:0.6": "surprise surprising unexpected unexpectedly unbelievable omg speechless sudden suddenly "
                    "cx_out_of_nowhere \U0001F62F \U0001F92F",
    "surprise:0.5 fear:0.8": "\U0001F631",
    # trust
    "trust:0.75": "trust trusted trustworthy dependable",
    "trust:0.6": "reliable honest loyal grateful cx_kept_their_promise recommend recommended \U0001F64F",
    "trust:0.5": "professional helpful transparent confident reassur* safe secure appreciate* "
                 "cx_thank_you knowledgeable",
    "trust:0.35": "thanks thank",
    "trust:0.3 joy:0.4": "\U0001F44D",
}))
"""Cue words (``*`` marks a stem), phrase tokens (``cx_...``) and emoji -> {emotion: weight}."""

EMOTION_PHRASES: Mapping[str, str] = MappingProxyType({
    "ripped_off": r"ripped (?:me |us )?off|rip(?:ping)? (?:me|us|people|customers) off",
    "how_dare": r"how dare",
    "pissed_off": r"pissed off",
    "never_again": r"never again",
    "what_a_joke": r"what a joke|(?:is|was) a (?:complete |total |bad )?joke",
    "sick_and_tired": r"sick and tired",
    "fed_up": r"fed up",
    "waste_of_time": r"waste of (?:time|money|effort)",
    "still_waiting": r"still waiting",
    "on_hold_long": r"on hold for (?:over |more than |almost |nearly |about )?(?:an?|one|two|three|several|\d+) "
                    r"?(?:hours?|hrs?|minutes?|mins?)",
    "on_hold": r"on hold",
    "took_forever": r"(?:took|takes|taking) (?:forever|ages)",
    "no_response": r"no (?:response|reply|answer|call ?back)|(?:no one|nobody|noone) "
                   r"(?:answered|responded|replied|called back|got back|helped)",
    "sick_of": r"sick of",
    "tired_of": r"tired of",
    "yet_again": r"yet again|again and again|for the (?:third|fourth|fifth|\d+(?:rd|th)) time",
    "once_again": r"once again",
    "doesnt_work": r"(?:doesn't|does not|didn't|did not|don't|won't|isn't|is not|still not|never) work(?:s|ing|ed)?"
                   r"|not working|stopped working",
    "keeps_crashing": r"keeps? (?:crashing|freezing|failing|breaking|logging me out)",
    "transferred": r"transferred (?:\w+ ){0,2}(?:times|again|around)",
    "over_the_moon": r"over the moon",
    "let_down": r"let (?:me |us )?down",
    "what_a_shame": r"what a shame|such a shame",
    "identity_theft": r"identity theft",
    "cant_believe": r"(?:can't|cannot|can not|couldn't) believe",
    "out_of_nowhere": r"out of nowhere|out of the blue",
    "kept_their_promise": r"kept (?:their|his|her|your|its) (?:promise|word)",
    "thank_you": r"thank you|thanks a lot|many thanks",
})
"""Multi-word cues: name -> regular expression (matched on the lower-cased text)."""

_PHRASE_RE = re.compile(r"\b(?:" + "|".join(f"(?P<{name}>{pattern})" for name, pattern in EMOTION_PHRASES.items())
                        + r")(?![\w'])")
_EMOJI_CUES = "".join(k for k in EMOTION_LEXICON if not k[0].isascii())
_TOKEN_RE = re.compile(r"[a-z_]+(?:'[a-z]+)?(?:-[a-z]+)?|[.,;:!?]|[" + re.escape(_EMOJI_CUES) + "]",
                       re.IGNORECASE)  # words (with "n't" and hyphens), clause punctuation, cue emoji
_EXACT = {w: c for w, c in EMOTION_LEXICON.items() if not w.endswith("*")}
_STEMS = {w[:-1]: c for w, c in EMOTION_LEXICON.items() if w.endswith("*")}
_MIN_STEM = min(len(s) for s in _STEMS)
_NEGATORS = frozenset({"not", "no", "never", "without", "hardly", "barely", "nor", "neither", "cannot",
                       "nothing", "none", "nobody", "isnt", "dont", "didnt", "wasnt", "arent", "cant"})
_CLAUSE_END = frozenset({".", ",", ";", ":", "!", "?", "but", "however", "although", "though"})
_INTENSIFIERS = frozenset({"very", "really", "so", "extremely", "incredibly", "absolutely", "totally", "super",
                           "completely", "utterly", "truly", "deeply", "highly", "too", "most"})
_DOWNTONERS = frozenset({"slightly", "somewhat", "bit", "little", "kinda", "fairly", "mildly", "barely"})
_MAX_CUE = 0.95  # one cue, however boosted, never makes an emotion certain
_NEGATION_WINDOW = 3
_BOOST_WINDOW = 2

LanguageMode = Literal["auto", "en"]


@dataclass(frozen=True)
class EmotionScores:
    """Intensity in [0, 1] of each emotion of ``EMOTIONS`` (``None`` when not analysed), the
    ``dominant`` emotion (``None`` when none reaches ``DOMINANT_THRESHOLD``), the language code
    and the reason when the text was not analysed."""

    anger: float | None
    frustration: float | None
    joy: float | None
    sadness: float | None
    fear: float | None
    surprise: float | None
    trust: float | None
    dominant: str | None
    language: str
    reason: str | None = None

    def intensities(self) -> dict[str, float | None]:
        return {e: getattr(self, e) for e in EMOTIONS}

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def emotions(texts: Iterable[str | None], *, language: LanguageMode = "auto") -> list[EmotionScores]:
    """Emotion intensities of each text; see the module docstring for the method.

    ``language="en"`` skips language detection when the texts are known to be English.
    """
    if isinstance(texts, str):
        raise CxlensInputError(
            "texts is a single string; emotions() takes a list of texts. Use emotions([text]) for one text."
        )
    if language not in ("auto", "en"):
        raise CxlensInputError(f"language={language!r} is not allowed: use 'auto' (detect) or 'en'.")
    return [_one(t, language) for t in texts]


def _one(text: str | None, language: str) -> EmotionScores:
    if is_blank(text):
        return _unscored(UNDETERMINED, "no text")
    body = text if isinstance(text, str) else str(text)
    code = "en"
    if language == "auto":
        guess = detect_language(body)
        reason = unsupported_reason(guess)
        if reason is not None:
            return _unscored(guess.code, reason)
        code = guess.code
    levels = _intensities(body)
    return EmotionScores(**levels, dominant=_dominant(levels), language=code)


def _unscored(code: str, reason: str) -> EmotionScores:
    empty: dict[str, Any] = dict.fromkeys(EMOTIONS)
    return EmotionScores(**empty, dominant=None, language=code, reason=reason)


def _dominant(levels: Mapping[str, float]) -> str | None:
    best = max(EMOTIONS, key=lambda e: levels[e])  # max keeps the first of equal values
    return best if levels[best] >= DOMINANT_THRESHOLD else None


def _intensities(text: str) -> dict[str, float]:
    """Noisy-or of the weighted cues of each emotion."""
    remaining = dict.fromkeys(EMOTIONS, 1.0)
    exclaim = 1.0 + 0.1 * min(3, text.count("!"))
    for emotion, weight in _cues(text):
        if emotion in _EXCLAIMED:
            weight *= exclaim
        remaining[emotion] *= 1.0 - min(_MAX_CUE, weight)
    return {e: round(1.0 - r, 3) for e, r in remaining.items()}


def _cues(text: str) -> list[tuple[str, float]]:
    lowered, original = _rewrite(text.replace("\u2019", "'"))
    tokens = _TOKEN_RE.findall(lowered)
    originals = _TOKEN_RE.findall(original) if original is not None else []
    caps = len(originals) == len(tokens) and not text.isupper()
    contrast = tokens.index("but") if "but" in tokens else -1
    out: list[tuple[str, float]] = []
    for i, token in enumerate(tokens):
        cue = _lookup(token)
        if cue is None:
            continue
        factor = _modifier(tokens, i) * (0.5 if i < contrast else 1.0)
        if caps and len(originals[i]) > 1 and originals[i].isupper():
            factor *= 1.25
        negated = _negated(tokens, i)
        for emotion, weight in cue.items():
            out.extend(_apply(emotion, weight * factor, negated))
    return out


def _rewrite(text: str) -> tuple[str, str | None]:
    """The lower-cased text and the original text with the phrases replaced by their tokens.

    The original-case version (for ALL CAPS) is ``None`` when lower-casing changes the length.
    """
    lowered = text.lower()
    same_length = len(lowered) == len(text)
    low_parts: list[str] = []
    orig_parts: list[str] = []
    end = 0
    for m in _PHRASE_RE.finditer(lowered):
        token = f" cx_{m.lastgroup} "
        low_parts += [lowered[end:m.start()], token]
        if same_length:
            shouted = text[m.start():m.end()].isupper()
            orig_parts += [text[end:m.start()], token.upper() if shouted else token]
        end = m.end()
    low_parts.append(lowered[end:])
    orig_parts.append(text[end:])
    return "".join(low_parts), ("".join(orig_parts) if same_length else None)


def _apply(emotion: str, weight: float, negated: bool) -> list[tuple[str, float]]:
    if not negated:
        return [(emotion, weight)]
    if emotion in _NEGATIVE:
        return []
    return [("frustration", 0.5 * weight)]


def _lookup(token: str) -> Cue | None:
    cue = _EXACT.get(token)
    if cue is not None or len(token) < _MIN_STEM:
        return cue
    for end in range(len(token), _MIN_STEM - 1, -1):
        cue = _STEMS.get(token[:end])
        if cue is not None:
            return cue
    return None


def _negated(tokens: list[str], i: int) -> bool:
    for j in range(i - 1, max(-1, i - 1 - _NEGATION_WINDOW), -1):
        tok = tokens[j]
        if tok in _CLAUSE_END:
            return False
        if tok in _NEGATORS or tok.endswith("n't"):
            return not (tok == "not" and j + 1 < len(tokens) and tokens[j + 1] == "only")
    return False


def _modifier(tokens: list[str], i: int) -> float:
    factor = 1.0
    for j in range(i - 1, max(-1, i - 1 - _BOOST_WINDOW), -1):
        tok = tokens[j]
        if tok in _CLAUSE_END:
            break
        if tok in _INTENSIFIERS:
            factor *= 1.3
        elif tok in _DOWNTONERS:
            factor *= 0.6
    return factor
