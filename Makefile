# Every target makes or refreshes .venv by itself: on a fresh machine `make serve` and
# `make test` are the only two commands a newcomer needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: serve test bench lint format clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $(STAMP)

serve: $(STAMP)
	$(BIN)/maumeter serve

# In parallel (pytest-xdist): one worker per core, at most 4. A test file stays on one worker
# (--dist loadfile), so its module-scoped fixtures (a server, a browser, the demo) are built once.
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/pytest -n auto --maxprocesses 4 --dist loadfile

bench: $(STAMP)
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.service
	$(BIN)/python -m bench.billing
	$(BIN)/python -m bench.analytics
	$(BIN)/python -m bench.forecast_backtest
	$(BIN)/python -m bench.dashboard

.PHONY: bench-service
bench-service: $(STAMP)
	$(BIN)/python -m bench.service

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check src tests bench

format: $(STAMP)
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
