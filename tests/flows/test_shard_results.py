"""How a sharded run's parent reads its shards back (on Prefect's ephemeral API): a shard
that failed after publishing its results still merges them; one that left none becomes one
failed result naming the shard and why; merged results land in the parent's audit file and
summary."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from uuid import UUID

from prefect import flow
from prefect.artifacts import create_table_artifact
from prefect.client.orchestration import get_client

from deployments.sharding import Shard, collect, results_rows
from om_ingest.audit import AuditLog, RunSummary
from om_ingest.engine.results import EntityResult, Operation, Outcome
from om_ingest.engine.shards import ShardUnit

KEY = "shard-results-test-lake"
UNITS = [ShardUnit(0, "lake", "svc.db.sales", "warehouse/north/")]


def result(fqn: str, outcome: Outcome = Outcome.SUCCESS) -> EntityResult:
    operation = Operation.CREATE if outcome is Outcome.SUCCESS else Operation.FAIL
    return EntityResult(
        fqn=fqn, entity_type="table", operation=operation, outcome=outcome, api_calls=2,
        error=None if outcome is Outcome.SUCCESS else "HTTP 500",
        schema_changes=[{"column": "id", "change": "added"}],
    )  # fmt: skip


@flow
def shard_that_lost_its_worker() -> None:
    raise RuntimeError("the worker's node went away")


@flow
def shard_with_a_failed_table() -> None:
    rows = results_rows(
        [result("svc.db.sales.orders"), result("svc.db.sales.items", Outcome.FAILED)],
        [{"fqn": "svc.db.sales.orders", "status": "pushed"}],
        [],
    )
    create_table_artifact(rows, key=KEY)
    raise RuntimeError("1 of 2 entities failed")


def finished(flow_fn: Any) -> tuple[str, Any]:
    state = flow_fn(return_state=True)
    run_id = state.state_details.flow_run_id
    with get_client(sync_client=True) as client:
        return str(run_id), client.read_flow_run(UUID(str(run_id)))


def test_a_shard_without_results_is_one_failure_naming_it() -> None:
    run_id, run = finished(shard_that_lost_its_worker)
    outcome = collect(Shard(3, UNITS), run_id, run, KEY)
    assert outcome.state == "Failed"
    [failure] = outcome.results
    assert failure.failed and failure.entity_type == "shard"
    assert failure.fqn == "shard 3 (lake:warehouse/north/)"
    assert "the worker's node went away" in (failure.error or "")


def test_a_failed_shard_still_merges_what_it_did(tmp_path: Path) -> None:
    run_id, run = finished(shard_with_a_failed_table)
    outcome = collect(Shard(1, UNITS), run_id, run, KEY)
    assert outcome.state == "Failed"
    assert [(r.fqn, r.outcome) for r in outcome.results] == [
        ("svc.db.sales.orders", Outcome.SUCCESS),
        ("svc.db.sales.items", Outcome.FAILED),
    ]
    assert outcome.results[0].schema_changes == [{"column": "id", "change": "added"}]
    assert outcome.profiles == [{"fqn": "svc.db.sales.orders", "status": "pushed"}]

    # merged into a parent run that wrote one entity itself
    summary = RunSummary(run_id="p", config="c.yaml", dry_run=False, started_at="now")
    with AuditLog(tmp_path, "p") as audit:
        own = result("svc.db.sales")
        audit.record(own)
        summary.add(own)
        audit.write_summary(summary)
    AuditLog.record_merged(summary, outcome.results, shard=outcome.shard.label)
    assert summary.total == 3 and summary.outcomes == {"success": 2, "failed": 1}
    assert summary.api_calls == 6 and summary.schema_changes == 3
    assert [f["fqn"] for f in summary.failed] == ["svc.db.sales.items"]
    events = [json.loads(x) for x in Path(summary.audit_file or "").read_text().splitlines()]
    assert [e["fqn"] for e in events] == [
        "svc.db.sales",
        "svc.db.sales.orders",
        "svc.db.sales.items",
    ]
    assert events[2]["shard"] == "shard 1 (lake:warehouse/north/)"
    on_disk = json.loads(AuditLog.summary_path_of(Path(summary.audit_file or "")).read_text())
    assert on_disk["total"] == 3
