"""scikit-learn's ``LogisticRegression(solver="lbfgs")`` without penalty or intercept: the practitioner's reference.

Its loss is ``mean_i log(1 + exp(-y_i x_i^T w))``, the benchmark's risk with ``z_i = -y_i x_i``;
``n_iter`` is ``max_iter`` and its own tolerance is switched off (``tol = 0``), so the curve
shows L-BFGS iteration by iteration. It needs samples: the Gaussian population problem is skipped.
"""

import warnings

import numpy as np
from benchopt import BaseSolver
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression


class Solver(BaseSolver):
    name = "sklearn-lbfgs"
    requirements = ["pip::scikit-learn"]
    sampling_strategy = "iteration"
    parameters = {}

    def skip(self, problem, w0, X=None, y=None):
        if X is None:
            return True, "LogisticRegression needs samples; the population problem has none"
        return False, None

    def set_objective(self, problem, w0, X=None, y=None):
        self.X, self.y = X, y

    def run(self, n_iter):
        if n_iter == 0:
            self.wt = np.zeros(self.X.shape[1])
            return
        model = LogisticRegression(C=np.inf, fit_intercept=False, solver="lbfgs", max_iter=n_iter, tol=0.0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(self.X, self.y)
        self.wt = model.coef_[0]

    def get_result(self):
        return dict(wt=self.wt)
