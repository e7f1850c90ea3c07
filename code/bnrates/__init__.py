"""bnrates: the shared code of the executable companion to Kohler et al. (AISTATS 2019).

Modules by concept, named after the paper's vocabulary; the machinery in two folders:

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
- :mod:`bnrates.eigenbasis` -- the race's instance in the eigenbasis of ``S`` and its lean kernels
  (the reference iterations in ``O(d)``, oracle calls counted);
- :mod:`bnrates.tuning` -- the tuned-baselines sweep: each baseline over a grid of steps on the map's instances;
- :mod:`bnrates.mlp` -- the one-hidden-layer network, per-unit GDNP and alternating rounds;
- :mod:`bnrates.datasets` -- the real data sets (bundled with scikit-learn, offline);
- :mod:`bnrates.empirical` -- the halfspace on finite data, its reference optimum, GDNP on data and
  its length search;
- :mod:`bnrates.bn_network` -- a small network with batch normalization in numpy, and its training;
- :mod:`bnrates.validation` -- parameter checks with clear errors, before any compute;
- :mod:`bnrates.sweeps` -- parameter sweeps stored task by task (``make sweep``);
- :mod:`bnrates.exercises` -- the chapters' coding exercises that check themselves;
- :mod:`bnrates.claims` -- the registry of checks each chapter shows, with their sabotages:

  - :mod:`bnrates.claims.core` -- the claim model: evidence, pass marks, outcomes, sabotages, seeds;
  - :mod:`bnrates.claims.reparametrization`, :mod:`bnrates.claims.ols`, :mod:`bnrates.claims.halfspace`,
    :mod:`bnrates.claims.acceleration`, :mod:`bnrates.claims.mlp`, :mod:`bnrates.claims.experiments` --
    one module per chapter: the drivers of its experiments and its claims; the two long chapters are
    packages, one module per section:

    - :mod:`bnrates.claims.halfspace.setting` (sizes, instances), :mod:`bnrates.claims.halfspace.quad`
      (the expectations by scipy quad), :mod:`bnrates.claims.halfspace.structure` (the problem, its
      critical points), :mod:`bnrates.claims.halfspace.decoupling`, :mod:`bnrates.claims.halfspace.algorithm`
      (Algorithm 1 and the theorem), :mod:`bnrates.claims.halfspace.faster` (the race),
      :mod:`bnrates.claims.halfspace.sigmoid` (no bracket);
    - :mod:`bnrates.claims.experiments.setting` (the data), :mod:`bnrates.claims.experiments.real_data`,
      :mod:`bnrates.claims.experiments.iteration_cost`, :mod:`bnrates.claims.experiments.gaussian_vs_real`,
      :mod:`bnrates.claims.experiments.network`, :mod:`bnrates.claims.experiments.minibatch`,
      :mod:`bnrates.claims.experiments.related` (BN-GD on OLS), :mod:`bnrates.claims.experiments.benchopt_race`;

  - :mod:`bnrates.claims.errata` -- the errata and qualifications, with their numbers from the claims;
  - :mod:`bnrates.claims.seeds` -- do the claims hold at other seeds (``python -m bnrates seeds``);

- :mod:`bnrates.plotting` -- the book's figures and claim tables:

  - :mod:`bnrates.plotting.reparametrization`, :mod:`bnrates.plotting.ols`, :mod:`bnrates.plotting.halfspace`,
    :mod:`bnrates.plotting.acceleration`, :mod:`bnrates.plotting.mlp`, :mod:`bnrates.plotting.experiments` --
    each chapter's figures;
  - :mod:`bnrates.plotting.explorers` -- a theorem's measured and theoretical rate under a slider;

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
  - :mod:`bnrates.book.audit` -- the sentence audit: every sentence's tag, claims and reason;
  - :mod:`bnrates.book.chapter` -- the page helper: what opens and what closes every chapter;
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
  - :mod:`bnrates.bench.sweep_costs` -- S1: the sweeps' throughput and memory;
  - :mod:`bnrates.bench.oracles` -- S2: each race method's time over the floor of its oracle calls.
"""

__version__ = "0.1.0"
