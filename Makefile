# Two commands: `make run` serves the app with demo data, `make test` runs the whole suite.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test venv system-deps bench clean

$(BIN)/forever: requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) is required"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(BIN)/forever

venv: $(BIN)/forever

system-deps:
	@bash scripts/system-deps.sh

run: venv
	$(BIN)/forever migrate
	$(BIN)/forever demo
	$(BIN)/forever serve --host $(HOST) --port $(PORT)

test: venv system-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: venv
	$(BIN)/python bench/quotes.py

clean:
	rm -rf $(VENV) var .pytest_cache
