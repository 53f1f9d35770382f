"""Sentiment from sentence embeddings: a linear head on MiniLM vectors, blended with the lexicon score.

The model behind ``score(texts, model="embedding")``. Each English text, its emoji written as
words, is embedded with ``cxlens.text.embeddings.embed`` (all-MiniLM-L6-v2, 384 numbers per
text) and scored as

    score = clip(intercept + vector · weights + lexicon_weight × lexicon_score, -1, 1)

where ``lexicon_score`` is the fast path's score (VADER with the customer-experience extension,
``cxlens.text.sentiment``). A ``SentimentHead`` holds the intercept, the 384 weights and the
lexicon weight; it is a small JSON file.

The default head needs no user data and ships no data: at first use it is trained on text that
installed packages already ship, then cached (see ``default_head``):

- the 7,500 words, emoticons and slang of VADER's own lexicon (``vader_lexicon.txt`` in
  ``vaderSentiment``) with their mean human valence ratings (-4..4, divided by 4);
- the customer-experience words and phrases of ``cx`` (``CX_LEXICON``, ``CX_PHRASES``);
- ``ANCHORS``: short review, feedback and news sentences written for this module, with a valence
  in [-1, 1] each, including negations and contrasts.

A ridge regression maps vectors to valence; a line fitted on the anchors rescales its output
(trained mostly on single words, it compresses sentence scores towards zero), and the result is
blended with the lexicon score (``DEFAULT_LEXICON_WEIGHT``). The lexicon part keeps what MiniLM
does not see (ALL CAPS, "!!!", emoji, the CX phrases) and VADER's negation rules.

``fit_head(texts, ratings)`` calibrates a head to a workspace's own rated feedback (star ratings,
CSAT...): ridge regression on the vectors plus the lexicon score as one more feature, the
penalty chosen by 5-fold cross-validation (its out-of-fold Pearson r is kept as
``cv_pearson``); ``save_head``/``load_head`` write and read it, and
``score(texts, model=path_or_head)`` uses it.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from cxlens.errors import CxlensInputError
from cxlens.text.embeddings import DIMENSIONS, embed, model_version

HEAD_FORMAT = "cxlens-sentiment-head"
HEAD_FORMAT_VERSION = 1
DEFAULT_RECIPE = "vader-lexicon+cx+anchors/1"
"""Changes whenever the default training recipe changes (it is part of the cache key)."""
DEFAULT_ALPHA = 30.0
DEFAULT_LEXICON_WEIGHT = 0.4
ALPHAS: tuple[float, ...] = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)
"""Ridge penalties tried by ``fit_head``'s cross-validation."""
MIN_FIT_TEXTS = 20
CACHE_ENV = "CXLENS_CACHE_DIR"

