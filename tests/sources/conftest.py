"""Real Airflow and MLflow servers, each started once per session and only when a test asks
(their venvs are built with uv on first use: `om_ingest.testing.servers.server_venv`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from om_ingest.testing.servers import AirflowServer, MlflowServer, airflow_server, mlflow_server

DAGS = Path(__file__).parent / "airflow_dags"


@pytest.fixture(scope="session")
def mlflow() -> Iterator[MlflowServer]:
    with mlflow_server() as server:
        yield server


@pytest.fixture(scope="session")
def airflow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AirflowServer]:
    """Airflow serving a copy of `airflow_dags/` (tests edit DAGs in the copy)."""
    import shutil

    folder = tmp_path_factory.mktemp("dags")
    for dag in DAGS.glob("*.py"):
        shutil.copy(dag, folder / dag.name)
    with airflow_server(folder) as server:
        yield server
