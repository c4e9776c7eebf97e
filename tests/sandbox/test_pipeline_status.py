"""Pipeline runs as OM records them (PipelineRepository.addPipelineStatus), via the SDK."""

from __future__ import annotations

from typing import Any

import pytest
from metadata.generated.schema.api.data.createPipeline import CreatePipelineRequest
from metadata.generated.schema.api.services.createPipelineService import (
    CreatePipelineServiceRequest,
)
from metadata.generated.schema.entity.data.pipeline import Pipeline, PipelineStatus
from metadata.ingestion.ometa.client import APIError

TS = 1_700_000_000_000


def run(ts: int, state: str = "Successful", task: str = "load") -> PipelineStatus:
    return PipelineStatus.model_validate(
        {
            "timestamp": ts,
            "executionStatus": state,
            "taskStatus": [{"name": task, "executionStatus": state}],
        }
    )


def test_pipeline_runs_are_kept_per_timestamp_and_served_by_range(client: Any, unique: str) -> None:
    client.create_or_update(
        CreatePipelineServiceRequest.model_validate(
            {"name": f"{unique}ps", "serviceType": "CustomPipeline"}
        )
    )
    client.create_or_update(
        CreatePipelineRequest.model_validate(
            {"name": "pipe", "service": f"{unique}ps", "tasks": [{"name": "load"}]}
        )
    )
    fqn = f"{unique}ps.pipe"
    answered = client.add_pipeline_status(fqn, run(TS, "Failed"))
    assert answered.pipelineStatus.executionStatus.value == "Failed"
    client.add_pipeline_status(fqn, run(TS, "Successful"))  # same timestamp: replaced
    client.add_bulk_pipeline_status(fqn, [run(TS + 1), run(TS + 2, "Pending")])
    runs = client.list_pipeline_statuses(fqn, TS, TS + 1, limit=1)
    assert [(r.timestamp.root, r.executionStatus.value) for r in runs] == [
        (TS + 1, "Successful"),
        (TS, "Successful"),
    ]
    latest = client.get_by_name(Pipeline, fqn, fields=["pipelineStatus"])
    assert latest.pipelineStatus.timestamp.root == TS + 2
    assert client.get_by_name(Pipeline, fqn).pipelineStatus is None
    with pytest.raises(APIError, match="Invalid task name ghost") as bad_task:
        client.add_pipeline_status(fqn, run(TS + 3, task="ghost"))
    assert bad_task.value.code == 400
    with pytest.raises(APIError) as seconds:
        client.add_pipeline_status(fqn, run(TS // 1000))
    assert seconds.value.code == 400
