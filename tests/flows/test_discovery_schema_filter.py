"""`discovery.filter.schema` narrows a discovery to one schema: for s3_hudi, the directory of
that name under the prefix, ingested into the OM schema of that name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from flows.ingest import ingest
from om_ingest.audit import read_events
from om_ingest.testing.lake_writer import LakeTarget, write_synthetic_lake
from om_ingest.testing.moto_s3 import MotoS3Server


def test_filter_schema_ingests_only_that_schemas_tables_into_it(
    om_env: Any, tmp_path: Path
) -> None:
    with MotoS3Server() as moto:
        client = moto.s3_client()
        client.create_bucket(Bucket="lake")
        target = LakeTarget.s3(client, "lake")
        write_synthetic_lake(target, "warehouse/sales", 2, 3)
        write_synthetic_lake(target, "warehouse/hr", 1, 3)
        config = tmp_path / "schema_filter.yaml"
        config.write_text(
            yaml.safe_dump(
                {
                    "audit": {"output_dir": str(tmp_path / "audit")},
                    "sources": [
                        {
                            "name": "lake",
                            "type": "s3_hudi",
                            "properties": {
                                "bucket": "lake",
                                "prefix": "warehouse/",
                                "endpoint_url": moto.endpoint_url,
                                "aws_access_key_id": "testing",
                                "aws_secret_access_key": "testing",
                            },
                        }
                    ],
                    "entities": [
                        {
                            "type": "table",
                            "discovery": {"source": "lake", "filter": {"schema": "sales"}},
                        }
                    ],
                }
            )
        )
        summary = ingest(str(config))
    events, _ = read_events(summary["audit_file"])
    tables = sorted(e["fqn"] for e in events if e["entity_type"] == "table")
    assert tables == ["lake.lake.sales.table_00000", "lake.lake.sales.table_00001"]
    assert summary["outcomes"] == {"success": 3 + 2}
