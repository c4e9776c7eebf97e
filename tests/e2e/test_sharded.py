"""`ingest-sharded` end to end: a real Prefect server, two process workers on one pool, the
OM sandbox and a moto lake of four prefixes. Both workers take shards, every table is written
once, the parent's merged audit holds every table once and its totals are the shards' sum;
a re-run (incremental state removed) is served by the write cache both workers share."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from om_ingest.testing.lake_writer import LakeTarget, write_table
from om_ingest.testing.moto_s3 import MotoS3Server
from tests.conftest import JWT
from tests.e2e.conftest import prefect, read_api, workers
from tests.lake_configs import lake_config, write_config

pytestmark = pytest.mark.e2e

PREFIXES = {
    "north": ["orders", "order_items"],
    "south": ["refunds", "returns"],
    "east": ["stock", "warehouses"],
    "west": ["customers", "addresses"],
}
SCHEMA = "shard_svc.lakehouse.sales"
TABLES = sorted(f"{SCHEMA}.{name}" for names in PREFIXES.values() for name in names)


def test_sharded_run_across_two_workers(
    prefect_server: dict[str, str], deployed: str, om_sandbox: Any, tmp_path: Path
) -> None:
    assert "ingest-sharded/s3-hudi" in deployed
    cache = tmp_path / "write-cache"
    subprocess.run(  # the shared write cache: a LocalFileSystem block saved on the server
        [sys.executable, "-c", "import sys; from prefect.filesystems import LocalFileSystem; "
         "LocalFileSystem(basepath=sys.argv[1]).save('om-shard-cache')", str(cache)],
        env=prefect_server, check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    with MotoS3Server() as moto:
        client = moto.s3_client()
        client.create_bucket(Bucket="lake")
        table = pa.table({"id": pa.array([1, 2], pa.int64()), "name": pa.array(["a", "b"])})
        for prefix, names in PREFIXES.items():
            for name in names:
                write_table(
                    LakeTarget.s3(client, "lake"), f"warehouse/{prefix}/{name}", table, "id"
                )
        config = lake_config(
            tmp_path,
            moto,
            schema=SCHEMA,
            metadata={"name": "sharded-lake"},
            execution={
                "max_concurrency": 2,
                "result_storage": "local-file-system/om-shard-cache",
                "shards": {"by": "prefix", "max_shards": 4},
            },
        )
        config_path = write_config(tmp_path, config)
        env = {
            **prefect_server,
            "OM_HOST": om_sandbox.host_port,
            "OM_JWT": JWT,
            "PREFECT_WORKER_QUERY_SECONDS": "2",
        }
        audit = tmp_path / "audit"
        # 3 runs per worker: the parent holds a slot of one, so neither takes all 4 shards
        with workers(env, tmp_path, "shard-w1", "shard-w2", limit=3):
            first = run_sharded(env, config_path, tmp_path)
            # Each shard wrote its tables in one bulk PUT (execution.bulk_size, default 100),
            # none by itself; the merged audit below has each table once. The parents were
            # written once, by the parent run.
            puts = Counter(e["path"] for e in om_sandbox.write_calls() if e["method"] == "PUT")
            assert puts["/api/v1/tables/bulk"] == 4 and puts["/api/v1/tables"] == 0, puts
            assert puts["/api/v1/databaseSchemas"] == 1, puts
            assert puts["/api/v1/databases"] == 1 and puts["/api/v1/services/databaseServices"] == 1

            # A re-run without the incremental state: the write cache (shared by both
            # workers through the block) answers for every table; nothing is written.
            for state in (audit / "state").glob("*.json"):
                state.unlink()
            om_sandbox.clear_requests()
            second = run_sharded(env, config_path, tmp_path)
            assert not [e for e in om_sandbox.write_calls() if "/tables" in e["path"]]

    logs = "".join(p.read_text() for p in tmp_path.glob("shard-w*.log"))
    # Both workers took shards: the server's own record of which worker submitted each run.
    events = read_api(
        prefect_server,
        "events/filter",
        {"filter": {"event": {"name": ["prefect.worker.submitted-flow-run"]}}, "limit": 50},
    )["events"]
    worker_of = {
        related["prefect.resource.id"].removeprefix("prefect.flow-run."): event["resource"][
            "prefect.resource.name"
        ]
        for event in events
        for related in event["related"]
        if related["prefect.resource.id"].startswith("prefect.flow-run.")
    }
    for parent_id in (first["id"], second["id"]):
        children = child_runs(prefect_server, parent_id)
        assert len(children) == 4, logs[-3000:]
        assert all(c["state"]["type"] == "COMPLETED" for c in children)
        assert {worker_of[c["id"]] for c in children} == {"shard-w1", "shard-w2"}, logs[-3000:]

    # The parent's merged audit: every table once, plus the parents it wrote itself.
    rows = latest_artifact(prefect_server, "audit-sharded-lake", first["id"])
    tables = Counter(r["fqn"] for r in rows if r["entity_type"] == "table")
    assert sorted(tables) == TABLES and set(tables.values()) == {1}
    assert {r["outcome"] for r in rows} == {"success"}
    rerun = latest_artifact(prefect_server, "audit-sharded-lake", second["id"])
    assert sorted(r["fqn"] for r in rerun if r["entity_type"] == "table") == TABLES
    assert {r["operation"] for r in rerun if r["entity_type"] == "table"} == {"SKIP"}
    shards = latest_artifact(prefect_server, "shards-sharded-lake", first["id"])
    assert {s["worker"] for s in shards} == {"shard-w1", "shard-w2"}

    # Parent summary totals = its own entities + the sum of its shards' summaries.
    summaries = [json.loads(p.read_text()) for p in audit.glob("*/*.summary.json")]
    by_run = {s["flow_run_id"]: s for s in summaries}
    parent = by_run[first["id"]]
    shard_ids = [c["id"] for c in child_runs(prefect_server, first["id"])]
    own = 3  # service, database, schema
    assert parent["total"] == own + sum(by_run[i]["total"] for i in shard_ids) == own + 8
    assert parent["outcomes"] == {"success": own + 8}
    assert parent["api_calls"] >= sum(by_run[i]["api_calls"] for i in shard_ids)
    merged = [json.loads(line) for line in Path(parent["audit_file"]).read_text().splitlines()]
    assert sorted(e["fqn"] for e in merged if e["entity_type"] == "table") == TABLES
    assert JWT not in json.dumps(rows) + json.dumps(merged)


def run_sharded(env: dict[str, str], config_path: str, tmp_path: Path) -> dict[str, Any]:
    """Run the sharded deployment to its end; its (top-level) flow run."""
    out = prefect(
        env, "deployment", "run", "ingest-sharded/s3-hudi", "-p", f"config_path={config_path}",
        "--watch", "--watch-timeout", "600", timeout=660,
    )  # fmt: skip
    logs = "".join(p.read_text() for p in tmp_path.glob("shard-w*.log"))
    assert "Completed" in out, out[-2000:] + logs[-4000:]
    runs = read_api(
        env,
        "flow_runs/filter",
        {
            "sort": "START_TIME_DESC",
            "flow_runs": {"parent_task_run_id": {"is_null_": True}},
            "flows": {"name": {"any_": ["ingest-sharded"]}},
            "limit": 1,
        },
    )
    run: dict[str, Any] = runs[0]
    return run


def child_runs(env: dict[str, str], parent_id: str) -> list[dict[str, Any]]:
    """The shard runs the parent started (run_deployment links them to its task runs)."""
    tasks = read_api(env, "task_runs/filter", {"flow_runs": {"id": {"any_": [parent_id]}}})
    ids = [t["id"] for t in tasks]
    runs: list[dict[str, Any]] = read_api(
        env, "flow_runs/filter", {"flow_runs": {"parent_task_run_id": {"any_": ids}}}
    )
    return [r for r in runs if r["parameters"].get("shard")]


def latest_artifact(env: dict[str, str], key: str, flow_run_id: str) -> list[dict[str, Any]]:
    artifacts = read_api(
        env,
        "artifacts/filter",
        {"artifacts": {"key": {"any_": [key]}, "flow_run_id": {"any_": [flow_run_id]}}},
    )
    assert artifacts, key
    rows: list[dict[str, Any]] = json.loads(artifacts[-1]["data"])
    return rows
