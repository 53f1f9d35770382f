"""Customer lifetime value: BG/NBD purchase model, Gamma-Gamma spend model and a simple formula."""

from cxlens.clv.bgnbd import BetaGeoModel, ModelFitError, ModelNotFittedError
from cxlens.clv.gammagamma import GammaGammaModel, PurchaseModel
from cxlens.clv.simple import simple_clv, simple_clv_array

__all__ = [
    "BetaGeoModel",
    "GammaGammaModel",
    "ModelFitError",
    "ModelNotFittedError",
    "PurchaseModel",
    "simple_clv",
    "simple_clv_array",
]
