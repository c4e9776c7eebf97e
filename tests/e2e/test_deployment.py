"""`prefect deployment run` end to end: a real Prefect server, a process worker, the
deployments of prefect.yaml, the OM API sandbox and a moto S3 lake. Every process started
here is stopped by PID (its whole process group) in teardown, even on failure."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from om_ingest.sandbox.testing import make_sdk_client
from om_ingest.testing.lake_writer import LakeTarget, write_table
from om_ingest.testing.moto_s3 import MotoS3Server
from tests.conftest import JWT
from tests.e2e.conftest import prefect, read_api, workers

pytestmark = pytest.mark.e2e


def test_deployment_runs_dry_then_real(
    prefect_server: dict[str, str], deployed: str, om_sandbox: Any, tmp_path: Path
) -> None:
    with MotoS3Server() as moto:
        client = moto.s3_client()
        client.create_bucket(Bucket="e2e-lake")
        table = pa.table({"id": pa.array([1, 2], pa.int64()), "name": pa.array(["a", "b"])})
        for name in ("orders", "customers"):
            write_table(
                LakeTarget.s3(client, "e2e-lake"), f"warehouse/{name}", table, record_key="id"
            )
        env = {
            **prefect_server,
            "OM_HOST": om_sandbox.host_port,
            "OM_JWT": JWT,
            "LAKE_BUCKET": "e2e-lake",
            "S3_ENDPOINT_URL": moto.endpoint_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
        }
        assert "om-ingest/s3-hudi" in deployed and "om-ingest/database-yaml" in deployed
        assert "ingest-sharded/s3-hudi" in deployed
        with workers(env, tmp_path, "worker"):
            audit = str(tmp_path / "audit")
            for dry_run in ("true", "false"):
                out = prefect(
                    env,
                    "deployment",
                    "run",
                    "om-ingest/s3-hudi",
                    "-p",
                    f"dry_run={dry_run}",
                    "-p",
                    f"audit_dir={audit}",
                    "--watch",
                    "--watch-timeout",
                    "400",
                    timeout=460,
                )
                assert "Completed" in out, (
                    out[-2000:] + (tmp_path / "worker.log").read_text()[-3000:]
                )

    runs = read_api(
        env,
        "flow_runs/filter",
        {
            "sort": "START_TIME_ASC",
            "flow_runs": {"parent_task_run_id": {"is_null_": True}},
            "flows": {"name": {"any_": ["om-ingest"]}},
        },
    )
    parents = [r for r in runs if r["deployment_id"]]
    assert [r["state"]["type"] for r in parents] == ["COMPLETED", "COMPLETED"]
    assert [r["parameters"]["dry_run"] for r in parents] == [True, False]
    assert all(
        r["parameters"]["config_path"] == "configs/examples/s3_hudi_simple.yaml" for r in parents
    )
    artifacts = {a["key"]: a for a in read_api(env, "artifacts/filter", {})}
    assert "dry-run-s3-hudi-simple" in artifacts and "audit-s3-hudi-simple" in artifacts
    assert (
        "| CREATE | table | `lake_svc.warehouse.hudi.orders`"
        in artifacts["dry-run-s3-hudi-simple"]["data"]
    )
    audit_rows = json.loads(artifacts["audit-s3-hudi-simple"]["data"])
    assert {r["fqn"] for r in audit_rows} >= {
        "lake_svc.warehouse.hudi.orders",
        "lake_svc.warehouse.hudi.customers",
    }
    assert JWT not in json.dumps(list(artifacts.values()))

    from metadata.generated.schema.entity.data.table import Table

    sdk = make_sdk_client(om_sandbox.url, JWT)
    assert sdk.get_by_name(Table, "lake_svc.warehouse.hudi.orders") is not None
    assert sdk.get_by_name(Table, "lake_svc.warehouse.hudi.customers") is not None
