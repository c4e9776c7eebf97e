"""The install paths (Makefile, CI, Dockerfile) all install from the lock, as the README says."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_dockerfile_installs_from_the_lock_like_the_readme_says() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    readme = (ROOT / "README.md").read_text()
    install = re.search(r"RUN (uv sync [^\n]+)", dockerfile)
    assert install and "--frozen" in install.group(1)
    assert f"`{install.group(1)}`" in readme
    assert re.search(r"COPY [^\n]*uv\.lock", dockerfile)
    assert re.search(r"^USER (?!root)\w+", dockerfile, re.M)
    assert 'VOLUME ["/configs", "/specs", "/secrets", "/state", "/logs"]' in dockerfile
    for package in ("om_ingest", "flows", "blocks", "deployments", "configs"):
        assert f"COPY {package} ./{package}" in dockerfile


def test_ci_runs_make_test_which_installs_from_the_lock() -> None:
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    makefile = (ROOT / "Makefile").read_text()
    assert "$(UV) sync --frozen" in makefile and re.search(r"^test: install", makefile, re.M)
    lock = (ROOT / "uv.lock").read_text()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert 'name = "openmetadata-ingestion"' in lock
    assert "dbt-core<1.12" in project["tool"]["uv"]["constraint-dependencies"]
    assert any(dep.startswith("fastapi<0.151") for dep in project["project"]["dependencies"])
