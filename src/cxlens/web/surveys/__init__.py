"""Surveys: definitions with versions, the builder, hosted pages, personal links, results.

Layout: ``logic.py`` (question types, answer validation, branching and paging, the warehouse
row; pure functions without Django), ``presets.py`` (the survey templates), ``models.py``
(surveys, versions, responses), ``links.py`` (signed personal links), ``service.py`` (what the
views do: create, edit, publish, answer, complete into the warehouse), ``views.py`` (builder and
public pages), ``urls.py``. See docs/surveys.md.
"""
