"""The theme model: themes (id, labels, keywords, centroid), user edits, the encoder, persistence.

A model is saved as ``DIR/models/themes.json`` (readable: ids, labels, keywords, centroids,
edits, versions) plus, when its encoder is the fast static one, ``DIR/models/themes-encoder.npz``
(the encoder's fitted weights), so texts assigned later are encoded exactly like the fitted ones.

Assignment is nearest centroid by cosine similarity: a text whose best similarity is below the
model's ``floor`` goes to the theme ``other``. A theme may have sub-themes (``children``, ids
``t3.1``, ``t3.2``, ...): a text of the theme also gets the sub-theme with the nearest centroid.
When the model clusters only some ``languages``, a text detected in another language gets its
language theme (``lang-de``, see ``theme_languages``) and is not encoded at all.
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
from cxlens.text import theme_languages as langs

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
    children: tuple[Theme, ...] = field(default=(), compare=False)
    next_child: int = 1

    def __post_init__(self) -> None:
        # Six decimals, as saved: a model assigns the same way before and after a save/load.
        object.__setattr__(self, "centroid", _six_decimals(self.centroid))

    @property
    def display_label(self) -> str:
        return self.user_label or self.label

    @property
    def parent_id(self) -> str | None:
        """The parent theme's id for a sub-theme (``t3`` for ``t3.1``), else None."""
        return self.id.rsplit(".", 1)[0] if "." in self.id else None

    def to_dict(self) -> dict[str, Any]:
        out = {"id": self.id, "label": self.label, "user_label": self.user_label, "keywords": list(self.keywords),
               "size": self.size, "centroid": [round(float(x), 6) for x in self.centroid]}
        if self.parent_id is None:
            out |= {"children": [c.to_dict() for c in self.children], "next_child": self.next_child}
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Theme:
        return cls(str(d["id"]), str(d["label"]), tuple(d.get("keywords", ())),
                   np.asarray(d["centroid"], dtype=np.float32), int(d.get("size", 0)), d.get("user_label"),
                   tuple(cls.from_dict(c) for c in d.get("children", ())), int(d.get("next_child", 1)))


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
    """Theme of each text: ids, display labels and cosine similarity to the chosen centroid.

    Sub-themes: ``sub_theme_ids``/``sub_labels`` (None where the theme has no sub-themes) and the
    cosine similarity to the sub-theme's centroid (NaN where there is none). Texts set apart by
    language have a NaN similarity.
    """

    theme_ids: tuple[str, ...]
    labels: tuple[str, ...]
    similarities: np.ndarray = field(compare=False, repr=False)
    sub_theme_ids: tuple[str | None, ...] = ()
    sub_labels: tuple[str | None, ...] = ()
    sub_similarities: np.ndarray | None = field(default=None, compare=False, repr=False)

    def sub_similarity_list(self) -> list[float | None]:
        values = self.sub_similarities if self.sub_similarities is not None else np.full(len(self.theme_ids), np.nan)
        return [None if v != v else float(v) for v in values.tolist()]

    def similarity_list(self) -> list[float | None]:
        return [None if v != v else float(v) for v in self.similarities.tolist()]


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
    languages: tuple[str, ...] | None = None  # clustered languages; None: every text is clustered

    def __post_init__(self) -> None:
        object.__setattr__(self, "floor", round(float(self.floor), 6))

    @property
    def encoder_name(self) -> str:
        return str(self.encoder.name)

    @property
    def version(self) -> str:
        """Changes whenever any assignment could: encoder state, centroids, labels, floor."""
        payload: dict[str, Any] = {
            "encoder": self.encoder.fingerprint(), "floor": round(self.floor, 6),
            "themes": [[t.id, t.display_label, [round(float(x), 6) for x in t.centroid]] + _children_key(t)
                       for t in self.themes]}
        if self.languages is not None:  # absent from models saved before language themes: same version
            payload["languages"] = list(self.languages)
        digest = hashlib.sha256(json.dumps(payload).encode())
        return f"themes-{digest.hexdigest()[:12]}/{self.encoder_name}"

    def theme(self, theme_id: str) -> Theme:
        for t in self.themes:
            if t.id == theme_id:
                return t
        known = ", ".join(t.id for t in self.themes)
        raise UnknownNameError(f"Unknown theme id {theme_id!r}. The themes are: {known}. "
                               "List them with: cxlens text themes")

    def find(self, theme_id: str) -> Theme:
        """A theme or a sub-theme by id (a clear error listing the ids when unknown)."""
        for t in self.themes:
            if t.id == theme_id:
                return t
            for c in t.children:
                if c.id == theme_id:
                    return c
        known = ", ".join(i for t in self.themes for i in (t.id, *(c.id for c in t.children)))
        raise UnknownNameError(f"Unknown theme id {theme_id!r}. The themes and sub-themes are: {known}. "
                               "List them with: cxlens text themes --sub-themes")

    def label_of(self, theme_id: str) -> str:
        if theme_id == OTHER_ID:
            return OTHER_LABEL
        if langs.is_language_theme(theme_id):
            return langs.label(theme_id)
        return self.find(theme_id).display_label

    def centroids(self) -> np.ndarray:
        if not self.themes:
            return np.zeros((0, 1), dtype=np.float32)
        return np.vstack([t.centroid for t in self.themes]).astype(np.float32)

    def assign_vectors(self, vectors: np.ndarray) -> Assignment:
        """Nearest centroid by cosine similarity; below ``floor`` the theme is ``other``."""
        if len(vectors) == 0 or not self.themes:
            n = len(vectors)
            return Assignment((OTHER_ID,) * n, (OTHER_LABEL,) * n, np.zeros(n, dtype=np.float64), (None,) * n,
                              (None,) * n, np.full(n, np.nan))
        scores = vectors @ self.centroids().T
        best = scores.argmax(axis=1)
        sims = scores[np.arange(len(vectors)), best].astype(np.float64)
        ids = [self.themes[i].id if s >= self.floor else OTHER_ID for i, s in zip(best.tolist(), sims.tolist())]
        labels = {t.id: t.display_label for t in self.themes} | {OTHER_ID: OTHER_LABEL}
        sub_ids, sub_labels, sub_sims = self._assign_children(vectors, ids)
        return Assignment(tuple(ids), tuple(labels[i] for i in ids), sims, sub_ids, sub_labels, sub_sims)

    def _assign_children(self, vectors: np.ndarray, ids: Sequence[str]) -> tuple[tuple[str | None, ...],
                                                                               tuple[str | None, ...], np.ndarray]:
        """Nearest sub-centroid of each text's theme (no floor: a text of the theme has a sub-theme)."""
        sub_ids: list[str | None] = [None] * len(ids)
        sub_sims = np.full(len(ids), np.nan)
        by_id = {t.id: t for t in self.themes if t.children}
        parents = np.asarray(ids, dtype=object)
        for theme_id, parent in by_id.items():
            rows = np.flatnonzero(parents == theme_id)
            if not len(rows):
                continue
            scores = vectors[rows] @ np.vstack([c.centroid for c in parent.children]).T
            best = scores.argmax(axis=1)
            sub_sims[rows] = scores[np.arange(len(rows)), best]
            for r, b in zip(rows.tolist(), best.tolist()):
                sub_ids[r] = parent.children[b].id
        labels = {c.id: c.display_label for t in self.themes for c in t.children}
        return tuple(sub_ids), tuple(None if s is None else labels[s] for s in sub_ids), sub_sims

    def assign(self, texts: Sequence[str]) -> Assignment:
        """Encode ``texts`` with the model's own encoder and assign them (no refitting).

        Texts in a language the model does not cluster get their language theme, unencoded.
        """
        texts = list(texts)
        routes = langs.route(texts, self.languages)
        clustered = [t for t, r in zip(texts, routes) if r is None]
        vectors = self.encoder.transform(clustered) if clustered else np.zeros((0, 1), dtype=np.float32)
        return combine(routes, self.assign_vectors(vectors))

    def with_edit(self, edit: Edit, themes: tuple[Theme, ...] | None = None) -> ThemeModel:
        return replace(self, themes=self.themes if themes is None else themes, edits=(*self.edits, edit))

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION, "model_version": self.version, "encoder": self.encoder_name,
            "fitted_at": self.fitted_at, "floor": round(self.floor, 6), "next_id": self.next_id,
            "texts_fitted": self.texts_fitted, "languages": None if self.languages is None else list(self.languages),
            "themes": [t.to_dict() for t in self.themes], "edits": [e.to_dict() for e in self.edits],
        }


