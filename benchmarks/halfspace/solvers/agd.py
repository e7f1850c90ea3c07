"""Nesterov's accelerated gradient descent on ``w~`` (:func:`bnrates.gdnp.agd`), from ``w~ = 0``.

Step ``step_scale / zeta`` as for GD; momentum ``(t - 1) / (t + 2)`` (the convex schedule, no
strong-convexity constant needed).
"""

import numpy as np
from bnrates.gdnp import agd

from benchmark_utils import FixedStepSolver


class Solver(FixedStepSolver):
    name = "AGD"

    def run(self, n_iter):
        with np.errstate(over="ignore", invalid="ignore"):
            self.wt = agd(self.problem, np.zeros_like(self.w0), n_iter, self.step).wt[-1, 0]
