"""What the fixed-step solvers share (benchopt imports this folder as ``benchmark_utils``)."""

from benchopt import BaseSolver
from bnrates.halfspace import halfspace_smoothness
from bnrates.validation import check_real


class FixedStepSolver(BaseSolver):
    """A method with step ``step_scale / zeta``, ``zeta = lambda_max(S) / 4`` the logistic risk's smoothness bound.

    ``set_objective`` keeps ``problem``, the start direction ``w0`` and ``step``; a subclass's
    ``run(n_iter)`` sets ``wt``, the effective weights of shape ``(d,)``.
    """

    requirements = []
    sampling_strategy = "iteration"
    parameters = {"step_scale": [1.0]}

    def set_objective(self, problem, w0, X=None, y=None):
        self.problem, self.w0 = problem, w0
        self.step = check_real("step_scale", self.step_scale, minimum=0.0, strict=True) / halfspace_smoothness(problem)

    def get_result(self):
        return dict(wt=self.wt)
