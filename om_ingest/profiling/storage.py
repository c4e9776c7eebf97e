"""Profiles on disk: `{base_path}/{profile_type}/{date}/{fqn}_{timestamp}.json`, atomic writes."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from om_ingest.audit.log import write_json_atomic


class ProfileStorage:
    """One profile directory. Snapshots are found through an index of each profile type's
    files, read once per instance and kept up to date by `save`: a run looks up thousands of
    tables, and scanning every file for each would cost N² file names."""

    def __init__(self, base_path: str | Path) -> None:
        self.base = Path(base_path)
        self._index: dict[str, dict[str, list[Path]]] = {}

    def save(
        self, profile_type: str, fqn: str, payload: dict[str, Any], when: datetime | None = None
    ) -> Path:
        when = when or datetime.now(UTC)
        folder = self.base / profile_type / when.strftime("%Y-%m-%d")
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{quote(fqn, safe='')}_{when.strftime('%Y%m%dT%H%M%S%fZ')}.json"
        write_json_atomic(path, {"fqn": fqn, "saved_at": when.isoformat(), **payload})
        if profile_type in self._index:
            self._index[profile_type].setdefault(_quoted_fqn(path), []).append(path)
        return path

    def snapshots(self, profile_type: str, fqn: str) -> list[Path]:
        """The snapshots of `fqn`, oldest first."""
        found = self._snapshots_by_fqn(profile_type).get(quote(fqn, safe=""), [])
        return sorted(found, key=lambda p: p.name)

    def _snapshots_by_fqn(self, profile_type: str) -> dict[str, list[Path]]:
        if profile_type not in self._index:
            index: dict[str, list[Path]] = {}
            for path in (self.base / profile_type).glob("*/*.json"):
                index.setdefault(_quoted_fqn(path), []).append(path)
            self._index[profile_type] = index
        return self._index[profile_type]

    def load_latest(self, profile_type: str, fqn: str) -> dict[str, Any] | None:
        snapshots = self.snapshots(profile_type, fqn)
        return json.loads(snapshots[-1].read_text()) if snapshots else None

    def apply_retention(
        self,
        keep_last: int | None = None,
        max_age_days: int | None = None,
        now: float | None = None,
    ) -> list[Path]:
        """Delete snapshots beyond `keep_last` per entity or older than `max_age_days`."""
        now = now if now is not None else time.time()
        removed: list[Path] = []
        groups: dict[tuple[str, str], list[Path]] = {}
        for path in self.base.glob("*/*/*.json"):
            fqn = unquote(path.name.rsplit("_", 1)[0])
            groups.setdefault((path.parent.parent.name, fqn), []).append(path)
        for paths in groups.values():
            paths.sort(key=lambda p: p.name)
            doomed = set(paths[:-keep_last]) if keep_last else set()
            if max_age_days is not None:
                doomed |= {p for p in paths if now - p.stat().st_mtime > max_age_days * 86400}
            for path in doomed:
                path.unlink()
                removed.append(path)
        self._index.clear()
        return removed


def _quoted_fqn(path: Path) -> str:
    """The quoted FQN a snapshot file is named after (`{fqn}_{timestamp}.json`)."""
    return path.name.rsplit("_", 1)[0]
