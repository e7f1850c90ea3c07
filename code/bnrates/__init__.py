"""bnrates: the shared code of the executable companion to Kohler et al. (AISTATS 2019).

Modules by concept, named after the paper's vocabulary:

- :mod:`bnrates.reparametrization` -- ``s_norm``, ``reparametrize``, the direction projector,
  gradients in ``(w, g)`` and the length/direction split;
- :mod:`bnrates.problems` -- least squares and random instances;
- :mod:`bnrates.rayleigh` -- the generalized Rayleigh quotient ``rho``;
- :mod:`bnrates.algorithms` -- gradient descent on ``rho`` and on Eq. (10);
- :mod:`bnrates.rates` -- gaps, per-step ratios and fitted contraction factors;
- :mod:`bnrates.losses` -- the scalar losses ``phi`` (logistic, sigmoid) and their derivatives;
- :mod:`bnrates.halfspace` -- the Gaussian halfspace problem, Eq. (16), by quadrature, and its
  empirical and mixture variants;
- :mod:`bnrates.gdnp` -- Algorithm 1 (GDNP), the bisection and the certified Newton length search,
  GD and AGD baselines;
- :mod:`bnrates.mlp` -- the one-hidden-layer network, per-unit GDNP and alternating rounds;
- :mod:`bnrates.datasets` -- the real data sets (bundled with scikit-learn, offline);
- :mod:`bnrates.experiments` -- GDNP on real data, a small network with BN, vanilla BN-GD;
- :mod:`bnrates.validation` -- parameter checks with clear errors, before any compute;
- :mod:`bnrates.claims` -- the registry of checks each chapter shows, with their sabotages;
- :mod:`bnrates.errata` -- the errata and qualifications, with their numbers from the claims;
- :mod:`bnrates.plotting` -- the book's figures and claim tables;
- :mod:`bnrates.provenance` -- what each chapter saves (claims, tables, environment);
- :mod:`bnrates.report` -- the reproducibility report;
- :mod:`bnrates.book` -- the papermill + Jupyter Book pipeline;
- :mod:`bnrates.bench` -- the benchmarks (``python -m bnrates bench``);
- :mod:`bnrates.browsercheck` -- headless-browser checks of the rendered pages;
- :mod:`bnrates.sphinxext` -- the Sphinx extension (local launch button, theme fixes);
- :mod:`bnrates.launch` -- JupyterLab for the launch buttons (``make lab``).
"""

__version__ = "0.1.0"
