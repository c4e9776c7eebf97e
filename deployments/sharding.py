"""The Prefect side of a sharded run: start each shard as a run of the deployment, wait,
and read back what each shard did.

A shard's results travel through the Prefect API, not through a file system: the shard
publishes them as a table artifact (`shard-results-<config>`, rows of `kind` + `data`) and
the parent reads the artifact of each child flow run. So the parent needs nothing but the
API the workers report to, wherever they run (Kubernetes, ECS, a process pool).
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from om_ingest.engine.results import EntityResult, Operation, Outcome
from om_ingest.engine.shards import ShardUnit, shard_label
from om_ingest.errors import OmIngestError

RESULTS_PREFIX = "shard-results"
POLL_SECONDS = 2.0


@dataclass(frozen=True)
class Shard:
    number: int
    units: list[ShardUnit]

    @property
    def label(self) -> str:
        return shard_label(self.number, self.units)


@dataclass
class ShardOutcome:
    """What one shard's run did, as its parent merges it."""

    shard: Shard
    flow_run_id: str | None
    state: str
    results: list[EntityResult] = field(default_factory=list)
    profiles: list[dict[str, Any]] = field(default_factory=list)
    validations: list[dict[str, Any]] = field(default_factory=list)
    worker: str | None = None


def shard_parameters(common: dict[str, Any], shard: Shard) -> dict[str, Any]:
    """The child run's parameters: the parent's own, and the shard's units and label."""
    return {
        **common,
        "shard": [unit.to_param() for unit in shard.units],
        "shard_label": shard.label,
    }


def current_deployment() -> str:
    """`flow/deployment` of the running flow: shards run as runs of the same deployment, so
    any worker of its pool can take them."""
    from prefect.runtime import deployment, flow_run

    name = deployment.name
    if not name:
        raise OmIngestError(
            "ingest-sharded starts its shards as runs of its own deployment: run it from a "
            "deployment (`prefect deployment run 'ingest-sharded/…'`), not as a plain flow"
        )
    return f"{flow_run.flow_name}/{name}"


def launch(deployment_name: str, runs: Sequence[tuple[Shard, dict[str, Any]]]) -> list[str]:
    """Start every shard (none waits for another) as a child run; their flow-run ids."""
    from prefect.deployments import run_deployment

    started = []
    for shard, parameters in runs:
        flow_run: Any = run_deployment(
            deployment_name,
            parameters=parameters,
            flow_run_name=shard.label[:100],
            timeout=0,
            as_subflow=True,
        )
        started.append(str(flow_run.id))
    return started


def wait_for(flow_run_ids: Sequence[str], timeout_seconds: float) -> dict[str, Any]:
    """Poll until every run is in a final state (or the time is up): id → flow run."""
    from prefect.client.orchestration import get_client

    deadline = time.monotonic() + timeout_seconds
    runs: dict[str, Any] = {}
    with get_client(sync_client=True) as client:
        pending = list(flow_run_ids)
        while pending:
            for run_id in list(pending):
                run = client.read_flow_run(UUID(run_id))
                runs[run_id] = run
                if run.state is not None and run.state.is_final():
                    pending.remove(run_id)
            if pending and time.monotonic() > deadline:
                break
            if pending:
                time.sleep(POLL_SECONDS)
    return runs


def results_rows(
    results: Sequence[EntityResult],
    profiles: Sequence[dict[str, Any]],
    validations: Sequence[dict[str, Any]],
) -> list[dict[str, Any]]:
    """A shard's results, profiles and validations as rows of its results artifact, and the
    worker that ran it (Prefect's workers name themselves to the runs they start)."""
    return [
        *({"kind": "result", "data": r.model_dump(mode="json")} for r in results),
        *({"kind": "profile", "data": p} for p in profiles),
        *({"kind": "validation", "data": v} for v in validations),
        {"kind": "worker", "data": {"name": os.environ.get("PREFECT__WORKER_NAME")}},
    ]


def collect(shard: Shard, run_id: str, run: Any, key: str) -> ShardOutcome:
    """The shard's results from its artifact; a shard that published none (it crashed, was
    cancelled, could not start, never finished) is one failed result naming it and why."""
    import json

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        ArtifactFilterKey,
    )

    state = run.state.name if run is not None and run.state is not None else "Unknown"
    outcome = ShardOutcome(shard, run_id, state)
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(any_=[key]),
                flow_run_id=ArtifactFilterFlowRunId(any_=[UUID(run_id)]),
            )
        )
    if not artifacts:
        message = run.state.message if run is not None and run.state is not None else None
        outcome.results.append(shard_failed(shard, f"{state}: {message or 'no results'}"))
        return outcome
    data = artifacts[-1].data
    rows: Any = json.loads(data) if isinstance(data, str) else data
    for row in rows:
        if row["kind"] == "result":
            outcome.results.append(EntityResult.model_validate(row["data"]))
        elif row["kind"] == "profile":
            outcome.profiles.append(row["data"])
        elif row["kind"] == "validation":
            outcome.validations.append(row["data"])
        elif row["kind"] == "worker":
            outcome.worker = row["data"].get("name")
    return outcome


def shard_failed(shard: Shard, why: str) -> EntityResult:
    """A shard that left no results: failed, named by its units, with the reason."""
    return EntityResult(
        fqn=shard.label,
        entity_type="shard",
        operation=Operation.FAIL,
        outcome=Outcome.FAILED,
        error=why,
    )
