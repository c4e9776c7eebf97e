"""The config most lake tests start from: one moto-backed `s3_hudi` source and one discovery
entity, against the sandbox named by ${OM_HOST} / ${OM_JWT}."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from om_ingest.testing.moto_s3 import MotoS3Server


def lake_config(
    tmp_path: Path,
    moto: MotoS3Server | None,
    schema: str | None = None,
    properties: dict[str, Any] | None = None,
    source: dict[str, Any] | None = None,
    entity: dict[str, Any] | None = None,
    discovery: dict[str, Any] | None = None,
    om: bool = True,
    **top: Any,
) -> dict[str, Any]:
    """`properties`: extra source properties; `source`: extra source keys; `entity`: extra
    discovery-entity properties; `discovery`: extra discovery keys (a filter); `om=False`
    leaves `openmetadata:` out (the run takes OM_HOST/OM_JWT); `top`: top-level sections
    (profiling, defaults, …)."""
    props = {"database_schema": schema} if schema else {}
    connection = {"openmetadata": {"host": "${OM_HOST}", "jwt_token": "${OM_JWT}"}} if om else {}
    return {
        "metadata": {"name": "lake"},
        **connection,
        "audit": {"output_dir": str(tmp_path / "audit")},
        "sources": [
            {
                "name": "lake",
                "type": "s3_hudi",
                "properties": {
                    "bucket": "lake",
                    "prefix": "warehouse/",
                    **({"endpoint_url": moto.endpoint_url} if moto else {}),
                    "aws_access_key_id": "testing",
                    "aws_secret_access_key": "testing",
                    **(properties or {}),
                },
                **(source or {}),
            }
        ],
        "entities": [
            {
                "type": "table",
                "discovery": {"source": "lake", **(discovery or {})},
                "properties": {**props, **(entity or {})},
            }
        ],
        **top,
    }


def write_config(tmp_path: Path, config: dict[str, Any], name: str = "lake.yaml") -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(config))
    return str(path)