def _children_key(theme: Theme) -> list[Any]:
    if not theme.children:
        return []  # models without sub-themes keep the version they had before sub-themes existed
    return [[[c.id, c.display_label, [round(float(x), 6) for x in c.centroid]] for c in theme.children]]


def combine(routes: Sequence[str | None], clustered: Assignment) -> Assignment:
    """Merge the assignment of the clustered texts with the language themes of the others, in input order."""
    if all(r is None for r in routes):
        return clustered
    n = len(routes)
    ids: list[str] = []
    labels: list[str] = []
    sub_ids: list[str | None] = []
    sub_labels: list[str | None] = []
    sims, sub_sims = np.full(n, np.nan), np.full(n, np.nan)
    source = clustered.sub_similarities if clustered.sub_similarities is not None else np.full(
        len(clustered.theme_ids), np.nan)
    j = 0
    for i, r in enumerate(routes):
        if r is None:
            ids.append(clustered.theme_ids[j])
            labels.append(clustered.labels[j])
            sub_ids.append(clustered.sub_theme_ids[j] if clustered.sub_theme_ids else None)
            sub_labels.append(clustered.sub_labels[j] if clustered.sub_labels else None)
            sims[i], sub_sims[i] = clustered.similarities[j], source[j]
            j += 1
        else:
            ids.append(r)
            labels.append(langs.label(r))
            sub_ids.append(None)
            sub_labels.append(None)
    return Assignment(tuple(ids), tuple(labels), sims, tuple(sub_ids), tuple(sub_labels), sub_sims)


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
        languages=None if doc.get("languages") is None else tuple(doc["languages"]),
    )