ANCHORS: tuple[tuple[str, float], ...] = (
    # reviews of things: films, books, products, places
    ("An absolute masterpiece, I loved every minute of it.", 0.9),
    ("One of the best films I have seen in years.", 0.85),
    ("A warm, funny and beautifully acted story.", 0.75),
    ("Smart, moving and wonderfully told.", 0.75),
    ("A solid, enjoyable movie with a few slow patches.", 0.35),
    ("It has its moments, but it never quite comes together.", -0.2),
    ("The plot is predictable and the jokes fall flat.", -0.55),
    ("Dull, overlong and instantly forgettable.", -0.65),
    ("A tedious mess with wooden acting and a pointless story.", -0.8),
    ("One of the worst films ever made; a complete waste of time.", -0.95),
    ("The book is a gripping, brilliant read.", 0.8),
    ("The product works exactly as described and the quality is excellent.", 0.75),
    ("Great value for the price, I would buy it again.", 0.7),
    ("It does the job, nothing special.", 0.05),
    ("The item is fine but the instructions are confusing.", 0.0),
    ("It broke after two days and feels cheap.", -0.75),
    ("Do not buy this, it is junk.", -0.9),
    ("The hotel was clean, quiet and the staff were lovely.", 0.8),
    ("The room was dirty and the staff were rude.", -0.8),
    ("The food was delicious and the service was quick.", 0.75),
    ("The food was cold and bland.", -0.6),
    # customer service and feedback
    ("The agent was very helpful and solved my problem quickly.", 0.8),
    ("Thank you for the fast delivery, everything arrived in perfect condition.", 0.8),
    ("Setup was easy and support answered within minutes.", 0.7),
    ("The app is simple to use and never lets me down.", 0.7),
    ("My order arrived on time.", 0.25),
    ("I received my refund today.", 0.3),
    ("I updated my address in the account settings.", 0.0),
    ("The package was delivered on Tuesday.", 0.0),
    ("I called about my invoice.", 0.0),
    ("I was on hold for an hour and nobody could help me.", -0.8),
    ("Still waiting for my refund after three weeks.", -0.7),
    ("The app keeps crashing and I lost my data.", -0.8),
    ("They charged me twice and will not answer my emails.", -0.85),
    ("The delivery was late and the box was damaged.", -0.65),
    ("Terrible customer service, I am cancelling my subscription.", -0.9),
    ("The website is slow and confusing.", -0.5),
    # negation, contrast, hedging
    ("The film is not good.", -0.4),
    ("The film is not bad at all.", 0.35),
    ("I did not enjoy it.", -0.45),
    ("I would not recommend it to anyone.", -0.6),
    ("I cannot recommend it highly enough.", 0.85),
    ("Nothing about this worked for me.", -0.6),
    ("No complaints, everything went smoothly.", 0.6),
    ("The service was never a problem.", 0.4),
    ("The start is slow, but the ending is wonderful.", 0.4),
    ("The cast is talented, but the script is awful.", -0.35),
    ("It is not the best, but it is not the worst either.", 0.0),
    # general statements and news
    ("What a wonderful day, I am so happy.", 0.85),
    ("I am heartbroken and miserable.", -0.85),
    ("The committee will meet on Thursday to discuss the budget.", 0.0),
    ("The new policy will help thousands of families.", 0.5),
    ("The attack killed dozens of people.", -0.85),
    ("The plan is a reckless and dangerous mistake.", -0.7),
    ("The report was published last year.", 0.0),
)
"""Sentences written for this module with their valence in [-1, 1]: reviews, feedback, news, with
negations and contrasts. They teach the head what whole sentences look like and set its scale."""

ANCHOR_WEIGHT = 20.0
"""How many lexicon words one anchor sentence counts for in the default head's regression."""


@dataclass(frozen=True)
class SentimentHead:
    """A linear sentiment head on sentence vectors.

    ``score = clip(intercept + vector · weights + lexicon_weight × lexicon_score, -1, 1)``, where
    ``lexicon_score`` is the fast path's score with lexicon ``lexicon``. ``encoder`` names the
    embedding model the weights belong to (``cxlens.text.embeddings.model_version()``).
    """

    weights: tuple[float, ...]
    intercept: float
    lexicon_weight: float
    encoder: str
    trained_on: str
    n_train: int
    alpha: float
    lexicon: str = "cx"
    rating_scale: tuple[float, float] = (-1.0, 1.0)
    cv_pearson: float | None = None
    _vector: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        vector = np.asarray(self.weights, dtype=np.float64)
        if vector.shape != (DIMENSIONS,) or not np.all(np.isfinite(vector)):
            raise CxlensInputError(
                f"a sentiment head needs {DIMENSIONS} finite weights, got {vector.size}: "
                "refit it with fit_head(texts, ratings)."
            )
        object.__setattr__(self, "_vector", vector)

    def predict(self, vectors: np.ndarray, lexicon_scores: np.ndarray) -> np.ndarray:
        """Scores in [-1, 1] for rows of sentence vectors and the texts' lexicon scores."""
        raw = self.intercept + vectors.astype(np.float64) @ self._vector
        raw = raw + self.lexicon_weight * np.asarray(lexicon_scores, dtype=np.float64)
        return np.clip(raw, -1.0, 1.0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": HEAD_FORMAT, "format_version": HEAD_FORMAT_VERSION, "encoder": self.encoder,
            "trained_on": self.trained_on, "n_train": self.n_train, "alpha": self.alpha,
            "lexicon": self.lexicon, "lexicon_weight": self.lexicon_weight,
            "rating_scale": list(self.rating_scale), "cv_pearson": self.cv_pearson,
            "intercept": self.intercept, "weights": list(self.weights),
        }


# --- saving and loading ------------------------------------------------------------------------

def save_head(head: SentimentHead, path: str | os.PathLike[str]) -> Path:
    """Write ``head`` as JSON (about 8 KB), atomically; returns the path."""
    target = Path(path)
    folder = target.resolve().parent
    if not folder.is_dir():
        raise CxlensInputError(f"cannot save the head to {target}: folder {folder} does not exist; create it first.")
    _atomic_write(target, json.dumps(head.to_dict(), indent=1))
    return target


