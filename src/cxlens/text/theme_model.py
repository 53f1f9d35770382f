"""The theme model: themes (id, labels, keywords, centroid), user edits, the encoder, persistence.

A model is saved as ``DIR/models/themes.json`` (readable: ids, labels, keywords, centroids,
edits, versions) plus, when its encoder is the fast static one, ``DIR/models/themes-encoder.npz``
(the encoder's fitted weights), so texts assigned later are encoded exactly like the fitted ones.

Assignment is nearest centroid by cosine similarity: a text whose best similarity is below the
model's ``floor`` goes to the theme ``other``.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from cxlens.errors import CxlensInputError, UnknownNameError, WorkspaceError
from cxlens.text import embeddings

OTHER_ID = "other"
OTHER_LABEL = "Other"
MODEL_FILE = "themes.json"
ENCODER_FILE = "themes-encoder.npz"
FORMAT_VERSION = 1
EDIT_KINDS = ("rename", "merge", "split")


class TextEncoder(Protocol):
    """What the theme model needs from an encoder: a name and L2-normalised vectors."""

    @property
    def name(self) -> str: ...

    def transform(self, texts: Sequence[str]) -> np.ndarray: ...

    def fingerprint(self) -> str: ...


class ContextualEncoder:
    """The contextual MiniLM (``embeddings.embed``): best quality, about 220 texts per second."""

    @property
    def name(self) -> str:
        return f"contextual:{embeddings.model_version()}"

    def fit(self, texts: Sequence[str]) -> ContextualEncoder:
        return self

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        return embeddings.embed(list(texts))

    def fit_transform(self, texts: Sequence[str]) -> np.ndarray:
        return self.transform(texts)

    def fingerprint(self) -> str:
        return hashlib.sha256(self.name.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Theme:
    """One theme. ``label`` is automatic (from keywords); ``user_label`` wins when set."""

    id: str
    label: str
    keywords: tuple[str, ...]
    centroid: np.ndarray = field(compare=False, repr=False)
    size: int = 0
    user_label: str | None = None

    def __post_init__(self) -> None:
        # Six decimals, as saved: a model assigns the same way before and after a save/load.
        object.__setattr__(self, "centroid", _six_decimals(self.centroid))

    @property
    def display_label(self) -> str:
        return self.user_label or self.label

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "label": self.label, "user_label": self.user_label, "keywords": list(self.keywords),
                "size": self.size, "centroid": [round(float(x), 6) for x in self.centroid]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Theme:
        return cls(str(d["id"]), str(d["label"]), tuple(d.get("keywords", ())),
                   np.asarray(d["centroid"], dtype=np.float32), int(d.get("size", 0)), d.get("user_label"))


@dataclass(frozen=True)
class Edit:
    """A user edit, replayed after every refit: rename, merge (``other`` into ``theme_id``) or split."""

    kind: str
    theme_id: str
    label: str | None = None
    other: str | None = None
    children: tuple[str, ...] = ()
    at: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "theme_id": self.theme_id, "label": self.label, "other": self.other,
                "children": list(self.children), "at": self.at}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Edit:
        kind = str(d["kind"])
        if kind not in EDIT_KINDS:
            raise CxlensInputError(f"Unknown theme edit kind {kind!r}; the kinds are {', '.join(EDIT_KINDS)}.")
        return cls(kind, str(d["theme_id"]), d.get("label"), d.get("other"), tuple(d.get("children", ())),
                   d.get("at"))


@dataclass(frozen=True)
class Assignment:
    """Theme of each text: ids, display labels and cosine similarity to the chosen centroid."""

    theme_ids: tuple[str, ...]
    labels: tuple[str, ...]
    similarities: np.ndarray = field(compare=False, repr=False)


@dataclass(frozen=True)
class ThemeModel:
    """Fitted themes plus everything needed to assign new texts the same way."""

    themes: tuple[Theme, ...]
    encoder: Any = field(compare=False, repr=False)
    floor: float = 0.0
    edits: tuple[Edit, ...] = ()
    fitted_at: str | None = None
    next_id: int = 1
    texts_fitted: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "floor", round(float(self.floor), 6))

    @property
    def encoder_name(self) -> str:
        return str(self.encoder.name)

    @property
    def version(self) -> str:
        """Changes whenever any assignment could: encoder state, centroids, labels, floor."""
        payload = {"encoder": self.encoder.fingerprint(), "floor": round(self.floor, 6),
                   "themes": [[t.id, t.display_label, [round(float(x), 6) for x in t.centroid]] for t in self.themes]}
        digest = hashlib.sha256(json.dumps(payload).encode())
        return f"themes-{digest.hexdigest()[:12]}/{self.encoder_name}"

    def theme(self, theme_id: str) -> Theme:
        for t in self.themes:
            if t.id == theme_id:
                return t
        known = ", ".join(t.id for t in self.themes)
        raise UnknownNameError(f"Unknown theme id {theme_id!r}. The themes are: {known}. "
                               "List them with: cxlens text themes")

    def label_of(self, theme_id: str) -> str:
        return OTHER_LABEL if theme_id == OTHER_ID else self.theme(theme_id).display_label

    def centroids(self) -> np.ndarray:
        if not self.themes:
            return np.zeros((0, 1), dtype=np.float32)
        return np.vstack([t.centroid for t in self.themes]).astype(np.float32)

    def assign_vectors(self, vectors: np.ndarray) -> Assignment:
        """Nearest centroid by cosine similarity; below ``floor`` the theme is ``other``."""
        if len(vectors) == 0 or not self.themes:
            sims = np.zeros(len(vectors), dtype=np.float64)
            return Assignment((OTHER_ID,) * len(vectors), (OTHER_LABEL,) * len(vectors), sims)
        scores = vectors @ self.centroids().T
        best = scores.argmax(axis=1)
        sims = scores[np.arange(len(vectors)), best].astype(np.float64)
        ids = [self.themes[i].id if s >= self.floor else OTHER_ID for i, s in zip(best.tolist(), sims.tolist())]
        labels = {t.id: t.display_label for t in self.themes} | {OTHER_ID: OTHER_LABEL}
        return Assignment(tuple(ids), tuple(labels[i] for i in ids), sims)

    def assign(self, texts: Sequence[str]) -> Assignment:
        """Encode ``texts`` with the model's own encoder and assign them (no refitting)."""
        return self.assign_vectors(self.encoder.transform(list(texts)))

    def with_edit(self, edit: Edit, themes: tuple[Theme, ...] | None = None) -> ThemeModel:
        return replace(self, themes=self.themes if themes is None else themes, edits=(*self.edits, edit))

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION, "model_version": self.version, "encoder": self.encoder_name,
            "fitted_at": self.fitted_at, "floor": round(self.floor, 6), "next_id": self.next_id,
            "texts_fitted": self.texts_fitted, "themes": [t.to_dict() for t in self.themes],
            "edits": [e.to_dict() for e in self.edits],
        }


