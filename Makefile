# celery-by-running-it: every target builds .venv itself when it is missing or stale.
#   make tour            run every chapter, narrated   (make tour CH=03, AUTO=1 to not pause,
#                        FLOWER=1 to open the Flower dashboard beside each chapter)
#   make test            the test suite (starts its own private Redis; CH=03 for one chapter)
#   make check           check your answers to the exercises (CH=03 for one chapter)
#   make check-docs      the tests that start no worker (README drift, figures, links), seconds
#   make redis           start a Redis for hands-on work (stays up)  | make redis-stop
#   make clean           stop that Redis, remove .venv, .run and files the chapters leave
#   make bench           benchmarks and drills on bench's own Redis -> bench/RESULTS.md, READMEs

SHELL := /bin/bash
.DEFAULT_GOAL := help

# The first Python 3.11+ found on PATH (override: make tour PYTHON=/path/to/python3.12).
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	  command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
	  && { command -v $$p; break; }; done)
VENV := .venv
PY := $(VENV)/bin/python

CH ?=
export CH AUTO FLOWER

.PHONY: help venv venv-dev tour test check check-docs redis redis-stop clean bench

help:
	@sed -n '1,10p' Makefile | sed 's/^# \{0,1\}//'

$(VENV)/.python:
	@if [ -z "$(PYTHON)" ]; then echo "Python 3.11 or newer is needed (none found on PATH)."; exit 1; fi
	@echo "[venv] creating $(VENV) with $(PYTHON)"
	@$(PYTHON) -m venv $(VENV)
	@touch $@

# --no-compile: Python compiles each module the first time it is imported instead; what
# that saves on a first install is measured by bench/first_run.py (bench/RESULTS.md "First run").
$(VENV)/.runtime: requirements.txt $(VENV)/.python
	@echo "[venv] installing requirements.txt"
	@$(PY) -m pip install --quiet --disable-pip-version-check --no-compile -r requirements.txt
	@touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	@echo "[venv] installing requirements-dev.txt"
	@$(PY) -m pip install --quiet --disable-pip-version-check --no-compile -r requirements-dev.txt
	@# the tests start hundreds of Python processes with PYTHONDONTWRITEBYTECODE=1 (no
	@# __pycache__ in the chapter folders): compile the installed packages once, up front
	@$(PY) -m compileall -q -j 0 $(VENV)/lib > /dev/null || true
	@touch $@

venv: $(VENV)/.runtime
venv-dev: $(VENV)/.dev

tour: $(VENV)/.runtime
	@$(PY) -m tour $(CH)

# tour/provision.py: Chromium for the browser tests (and Debian's redis-server), installed
# with apt-get where root, else Playwright's download, else one line saying what to install.
# CH=NN: that chapter's tests and the structural checks about it (coverage not enforced).
test: $(VENV)/.dev
	@$(PY) -m tour.provision
	@$(PY) -m pytest $(if $(CH),--cov-fail-under=0) $(PYTEST_ARGS)

# What a change to a README, steps.toml or the figures can break, without starting workers.
CHECKS := tests/test_walkthrough.py tests/test_languages.py tests/test_figures.py \
	tests/test_official_docs.py tests/test_every_file_is_run.py tests/test_readme_output.py \
	tests/test_databases.py
check-docs: $(VENV)/.dev
	@$(PY) -m pytest -q -n0 --no-cov $(CHECKS)

# The exercises (NN_topic/exercises/, tour/exercises.py): each checked against a real worker
# on a private Redis of its own; one line per exercise, a progress table without CH.
check: $(VENV)/.runtime
	@$(PY) -m tour.exercises $(CH)

# Benchmarks and drills (bench/) on bench's own Redis; the figures go to bench/results/*.json,
# bench/RESULTS.md and the READMEs' figure blocks (tests/test_figures.py checks they agree).
# BENCH_ARGS="--quick --out /tmp/b --results-md /tmp/b/RESULTS.md" tries it out and leaves the
# recorded figures alone; BENCH_ARGS="--only latency" runs one benchmark.
bench: $(VENV)/.dev
	@$(PY) -m bench $(BENCH_ARGS)

redis: $(VENV)/.runtime
	@$(PY) -m tour.redis_server up

redis-stop: $(VENV)/.runtime
	@$(PY) -m tour.redis_server down

clean:
	@if [ -x $(PY) ]; then $(PY) -m tour.redis_server down || true; fi
	@rm -rf $(VENV) .run .pytest_cache .coverage .coverage.* htmlcov
	@find . -name __pycache__ -type d -prune -exec rm -rf {} + ; \
	 find . \( -name .last_task_id -o -name 'celerybeat-schedule*' -o -name db.sqlite3 \) -delete
	@echo "[clean] done"
