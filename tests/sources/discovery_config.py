"""A config with one discovery entity per source (update mode), against the sandbox named by
${OM_HOST} / ${OM_JWT}: what the Airflow and MLflow tests run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


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
