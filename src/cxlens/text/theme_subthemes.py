"""Sub-themes: a second level inside each theme that is large enough and has structure of its own.

For a theme with at least ``sub_min_texts`` assigned texts (40 by default):

1. **Candidates**: k-means (k-means++) with k = 2 … ``sub_max`` (6), at most one sub-theme per
   ``min_size`` texts, on the theme's vectors (a fixed sample of at most ``SAMPLE`` of them); the
   best k has the highest mean cosine silhouette (Rousseeuw 1987).
2. **Is the split real?** Silhouettes are never zero: k-means cuts even a single round cloud into
   parts with a positive silhouette. So the same k-means runs on a *reference* cloud with no
   structure: as many points drawn from a Gaussian with the theme's own mean and covariance
   (``mean + Z·(X − mean)/√(n − 1)``, Z standard normal, then L2-normalised like the texts),
   ``NULL_REPEATS`` draws averaged — the reference of the gap statistic (Tibshirani et al. 2001),
   applied to the silhouette. The theme keeps sub-themes only when its best silhouette beats the
   reference's silhouette at the same k by at least ``MARGIN``; otherwise it has none.
3. **Clustering** with that k on all the theme's vectors; parts under ``min_size`` texts are
   dissolved into the nearest others.
4. **Labels**: c-TF-IDF among the theme's own texts only (so a term common to the whole theme
   does not stand out), skipping every term with a word of the parent's label, so a sub-label
   says what is particular to the part ("refund / card" under "charged twice / bill"); when
   nothing else is left, the plain c-TF-IDF terms.
5. **Stable ids** ``t3.1``, ``t3.2``: the same Hungarian matching as the themes, against the
   sub-themes the previous model gave the same texts within the same parent.

A new text of the theme gets the sub-theme with the nearest centroid (no floor).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from cxlens.text.theme_fit import _centroids, _dissolve_small, _id_order, match_ids
from cxlens.text.theme_labels import label_from, theme_keywords
from cxlens.text.theme_model import OTHER_ID, Theme

SAMPLE = 2000
NULL_REPEATS = 2
MARGIN = 0.05  # on demo themes: real splits beat the reference by 0.08-0.2; a weak one by 0.025


def choose_sub_k(vectors: np.ndarray, *, most: int, min_size: int, seed: int = 0) -> int | None:
    """The k in [2, most] with the best silhouette, or None when no split beats the reference cloud."""
    from sklearn.cluster import KMeans  # noqa: PLC0415
    from sklearn.metrics import silhouette_score  # noqa: PLC0415
    from threadpoolctl import threadpool_limits  # noqa: PLC0415

    high = min(most, len(vectors) // max(min_size, 1))
    if high < 2:
        return None
    rng = np.random.default_rng(seed)
    picked = np.sort(rng.choice(len(vectors), size=min(SAMPLE, len(vectors)), replace=False))
    x = vectors[picked].astype(np.float64)
    scores = {}
    # Small problems: one thread is several times faster than OpenMP's start-up on shared cores.
    with threadpool_limits(limits=1):
        for k in range(2, high + 1):
            labels = KMeans(k, n_init=2, random_state=seed).fit_predict(x)
            if len(set(labels.tolist())) >= 2:
                scores[k] = float(silhouette_score(x, labels, metric="cosine"))
        if not scores:
            return None
        best = max(scores, key=lambda k: (scores[k], -k))
        reference = float(np.mean([reference_silhouette(x, best, seed + r) for r in range(NULL_REPEATS)]))
    return best if scores[best] - reference >= MARGIN else None


def reference_silhouette(x: np.ndarray, k: int, seed: int) -> float:
    """Silhouette of k-means on a structureless cloud: a Gaussian with the mean and covariance of ``x``."""
    from sklearn.cluster import KMeans  # noqa: PLC0415
    from sklearn.metrics import silhouette_score  # noqa: PLC0415

    rng = np.random.default_rng(seed)
    mean = x.mean(axis=0)
    z = rng.standard_normal((len(x), len(x)))
    cloud = mean + z @ (x - mean) / np.sqrt(max(len(x) - 1, 1))
    cloud /= np.maximum(np.linalg.norm(cloud, axis=1, keepdims=True), 1e-12)
    labels = KMeans(k, n_init=2, random_state=seed).fit_predict(cloud)
    if len(set(labels.tolist())) < 2:
        return 0.0
    return float(silhouette_score(cloud, labels, metric="cosine"))


def fit_children(parent: Theme, vectors: np.ndarray, texts: Sequence[str], *, min_texts: int | None,
                 most: int, min_size: int, seed: int = 0, old_sub_ids: Sequence[str | None] | None = None,
                 next_child: int = 1, renames: Mapping[str, str | None] | None = None) -> Theme:
    """``parent`` with its sub-themes fitted on its texts' ``vectors`` (none when too small or no structure).

    ``old_sub_ids`` are the sub-themes the previous model gave the same texts (ids are kept by
    overlap); ``next_child`` is the first new number; ``renames`` the user labels by sub-theme id.
    """
    from sklearn.cluster import KMeans  # noqa: PLC0415

    none = replace(parent, children=(), next_child=next_child)
    if min_texts is None or len(vectors) < min_texts:
        return none
    k = choose_sub_k(vectors, most=most, min_size=min_size, seed=seed)
    if k is None:
        return none
    labels = KMeans(k, n_init=3, random_state=seed).fit_predict(vectors.astype(np.float64))
    labels = _dissolve_small(vectors, labels, min_size)
    if len(set(labels.tolist())) < 2:
        return none
    prefix = f"{parent.id}."
    old = [o if o is not None and o.startswith(prefix) else OTHER_ID for o in (old_sub_ids or [])]
    mapping, following = match_ids(labels, old, next_child, prefix=prefix)
    ids = np.array([mapping[int(c)] for c in labels.tolist()], dtype=object)
    return replace(parent, children=build_children(parent, vectors, texts, ids, renames or {}), next_child=following)


def build_children(parent: Theme, vectors: np.ndarray, texts: Sequence[str], ids: np.ndarray,
                   renames: Mapping[str, str | None]) -> tuple[Theme, ...]:
    """Sub-themes (centroid, keywords within the parent, size) from the per-text sub-theme ids."""
    child_ids = sorted(set(ids.tolist()), key=_child_order)
    centroids = _centroids(vectors, ids, child_ids)
    code = {c: i for i, c in enumerate(child_ids)}
    labels = np.array([code[c] for c in ids.tolist()])
    classes = list(range(len(child_ids)))
    keywords = theme_keywords(list(texts), labels, classes, exclude=parent.keywords[:3])
    if not all(keywords.values()):  # nothing left but the parent's words: use them rather than no label
        plain = theme_keywords(list(texts), labels, classes)
        keywords = {i: keywords[i] or plain[i] for i in classes}
    return tuple(Theme(c, label_from(keywords[i], c), keywords[i], centroids[i], int(np.sum(labels == i)),
                       renames.get(c)) for i, c in enumerate(child_ids))


def _child_order(child_id: str) -> tuple[int, str]:
    tail = child_id.rsplit(".", 1)[-1]
    return (int(tail), child_id) if tail.isdigit() else _id_order(child_id)


def sub_renames(edits: Sequence[Any]) -> dict[str, str | None]:
    """The user label of each renamed sub-theme (the last rename wins)."""
    return {e.theme_id: e.label for e in edits if e.kind == "rename" and "." in e.theme_id}
