"""Emotions on hand-written customer sentences."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxlens.errors import CxlensInputError
from cxlens.text import emotion_scores
from cxlens.text.emotions import DOMINANT_THRESHOLD, EMOTION_LEXICON, EMOTIONS, EmotionScores, emotions


def one(text: str) -> EmotionScores:
    return emotions([text])[0]


@pytest.mark.parametrize(("text", "expected"), [
    ("I am absolutely furious, you charged me twice!", "anger"),
    ("This is outrageous, how dare you treat customers like this", "anger"),
    ("I'm so frustrated, still waiting for my refund after three weeks.", "frustration"),
    ("Fed up with being on hold for an hour every time I call.", "frustration"),
    ("The app keeps crashing and support is useless.", "frustration"),
    ("Delighted with the new app, it is wonderful!", "joy"),
    ("Over the moon with my new phone, thank you!", "joy"),
    ("I was really disappointed, it felt like a let down.", "sadness"),
    ("Sadly my favourite product was discontinued and I am heartbroken.", "sadness"),
    ("I'm worried someone hacked my account and stole my card details.", "fear"),
    ("I am scared to use the card again after the fraud.", "fear"),
    ("Wow, I can't believe it arrived the next morning!", "surprise"),
    ("I was surprised, I did not expect a call back so quickly.", "surprise"),
    ("I trust your team completely and would recommend you to anyone.", "trust"),
])
def test_dominant_emotion(text: str, expected: str) -> None:
    result = one(text)
    assert result.dominant == expected, result
    levels = result.intensities()
    assert all(v is not None and 0.0 <= v <= 1.0 for v in levels.values())
    assert levels[expected] >= DOMINANT_THRESHOLD


def test_neutral_text_has_no_dominant_emotion() -> None:
    result = one("The parcel was delivered on Tuesday to the front desk.")
    assert result.dominant is None
    assert all(v == 0.0 for v in result.intensities().values())


def test_negated_negative_emotion_is_dropped() -> None:
    assert one("I am angry about the delay.").anger > 0.5
    assert one("I am not angry about the delay.").anger == 0.0
    assert one("I was never worried about my data.").fear == 0.0


def test_negated_joy_is_dissatisfaction() -> None:
    happy, unhappy = one("I am happy with the service."), one("I am not happy with the service.")
    assert happy.joy > 0.5 and unhappy.joy == 0.0
    assert unhappy.frustration > 0.0 and unhappy.dominant == "frustration"
    assert one("The agent wasn’t helpful at all.").trust == 0.0  # curly apostrophe too


def test_negation_window_stops_at_clause_end() -> None:
    # "not" is in another clause: the joy stays
    assert one("Not the fastest delivery, but I am happy.").joy > 0.5
    # "not only" is not a negation
    assert one("Not only happy but thrilled").joy > 0.5


def test_intensity_modifiers() -> None:
    assert one("I am very angry").anger > one("I am angry").anger > one("I am slightly angry").anger
    assert one("I am ANGRY about this").anger > one("I am angry about this").anger
    assert one("I am angry!!!").anger > one("I am angry").anger


def test_contrast_but_lowers_the_first_clause() -> None:
    result = one("I was happy at first, but now I am really upset")
    assert result.dominant == "sadness"


def test_emoji_cues() -> None:
    assert one("😡").dominant == "anger"
    assert one("Delivery again late 😭").dominant == "sadness"
    assert one("Thanks 🎉").joy > 0.5


def test_unsupported_language_and_empty() -> None:
    result = one("Ich bin sehr wütend, die Lieferung ist immer noch nicht da.")
    assert result.language == "de" and result.dominant is None
    assert result.intensities() == dict.fromkeys(EMOTIONS)
    assert "only English" in (result.reason or "")
    blank = emotions([None, ""])  # type: ignore[list-item]
    assert all(b.reason == "no text" and b.anger is None for b in blank)
    assert emotions(["Ich bin sehr wütend"], language="en")[0].reason is None


def test_api() -> None:
    assert emotion_scores is emotions
    assert EMOTIONS == ("anger", "frustration", "joy", "sadness", "fear", "surprise", "trust")
    assert all(set(cue) <= set(EMOTIONS) and all(0 < w <= 1 for w in cue.values())
               for cue in EMOTION_LEXICON.values())
    row = one("I love it").to_dict()
    assert list(row) == [*EMOTIONS, "dominant", "language", "reason"]
    with pytest.raises(CxlensInputError, match="single string"):
        emotions("one text")  # type: ignore[arg-type]
    with pytest.raises(CxlensInputError, match="language='es'"):
        emotions(["x"], language="es")  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["not", "very", "ANGRY", "happy", "but", "!", "😡", "fed up", "no", "sad", ",",
                                 "really", "trust", "wow", "I", "am", "the", "service"]), min_size=1, max_size=14))
def test_intensities_stay_in_range(words: list[str]) -> None:
    result = emotions([" ".join(words)], language="en")[0]
    levels = result.intensities()
    assert all(v is not None and 0.0 <= v <= 1.0 for v in levels.values())
    assert result.dominant is None or levels[result.dominant] == max(levels.values())  # type: ignore[type-var]
