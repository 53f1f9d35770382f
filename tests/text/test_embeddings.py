"""The fast static encoder: its tokenizer, weights, fitted state and quality on banking77."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cxlens.errors import CxlensInputError
from cxlens.text import embeddings
from cxlens.text.embeddings import DIMENSIONS, StaticEncoder

BANKING77 = Path(__file__).resolve().parents[2].parent / "shared" / "datasets" / "banking77" / "train.csv"


def test_static_vector_is_the_idf_weighted_mean_of_its_pieces() -> None:
    texts = ["refund refund", "refund please", "late delivery"]
    encoder = StaticEncoder(adapt=False).fit(texts)
    table = embeddings.static_table()
    pieces = embeddings.tokenize(["refund please"])[0]
    idf = encoder.idf_
    by_hand = (table[pieces] * idf[pieces, None]).sum(axis=0)
    by_hand /= np.linalg.norm(by_hand)
    np.testing.assert_allclose(encoder.transform(["refund please"])[0], by_hand, atol=1e-5)
    # IDF of scikit-learn's smooth formula: ln((1 + n) / (1 + df)) + 1
    refund = embeddings.tokenize(["refund"])[0][0]
    assert idf[refund] == pytest.approx(np.log(4 / 3) + 1)


def test_vectors_are_normalised_and_empty_texts_are_zero() -> None:
    encoder = StaticEncoder(adapt=False).fit(["the app keeps crashing", "charged twice"])
    vectors = encoder.transform(["the app keeps crashing", "", "a brand new word: zyzzyva"])
    assert vectors.shape == (3, DIMENSIONS) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors[[0, 2]], axis=1), 1.0, atol=1e-5)
    assert not vectors[1].any()
    assert encoder.transform([]).shape == (0, DIMENSIONS)


def test_fitted_state_round_trips() -> None:
    encoder = StaticEncoder(adapt=False).fit(["charged twice", "the app crashes", "no signal at home"])
    restored = StaticEncoder.from_state(encoder.state())
    texts = ["charged twice again", "signal drops"]
    np.testing.assert_array_equal(restored.transform(texts), encoder.transform(texts))
    assert restored.fingerprint() == encoder.fingerprint()
    other = StaticEncoder(adapt=False).fit(["something else entirely", "and more"])
    assert other.fingerprint() != encoder.fingerprint()


def test_unfitted_encoder_says_what_to_do() -> None:
    with pytest.raises(CxlensInputError, match="call fit"):
        StaticEncoder().transform(["x"])
    with pytest.raises(CxlensInputError, match="at least one text"):
        StaticEncoder().fit([])


def test_static_encoder_clusters_banking77_better_than_tfidf() -> None:
    if not BANKING77.exists():
        pytest.skip(f"banking77 is not available at {BANKING77} (shared reference data)")
    from sklearn.cluster import KMeans
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    data = pd.read_csv(BANKING77)
    intents = sorted(data.category.unique())[:20]
    subset = data[data.category.isin(intents)].groupby("category").head(40)
    texts, truth = subset.text.tolist(), subset.category.tolist()
    ours = StaticEncoder(adapt=False).fit_transform(texts)
    baseline = TfidfVectorizer(stop_words="english", sublinear_tf=True).fit_transform(texts)
    scores = {}
    for name, x in (("ours", ours.astype(np.float64)), ("tfidf", baseline)):
        labels = KMeans(20, n_init=3, random_state=0).fit_predict(x)
        scores[name] = (normalized_mutual_info_score(truth, labels), adjusted_rand_score(truth, labels))
    assert scores["ours"][0] > scores["tfidf"][0], scores
    assert scores["ours"][0] > 0.5, scores


@pytest.mark.slow
def test_adaptation_moves_static_vectors_towards_the_contextual_ones() -> None:
    topics = ["I was charged twice for my bill", "the app keeps crashing on my phone",
              "my internet connection drops every evening", "the technician never came to install it",
              "the agent on the phone was really helpful", "my verification code never arrives by sms"]
    texts = [f"{t} ({i})" for i in range(10) for t in topics]
    static = StaticEncoder(adapt=False).fit(texts)
    adapted = StaticEncoder(adapt=True, sample=40, seed=0).fit(texts)
    held_out = ["charged twice again this month", "app crashes when I open it", "wifi keeps dropping"]
    target = embeddings.embed(held_out)
    static_cos = np.einsum("ij,ij->i", static.transform(held_out), target)
    adapted_cos = np.einsum("ij,ij->i", adapted.transform(held_out), target)
    assert (adapted_cos > static_cos).all(), (adapted_cos, static_cos)
    restored = StaticEncoder.from_state(adapted.state())
    np.testing.assert_allclose(restored.transform(held_out), adapted.transform(held_out), atol=1e-6)
    assert restored.name.startswith("adapted:")
