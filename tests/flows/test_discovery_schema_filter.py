"""`discovery.filter.schema` narrows a discovery to one schema: for s3_hudi, the directory of
that name under the prefix, ingested into the OM schema of that name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flows.ingest import ingest
from om_ingest.audit import read_events
from om_ingest.testing.lake_writer import LakeTarget, write_synthetic_lake
from om_ingest.testing.moto_s3 import MotoS3Server
from tests.lake_configs import lake_config, write_config


def test_filter_schema_ingests_only_that_schemas_tables_into_it(
    om_env: Any, tmp_path: Path
) -> None:
    with MotoS3Server() as moto:
        client = moto.s3_client()
        client.create_bucket(Bucket="lake")
        target = LakeTarget.s3(client, "lake")
        write_synthetic_lake(target, "warehouse/sales", 2, 3)
        write_synthetic_lake(target, "warehouse/hr", 1, 3)
        config = lake_config(tmp_path, moto, discovery={"filter": {"schema": "sales"}}, om=False)
        summary = ingest(write_config(tmp_path, config))
    events, _ = read_events(summary["audit_file"])
    tables = sorted(e["fqn"] for e in events if e["entity_type"] == "table")
    assert tables == ["lake.lake.sales.table_00000", "lake.lake.sales.table_00001"]
    assert summary["outcomes"] == {"success": 3 + 2}
