"""Texts the English-only encoder cannot theme: one theme per detected language, never dropped.

The encoders (all-MiniLM-L6-v2 and the static table distilled from it) were trained on English;
comments in another language land near each other whatever they say, so clustering them with the
English ones makes a theme "in German" with an English label. Instead each text's language is
detected (:func:`cxlens.text.language.detect_language`) and:

- a text in a supported language (``SUPPORTED``: English), or too short or with too few common
  words to tell (``"und"``), is clustered;
- a text detected as another language of the detector (Spanish, German, French, Italian,
  Portuguese, Dutch) gets the theme ``lang-<code>`` ("Comments in German (themes for German are
  not supported)");
- a text whose language is unclear (below the detector's confidence of 0.5) and whose best guess
  is not a supported language gets ``lang-und`` (French or Portuguese, say, but not English);
- a text written mostly in a non-Latin script gets the theme ``lang-other``.

On 3,000 English comments of the demo grammar and 5,000 banking77 queries, no text was set
apart (the undetermined ones were short and are clustered).

Language themes are counted, shown and stored like any theme; they are not clusters, have no
centroid, no sub-themes and cannot be edited.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from cxlens.errors import CxlensInputError
from cxlens.text.language import LANGUAGES, UNDETERMINED, detect_language

SUPPORTED: tuple[str, ...] = ("en",)
"""Languages whose texts are clustered (the encoders are English models)."""
PREFIX = "lang-"
OTHER_SCRIPT = "other"
UNCLEAR = UNDETERMINED  # "lang-und"


def check_languages(languages: Sequence[str] | None) -> tuple[str, ...] | None:
    """Validate the clustered languages (``None``: cluster every text, no language themes)."""
    if languages is None:
        return None
    out = tuple(dict.fromkeys(languages))
    for code in out:
        if code not in LANGUAGES:
            raise CxlensInputError(f"The 'languages' option must list codes among {', '.join(LANGUAGES)}. "
                                   f"Got {code!r} instead.")
    if not out:
        raise CxlensInputError("The 'languages' option needs at least one language to cluster, e.g. ('en',).")
    return out


def route(texts: Iterable[str], languages: Sequence[str] | None) -> tuple[str | None, ...]:
    """Per text: ``None`` when it is clustered, else its language theme id (``lang-de``, ``lang-other``)."""
    if languages is None:
        return tuple(None for _ in texts)
    keep = set(languages)
    out: list[str | None] = []
    for text in texts:
        out.append(_route_one(text, keep))
    return tuple(out)


def _route_one(text: str, keep: set[str]) -> str | None:
    guess = detect_language(text)
    if guess.code != UNDETERMINED:
        return None if guess.code in keep else PREFIX + guess.code
    if guess.script == "other":
        return PREFIX + OTHER_SCRIPT
    if guess.reason is None or not guess.reason.startswith("unclear"):
        return None  # too short or too few common words to tell: clustered
    best = detect_language(text, min_confidence=0.0).code
    return None if best in keep or best == UNDETERMINED else PREFIX + UNCLEAR


def is_language_theme(theme_id: str | None) -> bool:
    return theme_id is not None and theme_id.startswith(PREFIX)


def language_name(theme_id: str) -> str:
    code = theme_id[len(PREFIX):]
    if code == UNCLEAR:
        return "an unclear language"
    return "other scripts" if code == OTHER_SCRIPT else LANGUAGES.get(code, code)


def label(theme_id: str) -> str:
    """The label of a language theme: says what it holds and that it is not themed."""
    code = theme_id[len(PREFIX):]
    if code == OTHER_SCRIPT:
        return "Comments in non-Latin scripts (themes for these languages are not supported)"
    if code == UNCLEAR:
        return "Comments in another language, not told apart with confidence (themes are not supported)"
    name = LANGUAGES.get(code, code)
    return f"Comments in {name} (themes for {name} are not supported)"


def notes(ids: Iterable[str | None], clustered: Sequence[str] | None = SUPPORTED) -> list[str]:
    """One note counting the texts set apart by language (empty when there are none)."""
    counts = Counter(i for i in ids if is_language_theme(i))
    if not counts:
        return []
    parts = ", ".join(f"{n} in {language_name(i)} ({i})" for i, n in sorted(counts.items(), key=lambda x: -x[1]))
    names = ", ".join(LANGUAGES.get(c, c) for c in (clustered or SUPPORTED))
    return [f"{sum(counts.values())} texts not in {names} were not clustered (themes are discovered in "
            f"{names} only) and have a theme per language: {parts}"]


def sort_key(theme_id: str) -> tuple[int, str]:
    """Language themes in a fixed order: by code, then the unclear ones, then non-Latin scripts."""
    code = theme_id[len(PREFIX):]
    return ({UNCLEAR: 1, OTHER_SCRIPT: 2}.get(code, 0), theme_id)
