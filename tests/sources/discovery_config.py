"""A config with one discovery entity per source (update mode), against the sandbox named by
${OM_HOST} / ${OM_JWT}: what the Airflow and MLflow tests run; and the warehouse tables their
lineage names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.flows.test_ingest_flow import write_config


def discovery_config(
    tmp_path: Path,
    kind: str,
    sources: list[dict[str, Any]],
    name: str,
    discovery_filter: dict[str, Any] | None = None,
) -> str:
    document = {
        "metadata": {"name": name},
        "openmetadata": {"host": "${OM_HOST}", "jwt_token": "${OM_JWT}"},
        "audit": {"output_dir": str(tmp_path / "audit")},
        "execution": {"retries": {"max_attempts": 2, "backoff_seconds": 0.01}},
        "sources": sources,
        "entities": [
            {
                "type": kind,
                "discovery": {"source": s["name"], "filter": discovery_filter or {}},
                "idempotency": "update",
                "properties": {},
            }
            for s in sources
        ],
    }
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return str(path)


def tables_config(tmp_path: Path, *names: str) -> str:
    """A config declaring the warehouse tables `schema.table` the tests' lineage names (in
    service `wh`, database `sales`)."""
    schemas = sorted({name.split(".")[0] for name in names})
    entities: list[dict[str, Any]] = [
        {"type": "database_service", "name": "wh", "properties": {"service_type": "Postgres"}},
        {"type": "database", "name": "sales", "properties": {"service": "wh"}},
        *(
            {"type": "database_schema", "name": s, "properties": {"database": "wh.sales"}}
            for s in schemas
        ),
        *(
            {
                "type": "table",
                "name": name.split(".")[1],
                "properties": {
                    "database_schema": f"wh.sales.{name.split('.')[0]}",
                    "columns": [{"name": "id", "data_type": "BIGINT"}],
                },
            }
            for name in names
        ),
    ]
    return write_config(tmp_path, entities, name="warehouse")
