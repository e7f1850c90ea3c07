"""bnrates: the shared code of the executable companion to Kohler et al. (AISTATS 2019).

Modules by concept, named after the paper's vocabulary; the machinery in two folders:

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
- :mod:`bnrates.acceleration` -- the acceleration sweep: where length-direction decoupling pays off;
- :mod:`bnrates.sweeps` -- parameter sweeps through joblib or Dask, stored task by task;
- :mod:`bnrates.seeds` -- the claims over the seeds readers pick (``python -m bnrates seeds``);
- :mod:`bnrates.exercises` -- the coding exercises that check themselves;
- :mod:`bnrates.explorers` -- a theorem's measured and theoretical rate under a slider;
- :mod:`bnrates.book` -- the papermill + Jupyter Book pipeline (``python -m bnrates.book build``):

  - :mod:`bnrates.book.toc` -- the table of contents and the one list of the book's files;
  - :mod:`bnrates.book.parameters` -- the chapters' declared parameters and their ranges;
  - :mod:`bnrates.book.execute` -- parameters checked, the kernel's environment, papermill;
  - :mod:`bnrates.book.cache` -- what an executed chapter depends on, and why it is stale;
  - :mod:`bnrates.book.build` -- staging, rendering, the build and ``make results``;
  - :mod:`bnrates.book.transaction` -- the build lock, the journal, commit and recovery;
  - :mod:`bnrates.book.cli` -- the command lines' shared options and errors;
  - :mod:`bnrates.book.provenance` -- what each chapter saves (claims, tables, environment);
  - :mod:`bnrates.book.report` -- the reproducibility report;
  - :mod:`bnrates.book.pages` -- what readers see of an executed chapter;
  - :mod:`bnrates.book.edition` -- the student edition and its notebooks;
  - :mod:`bnrates.book.sphinxext` -- the Sphinx extension (local launch button, theme fixes);
  - :mod:`bnrates.book.launch` -- JupyterLab for the launch buttons (``make lab``);
  - :mod:`bnrates.book.browsercheck` -- headless-browser checks of the rendered pages;
  - :mod:`bnrates.book.interactivecheck` -- the collapsed blocks and explorers, opened in the browser;
  - :mod:`bnrates.book.publish` -- the checked push of the HTML (``make publish``);

- :mod:`bnrates.bench` -- the benchmarks (``python -m bnrates bench``):

  - :mod:`bnrates.bench.measure` -- a measurement against its target, median timings;
  - :mod:`bnrates.bench.processes` -- commands run with their peak memory sampled;
  - :mod:`bnrates.bench.rebuild` -- P1, P2, P6: the rebuild against Jupyter Book's, incremental, parallel;
  - :mod:`bnrates.bench.kernels` -- P3 to P5: the numerical kernels;
  - :mod:`bnrates.bench.sweep_costs` -- S1: the sweeps' throughput and memory.
"""

__version__ = "0.1.0"
