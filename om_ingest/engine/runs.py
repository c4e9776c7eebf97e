"""A pipeline's declared runs (OM's PipelineStatus): written after the pipeline by their own
endpoint, one per timestamp; a run OM already holds as declared is not sent again, so a
re-run writes nothing. Each run to write is shown (dry run, audit) as a field change
`pipelineStatus.<timestamp>`: the execution status OM holds → the declared one. Runs are
facts, not config: they are added under every idempotency mode but `fail` (an existing
pipeline there fails untouched), a skipped pipeline included."""

from __future__ import annotations

from typing import Any

from om_ingest.engine.results import RUN_FIELD, FieldChange
from om_ingest.openmetadata import OMClient


def _summary(run: dict[str, Any]) -> tuple[Any, ...]:
    """What a run says: its status and each task's (OM adds nothing to either)."""
    tasks = sorted((t["name"], t["executionStatus"]) for t in run.get("taskStatus") or [])
    return run["executionStatus"], tuple(tasks)


def runs_to_add(
    client: OMClient, fqn: str, declared: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], dict[int, dict[str, Any]]]:
    """The declared runs OM lacks or holds differently, and the runs OM holds by timestamp."""
    if not declared:
        return [], {}
    held = client.pipeline_runs(fqn, [int(run["timestamp"]) for run in declared])
    missing = [
        run
        for run in declared
        if int(run["timestamp"]) not in held
        or _summary(held[int(run["timestamp"])]) != _summary(run)
    ]
    return missing, held


def run_changes(runs: list[dict[str, Any]], held: dict[int, dict[str, Any]]) -> list[FieldChange]:
    return [
        FieldChange(
            field=f"{RUN_FIELD}{run['timestamp']}",
            before=held.get(int(run["timestamp"]), {}).get("executionStatus"),
            after=run["executionStatus"],
        )
        for run in runs
    ]


def add_runs(client: OMClient, fqn: str, runs: list[dict[str, Any]]) -> None:
    for run in runs:
        client.add_pipeline_run(fqn, run)
