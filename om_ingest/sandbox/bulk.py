"""`PUT /v1/{collection}/bulk?async=&overrideMetadata=`: many create-or-updates in one call.

Each row is one PUT with the single PUT's rules (caller, versions, changeDescription) and
fails alone; the answer is OM's `BulkOperationResult`. `overrideMetadata=true` lets a bot's
rows overwrite curated descriptions as a user's PUT would (the SDK: "overwrite user-curated
metadata … that a bot PUT would otherwise preserve"). `async=true` is processed before
answering, with the same answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from om_ingest.sandbox.errors import ApiError

RowWriter = Callable[[dict[str, Any]], tuple[int, dict[str, Any]]]


def bulk_put(rows: Any, write_row: RowWriter) -> dict[str, Any]:
    if not isinstance(rows, list):
        raise ApiError(400, "the bulk body must be a JSON list of create requests")
    passed: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    for row in rows:
        try:
            if not isinstance(row, dict):
                raise ApiError(400, "each row must be a JSON object")
            status, entity = write_row(row)
        except ApiError as exc:
            failed.append({"request": row, "message": exc.message, "status": exc.code})
            continue
        passed.append({"request": entity["fullyQualifiedName"], "status": status})
    if not failed:
        status_name = "success"
    elif passed:
        status_name = "partialSuccess"
    else:
        status_name = "failure"
    return {
        "status": status_name,
        "numberOfRowsProcessed": len(rows),
        "numberOfRowsPassed": len(passed),
        "numberOfRowsFailed": len(failed),
        "successRequest": passed,
        "failedRequest": failed,
    }
