"""Real source servers, each started once per session and only when a test asks: PostgreSQL
(each test works in its own database), Airflow 3, Airflow 2 and MLflow (their venvs are built
with uv on first use: `om_ingest.testing.servers.server_venv`)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from om_ingest.testing.servers import (
    AirflowServer,
    MlflowServer,
    PostgresServer,
    airflow_server,
    mlflow_server,
    postgres_server,
)

_numbers = itertools.count()
DAGS = Path(__file__).parent / "airflow_dags"


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    with postgres_server() as server:
        yield server


@dataclass
class PgDatabase:
    """A fresh database on the session's server, with SQL helpers for the test."""

    server: PostgresServer
    name: str

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        """Run `sql` (psycopg2, autocommit, no parameters: `%` is plain SQL); its rows."""
        import psycopg2

        s = self.server
        conn = psycopg2.connect(host=s.host, port=s.port, user=s.user, password=s.password,
                                dbname=self.name)  # fmt: skip
        conn.autocommit = True
        try:
            with conn.cursor() as cursor:
                cursor.execute(sql)
                return list(cursor.fetchall()) if cursor.description else []
        finally:
            conn.close()

    def execute(self, sql: str) -> None:
        self.query(sql)

    def source(self, name: str = "pg", **properties: Any) -> dict[str, Any]:
        """A `postgres` source entry for a config (the password through ${PG_PASSWORD})."""
        return {
            "name": name,
            "type": "postgres",
            "properties": {
                "host": self.server.host,
                "port": self.server.port,
                "database": self.name,
                "username": self.server.user,
                "password": "${PG_PASSWORD}",
                **properties,
            },
        }


@pytest.fixture()
def pg_db(postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch) -> PgDatabase:
    name = f"t{next(_numbers)}"
    PgDatabase(postgres, postgres.database).execute(f"CREATE DATABASE {name}")
    monkeypatch.setenv("PG_PASSWORD", postgres.password)
    return PgDatabase(postgres, name)


def pg_config(
    tmp_path: Path,
    sources: list[dict[str, Any]],
    entities: list[dict[str, Any]] | None = None,
    **top: Any,
) -> str:
    """A config against the sandbox (${OM_HOST}/${OM_JWT}) discovering every source's tables."""
    config = {
        "metadata": {"name": "pg"},
        "openmetadata": {"host": "${OM_HOST}", "jwt_token": "${OM_JWT}"},
        "audit": {"output_dir": str(tmp_path / "audit")},
        "defaults": {"idempotency": "update"},
        "sources": sources,
        "entities": entities
        if entities is not None
        else [{"type": "table", "discovery": {"source": s["name"]}} for s in sources],
        **top,
    }
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "pg.yaml"
    path.write_text(yaml.safe_dump(config))
    return str(path)


@pytest.fixture(scope="session")
def mlflow() -> Iterator[MlflowServer]:
    with mlflow_server() as server:
        yield server


def _dags_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of `airflow_dags/` (tests edit DAGs in the copy)."""
    import shutil

    folder = tmp_path_factory.mktemp("dags")
    for dag in DAGS.glob("*.py"):
        shutil.copy(dag, folder / dag.name)
    return folder


@pytest.fixture(scope="session")
def airflow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AirflowServer]:
    """Airflow 3 serving a copy of `airflow_dags/`."""
    with airflow_server(_dags_copy(tmp_path_factory)) as server:
        yield server


@pytest.fixture(scope="session")
def airflow2(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AirflowServer]:
    """Airflow 2 (`/api/v1`) serving a copy of `airflow_dags/` (they import from either)."""
    with airflow_server(_dags_copy(tmp_path_factory), version=2) as server:
        yield server
