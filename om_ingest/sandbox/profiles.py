"""Table profiles (TableRepository.addTableProfileData, TableResource's time series).

PUT `/tables/{id}/tableProfile` needs a non-deleted table and epoch-millisecond timestamps;
column profiles name nested columns `parent.child`; system profiles are kept. A series read
takes only `startTs`/`endTs` and answers `ResultList(data, startTs, endTs, size)`: `before`
and `after` are the base64 of those bounds, always present, and `limit` is ignored.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from om_ingest import fqns
from om_ingest.sandbox.errors import ApiError
from om_ingest.sandbox.reads import encode_cursor
from om_ingest.sandbox.store import EntityStore

SERIES = ("tableProfile", "columnProfile", "systemProfile")


def check_ms(timestamp: int) -> None:
    """EntityUtil.validateTimestampMilliseconds: 12+ digits, else it is seconds."""
    if len(str(abs(int(timestamp)))) < 12:
        raise ApiError(
            400, f"Timestamp {timestamp} is not valid, it should be in milliseconds since epoch"
        )


def _column_paths(columns: list[dict[str, Any]], prefix: str = "") -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for column in columns:
        path = f"{prefix}{column['name']}"
        out[path] = column
        out.update(_column_paths(column.get("children") or [], f"{path}."))
    return out


def put_profile(store: EntityStore, table: dict[str, Any], body: Any) -> dict[str, Any]:
    from metadata.generated.schema.api.data.createTableProfile import CreateTableProfileRequest

    try:
        profile = CreateTableProfileRequest.model_validate(body)
    except ValidationError as exc:
        raise ApiError(400, str(exc.errors()[0]["msg"])) from None
    data = profile.model_dump(mode="json", exclude_none=True, by_alias=True)
    table_profile = data.get("tableProfile")
    columns = data.get("columnProfile") or []
    system = data.get("systemProfile") or []
    for item in [table_profile or {}, *columns, *system]:
        if "timestamp" in item:
            check_ms(item["timestamp"])
    table = json.loads(json.dumps(table))
    paths = _column_paths(table.get("columns", []))
    by_name = {c["name"]: c for c in columns}
    for name in by_name:
        if name not in paths:  # OM validates every column profile against the table
            raise ApiError(400, f"Invalid column name {name}")
        paths[name]["profile"] = by_name[name]
    if table_profile is not None:
        table["profile"] = table_profile
    store.put("table", table)
    timestamp = (table_profile or (columns or system or [{"timestamp": 0}])[0])["timestamp"]
    store.add_profile(
        table["id"], timestamp, {"table": table_profile, "columns": by_name, "system": system}
    )
    return table


def series(store: EntityStore, kind: str, fqn: str, params: dict[str, str]) -> dict[str, Any]:
    """`GET /tables/{fqn}/tableProfile|systemProfile`, `/tables/{column fqn}/columnProfile`
    between `startTs` and `endTs` (ms, inclusive), newest first, all of it."""
    try:
        parts = fqns.split(fqn)
    except ValueError:
        raise ApiError(404, f"table instance for {fqn} not found") from None
    column = None
    if kind == "columnProfile":
        column = ".".join(fqns.unquoted_parts(fqn)[4:])
        fqn = ".".join(parts[:4])
    table = store.get_by_fqn("table", fqn)
    if table is None:
        raise ApiError(404, f"table instance for {fqn} not found")
    if kind == "systemProfile":
        return range_answer(
            store.profiles.get(table["id"], {}), params, lambda p: p.get("system"), flatten=True
        )
    if column is None:
        return range_answer(store.profiles.get(table["id"], {}), params, lambda p: p.get("table"))
    return range_answer(
        store.profiles.get(table["id"], {}), params, lambda p: (p.get("columns") or {}).get(column)
    )


def range_answer(
    points: dict[int, dict[str, Any]],
    params: dict[str, str],
    pick: Callable[[dict[str, Any]], Any],
    flatten: bool = False,
) -> dict[str, Any]:
    """The points between `startTs` and `endTs` (ms, inclusive), newest first, all of them:
    OM's `ResultList(data, startTs, endTs, size)` (cursors are the base64 bounds)."""
    try:
        start, end = int(params["startTs"]), int(params["endTs"])
    except (KeyError, ValueError):
        raise ApiError(400, "query parameters startTs and endTs (ms) are required") from None
    data: list[Any] = []
    for timestamp, point in sorted(points.items(), reverse=True):
        value = pick(point)
        if flatten:
            data += [v for v in value or [] if start <= v["timestamp"] <= end]
        elif value is not None and start <= timestamp <= end:
            data.append(value)
    paging = {
        "before": encode_cursor(str(start)),
        "after": encode_cursor(str(end)),
        "total": len(data),
    }
    return {"data": data, "paging": paging}
