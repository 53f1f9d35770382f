"""Sentiment: VADER behaviour kept, the customer-experience extension, languages, and the published
ground truth of Hutto & Gilbert (2014)."""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxlens.errors import CxlensInputError
from cxlens.text.sentiment import (
    CX_LEXICON,
    CX_NEUTRAL,
    CX_PHRASES,
    LABELS,
    SentimentScore,
    emoji_as_words,
    label_for,
    lexicon_polarity,
    prepare_cx,
    score,
    score_text,
)

GROUND_TRUTH = Path(__file__).resolve().parents[2].parent / "shared" / "datasets" / "vader-groundtruth"
FILES = {
    "tweets": "tweets_GroundTruth.txt",
    "movie reviews": "movieReviewSnippets_GroundTruth.txt",
    "nyt editorials": "nytEditorialSnippets_GroundTruth.txt",
}


def s(text: str, **kw: object) -> float:
    value = score_text(text, **kw).score  # type: ignore[arg-type]
    assert value is not None
    return value


# --- VADER's rules still apply -----------------------------------------------------------------

def test_negation() -> None:
    assert s("The service was good") > 0.05
    assert s("The service was not good") < -0.05
    assert s("The app isn't bad at all") > 0


def test_intensifiers_raise_the_score() -> None:
    assert s("The service was very good") > s("The service was good") > 0
    assert s("The service was extremely bad") < s("The service was bad") < 0


def test_all_caps_emphasis() -> None:
    assert s("The service was GOOD") > s("The service was good")
    assert s("The delivery was TERRIBLE") < s("The delivery was terrible")


def test_emoji() -> None:
    assert score_text("😡").label == "negative"
    assert s("Delivery came today 😡") < 0 < s("Delivery came today 😊")
    assert score_text("👎").label == "negative" and score_text("👍").label == "positive"
    assert s("love it ❤️") > s("love it")  # the variation selector no longer hides the heart


def test_labels_use_the_standard_thresholds() -> None:
    assert [label_for(x) for x in (-0.05, -0.049, 0.0, 0.049, 0.05)] == [
        "negative", "neutral", "neutral", "neutral", "positive"]


# --- the customer-experience extension ------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "I was on hold for an hour",
    "They cancelled my order",
    "Still waiting for my package",
    "The parcel never arrived",
    "I was charged twice",
    "Your service is a joke",
    "I waited",
    "The app is pretty slow",
    "The agent hung up on me",
    "No response to my emails",
])
def test_cx_expressions_are_negative(text: str) -> None:
    assert score_text(text).label == "negative"
    assert s(text) < s(text, lexicon="vader")


@pytest.mark.parametrize("text", ["I need a refund", "I contacted customer support", "Please open a ticket",
                                  "I paid by credit card"])
def test_service_words_are_neutral(text: str) -> None:
    assert score_text(text).label == "neutral"


def test_praise_and_negated_phrases() -> None:
    assert score_text("The agent went above and beyond").label == "positive"
    assert score_text("Worth every penny").label == "positive"
    assert s("I was not put on hold") > s("I was put on hold")
    assert s("Customer care was great") < s("Customer care was great", lexicon="vader")  # "care" is not praise


def test_phrases_keep_all_caps_emphasis() -> None:
    assert prepare_cx("ON HOLD FOR AN HOUR") == "CX_ON_HOLD_LONG"
    assert s("I was ON HOLD FOR AN HOUR") < s("I was on hold for an hour")


def test_extension_is_documented_data() -> None:
    assert "refund" in CX_NEUTRAL and "refund" not in CX_LEXICON
    assert CX_LEXICON["waited"] < 0
    for phrase in CX_PHRASES:
        assert phrase.token in prepare_cx(phrase.example).lower(), phrase


# --- languages, missing values, API -------------------------------------------------------------

def test_non_english_is_unsupported_with_a_reason() -> None:
    result = score_text("El pedido llegó tarde y nadie respondió a mis correos.")
    assert result == SentimentScore(None, "unsupported_language", "es", result.reason)
    assert "Spanish" in (result.reason or "") and "only English" in (result.reason or "")
    assert score_text("Доставка задержалась на неделю").label == "unsupported_language"
    # language="en" scores anyway (the caller vouches for English)
    assert score_text("El pedido llegó tarde", language="en").score is not None


