"""Fitting a theme model: encode, choose the number of themes, cluster, label, keep ids, replay edits.

- **Encoder** (``encoder="auto"``): the contextual MiniLM up to ``CONTEXTUAL_MAX`` texts, above
  that the static word-piece encoder adapted to the contextual space on a sample (see
  ``embeddings.StaticEncoder`` and ``docs/themes.md`` for why).
- **Number of themes**: unless given, the largest k in ``[min_themes, max_themes]`` whose mean
  cosine silhouette (Rousseeuw 1987) of k-means, averaged over ``SILHOUETTE_REPEATS`` samples
  of at most ``SILHOUETTE_SAMPLE`` texts, is within ``SILHOUETTE_TOLERANCE`` of the best one
  (silhouettes of text clusters are nearly flat over a wide range of k, so the best one alone is
  noise; finer themes are more useful and easy to merge); ``max_themes`` is also capped so that a theme averages
  ``min_size`` texts or more.
- **Clustering**: k-means (k-means++ seeding) on the L2-normalised vectors (spherical k-means in
  effect). Clusters smaller than ``min_size`` are dissolved into their nearest neighbours.
- **Floor**: a text is ``other`` when its cosine similarity to the nearest centroid is below the
  ``floor_quantile`` quantile of the fitted texts' similarities to their own centroids.
- **Stable ids**: the previous model assigns the same texts; each new cluster takes the id of the
  previous theme it shares most texts with (Hungarian matching of the overlap counts, kept when
  the overlap is at least half of the smaller of the two), else a new id ``t<N>``.
- **Edits** are replayed in order: a rename sets the user label; a merge folds the second theme
  into the first; a split gives each text of the re-found parent back the part the previous
  model gave it.
- **Languages**: only texts in ``languages`` (English) or of undetermined language are clustered;
  the others get a theme per language (``theme_languages``).
- **Sub-themes** are then fitted inside each final theme (``theme_subthemes``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import numpy as np

from cxlens.errors import CxlensInputError
from cxlens.text import embeddings
from cxlens.text import theme_languages as langs
from cxlens.text.theme_labels import label_from, theme_keywords
from cxlens.text.theme_model import OTHER_ID, Assignment, ContextualEncoder, Edit, Theme, ThemeModel, combine

CONTEXTUAL_MAX = 1000
MIN_TEXTS = 20
MAX_CHARS = 2000
SILHOUETTE_SAMPLE = 3000
SILHOUETTE_REPEATS = 2  # samples (and k-means seeds) averaged: one sample alone is noisy
SILHOUETTE_TOLERANCE = 0.02  # silhouettes of text clusters are flat over a wide range of k
LABEL_SAMPLE = 20_000  # c-TF-IDF is stable well before this many texts
ENCODERS = ("auto", "contextual", "adapted", "static")
OTHER = -1


@dataclass(frozen=True)
class FitOptions:
    """How to fit: ``n_themes`` fixes k; otherwise it is chosen by silhouette in the range."""

    n_themes: int | None = None
    min_themes: int = 5
    max_themes: int = 30
    min_size: int = 5
    floor_quantile: float = 0.05
    encoder: str = "auto"
    seed: int = 0
    languages: tuple[str, ...] | None = langs.SUPPORTED  # clustered languages; None: cluster every text
    sub_min_texts: int | None = 40  # themes with fewer texts get no sub-themes; None: no sub-themes
    sub_max: int = 6

    def check(self) -> FitOptions:
        if self.encoder not in ENCODERS:
            raise CxlensInputError(f"The 'encoder' option must be one of {', '.join(ENCODERS)}. "
                                   f"Got {self.encoder!r} instead.")
        if self.n_themes is not None and self.n_themes < 2:
            raise CxlensInputError(f"The 'n_themes' option must be at least 2. Got {self.n_themes} instead.")
        if not 2 <= self.min_themes <= self.max_themes:
            raise CxlensInputError(f"Need 2 <= min_themes <= max_themes. Got {self.min_themes} and "
                                   f"{self.max_themes} instead.")
        if not 0.0 <= self.floor_quantile < 0.5:
            raise CxlensInputError(f"The 'floor_quantile' option must be in [0, 0.5). Got {self.floor_quantile}.")
        if self.sub_min_texts is not None and self.sub_min_texts < 2 * self.min_size:
            raise CxlensInputError(f"The 'sub_min_texts' option must be at least 2 x min_size = {2 * self.min_size}"
                                   f" (or None for no sub-themes). Got {self.sub_min_texts} instead.")
        if not 2 <= self.sub_max <= 20:
            raise CxlensInputError(f"The 'sub_max' option must be between 2 and 20. Got {self.sub_max} instead.")
        langs.check_languages(self.languages)
        return self


@dataclass(frozen=True)
class PreparedTexts:
    """Texts ready to embed: positions kept from the input, blanks skipped, long texts truncated."""

    positions: tuple[int, ...]
    texts: tuple[str, ...]
    skipped_empty: int
    truncated: int

    def notes(self) -> list[str]:
        out = []
        if self.skipped_empty:
            out.append(f"{self.skipped_empty} empty or blank texts were skipped")
        if self.truncated:
            out.append(f"{self.truncated} texts longer than {MAX_CHARS} characters were truncated")
        return out


def prepare(texts: Sequence[Any]) -> PreparedTexts:
    positions, kept, truncated = [], [], 0
    for i, raw in enumerate(texts):
        if raw is None or (isinstance(raw, float) and raw != raw):
            continue
        text = str(raw).strip()
        if not text:
            continue
        if len(text) > MAX_CHARS:
            text, truncated = text[:MAX_CHARS], truncated + 1
        positions.append(i)
        kept.append(text)
    return PreparedTexts(tuple(positions), tuple(kept), len(texts) - len(kept), truncated)


def make_encoder(kind: str, n_texts: int, seed: int = 0) -> Any:
    if kind == "auto":
        kind = "contextual" if n_texts <= CONTEXTUAL_MAX else "adapted"
    if kind == "contextual":
        return ContextualEncoder()
    return embeddings.StaticEncoder(adapt=kind == "adapted", seed=seed)


def choose_k(vectors: np.ndarray, options: FitOptions) -> int:
    """The largest k whose mean cosine silhouette is near the best one (see the module docstring)."""
    from sklearn.cluster import KMeans  # noqa: PLC0415
    from sklearn.metrics import silhouette_score  # noqa: PLC0415

    if options.n_themes is not None:
        return min(options.n_themes, len(vectors))
    high = min(options.max_themes, max(options.min_themes, len(vectors) // options.min_size))
    scores: dict[int, list[float]] = {}
    for repeat in range(SILHOUETTE_REPEATS):
        rng = np.random.default_rng(options.seed + repeat)
        picked = rng.choice(len(vectors), size=min(SILHOUETTE_SAMPLE, len(vectors)), replace=False)
        # float64: scikit-learn's k-means++ upcasts float32 distances chunk by chunk, which is much slower.
        sample = vectors[picked].astype(np.float64)
        for k in _candidates(options.min_themes, high):
            labels = KMeans(k, n_init=1, random_state=options.seed + repeat).fit_predict(sample)
            if len(set(labels.tolist())) >= 2:
                scores.setdefault(k, []).append(float(silhouette_score(sample, labels, metric="cosine")))
    if not scores:
        return options.min_themes
    means = {k: float(np.mean(v)) for k, v in scores.items()}
    best = max(means.values())
    return max(k for k, s in means.items() if s >= best - SILHOUETTE_TOLERANCE)


def _candidates(low: int, high: int, most: int = 10) -> list[int]:
    if high - low + 1 <= most:
        return list(range(low, high + 1))
    return sorted({int(round(x)) for x in np.geomspace(low, high, most)})


def cluster(vectors: np.ndarray, k: int, options: FitOptions) -> np.ndarray:
    """k-means labels; clusters under ``min_size`` texts are dissolved into the nearest others."""
    from sklearn.cluster import KMeans, MiniBatchKMeans  # noqa: PLC0415

    if len(vectors) > 20_000:
        model: Any = MiniBatchKMeans(k, n_init=3, random_state=options.seed, batch_size=4096)
    else:
        model = KMeans(k, n_init=3, random_state=options.seed)
    labels = model.fit_predict(vectors.astype(np.float64))
    return _dissolve_small(vectors, labels, options.min_size)


def _dissolve_small(vectors: np.ndarray, labels: np.ndarray, min_size: int) -> np.ndarray:
    ids, counts = np.unique(labels, return_counts=True)
    big = ids[counts >= min_size]
    if len(big) == len(ids) or len(big) == 0:
        return labels
    centroids = _centroids(vectors, labels, big)
    small = ~np.isin(labels, big)
    out = labels.copy()
    out[small] = big[(vectors[small] @ centroids.T).argmax(axis=1)]
    return out


def _centroids(vectors: np.ndarray, labels: np.ndarray, classes: Sequence[Any]) -> np.ndarray:
    rows = [vectors[labels == c].mean(axis=0) for c in classes]
    matrix = np.vstack(rows) if rows else np.zeros((0, vectors.shape[1]))
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return (matrix / np.where(norms > 0, norms, 1.0)).astype(np.float32)


def match_ids(new_labels: np.ndarray, old_ids: Sequence[str], start_id: int,
              merged_into: frozenset[str] = frozenset(), prefix: str = "t") -> tuple[dict[int, str], int]:
    """Map each new cluster to a previous theme id by shared texts (Hungarian), else a new id.

    New ids are ``prefix`` + a number from ``start_id`` (``t7``; ``t3.2`` for sub-themes of ``t3``).
    Previous language themes (``lang-de``) are not clusters and are never matched.

    A theme the user merged others into (``merged_into``) may take several new clusters: those
    that the Hungarian step left unmatched and whose texts are mostly in it.
    """
    from scipy.optimize import linear_sum_assignment  # noqa: PLC0415

    clusters = sorted(set(new_labels.tolist()) - {OTHER})
    previous = sorted({i for i in old_ids if i != OTHER_ID and not langs.is_language_theme(i)})
    mapping: dict[int, str] = {}
    if previous and clusters:
        old = np.asarray(old_ids)
        overlap = np.array([[np.sum((new_labels == c) & (old == p)) for p in previous] for c in clusters])
        sizes_new = np.array([np.sum(new_labels == c) for c in clusters])[:, None]
        sizes_old = np.array([np.sum(old == p) for p in previous])[None, :]
        rows, cols = linear_sum_assignment(-overlap)
        for r, c in zip(rows, cols):
            if overlap[r, c] * 2 >= min(sizes_new[r, 0], sizes_old[0, c]) and overlap[r, c] > 0:
                mapping[clusters[r]] = previous[c]
        for r, c in enumerate(clusters):
            best = int(overlap[r].argmax())
            if c not in mapping and previous[best] in merged_into and overlap[r, best] * 2 >= sizes_new[r, 0]:
                mapping[c] = previous[best]
    next_id = start_id
    for c in sorted(clusters, key=lambda c: -int(np.sum(new_labels == c))):
        if c not in mapping:
            mapping[c] = f"{prefix}{next_id}"
            next_id += 1
    return mapping, next_id


def replay_edits(ids: np.ndarray, old_ids: Sequence[str] | None, edits: Sequence[Edit]) -> np.ndarray:
    """Apply merges and splits to the per-text theme ids (renames are applied to the themes)."""
    out = ids.astype(object).copy()
    old = None if old_ids is None else np.asarray(old_ids, dtype=object)
    for edit in edits:
        if edit.kind == "merge" and edit.other is not None:
            out[out == edit.other] = edit.theme_id
        elif edit.kind == "split" and old is not None:
            out = _replay_split(out, old, edit)
    return out


def _replay_split(ids: np.ndarray, old: np.ndarray, edit: Edit) -> np.ndarray:
    children = set(edit.children)
    present = [c for c in edit.children if np.any(ids == c)]
    if len(present) == len(edit.children):
        return ids  # the refit found the parts again by itself
    hosts = [h for h in {*present, edit.theme_id} if np.any(ids == h)]
    out = ids.copy()
    for host in hosts:
        members = (ids == host) & np.isin(old, list(children))
        out[members] = old[members]
    return out


def build_themes(vectors: np.ndarray, texts: Sequence[str], ids: np.ndarray, edits: Sequence[Edit],
                 floor_quantile: float) -> tuple[tuple[Theme, ...], float]:
    """Themes (centroid, keywords, label, size, user label) from the final per-text ids, and the floor."""
    theme_ids = sorted(set(ids.tolist()) - {OTHER_ID}, key=_id_order)
    centroids = _centroids(vectors, ids, theme_ids)
    classes = list(range(len(theme_ids)))
    code = {t: i for i, t in enumerate(theme_ids)}
    labels = np.array([code.get(t, OTHER) for t in ids.tolist()])
    sample = _label_sample(len(texts))
    keywords = theme_keywords([texts[i] for i in sample], labels[sample], classes)
    renames = {e.theme_id: e.label for e in edits if e.kind == "rename"}
    themes = tuple(
        Theme(t, label_from(keywords[i], t), keywords[i], centroids[i], int(np.sum(labels == i)), renames.get(t))
        for i, t in enumerate(theme_ids)
    )
    in_theme = labels >= 0
    own = np.einsum("ij,ij->i", vectors[in_theme], centroids[labels[in_theme]]) if in_theme.any() else np.zeros(1)
    floor = float(np.quantile(own, floor_quantile)) if floor_quantile > 0 else -1.0
    return themes, floor


def _label_sample(n: int) -> np.ndarray:
    """Positions of the texts used for labels: all, or a fixed random ``LABEL_SAMPLE`` of them."""
    if n <= LABEL_SAMPLE:
        return np.arange(n)
    return np.sort(np.random.default_rng(0).choice(n, size=LABEL_SAMPLE, replace=False))


def _id_order(theme_id: str) -> tuple[int, str]:
    digits = "".join(ch for ch in theme_id[1:] if ch.isdigit())
    return (int(digits) if digits and theme_id[1:].isdigit() else 10**9, theme_id)


@dataclass(frozen=True)
class FitResult:
    """A fitted model, the theme of each prepared text, and notes about the input.

    ``assignment`` holds, per prepared text, the theme, sub-theme and similarities (NaN for texts
    set apart by language); ``theme_ids`` and ``similarities`` are its first columns.
    """

    model: ThemeModel
    prepared: PreparedTexts
    theme_ids: tuple[str, ...]
    similarities: np.ndarray
    assignment: Assignment | None = None

    def notes(self) -> list[str]:
        out = self.prepared.notes()
        if self.assignment is not None:
            out += langs.notes(self.assignment.theme_ids, self.model.languages)
        return out


def fit_model(texts: Sequence[Any], *, options: FitOptions = FitOptions(), previous: ThemeModel | None = None,
              now: datetime) -> FitResult:
    """Fit themes on ``texts``; ``previous`` keeps ids stable and carries the user's edits."""
    options = options.check()
    prepared = prepare(texts)
    routes = langs.route(prepared.texts, options.languages)
    texts_in = [t for t, r in zip(prepared.texts, routes) if r is None]
    _check_enough(texts_in, routes, len(texts))
    encoder = make_encoder(options.encoder, len(texts_in), options.seed)
    vectors = encoder.fit_transform(texts_in)
    k = choose_k(vectors, options)
    labels = cluster(vectors, k, options)
    old = previous.assign(texts_in) if previous is not None else None
    old_ids = list(old.theme_ids) if old is not None else None
    edits = previous.edits if previous is not None else ()
    merged_into = frozenset(e.theme_id for e in edits if e.kind == "merge")
    mapping, next_id = match_ids(labels, old_ids or [], previous.next_id if previous else 1, merged_into)
    ids = np.array([mapping[int(c)] for c in labels.tolist()], dtype=object)
    ids = replay_edits(ids, old_ids, edits)
    themes, floor = build_themes(vectors, texts_in, ids, edits, options.floor_quantile)
    model = ThemeModel(themes, encoder, floor, tuple(edits), now.isoformat(), next_id, len(texts_in),
                       options.languages)
    model = fit_subthemes(model, vectors, texts_in, options, previous, old)
    assigned = combine(routes, model.assign_vectors(vectors))
    return FitResult(model, prepared, assigned.theme_ids, assigned.similarities, assigned)


