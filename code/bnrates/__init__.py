"""bnrates: the shared code of the executable companion to Kohler et al. (AISTATS 2019).

Modules by concept, named after the paper's vocabulary:

- :mod:`bnrates.reparametrization` -- ``s_norm``, ``reparametrize``, the direction projector,
  gradients in ``(w, g)`` and the length/direction split;
- :mod:`bnrates.problems` -- least squares and random instances;
- :mod:`bnrates.rayleigh` -- the generalized Rayleigh quotient ``rho``;
- :mod:`bnrates.algorithms` -- gradient descent on ``rho`` and on Eq. (10);
- :mod:`bnrates.rates` -- gaps, per-step ratios and fitted contraction factors;
- :mod:`bnrates.claims` -- the registry of checks each chapter shows;
- :mod:`bnrates.plotting` -- the book's figures and claim tables;
- :mod:`bnrates.book` -- the papermill + Jupyter Book pipeline.
"""

__version__ = "0.1.0"
