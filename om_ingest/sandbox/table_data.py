"""A table's sample data and profiler config (TableRepository.addSampleData,
addTableProfilerConfig): kept beside the table, never versioned, every named column checked
("Invalid column name …"); each answer is the table carrying the item. A topic's sample data
too (TopicRepository.addSampleData, getSampleData): a PUT replaces it, a GET answers the topic
carrying it."""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from om_ingest.sandbox.errors import ApiError
from om_ingest.sandbox.store import EntityStore

ITEMS = ("sampleData", "tableProfilerConfig")


def _model(item: str) -> Any:
    from metadata.generated.schema.entity.data.table import TableData, TableProfilerConfig

    return TableData if item == "sampleData" else TableProfilerConfig


def _named_columns(item: str, data: dict[str, Any]) -> list[str]:
    if item == "sampleData":
        return [str(c) for c in data.get("columns") or []]
    names = [c["columnName"] for c in data.get("includeColumns") or []]
    return names + [str(c) for c in data.get("excludeColumns") or []]


def handle(store: EntityStore, table: dict[str, Any], item: str, method: str, body: Any) -> Any:
    if method == "GET":
        return table
    table = json.loads(json.dumps(table))
    if method == "DELETE":
        table.pop(item, None)
        store.put("table", table)
        return table
    try:
        data = (
            _model(item)
            .model_validate(body)
            .model_dump(mode="json", exclude_none=True, by_alias=True)
        )
    except ValidationError as exc:
        raise ApiError(400, str(exc.errors()[0]["msg"])) from None
    known = {c["name"] for c in table.get("columns") or []}
    for name in _named_columns(item, data):
        if name not in known:
            raise ApiError(400, f"Invalid column name {name}")
    if item == "sampleData":
        width = len(data.get("columns") or [])
        if any(len(row) != width for row in data.get("rows") or []):
            raise ApiError(400, "Number of values in a row must match the number of columns")
    table[item] = data
    store.put("table", table)
    return table


def handle_topic(store: EntityStore, topic: dict[str, Any], method: str, body: Any) -> Any:
    if method == "GET":
        return topic
    from metadata.generated.schema.entity.data.topic import TopicSampleData

    try:
        data = TopicSampleData.model_validate(body).model_dump(
            mode="json", exclude_none=True, by_alias=True
        )
    except ValidationError as exc:
        raise ApiError(400, str(exc.errors()[0]["msg"])) from None
    topic = {**json.loads(json.dumps(topic)), "sampleData": data}
    store.put("topic", topic)
    return topic
