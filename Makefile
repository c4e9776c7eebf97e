# om-ingest: every target installs what it needs from the lock first (uv sync --frozen).
SHELL := /bin/bash
UV ?= $(shell command -v uv 2>/dev/null || echo "$(HOME)/.local/bin/uv")
RUN := $(UV) run --frozen
PYTEST_ARGS ?=

.PHONY: install test lint typecheck demo bench blocks schema reference clean

$(UV):
	python3 -m pip install --quiet --user uv || python3 -m pip install --quiet uv

install: $(UV)
	$(UV) sync --frozen

lint: install
	$(RUN) ruff check .
	$(RUN) ruff format --check .

typecheck: install
	$(RUN) mypy om_ingest flows blocks deployments

test: install
	$(RUN) ruff check .
	$(RUN) mypy om_ingest flows blocks deployments
	$(RUN) pytest $(PYTEST_ARGS)

demo: install
	$(RUN) python -m om_ingest.demo

bench: install
	$(RUN) python -m benchmarks.run

blocks: install
	$(RUN) om-ingest blocks register

schema: install
	$(RUN) om-ingest schema -o configs/schema.json

reference: install
	$(RUN) om-ingest schema --reference -o docs/config-reference.md

clean:
	rm -rf .venv .pytest_cache .mypy_cache .ruff_cache audit_logs profiles demo_out
