# Two commands do all set-up on a fresh machine: `make book` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PROFILE ?= full
# Many small linear-algebra calls: one BLAS thread is faster here and bit-reproducible.
export OPENBLAS_NUM_THREADS = 1
export OMP_NUM_THREADS = 1
export MKL_NUM_THREADS = 1

.PHONY: install book quick test verify lint clean

$(STAMP): code/pyproject.toml code/constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --constraint code/constraints.txt --editable "./code[book,test]"
	touch $@

install: $(STAMP)

book: $(STAMP)            ## execute every chapter (full profile) and render the HTML
	$(PY) -m bnrates.book build --profile $(PROFILE)

quick: $(STAMP)           ## the same in the quick profile (seconds per chapter)
	$(PY) -m bnrates.book build --profile quick

test: $(STAMP)            ## lint, then the test-suite (includes a full quick build of the book)
	$(PY) -m ruff check code
	$(PY) -m pytest code/tests

verify: $(STAMP)          ## check every claim without building the book
	$(PY) -m bnrates verify --profile $(PROFILE)

clean:
	rm -rf _build
