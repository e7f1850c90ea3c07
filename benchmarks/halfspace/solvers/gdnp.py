"""GDNP, Algorithm 1 of Kohler et al. (2019): a length search, then a Rayleigh step of the direction.

On data, :func:`bnrates.empirical.gdnp_empirical` with ``length_search`` either ``bisection``
(Algorithm 1: ``T_s = n_bisection`` halvings of ``[-1, 1]``) or ``newton`` (the certified Newton
search, as accurate as ``T_s`` halvings, usually one or two evaluations). On the Gaussian
population problem, :func:`bnrates.gdnp.gdnp` (the Stein step, bisection only). The run starts
from the dataset's direction ``w0``; ``n_iter`` is the number of direction steps ``T_d``.
"""

from benchopt import BaseSolver
from bnrates.empirical import Batched, gdnp_empirical
from bnrates.gdnp import gdnp
from bnrates.validation import check_int


class Solver(BaseSolver):
    name = "GDNP"
    requirements = []
    sampling_strategy = "iteration"
    parameters = {"length_search": ["bisection", "newton"], "n_bisection": [30]}

    def skip(self, problem, w0, X=None, y=None):
        if self.length_search not in ("bisection", "newton"):
            raise ValueError(f"length_search must be one of 'bisection', 'newton'; got {self.length_search!r}")
        check_int("n_bisection", self.n_bisection, minimum=0)
        if self.length_search == "newton" and not isinstance(problem, Batched):
            return True, "the certified Newton length search runs on data (bnrates.empirical.gdnp_empirical)"
        return False, None

    def set_objective(self, problem, w0, X=None, y=None):
        self.problem, self.w0 = problem, w0

    def run(self, n_iter):
        if isinstance(self.problem, Batched):
            history = gdnp_empirical(
                self.problem.base, self.w0, n_iter, self.n_bisection, length_search=self.length_search
            )
        else:
            history = gdnp(self.problem, self.w0, n_iter, self.n_bisection)
        self.wt = history.wt[-1, 0]

    def get_result(self):
        return dict(wt=self.wt)
