"""Claims of the chapter "Experiments: beyond Gaussian inputs" (paper Sec. 6, book: rem-ex-cai), one module per section.

Real data from :mod:`bnrates.datasets` (bundled with scikit-learn, offline): the breast-cancer
data for the halfspace experiments, the digits (even vs odd) for the network. Every experiment is
cached per ``(profile, seed)`` so that the claims and the chapter's figures share one run.

- :mod:`~bnrates.claims.experiments.setting` -- "The data, and the centring step": the data sets,
  their problems, the reference optimum and the profiles' sizes;
- :mod:`~bnrates.claims.experiments.real_data` -- "Learning halfspaces on real data" (sec-ex-real);
- :mod:`~bnrates.claims.experiments.iteration_cost` -- "What an iteration costs" (prop-ex-newton);
- :mod:`~bnrates.claims.experiments.gaussian_vs_real` -- "Gaussian versus real" (sec-ex-gaussian-vs-real);
- :mod:`~bnrates.claims.experiments.network` -- "A small network with batch normalization" (sec-ex-network);
- :mod:`~bnrates.claims.experiments.minibatch` -- "Mini-batch versus population statistics" (sec-ex-minibatch);
- :mod:`~bnrates.claims.experiments.related` -- "Related results, placed honestly" (rem-ex-cai): vanilla
  BN-GD on OLS at any learning rate;
- :mod:`~bnrates.claims.experiments.benchopt_race` -- "The same race in benchopt" (sec-ex-benchopt).

``CLAIMS`` is their claims in that order, the chapter's.
"""

from __future__ import annotations

from ..core import Claim
from . import benchopt_race, gaussian_vs_real, iteration_cost, minibatch, network, real_data, related
from .benchopt_race import benchopt_table
from .real_data import halfspace_runs
from .related import bngd_tidy
from .setting import CHAPTER, SIZES, breast_cancer, digits, reference

CLAIMS: tuple[Claim, ...] = (
    *real_data.CLAIMS,
    *iteration_cost.CLAIMS,
    *gaussian_vs_real.CLAIMS,
    *network.CLAIMS,
    *minibatch.CLAIMS,
    *related.CLAIMS,
    *benchopt_race.CLAIMS,
)

__all__ = [
    "CHAPTER",
    "CLAIMS",
    "SIZES",
    "benchopt_table",
    "bngd_tidy",
    "breast_cancer",
    "digits",
    "halfspace_runs",
    "reference",
]
