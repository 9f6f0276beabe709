"""Review sessions: screening, verification, collaboration modes and agreement between annotators."""

from .kappa import cohen_kappa, fleiss_kappa, krippendorff_alpha
from .matching import match

__all__ = ["cohen_kappa", "fleiss_kappa", "krippendorff_alpha", "match"]
