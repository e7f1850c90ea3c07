"""The logistic halfspace risk, Eq. (16): ``f(w~) = E[phi(z^T w~)]``, ``z = -y x``, ``phi`` the softplus.

Every dataset hands over a :mod:`bnrates` problem with a batch of one instance (``u`` of shape
``(1, d)``) and a start direction ``w0`` of shape ``(1, d)``; the solvers return the effective
weights ``wt`` of shape ``(d,)``. Metrics, each an ``objective_<name>`` column of the result:

- ``value``: ``f(w~)``, what benchopt's curves and stopping criterion follow;
- ``suboptimality``: ``f(w~) - f*`` with ``f*`` from a reference minimiser (closed form on the
  Gaussian population problem, :func:`bnrates.halfspace.logistic_minimizer`; exact trust-region
  Newton on data, :func:`bnrates.empirical.reference_optimum`);
- ``grad_norm_sq``: ``||grad f(w~)||^2_{S^-1}``, the quantity the book's rates are stated in
  (:func:`bnrates.problems.dual_norm_sq`);
- ``diverged``: ``1`` on the last point of a run that diverged, else ``0``.

A diverging run is reported, not hidden: benchopt stops a run whose value is NaN or jumps up by
more than ``1e5`` and drops its whole curve from the result table (status ``diverged``).
:class:`ReportDivergence` keeps the curve, marks its last point ``diverged = 1`` and says so on
the terminal.
"""

import numpy as np
from benchopt import BaseObjective
from benchopt.stopping_criterion import SufficientProgressCriterion
from bnrates.empirical import Batched, reference_optimum
from bnrates.halfspace import logistic_minimizer
from bnrates.problems import dual_norm_sq, value_and_grad


class ReportDivergence(SufficientProgressCriterion):
    """benchopt's default criterion, except that a diverged run keeps its curve in the table, marked."""

    def should_stop(self, stop_val, objective_list):
        stop, status, next_val = super().should_stop(stop_val, objective_list)
        if status == "diverged":
            objective_list[-1]["objective_diverged"] = 1.0
            print(
                f"DIVERGED: {' / '.join(map(str, self.run_key or ()))} at stop_val = {stop_val} "
                f"(value {objective_list[-1]['objective_value']:.3g}); its curve is kept, marked diverged = 1",
                flush=True,
            )
            return True, "done", next_val
        return stop, status, next_val


class Objective(BaseObjective):
    name = "Logistic halfspace risk"
    url = "https://arxiv.org/abs/1805.10694"
    min_benchopt_version = "1.10"
    requirements = []  # bnrates comes from the book's own package (pip install -e code), not PyPI
    sampling_strategy = "iteration"
    stopping_criterion = ReportDivergence(strategy="iteration")
    parameters = {}

    test_dataset_name = "breast_cancer"

    def set_data(self, problem, w0, X=None, y=None):
        self.problem, self.w0, self.X, self.y = problem, w0, X, y
        if isinstance(problem, Batched):
            self.value_star = reference_optimum(problem.base).value
        else:
            self.value_star = float(problem.value(logistic_minimizer(problem.S, problem.u))[0])

    def evaluate_result(self, wt):
        with np.errstate(over="ignore", invalid="ignore"):
            value, grad = value_and_grad(self.problem, np.asarray(wt, dtype=np.float64)[None])
            grad_norm_sq = float(dual_norm_sq(self.problem, grad)[0])
        value = float(np.asarray(value).reshape(-1)[0])
        return dict(value=value, suboptimality=value - self.value_star, grad_norm_sq=grad_norm_sq, diverged=0.0)

    def get_one_result(self):
        return dict(wt=np.zeros(self.w0.shape[-1]))

    def get_objective(self):
        return dict(problem=self.problem, w0=self.w0, X=self.X, y=self.y)
