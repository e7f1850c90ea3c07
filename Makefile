# Two commands do all set-up on a fresh machine: `make book` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PROFILE ?= full
# extra arguments of `python -m bnrates.book build` for `make book` (e.g. BOOK_ARGS=--force)
BOOK_ARGS ?=
# where `make publish` pushes the HTML
PUBLISH_REMOTE ?= origin
PUBLISH_BRANCH ?= gh-pages
# Many small linear-algebra calls: one BLAS thread is faster here and bit-reproducible.
export OPENBLAS_NUM_THREADS = 1
export OMP_NUM_THREADS = 1
export MKL_NUM_THREADS = 1

.PHONY: install system-deps book quick pdf student notebooks check test test-all verify audit sabotage bench lab sweep benchopt publish clean results seeds mutation

$(STAMP): code/pyproject.toml code/constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --constraint code/constraints.txt --editable "./code[book,test,benchopt,dask]"
	touch $@

install: $(STAMP)

# Debian packages for the PDF (TeX, pdftotext) and the browser checks (Chromium); only the
# missing ones are installed (as root, or through sudo).
SYSTEM_PACKAGES := chromium latexmk texlive-latex-extra texlive-latex-recommended \
                   texlive-fonts-recommended tex-gyre poppler-utils
system-deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  echo "installing Debian packages:$$missing"; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing >/dev/null; \
	fi

book: $(STAMP)            ## execute every chapter (full profile) and render the HTML
	$(PY) -m bnrates.book build --profile $(PROFILE) $(BOOK_ARGS)

quick: $(STAMP)           ## the same in the quick profile (seconds per chapter)
	$(PY) -m bnrates.book build --profile quick

pdf: $(STAMP) system-deps ## the whole book as one PDF: _build/pdf/book.pdf
	$(PY) -m bnrates.book build --profile $(PROFILE) --pdf

student: $(STAMP)         ## the student edition without solutions: _build/html-student
	$(PY) -m bnrates.book build --profile $(PROFILE) --no-solutions

notebooks: $(STAMP)       ## the student notebooks (no solutions, no outputs) for a course platform, as one zip under _build/notebooks
	$(PY) -m bnrates.book notebooks

# The inner loop, in well under a minute: lint, format check, types, and the tests that need no built
# book, TeX or Chromium (marker `book`) and are not `slow`. `make test` stays the full gate.
check: $(STAMP)           ## the contributor's fast loop: ruff, ruff format --check, mypy, the tests not marked book, heavy or slow
	$(PY) -m ruff check code
	$(PY) -m ruff format --check code
	$(PY) -m mypy --config-file code/pyproject.toml code/bnrates
	$(PY) -m pytest code/tests -m "not book and not heavy and not slow" -q -n 2

test: $(STAMP) system-deps ## lint, then the test-suite (includes a quick build of the book, its PDF and browser checks)
	$(PY) -m ruff check code
	$(PY) -m pytest code/tests -m "not slow" -n 2 --dist loadfile --durations=25

test-all: $(STAMP) system-deps ## lint, then every test, the slow ones included (about 5 min more than make test)
	$(PY) -m ruff check code
	$(PY) -m pytest code/tests

bench: $(STAMP)           ## benchmarks (rebuild, kernels, memory) -> data/benchmarks/<date>.json; BENCH=--quick for a short run
	$(PY) -m bnrates bench $(BENCH)

results: $(STAMP)         ## maintainers: rebuild the full profile from a clean tree and refresh data/results
	$(PY) -m bnrates.book results

SEEDS ?= 20
seeds: $(STAMP)           ## every claim over SEEDS base seeds in both profiles -> data/seeds/ (slow; not in CI)
	-$(PY) -m bnrates seeds --profile quick --seeds $(SEEDS) --out data/seeds
	$(PY) -m bnrates seeds --profile full --seeds $(SEEDS) --out data/seeds

