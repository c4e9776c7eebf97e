# om-ingest: every target installs what it needs from the lock first (uv sync --frozen).
SHELL := /bin/bash
UV ?= $(shell command -v uv 2>/dev/null || echo "$(HOME)/.local/bin/uv")
RUN := $(UV) run --frozen
PYTEST_ARGS ?=
# pytest-xdist workers for `make test`; tests sharing a session server stay on one worker
# (tests/conftest.py SERVER_GROUPS, --dist loadgroup)
PYTEST_WORKERS ?= 2

.PHONY: install system-deps test lint typecheck demo bench blocks schema reference clean

$(UV):
	python3 -m pip install --quiet --user uv || python3 -m pip install --quiet uv

install: $(UV)
	$(UV) sync --frozen

lint: install
	$(RUN) ruff check .
	$(RUN) ruff format --check .

typecheck: install
	$(RUN) mypy om_ingest flows blocks deployments

# Servers the source tests run for real (SERVERS.md): PostgreSQL from Debian's packages;
# Airflow 3, Airflow 2 and MLflow each in its own venv (built once with uv, cached under
# ~/.cache/om-ingest/servers; the test fixtures build them too when missing).
system-deps: install
	@command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql >/dev/null; }
	UV=$(UV) $(RUN) python -c "from om_ingest.testing.servers import server_venv as v; v('airflow'); v('airflow2'); v('mlflow')"

test: install system-deps
	$(RUN) ruff check .
	$(RUN) mypy om_ingest flows blocks deployments
	$(RUN) pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

demo: install
	$(RUN) python -m om_ingest.demo

# make bench N="1000 5000"; subsets and repeats through BENCH_* (benchmarks/run.py's docstring)
bench: install
	$(RUN) python -m benchmarks.run $(N)

blocks: install
	$(RUN) om-ingest blocks register

schema: install
	$(RUN) om-ingest schema -o configs/schema.json

reference: install
	$(RUN) om-ingest schema --reference -o docs/config-reference.md

clean:
	rm -rf .venv .pytest_cache .mypy_cache .ruff_cache audit_logs profiles demo_out
