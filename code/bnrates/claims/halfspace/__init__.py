"""Claims of the chapter "Learning halfspaces" (paper Sec. 4, book: thm-gdnp), one module per section.

All experiments batch their instances (several separabilities and seeds at once) into one
:class:`~bnrates.halfspace.GaussianHalfspace`, so each algorithm runs as one numpy loop.

- :mod:`~bnrates.claims.halfspace.setting` -- the profiles' sizes, the batched instances, the sabotages
  of the Stein coefficients that several sections share;
- :mod:`~bnrates.claims.halfspace.quad` -- the expectations by ``scipy.integrate.quad``: the
  independent side of the checks;
- :mod:`~bnrates.claims.halfspace.structure` -- "The problem" and "Global structure" (ass-halfspace,
  lem-halfspace-critical, rem-logistic-closed-form): the quadrature, the gradient, the critical
  points, the non-Gaussian control, the landscape figure;
- :mod:`~bnrates.claims.halfspace.decoupling` -- "Decoupling" (sec-hs-decoupling);
- :mod:`~bnrates.claims.halfspace.algorithm` -- "Algorithm 1" and "The theorem" (alg-gdnp, rem-h-form,
  thm-gdnp): GDNP against GD on the Rayleigh quotient, the bisection, the bound;
- :mod:`~bnrates.claims.halfspace.faster` -- "What is GDNP faster than?" (sec-hs-faster): the race;
- :mod:`~bnrates.claims.halfspace.sigmoid` -- "When the bracket does not exist" (sec-hs-sigmoid).

``CLAIMS`` is their claims in that order (the order the chapter's table shows).
"""

from __future__ import annotations

from ..core import Claim
from . import algorithm, decoupling, faster, sigmoid, structure
from .faster import Race, race
from .setting import CHAPTER, SIZES
from .structure import Landscape, landscape

CLAIMS: tuple[Claim, ...] = (
    *structure.CLAIMS,
    *decoupling.CLAIMS,
    *algorithm.CLAIMS,
    *faster.CLAIMS,
    *sigmoid.CLAIMS,
)

__all__ = ["CHAPTER", "CLAIMS", "SIZES", "Landscape", "Race", "landscape", "race"]