mutation: $(STAMP)        ## mutation testing (mutmut 3) of the mathematical and provenance/cache/report modules -> data/mutation/ (slow; not in CI)
	$(PY) -m pip install --quiet --constraint code/constraints.txt --editable "./code[book,test,mutation]"
	rm -rf code/mutants
	cd code && HYPOTHESIS_PROFILE=mutation ../$(VENV)/bin/mutmut run --max-children 2; \
	  ../$(VENV)/bin/mutmut export-cicd-stats && ../$(VENV)/bin/mutmut results > mutants/survivors.txt
	mkdir -p data/mutation
	cp code/mutants/mutmut-cicd-stats.json data/mutation/score.json
	cp code/mutants/survivors.txt data/mutation/survivors.txt
	cat data/mutation/score.json

verify: $(STAMP)          ## check every claim without building the book
	$(PY) -m bnrates verify --profile $(PROFILE)

audit: $(STAMP)           ## the sentence audit: every sentence of the book has a tagged row in data/audit/<page>.csv (AUDIT=--update to add new ones)
	$(PY) -m bnrates.book audit $(AUDIT)

# The acceleration map (data/sweeps/acceleration-full.parquet); a killed run resumes where it stopped.
# On a Dask cluster: make sweep SWEEP_ARGS="--scheduler tcp://HOST:8786" (GRID=large for the big grid).
SWEEP ?= acceleration
GRID  ?= full
sweep: $(STAMP)           ## run a parameter sweep (GRID=quick|full|large, SWEEP_ARGS for --jobs/--scheduler/--local-cluster)
	$(PY) -m bnrates sweep $(SWEEP) --grid $(GRID) --resume $(SWEEP_ARGS)

# The benchopt benchmark (benchmarks/halfspace) through benchopt's own CLI, in this environment (no conda env,
# nothing downloaded): the modest run of benchmarks/halfspace/config_run.yml; once the run is complete
# (a killed run leaves the old table) its rows replace those of the same objective, dataset and solver in
# data/benchopt/halfspace.parquet, and the others stay (a run of some solvers, -s GD, updates theirs only).
# More: make benchopt BENCHOPT_ARGS="--parallel-config benchmarks/halfspace/config_parallel_dask.yml".
BENCHOPT_ARGS ?=
benchopt: $(STAMP)        ## run the benchopt benchmark -> data/benchopt/halfspace.parquet (BENCHOPT_ARGS for more)
	rm -f benchmarks/halfspace/outputs/halfspace.parquet
	$(VENV)/bin/benchopt run benchmarks/halfspace --config benchmarks/halfspace/config_run.yml --no-plot --no-cache \
	  --output benchmarks/halfspace/outputs/halfspace.parquet $(BENCHOPT_ARGS)
	$(PY) -m bnrates merge benchmarks/halfspace/outputs/halfspace.parquet data/benchopt/halfspace.parquet \
	  --key objective_name dataset_name solver_name
	rm benchmarks/halfspace/outputs/halfspace.parquet

# SABOTAGE=PATTERN runs only the claims it names (a new chapter: SABOTAGE=<chapter>.) and merges their rows
# into data/sabotage/sabotage.csv; the other claims' rows stay.
SABOTAGE ?=
sabotage: $(STAMP)        ## run every claim under each of its sabotages; data/sabotage/sabotage.csv for the report
	$(PY) -m bnrates sabotage $(if $(SABOTAGE),--only $(SABOTAGE))

lab: $(STAMP)             ## JupyterLab on 127.0.0.1:8888 for the chapters' launch buttons (LAB_ARGS=--allow-root as root)
	$(PY) -m bnrates.book.launch lab $(LAB_ARGS)

publish: book             ## build, check (clean tree, claims) and push _build/html to $(PUBLISH_BRANCH) of $(PUBLISH_REMOTE)
	$(PY) -m bnrates.book.publish --profile $(PROFILE) --remote $(PUBLISH_REMOTE) --branch $(PUBLISH_BRANCH)

clean:
	rm -rf _build
