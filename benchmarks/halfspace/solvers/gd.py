"""Gradient descent on ``w~`` with step ``step_scale / zeta`` (:func:`bnrates.gdnp.gd`), from ``w~ = 0``.

``zeta = lambda_max(S) / 4`` bounds the smoothness of the logistic risk
(:func:`bnrates.halfspace.halfspace_smoothness`); ``step_scale > 2`` may diverge.
"""

import numpy as np
from bnrates.gdnp import gd

from benchmark_utils import FixedStepSolver


class Solver(FixedStepSolver):
    name = "GD"

    def run(self, n_iter):
        with np.errstate(over="ignore", invalid="ignore"):
            self.wt = gd(self.problem, np.zeros_like(self.w0), n_iter, self.step).wt[-1, 0]
