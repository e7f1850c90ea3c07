"""Vanilla BN gradient descent: fixed steps on ``(w, g)`` (:func:`bnrates.gdnp.bngd`), what practitioners run.

Both steps ``step_scale / zeta`` (as GD's), from the dataset's direction ``w0`` with length
``g = 0`` (i.e. ``w~ = 0``), as in the book's acceleration sweep.
"""

import numpy as np
from benchopt import BaseSolver
from bnrates.gdnp import bngd
from bnrates.halfspace import halfspace_smoothness
from bnrates.validation import check_real


class Solver(BaseSolver):
    name = "BN-GD"
    requirements = []
    sampling_strategy = "iteration"
    parameters = {"step_scale": [1.0]}

    def set_objective(self, problem, w0, X=None, y=None):
        self.problem, self.w0 = problem, w0
        self.step = check_real("step_scale", self.step_scale, minimum=0.0, strict=True) / halfspace_smoothness(problem)

    def run(self, n_iter):
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            history = bngd(self.problem, self.w0, np.zeros(1), n_iter, self.step, self.step)
        self.wt = history.wt[-1, 0]

    def get_result(self):
        return dict(wt=self.wt)
