"""Statistics on counts and samples: confidence intervals, two-group tests, survival curves."""

from cxlens.stats.intervals import (
    Difference,
    MeanDifference,
    MeanEstimate,
    MedianEstimate,
    NpsCounts,
    NpsEstimate,
    Proportion,
    mean_difference,
    mean_interval,
    median_interval,
    min_sample_warning,
    newcombe_difference,
    nps_difference,
    nps_interval,
    wilson_interval,
)
from cxlens.stats.survival import SurvivalCurve, kaplan_meier

__all__ = [
    "Difference",
    "MeanDifference",
    "MeanEstimate",
    "MedianEstimate",
    "NpsCounts",
    "NpsEstimate",
    "Proportion",
    "SurvivalCurve",
    "kaplan_meier",
    "mean_difference",
    "mean_interval",
    "median_interval",
    "min_sample_warning",
    "newcombe_difference",
    "nps_difference",
    "nps_interval",
    "wilson_interval",
]
