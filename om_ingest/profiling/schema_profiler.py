"""Schema snapshots and their history: which columns were added, removed or retyped when.

A snapshot is the flattened structural schema (dotted path → type, nested children included)
and its fingerprint, a sha256 of that canonical form: stable under key order, descriptions and
tags, changed by any structural change. History compares consecutive snapshots with the same
comparator the engine uses for updates.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from rich.table import Table

from om_ingest.comparison import diff_schemas, flatten_fields
from om_ingest.profiling.storage import ProfileStorage


class SchemaChangeEvent(BaseModel):
    at: str
    change: str
    path: str
    before: str | None = None
    after: str | None = None


def schema_snapshot(columns_json: list[dict[str, Any]]) -> dict[str, Any]:
    """Snapshot of OM column JSON (camelCase, as requests and entities carry it)."""
    flat = flatten_fields(columns_json)
    canonical = json.dumps(sorted(flat.items()), separators=(",", ":"))
    return {"fingerprint": hashlib.sha256(canonical.encode()).hexdigest(), "fields": flat}


def record_schema(storage: ProfileStorage, fqn: str, columns_json: list[dict[str, Any]]) -> bool:
    """Store this run's snapshot when the schema differs from the last one; True if stored."""
    snapshot = schema_snapshot(columns_json)
    latest = storage.load_latest("schema", fqn)
    if latest is not None and latest.get("fingerprint") == snapshot["fingerprint"]:
        return False
    storage.save("schema", fqn, snapshot)
    return True


def schema_history(storage: ProfileStorage, fqn: str) -> list[SchemaChangeEvent]:
    events: list[SchemaChangeEvent] = []
    previous: dict[str, str] | None = None
    for path in storage.snapshots("schema", fqn):
        snapshot = json.loads(path.read_text())
        fields: dict[str, str] = snapshot["fields"]
        if previous is None:
            events += [
                SchemaChangeEvent(at=snapshot["saved_at"], change="created", path=p, after=t)
                for p, t in fields.items()
            ]
        else:
            events += [
                SchemaChangeEvent(
                    at=snapshot["saved_at"],
                    change=c.kind.value,
                    path=c.path,
                    before=c.before,
                    after=c.after,
                )
                for c in diff_schemas(previous, fields).changes
            ]
        previous = fields
    return events


def _when(at: str) -> str:
    """ISO timestamps to the second, as a reader scans them."""
    return datetime.fromisoformat(at).strftime("%Y-%m-%d %H:%M:%S %Z").strip()


def render_history_table(fqn: str, events: list[SchemaChangeEvent]) -> Table:
    table = Table(title=f"Schema history of {fqn}")
    for column in ("when", "change", "column", "before", "after"):
        table.add_column(column, overflow="fold")
    for event in events:
        table.add_row(
            _when(event.at), event.change, event.path, event.before or "", event.after or ""
        )
    return table
