"""The embedding sentiment model: literal examples, heads (fit, save, load), the default head's cache,
and an honest accuracy check on the movie-review ground truth of Hutto & Gilbert (2014).

The default head is trained at first use (tens of seconds) and cached in ``$CXLENS_CACHE_DIR`` or
``~/.cache/cxlens``; later runs read it from there.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("sentence_transformers", reason="the embedding model needs the text extra")

from cxlens.errors import CxlensInputError  # noqa: E402
from cxlens.text.embeddings import DIMENSIONS, model_version  # noqa: E402
from cxlens.text.sentiment import LABELS, label_for, score  # noqa: E402
from cxlens.text.sentiment_model import (  # noqa: E402
    ANCHORS,
    DEFAULT_LEXICON_WEIGHT,
    EmbeddingSentiment,
    SentimentHead,
    _ridge,
    cache_dir,
    default_head,
    default_head_path,
    default_training_set,
    embed_for_sentiment,
    fit_head,
    head_from_dict,
    load_head,
    save_head,
)

GROUND_TRUTH = Path(__file__).resolve().parents[2].parent / "shared" / "datasets" / "vader-groundtruth"
MOVIES = GROUND_TRUTH / "movieReviewSnippets_GroundTruth.txt"


@pytest.fixture(scope="module")
def head() -> SentimentHead:
    return default_head()


def e(*texts: str) -> list[float]:
    """Embedding-model scores of English texts, in one batch."""
    values = [r.score for r in score(list(texts), language="en", model="embedding")]
    assert all(v is not None for v in values)
    return values  # type: ignore[return-value]


# --- literal examples: the rules of the fast path still show ---------------------------------------

def test_negation_intensifiers_caps_and_emoji(head: SentimentHead) -> None:
    (good, not_good, very_good, caps_good, bad, extremely_bad, terrible, caps_terrible,
     angry, smiling, thumbs_down, thumbs_up) = e(
        "The service was good", "The service was not good", "The service was very good", "The service was GOOD",
        "The service was bad", "The service was extremely bad", "The delivery was terrible",
        "The delivery was TERRIBLE", "Delivery came today 😡", "Delivery came today 😊", "👎", "👍")
    assert good > 0.05 and not_good < -0.05
    assert very_good > good and extremely_bad < bad < -0.05
    assert caps_good > good and caps_terrible < terrible < -0.05
    assert angry < -0.05 < 0.05 < smiling
    assert thumbs_down < -0.05 < 0.05 < thumbs_up


def test_review_like_texts(head: SentimentHead) -> None:
    positive = ["A gorgeous, moving film with a terrific cast.", "Great service, the agent was friendly and quick.",
                "I love how easy the new app is to use."]
    negative = ["A tedious, overlong film that goes nowhere.", "I was on hold for an hour",
                "The parcel never arrived and nobody answers my emails."]
    scores = e(*positive, *negative)
    assert all(s > 0.05 for s in scores[:3]), scores
    assert all(s < -0.05 for s in scores[3:]), scores


def test_blanks_and_languages_as_the_fast_path(head: SentimentHead) -> None:
    texts = ["", None, float("nan"), "  ", "El pedido llegó tarde y nadie respondió a mis correos.",
             "Доставка задержалась на неделю", "ok", "Great service, thank you!"]
    fast = score(texts)  # type: ignore[arg-type]
    ours = score(texts, model="embedding")  # type: ignore[arg-type]
    assert [(r.label, r.language, r.reason) for r in ours[:6]] == [(r.label, r.language, r.reason) for r in fast[:6]]
    assert all(r.score is None for r in ours[:6])
    assert [r.language for r in ours[6:]] == [r.language for r in fast[6:]]
    assert ours[7].label == "positive"
    assert score([], model="embedding") == []


@settings(max_examples=15, deadline=None)
@given(st.lists(st.text(max_size=80), max_size=4))
def test_any_texts_get_valid_results(texts: list[str]) -> None:
    for result in score(texts, model="embedding"):
        assert result.label in LABELS
        if result.score is None:
            assert result.label in ("empty", "unsupported_language") and result.reason
        else:
            assert -1.0 <= result.score <= 1.0 and result.label == label_for(result.score)


def test_model_choice_errors(tmp_path: Path) -> None:
    with pytest.raises(CxlensInputError, match="model='bert'.*'lexicon'.*'embedding'"):
        score(["x"], model="bert")
    with pytest.raises(CxlensInputError, match=r"head file .*missing\.json does not exist"):
        score(["x"], model=tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(CxlensInputError, match="not a sentiment head"):
        score(["x"], model=str(tmp_path / "bad.json"))
    assert score(["good"], model="lexicon") == score(["good"])


# --- the default head ------------------------------------------------------------------------------

def test_default_head_is_cached_by_version(head: SentimentHead, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    assert head.encoder == model_version() and head.lexicon_weight == DEFAULT_LEXICON_WEIGHT
    assert load_head(default_head_path()) == head  # written at first use, read back identically
    name = default_head_path().name
    assert name.startswith("sentiment-head-") and name.endswith(".json")
    monkeypatch.setenv("CXLENS_CACHE_DIR", str(tmp_path))
    assert cache_dir() == tmp_path and default_head_path() == tmp_path / name
    monkeypatch.delenv("CXLENS_CACHE_DIR")
    assert cache_dir() == Path.home() / ".cache" / "cxlens"


def test_cache_name_is_the_same_in_every_process() -> None:
    code = "from cxlens.text.sentiment_model import default_head_path; print(default_head_path().name)"
    seed = "2" if os.environ.get("PYTHONHASHSEED") == "1" else "1"  # another order of sets than this process
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout.strip()
    assert other == default_head_path().name


def test_default_training_set_is_shipped_and_written_text() -> None:
    texts, valence, weights = default_training_set()
    index = {t: i for i, t in enumerate(texts)}
    assert len(texts) > 7000 and len(texts) == len(valence) == len(weights)
    assert valence[index["good"]] == pytest.approx(1.9 / 4)  # VADER's mean human rating of "good"
    assert valence[index["refund"]] == 0.0 and valence[index["overcharged"]] == pytest.approx(-2.1 / 4)
    assert valence[index["I was on hold for an hour"]] == pytest.approx(-0.5)
    anchor, rating = ANCHORS[0]
    assert valence[index[anchor]] == rating and weights[index[anchor]] > 1
    assert np.all(np.abs(valence) <= 1)


# --- heads fitted to rated texts -----------------------------------------------------------------------

RATED = [
    ("Absolutely love this, works perfectly", 5), ("Great value and fast shipping", 5),
    ("Excellent support, they solved it in minutes", 5), ("Best purchase I made this year", 5),
    ("Really happy with the quality", 5), ("Good product, arrived on time", 4), ("Nice, does what it says", 4),
    ("Pretty good overall, a few small issues", 4), ("Works well after a firmware update", 4),
    ("It is okay, nothing special", 3), ("Average quality for the price", 3), ("Arrived, have not tried it yet", 3),
    ("Mixed feelings: fast delivery but flimsy", 3), ("Not great, the battery drains quickly", 2),
    ("Disappointed, it stopped working after a week", 2), ("The instructions are confusing and useless", 2),
    ("Slow delivery and poor packaging", 2), ("Terrible, it broke on the first day", 1),
    ("Awful customer service, never buying again", 1), ("Complete waste of money", 1),
    ("Still waiting for my refund after a month", 1), ("Worst product ever, do not buy", 1),
    ("Charged twice and nobody answers", 1), ("Lovely design and very comfortable", 5),
]


@pytest.fixture(scope="module")
def fitted() -> SentimentHead:
    return fit_head([t for t, _ in RATED], [r for _, r in RATED], scale=(1, 5), source="hand-written reviews")


def test_fit_save_load_and_score(fitted: SentimentHead, tmp_path: Path) -> None:
    assert fitted.rating_scale == (1.0, 5.0) and fitted.n_train == len(RATED)
    assert fitted.trained_on == "hand-written reviews" and fitted.cv_pearson is not None
    path = save_head(fitted, tmp_path / "head.json")
    assert load_head(path) == fitted
    data = json.loads(path.read_text(encoding="utf-8"))
    assert len(data["weights"]) == DIMENSIONS and data["format"] == "cxlens-sentiment-head"
    texts = ["Amazing, I love it", "Broken on arrival, awful", ""]
    by_head, by_path = score(texts, model=fitted), score(texts, model=str(path))
    assert by_head == by_path
    assert by_head[0].label == "positive" and by_head[1].label == "negative" and by_head[2].label == "empty"
    assert EmbeddingSentiment(fitted).score(texts) == by_head


def test_head_arithmetic_by_hand() -> None:
    weights = np.zeros(DIMENSIONS)
    weights[0], weights[1] = 2.0, -1.0
    head = SentimentHead(tuple(weights), intercept=0.1, lexicon_weight=0.5, encoder=model_version(),
                         trained_on="by hand", n_train=0, alpha=1.0)
    vectors = np.zeros((3, DIMENSIONS), dtype=np.float32)
    vectors[0, 0], vectors[1, 1], vectors[2, 0] = 0.2, 0.3, 0.9
    # 0.1 + 0.4 + 0.5*0.2 = 0.6; 0.1 - 0.3 + 0.5*(-0.4) = -0.4; 0.1 + 1.8 + 0 = 1.9 -> clipped to 1
    assert head.predict(vectors, np.array([0.2, -0.4, 0.0])) == pytest.approx([0.6, -0.4, 1.0])


def test_ridge_matches_scikit_learn() -> None:
    linear_model = pytest.importorskip("sklearn.linear_model")
    rng = np.random.default_rng(3)
    x = rng.normal(size=(60, 8))
    y = x @ rng.normal(size=8) + rng.normal(size=60) * 0.3 + 2.0
    sw = rng.uniform(0.5, 3.0, size=60)
    w, lexicon_weight, b = _ridge(x, None, y, 4.0, sw)
    ref = linear_model.Ridge(alpha=4.0).fit(x, y, sample_weight=sw)
    assert lexicon_weight == 0.0
    assert w == pytest.approx(ref.coef_, abs=1e-9) and b == pytest.approx(ref.intercept_, abs=1e-9)
    # the lexicon column is not penalised: the same as a nearly free column in scikit-learn
    lex = rng.normal(size=60)
    w, lexicon_weight, b = _ridge(x, lex, y + 3 * lex, 4.0)
    ref = linear_model.Ridge(alpha=4.0).fit(np.column_stack([x, lex * 1e4]), y + 3 * lex)
    assert w == pytest.approx(ref.coef_[:-1], abs=1e-6)
    assert lexicon_weight == pytest.approx(ref.coef_[-1] * 1e4, abs=1e-5)


def test_fit_errors() -> None:
    texts, ratings = [t for t, _ in RATED], [r for _, r in RATED]
    with pytest.raises(CxlensInputError, match="24 texts and 23 ratings"):
        fit_head(texts, ratings[:-1])
    with pytest.raises(CxlensInputError, match=r"at least 20 texts .* got 5 usable of 24"):
        fit_head(texts, ratings[:5] + [None] * 19)
    with pytest.raises(CxlensInputError, match="rating 'five' of text 2 is not a number"):
        fit_head(texts, [5, "five", *ratings[2:]])
    with pytest.raises(CxlensInputError, match="all ratings are 3"):
        fit_head(texts, [3] * len(texts))
    with pytest.raises(CxlensInputError, match=r"rating 5 is outside scale=\(0, 4\)"):
        fit_head(texts, ratings, scale=(0, 4))
    with pytest.raises(CxlensInputError, match="single string"):
        fit_head("good", [1])  # type: ignore[arg-type]


def test_head_from_another_encoder_is_refused(fitted: SentimentHead) -> None:
    data = fitted.to_dict() | {"encoder": "other-model@1"}
    with pytest.raises(CxlensInputError, match="fitted on vectors of 'other-model@1'.*refit"):
        head_from_dict(data)
    with pytest.raises(CxlensInputError, match="incomplete sentiment head"):
        head_from_dict({k: v for k, v in fitted.to_dict().items() if k != "intercept"})


# --- honest accuracy on review-like text -----------------------------------------------------------------

@pytest.mark.skipif(not MOVIES.is_file(),
                    reason=f"VADER ground truth not found at {MOVIES} (shared/datasets next to the repo)")
def test_beats_vader_on_movie_reviews(head: SentimentHead) -> None:
    """1,500 movie-review snippets (fixed random sample). The default head never saw them; the
    fitted head is measured by 5-fold cross-validation (each snippet scored by a head fitted on the
    other four fifths)."""
    rows = [line.split("\t", 2) for line in MOVIES.read_text(encoding="utf-8").splitlines() if line.strip()]
    pick = np.random.default_rng(2014).choice(len(rows), size=1500, replace=False)
    texts = [rows[i][2] for i in pick]
    human = np.array([float(rows[i][1]) for i in pick])
    vader = np.array([r.score for r in score(texts, language="en", lexicon="vader")])
    lexicon = np.array([r.score for r in score(texts, language="en")])
    vectors = embed_for_sentiment(texts)
    default = EmbeddingSentiment(head).predict(texts, vectors=vectors)
    cross_validated = np.empty(len(texts))
    folds = np.arange(len(texts)) % 5
    for k in range(5):
        train, test = folds != k, folds == k
        fitted = fit_head([t for t, m in zip(texts, train) if m], human[train], vectors=vectors[train])
        cross_validated[test] = EmbeddingSentiment(fitted).predict([t for t, m in zip(texts, test) if m],
                                                                    vectors=vectors[test])
    r = {name: float(np.corrcoef(human, values)[0, 1])
         for name, values in (("vader", vader), ("lexicon", lexicon), ("embedding", default),
                              ("fitted", cross_validated))}
    print("\nmovie reviews, 1,500 snippets, Pearson r: " + ", ".join(f"{k} {v:.3f}" for k, v in r.items()))
    assert all(math.isfinite(v) for v in r.values())
    assert r["embedding"] > r["vader"] + 0.08
    assert r["embedding"] > r["lexicon"] + 0.08
    assert r["fitted"] > r["embedding"] + 0.03
