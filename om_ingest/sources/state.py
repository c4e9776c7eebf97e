"""State for incremental discovery: each table's latest commit at the last successful run."""

from __future__ import annotations

import json
from pathlib import Path

from om_ingest.audit.log import write_json_atomic


class SourceState:
    """`{location: latest_commit}` per source, in one JSON file written atomically."""

    def __init__(self, path: Path, commits: dict[str, str] | None = None) -> None:
        self.path = path
        self.commits = commits or {}

    @classmethod
    def load(cls, path: Path) -> SourceState:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls(path)
        return cls(path, dict(data.get("commits", {})))

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(self.path, {"commits": self.commits})