def _six_decimals(values: Any) -> np.ndarray:
    return np.round(np.asarray(values, dtype=np.float64), 6).astype(np.float32)


def models_dir(root: Path) -> Path:
    return Path(root) / "models"


def save_model(root: Path, model: ThemeModel) -> Path:
    """Write ``models/themes.json`` (and the encoder weights) atomically; returns the JSON path."""
    folder = models_dir(root)
    folder.mkdir(parents=True, exist_ok=True)
    state = getattr(model.encoder, "state", None)
    if state is not None:
        tmp_npz = folder / f".{ENCODER_FILE}.{os.getpid()}.partial.npz"
        np.savez(tmp_npz, **state())
        os.replace(tmp_npz, folder / ENCODER_FILE)
    path = folder / MODEL_FILE
    tmp = folder / f".{MODEL_FILE}.{os.getpid()}.partial"
    tmp.write_text(json.dumps(model.to_dict(), indent=1), encoding="utf-8")
    os.replace(tmp, path)
    return path


def has_model(root: Path) -> bool:
    return (models_dir(root) / MODEL_FILE).is_file()


def load_model(root: Path) -> ThemeModel:
    """Read the saved model; a clear error when there is none or it cannot be read."""
    path = models_dir(root) / MODEL_FILE
    if not path.is_file():
        raise WorkspaceError("No theme model has been fitted in this workspace yet. Run: cxlens text themes --refit")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        return _from_dict(doc, models_dir(root))
    except (json.JSONDecodeError, KeyError, TypeError, ValueError, OSError) as exc:
        raise WorkspaceError(f"The theme model {path} cannot be read ({exc}). Refit it with: "
                             "cxlens text themes --refit") from None


def _from_dict(doc: dict[str, Any], folder: Path) -> ThemeModel:
    kind = str(doc["encoder"]).split(":", 1)[0]
    encoder: Any
    if kind == "contextual":
        encoder = ContextualEncoder()
    else:
        with np.load(folder / ENCODER_FILE) as arrays:
            encoder = embeddings.StaticEncoder.from_state({k: arrays[k] for k in arrays.files})
    if encoder.name != doc["encoder"]:
        raise ValueError(f"the model was fitted with {doc['encoder']} but {encoder.name} is installed")
    return ThemeModel(
        themes=tuple(Theme.from_dict(t) for t in doc["themes"]), encoder=encoder, floor=float(doc["floor"]),
        edits=tuple(Edit.from_dict(e) for e in doc.get("edits", ())), fitted_at=doc.get("fitted_at"),
        next_id=int(doc.get("next_id", 1)), texts_fitted=int(doc.get("texts_fitted", 0)),
    )
