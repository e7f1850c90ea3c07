"""Nesterov's accelerated gradient descent on ``w~`` (:func:`bnrates.gdnp.agd`), from ``w~ = 0``.

Step ``step_scale / zeta`` as for GD; momentum ``(t - 1) / (t + 2)`` (the convex schedule, no
strong-convexity constant needed).
"""

import numpy as np
from benchopt import BaseSolver
from bnrates.gdnp import agd
from bnrates.halfspace import halfspace_smoothness
from bnrates.validation import check_real


class Solver(BaseSolver):
    name = "AGD"
    requirements = []
    sampling_strategy = "iteration"
    parameters = {"step_scale": [1.0]}

    def set_objective(self, problem, w0, X=None, y=None):
        self.problem, self.wt0 = problem, np.zeros_like(w0)
        self.step = check_real("step_scale", self.step_scale, minimum=0.0, strict=True) / halfspace_smoothness(problem)

    def run(self, n_iter):
        with np.errstate(over="ignore", invalid="ignore"):
            self.wt = agd(self.problem, self.wt0, n_iter, self.step).wt[-1, 0]

    def get_result(self):
        return dict(wt=self.wt)
