"""The Gaussian population problem of the book (Eq. (16) with ``x ~ N(0, S)``), by quadrature.

``S`` has a log-spaced spectrum in ``[1/kappa, 1]`` and ``u^T S^{-1} u = separability``
(``separability -> 1`` is separable); the instance and the start direction are those of the
book's acceleration sweep (:func:`bnrates.acceleration.instance`), so a benchopt run and a
sweep cell with the same ``(d, kappa, separability, seed)`` race on the same problem.
"""

from benchopt import BaseDataset
from bnrates.acceleration import instance


class Dataset(BaseDataset):
    name = "gaussian"
    requirements = []
    parameters = {"d": [10, 100], "kappa": [10.0, 1000.0], "separability": [0.5, 0.9], "seed": [0]}
    test_parameters = {"d": [5], "kappa": [10.0], "separability": [0.5], "seed": [0]}

    def get_data(self):
        task = instance(self.d, self.kappa, self.separability, "logistic", self.seed)
        return dict(problem=task.problem, w0=task.w0)
