"""A large sample (``n = 10^5`` by default) from the Gaussian population problem.

``z_i ~ N(u, S - u u^T)`` from :meth:`bnrates.halfspace.GaussianHalfspace.sample`, labels
``y_i = +-1`` with equal probability and ``x_i = -y_i z_i`` (so ``E[x] = 0`` and
``z_i = -y_i x_i``): the empirical risk of this sample tends to the population risk of the
``gaussian`` dataset with the same parameters as ``n`` grows. The seed of the draw is derived
from the parameters (:func:`bnrates.datasets.simulated_halfspace`).
"""

from benchopt import BaseDataset
from bnrates.datasets import simulated_halfspace
from bnrates.empirical import halfspace_on_data


class Dataset(BaseDataset):
    name = "simulated"
    requirements = []
    parameters = {"n": [100_000], "d": [20], "kappa": [10.0], "separability": [0.7], "seed": [0]}
    test_parameters = {"n": [2000], "d": [5], "kappa": [10.0], "separability": [0.5], "seed": [0]}

    def get_data(self):
        data = simulated_halfspace(self.n, self.d, self.kappa, self.separability, self.seed)
        return halfspace_on_data(data, self.seed, standardized=False)
