"""One real PostgreSQL server for the session; each test works in its own database."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from om_ingest.testing.servers import PostgresServer, postgres_server

_numbers = itertools.count()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    with postgres_server() as server:
        yield server


@dataclass
class PgDatabase:
    """A fresh database on the session's server, with SQL helpers for the test."""

    server: PostgresServer
    name: str

    @property
    def url(self) -> str:
        return self.server.url.rsplit("/", 1)[0] + f"/{self.name}"

    def execute(self, sql: str) -> None:
        import sqlalchemy as sa

        engine = sa.create_engine(self.url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql(sql)
        finally:
            engine.dispose()

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        import sqlalchemy as sa

        engine = sa.create_engine(self.url)
        try:
            with engine.connect() as conn:
                return [tuple(row) for row in conn.exec_driver_sql(sql)]
        finally:
            engine.dispose()

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
