"""Signals: metric anomalies and emerging themes, with their evidence (see ``docs/signals.md``).

>>> from cxlens.signals import detect_signals
>>> detect_signals(ws, kind="anomalies", metrics=["tickets"], grain="week",
...                where={"topic": "checkout"}).to_records()  # doctest: +SKIP

The detectors are pure functions over counts (:func:`detect_anomalies`, :func:`detect_emerging`);
the runners (:func:`metric_anomalies`, :func:`emerging_themes`) get the counts from the warehouse.
"""

from __future__ import annotations

from cxlens.signals.anomalies import (
    FAMILIES,
    AnomalyPoint,
    AnomalyQuery,
    AnomalyResult,
    AnomalySeries,
    DetectorSettings,
    Family,
    SeriesPoint,
    detect_anomalies,
    metric_anomalies,
)
from cxlens.signals.emerging import (
    THEMES_TABLE,
    EmergingQuery,
    EmergingResult,
    EmergingSettings,
    EmergingTheme,
    ThemeCounts,
    detect_emerging,
    emerging_themes,
)
from cxlens.signals.fdr import FdrDecision, benjamini_hochberg
from cxlens.signals.service import DEFAULT_METRICS, SignalsResult, detect_signals

__all__ = [
    "DEFAULT_METRICS", "FAMILIES", "THEMES_TABLE", "AnomalyPoint", "AnomalyQuery", "AnomalyResult", "AnomalySeries",
    "DetectorSettings", "EmergingQuery", "EmergingResult", "EmergingSettings", "EmergingTheme", "Family",
    "FdrDecision", "SeriesPoint", "SignalsResult", "ThemeCounts", "benjamini_hochberg", "detect_anomalies",
    "detect_emerging", "detect_signals", "emerging_themes", "metric_anomalies",
]
