# opslib: two commands.
#   make app    create the environment, find or build the demo shop, serve the apps
#   make test   create the environment and run the whole test suite (browser tests included)

PYTHON  ?= python3
VENV    := .venv
PY      := $(VENV)/bin/python
PORT    ?= 8866
HOST    ?= 127.0.0.1
DATA    ?=
UV_BOOT := .tools/uv
# uv from PATH when present, otherwise bootstrapped from PyPI into .tools/uv
UV      := $(shell command -v uv 2>/dev/null || echo $(UV_BOOT)/bin/uv)
export UV_PYTHON_DOWNLOADS := never

.PHONY: app test env demo lock clean help bench bench-apps bench-forecast bench-inventory bench-ops bench-promo

help:
	@echo "make app    serve the apps at http://$(HOST):$(PORT) (DATA=/path/to/folder for your own data)"
	@echo "make test   run the whole test suite, browser tests included"

$(UV_BOOT)/bin/uv:
	$(PYTHON) -m venv $(UV_BOOT)
	$(UV_BOOT)/bin/python -m pip install --quiet --disable-pip-version-check uv

# the environment is rebuilt only when pyproject.toml or uv.lock change
$(VENV)/.synced: pyproject.toml uv.lock
	@command -v uv >/dev/null 2>&1 || $(MAKE) --no-print-directory $(UV_BOOT)/bin/uv
	$(UV) sync --frozen --extra test --compile-bytecode --python $(PYTHON)
	@touch $@

env: $(VENV)/.synced

demo: env
	@test -f data/demo/items.csv || $(PY) -m opslib demo build --out data/demo

app: env demo
	$(PY) -m opslib serve --host $(HOST) --port $(PORT) $(if $(DATA),--data $(DATA))

test: env demo
	$(PY) -m pytest

# benchmarks print tables; they are not part of the test run
bench-apps: env demo
	$(PY) benchmarks/app_speed.py

bench-forecast: env
	@for f in benchmarks/forecast_*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

bench-inventory: env
	@for f in benchmarks/inventory_*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

bench-promo: env demo
	@for f in benchmarks/promo_*.py; do echo "== $$f"; $(PY) $$f || exit 1; done
	@echo "== benchmarks/promo_response.py --inferred"; $(PY) benchmarks/promo_response.py --inferred

bench-ops: env demo
	@for f in benchmarks/ops_*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

bench: bench-forecast bench-inventory bench-promo bench-ops bench-apps

lock:
	$(UV) lock

clean:
	rm -rf $(VENV) $(UV_BOOT) .pytest_cache tests/artifacts