def load_head(path: str | os.PathLike[str]) -> SentimentHead:
    """Read a head written by ``save_head``; errors name the file and what to do."""
    source = Path(path)
    if not source.is_file():
        raise CxlensInputError(
            f"sentiment head file {source} does not exist: give the path of a file written by save_head "
            "(or `cxlens text sentiment-fit`), or use model='lexicon' or 'embedding'."
        )
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CxlensInputError(f"{source} is not a sentiment head (not JSON: {exc}); refit it with fit_head.") from None
    return head_from_dict(data, str(source))


def head_from_dict(data: Any, source: str = "the head") -> SentimentHead:
    """A ``SentimentHead`` from ``to_dict()`` output, checked against the installed encoder."""
    if not isinstance(data, dict) or data.get("format") != HEAD_FORMAT:
        raise CxlensInputError(f"{source} is not a sentiment head (no format {HEAD_FORMAT!r}); refit it with fit_head.")
    if data.get("format_version") != HEAD_FORMAT_VERSION:
        raise CxlensInputError(
            f"{source} has head format version {data.get('format_version')!r}; this cxlens reads version "
            f"{HEAD_FORMAT_VERSION}. Refit it with fit_head."
        )
    encoder = model_version()
    if data.get("encoder") != encoder:
        raise CxlensInputError(
            f"{source} was fitted on vectors of {data.get('encoder')!r} but this installation embeds with "
            f"{encoder!r}; refit it with fit_head on the same rated texts."
        )
    try:
        low, high = data["rating_scale"]
        return SentimentHead(
            weights=tuple(float(w) for w in data["weights"]), intercept=float(data["intercept"]),
            lexicon_weight=float(data["lexicon_weight"]), encoder=encoder, trained_on=str(data["trained_on"]),
            n_train=int(data["n_train"]), alpha=float(data["alpha"]), lexicon=_check_lexicon(data["lexicon"]),
            rating_scale=(float(low), float(high)),
            cv_pearson=None if data.get("cv_pearson") is None else float(data["cv_pearson"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, CxlensInputError):
            raise
        raise CxlensInputError(f"{source} is an incomplete sentiment head ({exc!r}); refit it with fit_head.") from None


def _check_lexicon(name: object) -> str:
    if name not in ("cx", "vader"):
        raise CxlensInputError(f"lexicon={name!r} is not allowed: use 'cx' or 'vader'.")
    return str(name)


def _atomic_write(path: Path, content: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.resolve().parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(content)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --- fitting a head to rated texts ---------------------------------------------------------------

def fit_head(texts: Sequence[str | None], ratings: Sequence[float], *,
             scale: tuple[float, float] | None = None, lexicon: str = "cx", use_lexicon: bool = True,
             alphas: Sequence[float] = ALPHAS, folds: int = 5, vectors: np.ndarray | None = None,
             source: str | None = None) -> SentimentHead:
    """Fit a head to texts rated by people (star ratings, CSAT, a -1..1 label...).

    Ratings are mapped linearly from ``scale`` (default: their own minimum and maximum) to
    [-1, 1], so the middle of the scale is neutral. Ridge regression on the sentence vectors,
    plus the lexicon score as an unpenalised feature when ``use_lexicon``; the penalty is chosen
    among ``alphas`` by ``folds``-fold cross-validation (fixed folds, so the result is
    reproducible). Rows with a blank text or a missing rating are skipped. ``vectors`` may pass
    ``embed_for_sentiment(texts)`` when it is already computed.
    """
    if isinstance(texts, str):
        raise CxlensInputError("texts is a single string; fit_head() takes a list of texts and a list of ratings.")
    texts, ratings = list(texts), list(ratings)
    if len(texts) != len(ratings):
        raise CxlensInputError(
            f"fit_head got {len(texts)} texts and {len(ratings)} ratings: give one rating per text."
        )
    if vectors is not None and vectors.shape != (len(texts), DIMENSIONS):
        raise CxlensInputError(
            f"vectors has shape {vectors.shape}; expected ({len(texts)}, {DIMENSIONS}), "
            "the output of embed_for_sentiment(texts)."
        )
    keep, y = _usable_rows(texts, ratings)
    if len(keep) < MIN_FIT_TEXTS:
        raise CxlensInputError(
            f"fit_head needs at least {MIN_FIT_TEXTS} texts with a rating; got {len(keep)} usable of {len(texts)}. "
            "Add more rated texts."
        )
    low, high = _rating_scale(y, scale)
    target = 2.0 * (y - low) / (high - low) - 1.0
    kept_texts = [str(texts[i]) for i in keep]
    x = vectors[keep] if vectors is not None else embed_for_sentiment(kept_texts)
    lex = _lexicon_scores(kept_texts, lexicon) if use_lexicon else None
    alpha, cv_prediction = _cross_validate(x, lex, target, alphas, folds)
    weights, lexicon_weight, intercept = _ridge(x, lex, target, alpha)
    return SentimentHead(
        weights=tuple(float(w) for w in weights), intercept=intercept, lexicon_weight=lexicon_weight,
        encoder=model_version(), trained_on=source or f"{len(keep)} rated texts", n_train=len(keep),
        alpha=float(alpha), lexicon=_check_lexicon(lexicon), rating_scale=(low, high),
        cv_pearson=_pearson(cv_prediction, target),
    )


def _usable_rows(texts: list[str | None], ratings: list[Any]) -> tuple[list[int], np.ndarray]:
    keep: list[int] = []
    values: list[float] = []
    for i, (text, rating) in enumerate(zip(texts, ratings)):
        if rating is None or text is None or (isinstance(text, float) and math.isnan(text)):
            continue
        try:
            value = float(rating)
        except (TypeError, ValueError):
            raise CxlensInputError(
                f"rating {rating!r} of text {i + 1} is not a number: ratings must be numbers (stars, CSAT, -1..1)."
            ) from None
        if math.isnan(value) or not str(text).strip():
            continue
        if math.isinf(value):
            raise CxlensInputError(f"rating {rating!r} of text {i + 1} is infinite: give a finite number.")
        keep.append(i)
        values.append(value)
    return keep, np.asarray(values, dtype=np.float64)


def _rating_scale(y: np.ndarray, scale: tuple[float, float] | None) -> tuple[float, float]:
    if scale is None:
        low, high = float(y.min()), float(y.max())
        if low == high:
            raise CxlensInputError(
                f"all ratings are {low:g}: a head needs texts rated differently (or pass scale=(lowest, highest))."
            )
        return low, high
    try:
        low, high = (float(v) for v in scale)
    except (TypeError, ValueError):
        raise CxlensInputError(f"scale={scale!r} is not allowed: give (lowest, highest), e.g. (1, 5).") from None
    if not low < high:
        raise CxlensInputError(f"scale={scale!r} is not allowed: the lowest rating must be below the highest.")
    outside = y[(y < low) | (y > high)]
    if outside.size:
        raise CxlensInputError(
            f"rating {outside[0]:g} is outside scale=({low:g}, {high:g}): fix the rating or widen the scale."
        )
    return low, high


def _ridge(x: np.ndarray, lex: np.ndarray | None, y: np.ndarray, alpha: float,
           sample_weight: np.ndarray | None = None) -> tuple[np.ndarray, float, float]:
    """Weighted ridge: (vector weights, lexicon weight, intercept); the lexicon column is not penalised."""
    return _solve(_normal_equations(x, lex, y, sample_weight), alpha, lex is not None)


def _normal_equations(x: np.ndarray, lex: np.ndarray | None, y: np.ndarray,
                      sample_weight: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
    """(Z'WZ, Z'Wy, mean of Z, mean of y) of the centred design Z = [x, lex]; independent of the penalty."""
    z = x.astype(np.float64) if lex is None else np.column_stack([x.astype(np.float64), lex])
    sw = np.ones(len(y)) if sample_weight is None else sample_weight
    mean_z = np.average(z, axis=0, weights=sw)
    mean_y = np.average(y, weights=sw)
    zc = z - mean_z
    weighted = (zc * sw[:, None]).T
    return weighted @ zc, weighted @ (y - mean_y), mean_z, np.asarray(mean_y)


def _solve(system: tuple[np.ndarray, ...], alpha: float, has_lexicon: bool) -> tuple[np.ndarray, float, float]:
    gram, rhs, mean_z, mean_y = system
    penalty = np.full(gram.shape[0], alpha)
    if has_lexicon:
        penalty[-1] = 0.0
    beta = np.linalg.solve(gram + np.diag(penalty), rhs)
    intercept = float(mean_y) - float(mean_z @ beta)
    if not has_lexicon:
        return beta, 0.0, intercept
    return beta[:-1], float(beta[-1]), intercept


def _cross_validate(x: np.ndarray, lex: np.ndarray | None, y: np.ndarray, alphas: Sequence[float],
                    folds: int) -> tuple[float, np.ndarray]:
    """The penalty with the lowest cross-validated squared error (ties: the larger penalty) and the
    out-of-fold predictions made with it."""
    if not alphas or any(not (a > 0) for a in alphas):
        raise CxlensInputError(f"alphas={tuple(alphas)!r} is not allowed: give one or more positive penalties.")
    if folds < 2:
        raise CxlensInputError(f"folds={folds!r} is not allowed: cross-validation needs at least 2 folds.")
    order = np.random.default_rng(0).permutation(len(y))
    ranked = sorted(alphas, reverse=True)
    predictions = {alpha: np.empty(len(y)) for alpha in ranked}
    for k in range(folds):
        test = order[k::folds]
        train = np.setdiff1d(order, test)
        system = _normal_equations(x[train], None if lex is None else lex[train], y[train])
        for alpha in ranked:
            w, lw, b = _solve(system, alpha, lex is not None)
            raw = b + x[test] @ w + (0.0 if lex is None else lw * lex[test])
            predictions[alpha][test] = np.clip(raw, -1.0, 1.0)
    errors = {alpha: float(np.sum((predictions[alpha] - y) ** 2)) for alpha in ranked}
    best = min(ranked, key=lambda a: (errors[a], -a))
    return best, predictions[best]


def _pearson(a: np.ndarray, b: np.ndarray) -> float | None:
    if np.std(a) == 0 or np.std(b) == 0:
        return None
    return round(float(np.corrcoef(a, b)[0, 1]), 4)


def _lexicon_scores(texts: Sequence[str], lexicon: str) -> np.ndarray:
    from cxlens.text.sentiment import lexicon_polarity  # noqa: PLC0415 - sentiment imports this module lazily

    polarity = lexicon_polarity(lexicon)
    return np.fromiter((polarity(t) for t in texts), dtype=np.float64, count=len(texts))


# --- the default head ------------------------------------------------------------------------------

def cache_dir() -> Path:
    """``$CXLENS_CACHE_DIR``, else ``~/.cache/cxlens``."""
    configured = os.environ.get(CACHE_ENV, "").strip()
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "cxlens"


def default_head_path() -> Path:
    """Where the default head is cached: named by a hash of the encoder, recipe and training texts."""
    return cache_dir() / f"sentiment-head-{_default_key()[:16]}.json"


def default_head() -> SentimentHead:
    """The default head: read from the cache, else trained (20-30 s on two cores) and cached.

    A cache that cannot be written (read-only home) only means training again in the next process.
    """
    return _default_head_at(default_head_path())


@cache
def _default_head_at(path: Path) -> SentimentHead:
    if path.is_file():
        try:
            return load_head(path)
        except CxlensInputError:
            pass  # a stale or damaged cache file: train again and replace it
    head = train_default_head()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        save_head(head, path)
    except OSError:
        pass
    return head


def default_training_set() -> tuple[list[str], np.ndarray, np.ndarray]:
    """(texts, valences in [-1, 1], sample weights) of the default head; see the module docstring."""
    from cxlens.text.sentiment import CX_LEXICON, CX_NEUTRAL, CX_PHRASES  # noqa: PLC0415

    valence = dict(_vader_lexicon())
    valence.update({w: 0.0 for w in sorted(CX_NEUTRAL)})  # sorted: a set's order changes per process
    valence.update(CX_LEXICON)
    for phrase in CX_PHRASES:
        valence[phrase.example] = phrase.valence
    texts = list(valence) + [text for text, _ in ANCHORS]
    y = np.array([v / 4.0 for v in valence.values()] + [v for _, v in ANCHORS])
    weights = np.array([1.0] * len(valence) + [ANCHOR_WEIGHT] * len(ANCHORS))
    return texts, y, weights


def train_default_head(vectors: np.ndarray | None = None) -> SentimentHead:
    """Train the default head (no caching); ``vectors`` may pass ``embed`` of ``default_training_set()``.

    Ridge (``DEFAULT_ALPHA``) from vectors to valence, the anchor sentences weighted
    ``ANCHOR_WEIGHT``; then a line fitted on the anchors (prediction -> valence) undoes the
    compression of sentence scores, and the result is blended with the lexicon score:
    ``(1 - DEFAULT_LEXICON_WEIGHT) × embedding part + DEFAULT_LEXICON_WEIGHT × lexicon score``.
    """
    texts, y, weights = default_training_set()
    x = embed(texts, batch_size=512) if vectors is None else vectors  # mostly single words: big batches
    w, _, b = _ridge(x, None, y, DEFAULT_ALPHA, weights)
    anchors = slice(len(texts) - len(ANCHORS), len(texts))
    gain, offset = np.polyfit(x[anchors] @ w + b, y[anchors], 1)
    keep = 1.0 - DEFAULT_LEXICON_WEIGHT
    return SentimentHead(
        weights=tuple(float(v) for v in keep * gain * w), intercept=float(keep * (gain * b + offset)),
        lexicon_weight=DEFAULT_LEXICON_WEIGHT, encoder=model_version(),
        trained_on=f"default: {DEFAULT_RECIPE} ({len(texts)} texts)", n_train=len(texts), alpha=DEFAULT_ALPHA,
    )


def _vader_lexicon() -> list[tuple[str, float]]:
    import vaderSentiment  # noqa: PLC0415

    path = Path(vaderSentiment.__file__).parent / "vader_lexicon.txt"
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) >= 2 and parts[0].strip():
            entries.append((parts[0].strip(), float(parts[1])))
    return entries


@cache
def _default_key() -> str:
    try:
        vader_version = version("vaderSentiment")
    except PackageNotFoundError:
        vader_version = "unknown"
    texts, y, weights = default_training_set()
    recipe = {
        "format": HEAD_FORMAT_VERSION, "recipe": DEFAULT_RECIPE, "encoder": model_version(), "vader": vader_version,
        "alpha": DEFAULT_ALPHA, "lexicon_weight": DEFAULT_LEXICON_WEIGHT, "anchor_weight": ANCHOR_WEIGHT,
        "data": hashlib.sha256(json.dumps([texts, y.tolist(), weights.tolist()]).encode()).hexdigest(),
    }
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()


# --- scoring -----------------------------------------------------------------------------------------

def embed_for_sentiment(texts: Sequence[str]) -> np.ndarray:
    """``embed`` of the texts with their emoji written as words (MiniLM does not read emoji)."""
    from cxlens.text.sentiment import emoji_as_words  # noqa: PLC0415

    return embed([emoji_as_words(t) for t in texts])


class EmbeddingSentiment:
    """Scores texts with a head (the default head unless one is given)."""

    def __init__(self, head: SentimentHead | None = None) -> None:
        self._head = head

    @property
    def head(self) -> SentimentHead:
        if self._head is None:
            self._head = default_head()
        return self._head

    def predict(self, texts: Sequence[str], *, vectors: np.ndarray | None = None) -> np.ndarray:
        """Scores in [-1, 1] of English texts (no language or blank handling; see ``score``)."""
        texts = list(texts)
        if not texts:
            return np.zeros(0)
        x = embed_for_sentiment(texts) if vectors is None else vectors
        return self.head.predict(x, _lexicon_scores(texts, self.head.lexicon))

    def score(self, texts: Iterable[str | None], *, language: str = "auto") -> list[Any]:
        """``SentimentScore`` per text, with the fast path's handling of blanks and languages."""
        from cxlens.text.sentiment import score  # noqa: PLC0415

        return score(texts, language=language, model=self)  # type: ignore[arg-type]


def resolve_model(model: object) -> EmbeddingSentiment:
    """An ``EmbeddingSentiment`` for ``"embedding"``, a head, a head file path or an ``EmbeddingSentiment``."""
    if isinstance(model, EmbeddingSentiment):
        return model
    if isinstance(model, SentimentHead):
        return EmbeddingSentiment(model)
    if model == "embedding":
        return EmbeddingSentiment()
    if isinstance(model, (str, os.PathLike)):
        path = Path(model)
        if path.suffix.lower() == ".json" or path.exists():
            return EmbeddingSentiment(load_head(path))
    raise CxlensInputError(
        f"model={model!r} is not allowed: use 'lexicon' (the fast path), 'embedding' (the default embedding "
        "model), a SentimentHead, or the path of a head file (.json) written by save_head."
    )


__all__ = [
    "ANCHORS",
    "DEFAULT_LEXICON_WEIGHT",
    "EmbeddingSentiment",
    "SentimentHead",
    "cache_dir",
    "default_head",
    "default_head_path",
    "default_training_set",
    "embed_for_sentiment",
    "fit_head",
    "head_from_dict",
    "load_head",
    "resolve_model",
    "save_head",
    "train_default_head",
]
