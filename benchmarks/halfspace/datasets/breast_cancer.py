"""The Wisconsin breast-cancer data (569 tumours, the eight "mean" features), as in the book.

Loaded offline from scikit-learn's bundled file (:func:`bnrates.datasets.load_breast_cancer`),
centred and scaled (:func:`bnrates.datasets.standardize`): the problem of the book's chapter
"Experiments: beyond Gaussian inputs". The start direction is the book's
:func:`bnrates.problems.random_starts` for ``seed``.
"""

from benchopt import BaseDataset
from bnrates.datasets import load_breast_cancer
from bnrates.empirical import halfspace_on_data


class Dataset(BaseDataset):
    name = "breast_cancer"
    requirements = []
    parameters = {"seed": [0]}

    def get_data(self):
        return halfspace_on_data(load_breast_cancer(), self.seed)
