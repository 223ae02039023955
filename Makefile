# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test install setup bench bench-quick api-fuzz clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt requirements-dev.txt | $(BIN)/activate
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

setup: install
	$(FLASK) setup

run: setup
	$(FLASK) run --host $(HOST) --port $(PORT)

test: install
	bash scripts/ensure_browser.sh
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install
	$(BIN)/python -m bench

# A smoke run of the whole bench on a tiny fresh data set (under 2 minutes; no bench/RESULTS.md): exits 1 on
# any failing page, floor or section. BENCH_DATABASE_URL_TINY=postgresql+psycopg://… runs it on PostgreSQL.
bench-quick: install
	$(BIN)/python -m bench --quick

# The long schemathesis run of /api/v1/ (random seeds, 200 examples per operation, 30-step workflows; the
# suite runs 8 and 12 with a fixed seed). API_FUZZ_EXAMPLES / API_FUZZ_STEPS override.
api-fuzz: install
	API_FUZZ_EXAMPLES=$${API_FUZZ_EXAMPLES:-200} API_FUZZ_STEPS=$${API_FUZZ_STEPS:-30} API_FUZZ_RANDOM=1 \
		$(BIN)/python -m pytest -q -p no:cacheprovider tests/api/test_schemathesis.py tests/api/stateful_fuzz.py

clean:
	rm -rf $(VENV) instance/*.db .pytest_cache .hypothesis
