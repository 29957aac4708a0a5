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

# Both cores (pytest-xdist): whole files to each worker, so a file's module fixtures are built once, handed out in
# collection order, so a worker's browser tests come after its other tests (tests/conftest.py says why).
# `make test PYTEST_XDIST=` runs in one process; PYTEST_ARGS picks tests, e.g. PYTEST_ARGS=tests/unit.
PYTEST_XDIST ?= -n 2 --dist loadfile --no-loadscope-reorder

test: venv system-deps
	$(BIN)/python -m pytest $(PYTEST_XDIST) $(PYTEST_ARGS)

bench: venv
	$(BIN)/python bench/quotes.py

clean:
	rm -rf $(VENV) var .pytest_cache