def _check_enough(texts_in: Sequence[str], routes: Sequence[str | None], n: int) -> None:
    if len(texts_in) >= MIN_TEXTS:
        return
    apart = sum(r is not None for r in routes)
    languages = f"; {apart} more are in languages themes are not discovered in" if apart else ""
    raise CxlensInputError(
        f"Theme discovery needs at least {MIN_TEXTS} non-empty texts; got {len(texts_in)}"
        f" (of {n}){languages}. Add more comments, or assign texts to an existing model instead.")


def fit_subthemes(model: ThemeModel, vectors: np.ndarray, texts: Sequence[str], options: FitOptions,
                  previous: ThemeModel | None = None, old: Assignment | None = None) -> ThemeModel:
    """The model with sub-themes fitted inside each of its themes (on the texts it assigns them)."""
    from cxlens.text.theme_subthemes import fit_children, sub_renames  # noqa: PLC0415

    top = np.asarray(replace(model, themes=tuple(replace(t, children=()) for t in model.themes))
                     .assign_vectors(vectors).theme_ids, dtype=object)
    renames = sub_renames(model.edits)
    before = {t.id: t for t in previous.themes} if previous is not None else {}
    old_sub = old.sub_theme_ids if old is not None and old.sub_theme_ids else None
    themes = []
    for t in model.themes:
        rows = np.flatnonzero(top == t.id)
        themes.append(fit_children(
            t, vectors[rows], [texts[i] for i in rows.tolist()], min_texts=options.sub_min_texts,
            most=options.sub_max, min_size=options.min_size, seed=options.seed,
            old_sub_ids=None if old_sub is None else [old_sub[i] for i in rows.tolist()],
            next_child=before[t.id].next_child if t.id in before else 1, renames=renames))
    return replace(model, themes=tuple(themes))
