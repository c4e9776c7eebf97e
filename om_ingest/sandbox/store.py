"""Entity storage for the sandbox: JSON documents in memory, optionally mirrored to SQLite.

With a data directory every write goes through to `sandbox.sqlite3`, and start-up reloads it,
so a restarted sandbox loses nothing.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any


class EntityStore:
    def __init__(self, data_dir: str | Path | None = None) -> None:
        self._lock = threading.RLock()
        self.by_id: dict[str, dict[str, Any]] = {}
        self.by_fqn: dict[tuple[str, str], str] = {}
        self.versions: dict[str, list[dict[str, Any]]] = {}
        # table id → {timestamp ms → {"table": TableProfile, "columns": {name: ColumnProfile}}}
        self.profiles: dict[str, dict[int, dict[str, Any]]] = {}
        self._db: sqlite3.Connection | None = None
        if data_dir is not None:
            Path(data_dir).mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(Path(data_dir) / "sandbox.sqlite3", check_same_thread=False)
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS entities (id TEXT PRIMARY KEY, kind TEXT, doc TEXT, versions TEXT)"
            )
            for entity_id, kind, doc, versions in self._db.execute(
                "SELECT id, kind, doc, versions FROM entities"
            ):
                entity = json.loads(doc)
                self.by_id[entity_id] = {"kind": kind, "entity": entity}
                self.by_fqn[(kind, entity["fullyQualifiedName"])] = entity_id
                self.versions[entity_id] = json.loads(versions)
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS profiles "
                "(table_id TEXT, timestamp INTEGER, doc TEXT, PRIMARY KEY (table_id, timestamp))"
            )
            for table_id, timestamp, doc in self._db.execute(
                "SELECT table_id, timestamp, doc FROM profiles"
            ):
                self.profiles.setdefault(table_id, {})[timestamp] = json.loads(doc)

    @property
    def lock(self) -> threading.RLock:
        return self._lock

    def get(self, kind: str, entity_id: str) -> dict[str, Any] | None:
        record = self.by_id.get(entity_id)
        return record["entity"] if record and record["kind"] == kind else None

    def get_by_fqn(self, kind: str, fqn: str) -> dict[str, Any] | None:
        entity_id = self.by_fqn.get((kind, fqn))
        return self.by_id[entity_id]["entity"] if entity_id else None

    def put(self, kind: str, entity: dict[str, Any]) -> None:
        entity_id = entity["id"]
        self.by_id[entity_id] = {"kind": kind, "entity": entity}
        self.by_fqn[(kind, entity["fullyQualifiedName"])] = entity_id
        history = self.versions.setdefault(entity_id, [])
        if not history or history[-1]["version"] != entity["version"]:
            history.append(json.loads(json.dumps(entity)))
        self._persist(entity_id)

    def drop_last_version(self, entity_id: str) -> None:
        """Forget the newest version (a consolidated PATCH replaces it)."""
        history = self.versions.get(entity_id)
        if history:
            history.pop()

    def delete(self, kind: str, entity_id: str) -> None:
        entity = self.by_id.pop(entity_id)["entity"]
        self.by_fqn.pop((kind, entity["fullyQualifiedName"]), None)
        self.versions.pop(entity_id, None)
        self.profiles.pop(entity_id, None)
        if self._db is not None:
            with self._db:
                self._db.execute("DELETE FROM entities WHERE id = ?", (entity_id,))
                self._db.execute("DELETE FROM profiles WHERE table_id = ?", (entity_id,))

    def add_profile(self, table_id: str, timestamp: int, profile: dict[str, Any]) -> None:
        """One point of a table's profile time series; the same timestamp replaces it."""
        self.profiles.setdefault(table_id, {})[timestamp] = profile
        if self._db is not None:
            with self._db:
                self._db.execute(
                    "INSERT OR REPLACE INTO profiles (table_id, timestamp, doc) VALUES (?, ?, ?)",
                    (table_id, timestamp, json.dumps(profile)),
                )

    def all_of(self, kind: str) -> list[dict[str, Any]]:
        return [r["entity"] for r in self.by_id.values() if r["kind"] == kind]

    def _persist(self, entity_id: str) -> None:
        if self._db is None:
            return
        record = self.by_id[entity_id]
        with self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO entities (id, kind, doc, versions) VALUES (?, ?, ?, ?)",
                (
                    entity_id,
                    record["kind"],
                    json.dumps(record["entity"]),
                    json.dumps(self.versions[entity_id]),
                ),
            )
