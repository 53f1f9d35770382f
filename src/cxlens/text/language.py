"""Language detection for the languages customers write to us in most.

Detected: English (en), Spanish (es), German (de), French (fr), Italian (it), Portuguese (pt) and
Dutch (nl). Anything else, and any text too short to tell, is ``"und"`` (undetermined).

Method (deterministic, offline; the model ships inside the ``py3langid`` package):

1. **Script.** Letters are counted by script; when most letters are not Latin (Cyrillic, Greek,
   Arabic, Hebrew, CJK, ...) the answer is ``"und"`` with ``script="other"``, so callers can say
   the text is in an unsupported language rather than guess. Mentions, hashtags, links and e-mail
   addresses are ignored; a text of fewer than two words is ``"und"`` ("Super!", "Top", "ok" are
   words of several languages).
2. **Byte n-gram model.** langid.py's naive Bayes model over byte n-grams (Lui & Baldwin, "langid.py:
   An Off-the-shelf Language Identification Tool", ACL 2012; the ``py3langid`` package), restricted
   to the seven languages, gives a probability per language (normalised, calibrated by text length).
3. **Function words and letter cues** of our own: each word that is a common function word of a
   language adds ``1 / k`` to that language (``k`` languages share the word: "de" counts for es,
   fr, pt and nl alike; "the" only for English); letters and letter groups typical of a language
   ("ñ", "ß", "ção", "ij", "sch", "th", ...) add a smaller weight. Their softmax (times 2) is a
   second opinion.

A language is named when the model gives it at least 0.9, or when the model and the words both give
it at least one half and the text holds a function word of it: the agreement recognises short
remarks the model alone is not sure of ("Todo perfecto, gracias.": model 0.76 and "todo"). The
confidence is the product of the two opinions, normalised over the languages; below
``min_confidence`` the answer is ``"und"`` with the reason "unclear (best guess ...)" (a text mixing
two of the languages, say). Without enough evidence the answer is ``"und"`` with the reason "too
few clues to tell the language": short remarks without a function word ("Muito caro.": model
0.49), and texts in other Latin-script languages (Polish, Swedish, Catalan, ...), though some of
these are named a near language (Danish as Dutch). The thresholds favour English: an English
comment named another language is set apart from the English themes, while a missed non-English
one is only clustered with them.

Measured on the demo company's comments, short remarks written by hand, 4,194 English tweets and
10,003 banking queries (``bench/language_eval.py``): see docs/themes.md, "Languages". A text costs
0.1–0.25 ms; the model takes about a second to load, once per process.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import Any

from cxlens.errors import CxlensInputError, MissingDependencyError

LANGUAGES: Mapping[str, str] = MappingProxyType({
    "en": "English", "es": "Spanish", "de": "German", "fr": "French",
    "it": "Italian", "pt": "Portuguese", "nl": "Dutch",
})
"""Languages the detector can name (ISO 639-1 code -> English name)."""

UNDETERMINED = "und"
MODEL_PACKAGE = "py3langid"
INSTALL_HINT = "pip install 'py3langid>=0.4,<0.5'"

_STOP_WORDS: dict[str, str] = {
    "en": """the a an and is are was were of to in it that this with for on not no you i my have has had
        but be been they we he she at by from or as will would can could what which there their them
        just about so very all if do does did don't it's i'm your our me than then when who how because
        only also after before out up more one get got any should being its these those too here now
        why where am im dont cant didnt doesnt isnt wasnt won't can't didn't doesn't isn't wasn't
        still again ever never some off over into us him her his i've i'll you're they're that's
        u ur ya em 'em lol lmao omg gonna wanna gotta thx pls plz man per come go see know let yes yeah
        ok okay oh well really like""",
    "es": """el la los las de del y que en un una es no por con para se su al lo como más pero sus le ya
        o este esta muy sin sobre también me hasta hay donde quien desde todo nos todos les ni ese eso
        ellos esto mí antes qué unos yo otro otra él tanto esa estos mucho nada muchos cual poco ella
        estar estas algo mi mis tú te tu tus son fue era está están estoy ha han he porque cuando
        aún todavía hace sido tengo tiene""",
    "de": """der die das und ist nicht ich sie es ein eine einen einem dem den des mit auf für von zu im
        auch sich wir aber noch wie nach bei aus war hat haben wird werden sind kein keine mein meine
        mir mich dass sehr schon nur oder wenn dann um man was bin habe bitte immer jetzt heute über
        doch wurde seit ihr ihre uns euch hier dieser diese dieses weil nichts""",
    "fr": """le la les de des du et est un une que qui dans pour pas ne sur au aux avec ce cette il elle
        je vous nous on mais ou par plus son sa ses mon ma mes été être avoir ai suis sont très tout
        bien y en c'est j'ai n'est leur comme aussi déjà toujours encore rien ça quand sans depuis
        fait peu avons avez était""",
    "it": """il lo la i gli le di del della dei che e è un una per non con sono mi ho ha ma come anche
        questo questa nel nella al alla da dal si se più molto sempre ancora ci ne io lui lei noi voi
        loro mio mia suo sua tutto già stato essere avere perché quando dopo solo cosa sia hanno
        niente nessuno degli delle""",
    "pt": """o a os as de do da dos das e é que em no na nos nas um uma para com não por mais se ao à
        como mas foi ele ela eu meu minha você muito já também só pelo pela até isso este esta está
        estão ser tem têm há quando ainda sem nada sempre obrigado obrigada seu sua porque foram
        fiz estou""",
    "nl": """de het een en van is dat niet ik je in op te met voor zijn er maar om aan ook als bij nog
        wel geen naar uit dan was heb heeft hebben wordt werd kan ze we wij mijn mij u uw dit deze die
        wat zo al door over tot nu toch erg heel veel omdat alleen hun ben zal zou""",
}

# Letters and letter groups typical of one or a few languages, with their weight per occurrence.
_CHAR_CUES: dict[str, dict[str, float]] = {
    "en": {"th": 0.15, "wh": 0.3, "ing ": 0.5, "ght": 0.5, "ould": 0.4, "'s ": 0.3, "'t ": 0.3, "ly ": 0.2,
           "ee": 0.1, "oo": 0.1},
    "es": {"ñ": 1.5, "¿": 2.0, "¡": 2.0, "ción": 1.0, "ó": 0.3, "á": 0.3, "í": 0.3, "ú": 0.3,
           "ll": 0.15, "ado ": 0.3, "ido ": 0.3, "mente ": 0.3, "os ": 0.1, "as ": 0.1},
    "de": {"ß": 2.0, "ä": 0.8, "ö": 0.8, "ü": 0.8, "sch": 0.6, "ung": 0.5, "ch": 0.15, "ei": 0.2,
           "ie": 0.15, "tz": 0.4, "cht": 0.5, "en ": 0.1},
    "fr": {"ç": 0.6, "è": 0.5, "ê": 0.5, "à": 0.3, "â": 0.5, "î": 0.8, "ô": 0.5, "ù": 0.5, "œ": 1.5,
           "é": 0.25, "eau": 0.8, "oi": 0.3, "ou": 0.2, "qu'": 0.8, "'a": 0.3, "'e": 0.3, "x ": 0.2},
    "it": {"ì": 0.8, "ò": 0.8, "è": 0.4, "à": 0.3, "ù": 0.4, "zione": 1.0, "gli": 0.6, "gn": 0.2,
           "zz": 0.5, "cc": 0.3, "tt": 0.2},
    "pt": {"ã": 1.5, "õ": 1.5, "ç": 0.6, "ê": 0.4, "â": 0.4, "ó": 0.2, "á": 0.2, "ção": 1.5, "ções": 1.5,
           "nh": 0.4, "lh": 0.4, "ão": 0.5, "ou ": 0.2},
    "nl": {"ij": 0.8, "oe": 0.3, "aa": 0.4, "ee": 0.1, "uu": 0.5, "sch": 0.3, "cht": 0.3,
           "ë": 0.5, "ijk": 0.5, "heid": 0.8, "en ": 0.1},
}

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
# Mentions, hashtags, links and e-mail addresses say nothing about the language.
_ASCII_LETTER = re.compile(r"[A-Za-z]")
_NOISE = re.compile(r"(?:https?://|www\.)\S+|\S+@\S+|[@#]\w+")
_MIN_WORDS = 2
_CHAR_WEIGHT = 0.35  # character cues count for about a third of stop-word evidence
_MIN_STOP_EVIDENCE = 1.0  # at least one function word of the language (or two shared ones)
_SHARPNESS = 2.0  # words' opinion = softmax(2 x evidence): a lead of one function word gives about 0.85
# The model's probability that names a language on its own. Lower, short English remarks start to
# be named another language ("Pizza time." it 0.69, "Nervous as hell" fr 0.66); no English text of
# the evaluation got more than 0.89 for another language.
_MODEL_SURE = 0.9
# Below that, the model and the words must both lean to the language (at least one half each) and the
# text hold a function word of it: "Muito caro." (model 0.49) stays undetermined, "Todo perfecto,
# gracias." (0.76, "todo") is Spanish; "Hasta la vista, Telco, switching today" (es 0.46) is not.
_LEAN = 0.5


def _invert_stop_words() -> dict[str, dict[str, float]]:
    by_word: dict[str, set[str]] = {}
    for code, words in _STOP_WORDS.items():
        for word in words.split():
            by_word.setdefault(word, set()).add(code)
    return {w: {c: 1.0 / len(codes) for c in codes} for w, codes in by_word.items()}


_STOP_WEIGHTS = _invert_stop_words()
_FLAT_CUES = tuple((cue, code, _CHAR_WEIGHT * w) for code, cues in _CHAR_CUES.items() for cue, w in cues.items())


@dataclass(frozen=True)
class LanguageGuess:
    """The detected language of one text.

    ``code`` is an ISO 639-1 code of ``LANGUAGES`` or ``"und"``; ``confidence`` is in [0, 1];
    ``script`` is ``"latin"``, ``"other"`` (mostly non-Latin letters) or ``"none"`` (no letters);
    ``reason`` says why the answer is ``"und"`` (``None`` otherwise).
    """

    code: str
    confidence: float
    script: str
    reason: str | None = None

    @property
    def name(self) -> str:
        return LANGUAGES.get(self.code, "undetermined")

    def to_dict(self) -> dict[str, object]:
        return {"language": self.code, "confidence": self.confidence, "script": self.script,
                "reason": self.reason}


def detect_language(text: str | None, *, min_confidence: float = 0.5) -> LanguageGuess:
    """Guess the language of ``text`` among ``LANGUAGES``; ``"und"`` when too short or unclear."""
    _check_confidence(min_confidence)
    model = _model()
    if not isinstance(text, str) or not text.strip():
        return LanguageGuess(UNDETERMINED, 0.0, "none", "empty text")
    script = _script(text)
    if script != "latin":
        reason = "no letters" if script == "none" else "mostly non-Latin letters (language not supported)"
        return LanguageGuess(UNDETERMINED, 0.0, script, reason)
    cleaned = _NOISE.sub(" ", text)
    lowered = cleaned.lower()
    words = _WORD.findall(lowered)
    if len(words) < _MIN_WORDS:
        return LanguageGuess(UNDETERMINED, 0.0, script, f"too short ({len(words)} word(s))")
    stop, chars = _evidence(lowered, words)
    return _decide(_model_opinion(model, cleaned), stop, chars, script, min_confidence)


def detect_languages(texts: Iterable[str | None], *, min_confidence: float = 0.5) -> list[LanguageGuess]:
    """``detect_language`` for each text."""
    _check_confidence(min_confidence)
    return [detect_language(t, min_confidence=min_confidence) for t in texts]


def _check_confidence(value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise CxlensInputError(
            f"min_confidence={value!r} is not allowed: it must be between 0 and 1; "
            "use for example 0.5 (the default)."
        )


def _script(text: str) -> str:
    if text.isascii():
        return "latin" if _ASCII_LETTER.search(text) else "none"
    latin = other = 0
    for ch in text:
        if ch.isalpha():
            if ch <= "\u024f":  # Basic Latin to Latin Extended-B
                latin += 1
            else:
                other += 1
    if latin + other == 0:
        return "none"
    return "latin" if latin >= other else "other"


def _evidence(lowered: str, words: list[str]) -> tuple[dict[str, float], dict[str, float]]:
    """Stop-word evidence and character-profile evidence per language."""
    stop = dict.fromkeys(_STOP_WORDS, 0.0)
    for word in words:
        weights = _STOP_WEIGHTS.get(word)
        if weights:
            for code, w in weights.items():
                stop[code] += w
    padded = " " + lowered + " "
    chars = dict.fromkeys(_STOP_WORDS, 0.0)
    for cue, code, weight in _FLAT_CUES:
        n = padded.count(cue)
        if n:
            chars[code] += weight * n
    return stop, chars


def _words_opinion(stop: dict[str, float], chars: dict[str, float]) -> dict[str, float]:
    """Softmax of the function-word and letter evidence (uniform when there is none)."""
    total = {code: stop[code] + chars[code] for code in stop}
    best = max(total.values())
    exp = {c: math.exp(_SHARPNESS * (v - best)) for c, v in total.items()}
    norm = sum(exp.values())
    return {c: v / norm for c, v in exp.items()}


def _decide(model: dict[str, float], stop: dict[str, float], chars: dict[str, float], script: str,
            min_confidence: float) -> LanguageGuess:
    words = _words_opinion(stop, chars)
    code = max(model, key=model.__getitem__)
    agree = model[code] >= _LEAN and words[code] >= _LEAN and stop[code] >= _MIN_STOP_EVIDENCE
    if model[code] < _MODEL_SURE and not agree:
        return LanguageGuess(UNDETERMINED, 0.0, script,
                             f"too few clues to tell the language (best guess {code}, model {model[code]:.2f})")
    joint = {c: model[c] * words[c] for c in model}
    confidence = round(joint[code] / sum(joint.values()), 3)
    if confidence < min_confidence:
        return LanguageGuess(UNDETERMINED, confidence, script,
                             f"unclear (best guess {code} with confidence {confidence})")
    return LanguageGuess(code, confidence, script)


@cache
def _model() -> Any:
    """langid.py's model restricted to ``LANGUAGES`` (loaded once: about a second)."""
    try:
        from py3langid.langid import MODEL_FILE, LanguageIdentifier  # noqa: PLC0415 - loaded on first use
    except ImportError as exc:
        raise MissingDependencyError(
            f"Language detection needs the package {MODEL_PACKAGE} (it ships the model); "
            f"install it with: {INSTALL_HINT}"
        ) from exc
    model = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    model.set_languages(list(LANGUAGES))
    return model


def _model_opinion(model: Any, cleaned: str) -> dict[str, float]:
    """The model's probability per language, of the text's words (no digits, emoji or punctuation)."""
    words = " ".join(_WORD.findall(cleaned))
    return {code: float(p) for code, p in model.rank(words)}
