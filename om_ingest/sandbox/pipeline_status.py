"""Pipeline runs (PipelineRepository.addPipelineStatus and the `/status` time series).

PUT `/pipelines/{fqn}/status` (and `/status/bulk`, a list) records one run per timestamp
(epoch ms; a second run at the same timestamp replaces it); every task status must name a task
of the pipeline ("Invalid task name …"). The answer is the pipeline with its latest
`pipelineStatus`. GET `/status?startTs&endTs` answers the range, newest first, as the profile
series do.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from om_ingest.sandbox.errors import ApiError
from om_ingest.sandbox.profiles import check_ms, range_answer
from om_ingest.sandbox.store import EntityStore


def put_status(store: EntityStore, pipeline: dict[str, Any], body: Any, bulk: bool) -> Any:
    from metadata.generated.schema.entity.data.pipeline import PipelineStatus

    rows = body if bulk else [body]
    if not isinstance(rows, list):
        raise ApiError(400, "the bulk body must be a JSON list of pipeline statuses")
    tasks = {t["name"] for t in pipeline.get("tasks") or []}
    statuses = []
    for row in rows:
        try:
            status = PipelineStatus.model_validate(row)
        except ValidationError as exc:
            raise ApiError(400, str(exc.errors()[0]["msg"])) from None
        data = status.model_dump(mode="json", exclude_none=True, by_alias=True)
        check_ms(data["timestamp"])
        for task in data.get("taskStatus") or []:
            if task["name"] not in tasks:
                raise ApiError(400, f"Invalid task name {task['name']}")
        statuses.append(data)
    for data in statuses:
        store.add_profile(pipeline["id"], data["timestamp"], {"pipelineStatus": data})
    latest = max(store.profiles.get(pipeline["id"], {}).items())[1]["pipelineStatus"]
    return {**pipeline, "pipelineStatus": latest}


def series(store: EntityStore, pipeline: dict[str, Any], params: dict[str, str]) -> Any:
    points = store.profiles.get(pipeline["id"], {})
    return range_answer(points, params, lambda point: point.get("pipelineStatus"))
