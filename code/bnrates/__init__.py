"""bnrates: the shared code of the executable companion to Kohler et al. (AISTATS 2019).

Modules by concept, named after the paper's vocabulary:

- :mod:`bnrates.reparametrization` -- ``s_norm``, ``quadratic_form``, ``reparametrize``, the direction
  projector, gradients in ``(w, g)``, the length/direction split and the mini-batch gap;
- :mod:`bnrates.problems` -- least squares, random instances and random starts;
- :mod:`bnrates.rayleigh` -- the generalized Rayleigh quotient ``rho``;
- :mod:`bnrates.algorithms` -- gradient descent on ``rho`` and on Eq. (10), vanilla BN-GD on OLS;
- :mod:`bnrates.rates` -- gaps, per-step ratios and fitted contraction factors (with confidence intervals);
- :mod:`bnrates.losses` -- the scalar losses ``phi`` (logistic, sigmoid) and their derivatives;
- :mod:`bnrates.quadrature` -- the Gaussian trapezoid rule of the halfspace and network expectations;
- :mod:`bnrates.numerics` -- central differences and cosines (Euclidean and in ``S``), for code and tests;
- :mod:`bnrates.halfspace` -- the Gaussian halfspace problem, Eq. (16), by quadrature, and its
  mixture variant;
- :mod:`bnrates.gdnp` -- Algorithm 1 (GDNP), the bisection and the certified Newton length search,
  GD and AGD baselines;
- :mod:`bnrates.acceleration` -- GDNP against accelerated and quasi-Newton methods (the sweep);
- :mod:`bnrates.mlp` -- the one-hidden-layer network, per-unit GDNP and alternating rounds;
- :mod:`bnrates.datasets` -- the real data sets (bundled with scikit-learn, offline);
- :mod:`bnrates.empirical` -- the halfspace on finite data, its reference optimum, GDNP on data and
  its length search;
- :mod:`bnrates.bn_network` -- a small network with batch normalization in numpy, and its training;
- :mod:`bnrates.validation` -- parameter checks with clear errors, before any compute;
- :mod:`bnrates.sweeps` -- parameter sweeps stored task by task (``make sweep``);
- :mod:`bnrates.exercises` -- the chapters' coding exercises that check themselves;
- :mod:`bnrates.claims` -- the registry of checks each chapter shows, with their sabotages; with
  :mod:`bnrates.claims.errata` (the errata and qualifications, with their numbers from the claims)
  and :mod:`bnrates.claims.seeds` (do the claims hold at other seeds, ``python -m bnrates seeds``);
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
