"""Vanilla BN gradient descent: fixed steps on ``(w, g)`` (:func:`bnrates.gdnp.bngd`), what practitioners run.

Both steps ``step_scale / zeta`` (as GD's), from the dataset's direction ``w0`` with length
``g = 0`` (i.e. ``w~ = 0``), as in the book's acceleration sweep.
"""

import numpy as np
from bnrates.gdnp import bngd

from benchmark_utils import FixedStepSolver


class Solver(FixedStepSolver):
    name = "BN-GD"

    def run(self, n_iter):
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            self.wt = bngd(self.problem, self.w0, np.zeros(1), n_iter, self.step, self.step).wt[-1, 0]
