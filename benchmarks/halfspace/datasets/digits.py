"""The 8x8 handwritten digits, even against odd (1797 images, 61 non-constant pixels), offline.

Loaded from scikit-learn's bundled file (:func:`bnrates.datasets.load_digits_binary`), centred
and scaled (constant pixels dropped) as in the book.
"""

from benchopt import BaseDataset
from bnrates.datasets import load_digits_binary
from bnrates.empirical import halfspace_on_data


class Dataset(BaseDataset):
    name = "digits"
    requirements = []
    parameters = {"seed": [0]}

    def get_data(self):
        return halfspace_on_data(load_digits_binary(), self.seed)
