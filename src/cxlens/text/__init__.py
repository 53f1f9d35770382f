"""Text analytics: sentiment, emotions, language detection and PII redaction.

>>> from cxlens.text import score, emotion_scores, redact, detect_language
>>> score(["The agent was very helpful", "Still waiting for my refund"])  # doctest: +SKIP
>>> redact("Call me on +44 20 7946 0958").text
'Call me on [PHONE]'

Sentiment and emotions support English only; ``detect_language`` names en, es, de, fr, it, pt
and nl, and texts detected as another language are labelled ``unsupported_language``. The
command line is ``cxlens text`` (``cxlens.text.cli``). See ``docs/text.md``.

``emotion_scores`` is ``cxlens.text.emotions.emotions`` under a name that does not hide the
``cxlens.text.emotions`` module (so ``import cxlens.text.emotions`` and patching keep working).
"""

from __future__ import annotations

from cxlens.text.emotions import DOMINANT_THRESHOLD, EMOTIONS, EmotionScores
from cxlens.text.emotions import emotions as emotion_scores  # the name "emotions" stays the submodule
from cxlens.text.language import LANGUAGES, LanguageGuess, detect_language, detect_languages
from cxlens.text.pii import KINDS as PII_KINDS
from cxlens.text.pii import PiiSpan, Redaction, find_pii, iban_valid, luhn_valid, redact, redact_many
from cxlens.text.sentiment import (
    CX_EMOJI,
    CX_LEXICON,
    CX_NEUTRAL,
    CX_PHRASES,
    LABELS,
    SUPPORTED_LANGUAGES,
    SentimentScore,
    emoji_as_words,
    score,
    score_text,
)
from cxlens.text.sentiment_model import EmbeddingSentiment, SentimentHead, fit_head, load_head, save_head

__all__ = [
    "EmbeddingSentiment",
    "SentimentHead",
    "emoji_as_words",
    "fit_head",
    "load_head",
    "save_head",
    "CX_EMOJI",
    "CX_LEXICON",
    "CX_NEUTRAL",
    "CX_PHRASES",
    "DOMINANT_THRESHOLD",
    "EMOTIONS",
    "LABELS",
    "LANGUAGES",
    "PII_KINDS",
    "SUPPORTED_LANGUAGES",
    "EmotionScores",
    "LanguageGuess",
    "PiiSpan",
    "Redaction",
    "SentimentScore",
    "detect_language",
    "detect_languages",
    "emotion_scores",
    "find_pii",
    "iban_valid",
    "luhn_valid",
    "redact",
    "redact_many",
    "score",
    "score_text",
]