def test_empty_values() -> None:
    results = score(["", None, float("nan"), "  "])  # type: ignore[list-item]
    assert {(r.score, r.label) for r in results} == {(None, "empty")}


def test_batch_shapes_and_errors() -> None:
    results = score(iter(["good", "bad", "ok then"]))
    assert len(results) == 3 and all(r.label in LABELS for r in results)
    assert results[0].to_dict() == {"score": results[0].score, "label": "positive", "language": "und", "reason": None}
    with pytest.raises(CxlensInputError, match="single string"):
        score("not a list")  # type: ignore[arg-type]
    with pytest.raises(CxlensInputError, match="lexicon='afinn'.*'cx', 'vader'"):
        score(["x"], lexicon="afinn")  # type: ignore[arg-type]
    with pytest.raises(CxlensInputError, match="language='fr'"):
        score(["x"], language="fr")  # type: ignore[arg-type]


def test_lexicon_is_the_default_model() -> None:
    texts = ["The agent was very helpful", "I was on hold for an hour", "", "El pedido llegó tarde"]
    assert score(texts, model="lexicon") == score(texts)
    assert score_text("great", model="lexicon", lexicon="vader") == score_text("great", lexicon="vader")
    assert lexicon_polarity("cx")("I was on hold for an hour") == score_text("I was on hold for an hour").score
    assert lexicon_polarity("vader")("good") == 0.4404  # VADER 3.3.2's compound score for "good"
    with pytest.raises(CxlensInputError, match="lexicon='afinn'"):
        lexicon_polarity("afinn")


def test_emoji_as_words_for_models_without_emoji() -> None:
    assert emoji_as_words("Delivery came today 😡") == "Delivery came today  pouting face "
    assert emoji_as_words("love it ❤️👍🏽") == "love it  red heart  thumbs up "  # selector and skin tone dropped
    assert emoji_as_words("plain text") == "plain text"


# --- the published ground truth ----------------------------------------------------------------

def _load(name: str) -> tuple[list[float], list[str]]:
    ratings, texts = [], []
    for line in (GROUND_TRUTH / name).read_text(encoding="utf-8").splitlines():  # CRLF handled by splitlines
        if line.strip():
            _, rating, text = line.split("\t", 2)
            ratings.append(float(rating))
            texts.append(text)
    return ratings, texts


def _pearson(x: list[float], y: list[float]) -> float:
    return float(np.corrcoef(x, y)[0, 1])


@pytest.mark.skipif(not GROUND_TRUTH.is_dir(),
                    reason=f"VADER ground truth not found at {GROUND_TRUTH} (shared/datasets next to the repo)")
@pytest.mark.parametrize("corpus", list(FILES))
def test_ground_truth_correlation_not_worse_than_vader(corpus: str) -> None:
    ratings, texts = _load(FILES[corpus])
    vader = [r.score for r in score(texts, language="en", lexicon="vader")]
    start = time.perf_counter()
    ours_auto = score(texts)
    seconds = time.perf_counter() - start
    ours = [r.score for r in score(texts, language="en")]
    r_vader, r_ours = _pearson(ratings, vader), _pearson(ratings, ours)  # type: ignore[arg-type]
    flagged = sum(r.label == "unsupported_language" for r in ours_auto)
    print(f"\n{corpus}: n={len(texts)} Pearson r VADER {r_vader:.4f}, cxlens {r_ours:.4f}; "
          f"auto language: {flagged} flagged non-English, {len(texts) / seconds:,.0f} texts/s")
    assert math.isfinite(r_ours)
    assert r_ours >= r_vader - 0.01
    assert flagged <= 0.005 * len(texts)  # these corpora are English (with a handful of foreign tweets)
    if corpus == "tweets":
        assert r_vader == pytest.approx(0.872, abs=0.001)  # the figure measured for vaderSentiment 3.3.2


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120))
def test_any_text_gets_a_valid_result(text: str) -> None:
    result = score_text(text)
    assert result.label in LABELS
    if result.score is None:
        assert result.label in ("empty", "unsupported_language") and result.reason
    else:
        assert -1.0 <= result.score <= 1.0 and result.label == label_for(result.score)
