# Two commands for a fresh machine with Python 3.11 and make:
#   make book   build the HTML book into _build/html
#   make student  the same book without the solutions of its exercises, into _build/student/html
#   make check  the quick tier: the tests that build no book, execute no page and run no generator (under a minute)
#   make test   run the whole test suite (it builds the book once more, in a temporary folder)

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
# The book is built into a staging folder first and copied to _build/html only when the build
# succeeded, so a failed build never overwrites the last good one.
STAGE := _build/staging
JB_FLAGS := -n -W --keep-going
# `make book` executes the pages the execution cache lacks first, in JOBS kernels (one per core), then
# Sphinx reads and writes them in SPHINX_JOBS processes (hatbook/book.py; two were slower than one on
# this shared 2-core machine).
JOBS ?= auto
SPHINX_JOBS ?= 1

.PHONY: help venv data book student check test clean pdf pdf-deps rerun

help:
	@echo "make book   build the HTML book into _build/html"
	@echo "make student  build the student edition (no solutions) into _build/student/html"
	@echo "make check  run the quick tests (no book build, no rerun, no generator)"
	@echo "make test   run the whole test suite"
	@echo "make pdf    build the PDF edition into _build/pdf (needs TeX Live: make pdf-deps)"
	@echo "make clean  remove build output (keeps .venv)"

$(INSTALLED): pyproject.toml
	@test -n "$(PYTHON)" || { echo "error: Python 3.11 not found (set PYTHON=/path/to/python3.11)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@touch $@

venv: $(INSTALLED)

data: $(INSTALLED)
	$(BIN)/hatbook check-data

# Jupyter Book's execution cache notices changes to a page's code, not to the data or the analysis
# package it calls; when either has changed since the last build, the cache is cleared.
DIGEST = $(shell find data analysis synthetic -type f -not -name '*.pyc' | LC_ALL=C sort | xargs cat | sha256sum | cut -c1-16)

book: data
	@mkdir -p $(STAGE)
	@if [ "$$(cat $(STAGE)/.inputs-digest 2>/dev/null)" != "$(DIGEST)" ]; then \
		echo "data or analysis code changed: clearing the execution cache and Sphinx's saved pages"; \
		rm -rf $(STAGE)/_build/.jupyter_cache $(STAGE)/_build/.doctrees; fi
	$(BIN)/python -m hatbook.book . --path-output $(STAGE) --jobs $(JOBS) --sphinx-jobs $(SPHINX_JOBS) $(JB_FLAGS)
	@echo "$(DIGEST)" > $(STAGE)/.inputs-digest
	@rm -rf _build/html.previous
	@if [ -d _build/html ]; then mv _build/html _build/html.previous; fi
	@cp -a $(STAGE)/_build/html _build/html && rm -rf _build/html.previous
	@echo
	@echo "The book is at $(CURDIR)/_build/html/index.html"

# The student edition: the book without the solutions of its exercises (hatbook/student.py), built in
# _build/student/.work and moved to _build/student/html when it succeeded; _build/html is not touched.
# It reuses the execution cache of `make book` when that cache was made from the current data and code.
student: data
	@cache=""; \
	if [ "$$(cat $(STAGE)/.inputs-digest 2>/dev/null)" = "$(DIGEST)" ] && [ -d $(STAGE)/_build/.jupyter_cache ]; then \
		cache="--execution-cache $(STAGE)/_build/.jupyter_cache"; fi; \
	$(BIN)/hatbook student --strict --output _build/student $$cache

# The quick tier: tests marked slow (book builds, reruns, the PDF, the student edition, the browser,
# the generator) are left out; `make test` runs everything.
# It runs in two pytest processes at once (one per core), each given half of the test files by their
# last times (--part, tests/conftest.py); each part's report is printed when both have ended.
check: $(INSTALLED)
	@out=$$(mktemp -d); \
	$(BIN)/python -m pytest -m "not slow" --part 1/2 > $$out/1.log 2>&1 & first=$$!; \
	trap 'kill $$first 2>/dev/null; rm -rf $$out; exit 130' INT TERM; \
	$(BIN)/python -m pytest -m "not slow" --part 2/2 > $$out/2.log 2>&1; second=$$?; \
	wait $$first; first=$$?; \
	echo "== part 1 of 2"; cat $$out/1.log; echo "== part 2 of 2"; cat $$out/2.log; rm -rf $$out; \
	test $$first -eq 0 -a $$second -eq 0

# The full suite, in two pytest processes at once, each given half of the test files by their last times
# (the committed tests/durations.json in a fresh checkout). The book's build and the cohort's generations
# that slow tests need run once for both (HATBOOK_TEST_SHARED, tests/conftest.py). Part 2 reports as it
# goes; part 1's report is printed when both have ended.
test: data
	@out=$$(mktemp -d); export HATBOOK_TEST_SHARED=$$out/shared; \
	$(BIN)/python -m pytest --part 1/2 > $$out/1.log 2>&1 & first=$$!; \
	trap 'kill -INT $$first 2>/dev/null; wait $$first; rm -rf $$out; exit 130' INT TERM; \
	echo "== part 2 of 2"; $(BIN)/python -m pytest --part 2/2; second=$$?; \
	wait $$first; first=$$?; \
	echo "== part 1 of 2"; cat $$out/1.log; rm -rf $$out; \
	test $$first -eq 0 -a $$second -eq 0

# The PDF edition: the whole book as one PDF (Jupyter Book's LaTeX builder, xelatex), built in its
# own work folder (_build/pdf/.work), so _build/html is not touched. See hatbook/pdf.py.
PDF_DEBIAN_PACKAGES := texlive-xetex texlive-latex-extra texlive-fonts-recommended latexmk xindy fonts-freefont-otf

pdf: data
	$(BIN)/hatbook pdf --strict --output _build/pdf

# TeX Live for `make pdf` on Debian or Ubuntu (poppler-utils: pdftotext and pdfimages, to look at the PDF).
pdf-deps:
	$$( [ "$$(id -u)" -eq 0 ] || echo sudo ) apt-get update
	$$( [ "$$(id -u)" -eq 0 ] || echo sudo ) apt-get install -y --no-install-recommends $(PDF_DEBIAN_PACKAGES) poppler-utils

clean:
	rm -rf _build

# Reruns per clinic and per year (hatbook rerun): make rerun ARGS="--clinic Bergen --year 2023", or ARGS=--grid
rerun: data
	$(BIN)/hatbook rerun $(ARGS)
