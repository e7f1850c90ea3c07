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

.PHONY: install system-deps book quick pdf student test verify bench lab publish clean

$(STAMP): code/pyproject.toml code/constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --constraint code/constraints.txt --editable "./code[book,test]"
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

test: $(STAMP) system-deps ## lint, then the test-suite (includes a quick build of the book, its PDF and browser checks)
	$(PY) -m ruff check code
	$(PY) -m pytest code/tests

bench: $(STAMP)           ## benchmarks (rebuild, kernels, memory) -> data/benchmarks/<date>.json; BENCH=--quick for a short run
	$(PY) -m bnrates bench $(BENCH)

verify: $(STAMP)          ## check every claim without building the book
	$(PY) -m bnrates verify --profile $(PROFILE)

lab: $(STAMP)             ## JupyterLab on 127.0.0.1:8888 for the chapters' launch buttons (LAB_ARGS=--allow-root as root)
	$(PY) -m bnrates.launch lab $(LAB_ARGS)

publish: book             ## build, check (clean tree, claims) and push _build/html to $(PUBLISH_BRANCH) of $(PUBLISH_REMOTE)
	$(PY) -m bnrates.publish --profile $(PROFILE) --remote $(PUBLISH_REMOTE) --branch $(PUBLISH_BRANCH)

clean:
	rm -rf _build
