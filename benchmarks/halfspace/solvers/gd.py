"""Gradient descent on ``w~`` with step ``step_scale / zeta`` (:func:`bnrates.gdnp.gd`), from ``w~ = 0``.

``zeta = lambda_max(S) / 4`` bounds the smoothness of the logistic risk
(:func:`bnrates.halfspace.halfspace_smoothness`); ``step_scale > 2`` may diverge.
"""

import numpy as np
from benchopt import BaseSolver
from bnrates.gdnp import gd
from bnrates.halfspace import halfspace_smoothness
from bnrates.validation import check_real


class Solver(BaseSolver):
    name = "GD"
    requirements = []
    sampling_strategy = "iteration"
    parameters = {"step_scale": [1.0]}

    def set_objective(self, problem, w0, X=None, y=None):
        self.problem, self.wt0 = problem, np.zeros_like(w0)
        self.step = check_real("step_scale", self.step_scale, minimum=0.0, strict=True) / halfspace_smoothness(problem)

    def run(self, n_iter):
        with np.errstate(over="ignore", invalid="ignore"):
            self.wt = gd(self.problem, self.wt0, n_iter, self.step).wt[-1, 0]

    def get_result(self):
        return dict(wt=self.wt)
