"""Readable theme labels from each theme's distinctive words (class-based TF-IDF).

c-TF-IDF (Grootendorst 2022, BERTopic): the texts of a theme are joined into one document; a
term's weight in theme ``c`` is ``tf(t, c) * log(1 + A / f(t))``, with ``tf`` the term's share of
the theme's words, ``f(t)`` its count over all themes and ``A`` the average number of words per
theme. Terms are words of 3+ letters and two-word phrases, stop words removed (English, plus the
commonest function words of Spanish, German and French, and filler words of feedback).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

EXTRA_STOP_WORDS = frozenset("""
also really just still got get gets getting would could one even like lot bit thing things way
really much many every ever since yet though anyway overall honestly literally totally pretty
im ive dont didnt doesnt cant wont isnt wasnt thats youre theyre
el la los las un una unos unas de del al que en con por para es son muy pero como mas más se lo le
su sus mi mis ya hay fue esta este esto está han ha sin todo todos nada
der die das den dem des ein eine einen einem einer und ist sind war nicht mit von für auf aus bei
ich mir mich wir ihr sie es zu im am noch sehr aber auch nur schon wie was immer
le la les un une des du de et est sont pas avec pour sur dans par je mon ma mes nous vous ils elle
il ce cette ces qui que très mais aussi plus tout tous toujours encore été
""".split())

TOKEN_PATTERN = r"(?u)\b[^\W\d_]{3,}\b"
LABEL_TERMS = 3
KEYWORDS = 8


def stop_words() -> list[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS  # noqa: PLC0415

    return sorted(ENGLISH_STOP_WORDS | EXTRA_STOP_WORDS)


def theme_keywords(texts: Sequence[str], labels: np.ndarray, classes: Sequence[int],
                   top: int = KEYWORDS, exclude: Sequence[str] = ()) -> dict[int, tuple[str, ...]]:
    """The ``top`` most distinctive terms of each class in ``classes`` (by c-TF-IDF).

    ``exclude``: no term with a word of these is chosen (a sub-theme skips its parent's label
    terms: under "charged twice", "charged", "twice" and "twice refund" are skipped, "refund" is not).
    """
    from scipy import sparse  # noqa: PLC0415
    from sklearn.feature_extraction.text import CountVectorizer  # noqa: PLC0415

    empty: dict[int, tuple[str, ...]] = {c: () for c in classes}
    if not texts or not classes:
        return empty
    vectorizer = CountVectorizer(stop_words=stop_words(), ngram_range=(1, 2), token_pattern=TOKEN_PATTERN,
                                 min_df=2 if len(texts) >= 50 else 1, lowercase=True)
    try:
        counts = vectorizer.fit_transform(texts)
    except ValueError:  # no term survives the stop words
        return empty
    index = {c: i for i, c in enumerate(classes)}
    rows = np.array([index.get(int(lab), -1) for lab in labels])
    keep = rows >= 0
    onehot = sparse.csr_matrix((np.ones(int(keep.sum())), (rows[keep], np.flatnonzero(keep))),
                               shape=(len(classes), len(texts)))
    per_class = np.asarray((onehot @ counts).todense(), dtype=np.float64)
    words = per_class.sum(axis=1, keepdims=True)
    tf = per_class / np.where(words > 0, words, 1.0)
    avg_words = max(words.mean(), 1.0)
    idf = np.log1p(avg_words / np.maximum(per_class.sum(axis=0), 1.0))
    scores = tf * idf
    vocabulary = vectorizer.get_feature_names_out()
    banned = frozenset(w for term in exclude for w in term.split())
    return {c: _top_terms(scores[i], per_class[i], vocabulary, top, banned) for c, i in index.items()}


def _top_terms(scores: np.ndarray, counts: np.ndarray, vocabulary: np.ndarray, top: int,
               banned: frozenset[str] = frozenset()) -> tuple[str, ...]:
    # Highest score first; on a tie the phrase beats its own words ("charged twice" over "charged").
    order = np.lexsort((-np.char.count(vocabulary.astype(str), " "), -scores))
    chosen: list[str] = []
    for j in order[: top * 4 + (8 * len(banned) if banned else 0)]:
        if counts[j] <= 0:
            break
        term = str(vocabulary[j])
        if banned and not banned.isdisjoint(term.split()):
            continue
        if any(term in c.split() or c in term.split() for c in chosen):
            continue  # "charged" after "charged twice" adds nothing
        chosen.append(term)
        if len(chosen) == top:
            break
    return tuple(chosen)


def label_from(keywords: Sequence[str], fallback: str) -> str:
    """A short label: the first ``LABEL_TERMS`` keywords joined by " / "."""
    return " / ".join(keywords[:LABEL_TERMS]) if keywords else fallback
