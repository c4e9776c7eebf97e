"""Schema snapshots and their history: which fields were added, removed or retyped when.

Every kind with a structural schema keeps them (a table's columns, a topic's message schema
fields, a search index's fields, an ML model's features, a pipeline's tasks, …: its handler's
`schema_shape`). A snapshot is the flattened schema (dotted path → type, nested children
included) and its fingerprint, a sha256 of that canonical form: stable under key order,
descriptions and tags, changed by any structural change. History compares consecutive
snapshots with the same comparator the engine uses for updates. Tables' snapshots live under
`schema/`, other kinds' under `schema-<kind>/` (FQNs are unique per kind only).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from rich.table import Table

from om_ingest.comparison import SchemaShape, diff_schemas, flatten_fields
from om_ingest.config.models import EntityConfig
from om_ingest.profiling.storage import ProfileStorage

TABLE_SHAPE = SchemaShape("columns")


class SchemaChangeEvent(BaseModel):
    at: str
    change: str
    path: str
    before: str | None = None
    after: str | None = None


def snapshot_folder(kind: str) -> str:
    """Where a kind's snapshots are stored (a profile type of `ProfileStorage`)."""
    return "schema" if kind == "table" else f"schema-{kind}"


def schema_snapshot(
    fields_json: list[dict[str, Any]], shape: SchemaShape = TABLE_SHAPE
) -> dict[str, Any]:
    """Snapshot of OM field JSON (camelCase, as requests and entities carry it) of `shape`."""
    flat = flatten_fields(fields_json, shape.children, type_key=shape.type_key)
    canonical = json.dumps(sorted(flat.items()), separators=(",", ":"))
    return {"fingerprint": hashlib.sha256(canonical.encode()).hexdigest(), "fields": flat}


def record_schema(
    storage: ProfileStorage,
    fqn: str,
    fields_json: list[dict[str, Any]],
    shape: SchemaShape = TABLE_SHAPE,
    kind: str = "table",
) -> bool:
    """Store this run's snapshot when the schema differs from the last one; True if stored."""
    snapshot = schema_snapshot(fields_json, shape)
    latest = storage.load_latest(snapshot_folder(kind), fqn)
    if latest is not None and latest.get("fingerprint") == snapshot["fingerprint"]:
        return False
    storage.save(snapshot_folder(kind), fqn, {"kind": kind, **snapshot})
    return True


class SchemaSnapshots:
    """A run's schema snapshots, recorded as entities come into step with OpenMetadata: a
    batch task records its tables from the requests it built already, so the end of the run
    need not build them again. Thread-safe: batches of one stream may run at once."""

    def __init__(self, base_for: Callable[[EntityConfig], str]) -> None:
        self.base_for = base_for
        """Where an entity's snapshots are stored (its profiling storage's base path)."""
        self._storages: dict[str, ProfileStorage] = {}
        self._lock = threading.Lock()
        self.recorded: set[tuple[str, str]] = set()
        """(kind, FQN) of every entity recorded (a snapshot stored or found unchanged)."""
        self.stored = 0

    def record(
        self, kind: str, base: str, fqn: str, spec: Mapping[str, Any], shape: SchemaShape
    ) -> None:
        """Record the schema of the `kind` entity `fqn` under `base` (`base_for` its config)
        from `spec`, the JSON of its create request."""
        with self._lock:
            storage = self._storages.setdefault(base, ProfileStorage(base))
            self.stored += record_schema(storage, fqn, shape.fields_of(spec), shape, kind)
            self.recorded.add((kind, fqn))


def kinds_with_history(storage: ProfileStorage, fqn: str) -> list[str]:
    """The kinds holding snapshots of `fqn` (usually one), tables first."""
    kinds = []
    for folder in sorted(storage.base.glob("schema*")):
        kind = "table" if folder.name == "schema" else folder.name.removeprefix("schema-")
        if storage.snapshots(folder.name, fqn):
            kinds.append(kind)
    return sorted(kinds, key=lambda k: (k != "table", k))


def schema_history(
    storage: ProfileStorage, fqn: str, kind: str = "table"
) -> list[SchemaChangeEvent]:
    events: list[SchemaChangeEvent] = []
    previous: dict[str, str] | None = None
    for path in storage.snapshots(snapshot_folder(kind), fqn):
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


def render_history_table(fqn: str, events: list[SchemaChangeEvent], kind: str = "table") -> Table:
    what = "column" if kind == "table" else "field"
    table = Table(title=f"Schema history of {fqn}" + ("" if kind == "table" else f" ({kind})"))
    for column in ("when", "change", what, "before", "after"):
        table.add_column(column, overflow="fold")
    for event in events:
        table.add_row(
            _when(event.at), event.change, event.path, event.before or "", event.after or ""
        )
    return table
