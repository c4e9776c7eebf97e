"""State for incremental discovery and stale detection, one JSON file per source.

`commits`: each table's latest commit at the last successful run (unchanged tables are skipped);
`markers`: a fingerprint of its timeline listing (equal → unchanged without reading it);
`tables`: the FQN each location was ingested as (a location no longer found is stale);
`desired_keys`: the hash of the config and target it was last in step with (a different key
means the table is read and processed again, see `om_ingest.engine.discovery`).
"""

from __future__ import annotations

import json
from pathlib import Path

from om_ingest.audit.log import write_json_atomic


class SourceState:
    def __init__(
        self,
        path: Path,
        commits: dict[str, str] | None = None,
        tables: dict[str, str] | None = None,
        markers: dict[str, str] | None = None,
        desired_keys: dict[str, str] | None = None,
    ) -> None:
        self.path = path
        self.commits = commits or {}
        self.tables = tables or {}
        self.markers = markers or {}
        self.desired_keys = desired_keys or {}

    @classmethod
    def load(cls, path: Path) -> SourceState:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls(path)
        return cls(
            path,
            dict(data.get("commits", {})),
            dict(data.get("tables", {})),
            dict(data.get("markers", {})),
            dict(data.get("desired_keys", {})),
        )

    def forget(self, location: str) -> None:
        for known in (self.commits, self.tables, self.markers, self.desired_keys):
            known.pop(location, None)

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(
            self.path,
            {
                "commits": self.commits,
                "tables": self.tables,
                "markers": self.markers,
                "desired_keys": self.desired_keys,
            },
        )
