"""User edits of a theme model: rename, merge, split. Each returns a new model with the edit recorded.

Edits are stored in the model and replayed after every refit (see ``theme_fit``), so a theme the
user renamed keeps its name, merged themes stay merged and a split stays split.

A sub-theme (``t3.1``) can be renamed; merges and splits work on themes, and the sub-themes of
the merged theme or of the two parts are fitted again on their texts (by ``themes``, which has
the texts). Language themes (``lang-de``) and ``other`` cannot be edited.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np

from cxlens.errors import CxlensInputError
from cxlens.text import theme_languages as langs
from cxlens.text.theme_labels import label_from, theme_keywords
from cxlens.text.theme_model import OTHER_ID, Edit, Theme, ThemeModel

MAX_LABEL = 80
_DONE = {"merge": "merged", "split": "split"}


def rename(model: ThemeModel, theme_id: str, label: str, now: datetime) -> ThemeModel:
    """Give ``theme_id`` the user label ``label`` (blank clears it back to the automatic label)."""
    _check_not_other(theme_id)
    model.find(theme_id)
    clean = " ".join(label.split())
    if len(clean) > MAX_LABEL:
        raise CxlensInputError(f"A theme label must be at most {MAX_LABEL} characters; got {len(clean)}. "
                               "Shorten it.")
    themes = tuple(_renamed(t, theme_id, clean or None) for t in model.themes)
    return model.with_edit(Edit("rename", theme_id, label=clean or None, at=now.isoformat()), themes)


def _renamed(theme: Theme, theme_id: str, label: str | None) -> Theme:
    if theme.id == theme_id:
        return Theme(theme.id, theme.label, theme.keywords, theme.centroid, theme.size, label, theme.children,
                     theme.next_child)
    if any(c.id == theme_id for c in theme.children):
        children = tuple(_renamed(c, theme_id, label) for c in theme.children)
        return Theme(theme.id, theme.label, theme.keywords, theme.centroid, theme.size, theme.user_label, children,
                     theme.next_child)
    return theme


def merge(model: ThemeModel, keep: str, drop: str, now: datetime) -> ThemeModel:
    """Fold ``drop`` into ``keep``: the centroid is the size-weighted mean, ``keep``'s labels stay."""
    check_editable(keep, "merge")
    check_editable(drop, "merge")
    if keep == drop:
        raise CxlensInputError(f"Cannot merge theme {keep!r} into itself: give two different theme ids.")
    a, b = model.theme(keep), model.theme(drop)
    weights = np.array([max(a.size, 1), max(b.size, 1)], dtype=np.float64)
    centroid = (weights[0] * a.centroid + weights[1] * b.centroid) / weights.sum()
    centroid = (centroid / max(np.linalg.norm(centroid), 1e-12)).astype(np.float32)
    keywords = tuple(dict.fromkeys((*a.keywords, *b.keywords)))[: max(len(a.keywords), 8)]
    merged = Theme(keep, a.label, keywords, centroid, a.size + b.size, a.user_label, (), a.next_child)
    themes = tuple(merged if t.id == keep else t for t in model.themes if t.id != drop)
    return model.with_edit(Edit("merge", keep, other=drop, at=now.isoformat()), themes)


def split(model: ThemeModel, theme_id: str, texts: Sequence[str], vectors: np.ndarray, now: datetime,
          *, min_size: int = 3, seed: int = 0) -> ThemeModel:
    """Split ``theme_id`` in two by 2-means on the vectors of its texts; the parts get new ids."""
    from sklearn.cluster import KMeans  # noqa: PLC0415

    check_editable(theme_id, "split")
    parent = model.theme(theme_id)
    if len(texts) < 2 * min_size:
        raise CxlensInputError(f"Theme {theme_id!r} has {len(texts)} texts; splitting needs at least "
                               f"{2 * min_size}. Assign more texts first (cxlens text themes --assign).")
    labels = KMeans(2, n_init=3, random_state=seed).fit_predict(vectors)
    keywords = theme_keywords(texts, labels, [0, 1])
    children = []
    for part in (0, 1):
        centroid = vectors[labels == part].mean(axis=0)
        centroid = (centroid / max(np.linalg.norm(centroid), 1e-12)).astype(np.float32)
        child_id = f"t{model.next_id + part}"
        children.append(Theme(child_id, label_from(keywords[part], child_id), keywords[part], centroid,
                              int(np.sum(labels == part))))
    themes = tuple(c for t in model.themes for c in (children if t.id == parent.id else [t]))
    edit = Edit("split", theme_id, children=tuple(c.id for c in children), at=now.isoformat())
    edited = model.with_edit(edit, themes)
    from dataclasses import replace  # noqa: PLC0415

    return replace(edited, next_id=model.next_id + 2)


def _check_not_other(theme_id: str) -> None:
    if theme_id == OTHER_ID:
        raise CxlensInputError("The theme 'other' collects texts far from every theme and cannot be edited; "
                               "give the id of a discovered theme.")
    if langs.is_language_theme(theme_id):
        raise CxlensInputError(f"The theme {theme_id!r} holds the texts in {langs.language_name(theme_id)}, which "
                               "themes are not discovered in; it cannot be edited. Give the id of a discovered theme.")


def check_editable(theme_id: str, action: str) -> None:
    _check_not_other(theme_id)
    if "." in theme_id:
        parent = theme_id.rsplit(".", 1)[0]
        raise CxlensInputError(f"{theme_id!r} is a sub-theme: only themes can be {_DONE[action]} (their sub-themes are "
                               f"fitted again). Give a theme id such as {parent!r}, or rename the sub-theme.")
