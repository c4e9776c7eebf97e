"""Audit files that survive a killed run.

Events are appended to `{audit_dir}/{date}/ingestion_{timestamp}.jsonl`, each line flushed to
the OS before the next entity starts, so a SIGKILL leaves every completed line intact (at
worst a partial last line, which `read_events` reports and skips). Entity lines are fsynced
at least once a second and when the file closes (an fsync per line cost ~2.5 ms a table,
more than the table's write), so a machine crash loses at most the last second of them. The summary is written
beside it atomically (temp file + rename), so it is either absent or complete.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from pydantic import BaseModel, Field

from om_ingest.engine.results import EntityResult, Outcome


class RunSummary(BaseModel):
    run_id: str
    flow_run_id: str | None = None
    config: str
    dry_run: bool
    started_at: str
    finished_at: str | None = None
    wall_time_sec: float = Field(default=0.0, description="Wall-clock seconds of the whole run")
    total: int = 0
    outcomes: dict[str, int] = Field(default_factory=dict)
    operations: dict[str, int] = Field(default_factory=dict)
    api_calls: int = Field(
        default=0, description="SDK calls made for the entities (the sum of their audit events')"
    )
    api_calls_by_verb: dict[str, int] = Field(
        default_factory=dict,
        description="Every HTTP request the SDK sent to OpenMetadata in the run, by verb",
    )
    cpu_time_sec: float = Field(
        default=0.0,
        description="CPU seconds of this process (all threads; child processes not counted)",
    )
    bytes_read: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="By source: {bytes, measured}: bytes received and what was counted "
        "(bytes null: not measured)",
    )
    tags: dict[str, list[str]] = Field(
        default_factory=dict, description="The config's run tags: governance, business"
    )
    schema_changes: int = 0
    failed: list[dict[str, Any]] = Field(default_factory=list)
    profile_outcomes: dict[str, int] = Field(
        default_factory=dict, description="Data profiles by status: pushed, not_pushed, failed"
    )
    failed_profiles: list[dict[str, Any]] = Field(default_factory=list)
    warnings: list[dict[str, Any]] = Field(
        default_factory=list, description="Entities' warnings: {fqn, warning}"
    )
    audit_file: str | None = None

    @property
    def ok(self) -> bool:
        """No entity failed or was blocked, and no profile failed under `on_error: fail`."""
        return not any(Outcome(o).is_failure for o, n in self.outcomes.items() if n) and not any(
            p["fails_run"] for p in self.failed_profiles
        )

    def add_profile(self, profile: dict[str, Any]) -> None:
        status = profile["status"]
        self.profile_outcomes = dict(Counter(self.profile_outcomes) + Counter({status: 1}))
        if status == "failed":
            self.failed_profiles.append(
                {
                    "fqn": profile["fqn"],
                    "error": profile.get("error"),
                    "fails_run": profile.get("on_error") == "fail",
                }
            )

    def add(self, result: EntityResult) -> None:
        self.total += 1
        self.outcomes = dict(Counter(self.outcomes) + Counter({result.outcome.value: 1}))
        self.operations = dict(Counter(self.operations) + Counter({result.operation.value: 1}))
        self.api_calls += result.api_calls
        self.schema_changes += len(result.schema_changes)
        self.warnings += [{"fqn": result.fqn, "warning": w} for w in result.warnings]
        if result.failed:
            self.failed.append(
                {
                    "fqn": result.fqn,
                    "outcome": result.outcome.value,
                    "error": result.error or result.reason,
                }
            )


class AuditLog:
    """Appends audit events durably; writes the run summary atomically."""

    def __init__(
        self, audit_dir: str | os.PathLike[str], run_id: str, started: datetime | None = None
    ):
        started = started or datetime.now(UTC)
        stamp = started.strftime("%Y%m%dT%H%M%S%fZ")
        self.directory = Path(audit_dir) / started.strftime("%Y-%m-%d")
        self.directory.mkdir(parents=True, exist_ok=True)
        self.path = self.directory / f"ingestion_{stamp}.jsonl"
        self.summary_path = self.summary_path_of(self.path)
        self.run_id = run_id
        self._file = self.path.open("a", encoding="utf-8")
        self._synced = time.monotonic()

    def record(self, result: EntityResult, **context: Any) -> dict[str, Any]:
        event = _event(self.run_id, result, context)
        _append(self._file, event, sync=False)
        if time.monotonic() - self._synced >= SYNC_SECONDS:
            self._sync()
        return event

    def _sync(self) -> None:
        os.fsync(self._file.fileno())
        self._synced = time.monotonic()

    def write_summary(self, summary: RunSummary) -> Path:
        summary.audit_file = str(self.path)
        write_json_atomic(self.summary_path, summary.model_dump(mode="json"))
        return self.summary_path

    @classmethod
    def record_profiles(
        cls, summary: RunSummary, profiles: list[dict[str, Any]], **context: Any
    ) -> None:
        """After the entities: one `PROFILE` event per data profile (pushed, not pushed and
        why, failed and why) appended to the run's audit file, and the summary rewritten
        with their counts."""
        if summary.audit_file is None or not profiles:
            return
        path = Path(summary.audit_file)
        with path.open("a", encoding="utf-8") as handle:
            for profile in profiles:
                _append(
                    handle,
                    {
                        "run_id": summary.run_id,
                        "timestamp": datetime.now(UTC).isoformat(),
                        **context,
                        "fqn": profile["fqn"],
                        "entity_type": "table_profile",
                        "operation": "PROFILE",
                        "outcome": profile["status"],
                        "reason": profile.get("reason", ""),
                        "error": profile.get("error"),
                        "file": profile.get("file"),
                    },
                )
                summary.add_profile(profile)
        write_json_atomic(cls.summary_path_of(path), summary.model_dump(mode="json"))

    @classmethod
    def record_merged(
        cls, summary: RunSummary, results: list[EntityResult], **context: Any
    ) -> None:
        """After a sharded run's own entities: its shards' results appended to its audit file
        (`context` says which shard) and counted in its summary, rewritten."""
        if summary.audit_file is None:
            return
        path = Path(summary.audit_file)
        with path.open("a", encoding="utf-8") as handle:
            for result in results:
                _append(handle, _event(summary.run_id, result, context))
                summary.add(result)
        write_json_atomic(cls.summary_path_of(path), summary.model_dump(mode="json"))

    @classmethod
    def record_run(cls, summary: RunSummary, **context: Any) -> None:
        """Last: one `RUN` event with the run's metadata (CPU and wall seconds, API calls by
        verb, bytes read, tags) appended durably like any event, and the summary rewritten
        atomically with them. Killed before this, the file simply has no `RUN` line."""
        if summary.audit_file is None:
            return
        path = Path(summary.audit_file)
        event = {
            "run_id": summary.run_id,
            "timestamp": datetime.now(UTC).isoformat(),
            **context,
            "fqn": "(run)",
            "entity_type": "run",
            "operation": "RUN",
            "outcome": "success" if summary.ok else "failed",
            **run_metadata(summary),
        }
        with path.open("a", encoding="utf-8") as handle:
            _append(handle, event)
        write_json_atomic(cls.summary_path_of(path), summary.model_dump(mode="json"))

    @staticmethod
    def summary_path_of(audit_file: Path) -> Path:
        return audit_file.with_name(audit_file.name.removesuffix(".jsonl") + ".summary.json")

    def close(self) -> None:
        if not self._file.closed:
            self._sync()
            self._file.close()

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _event(run_id: str, result: EntityResult, context: dict[str, Any]) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "timestamp": datetime.now(UTC).isoformat(),
        **context,
        **result.model_dump(mode="json", exclude={"request"}),
    }


SYNC_SECONDS = 1.0
"""The longest entity lines wait for an fsync (they are flushed to the OS at once)."""


def _append(handle: IO[str], event: dict[str, Any], sync: bool = True) -> None:
    """One event line, handed to the OS before the next (and, with `sync`, on disk)."""
    handle.write(json.dumps(event, sort_keys=True, default=str) + "\n")
    handle.flush()
    if sync:
        os.fsync(handle.fileno())


RUN_METADATA = (
    "cpu_time_sec",
    "wall_time_sec",
    "api_calls",
    "api_calls_by_verb",
    "bytes_read",
    "tags",
)
"""The summary's run metadata: what the `RUN` audit event carries."""


def run_metadata(summary: RunSummary) -> dict[str, Any]:
    dumped = summary.model_dump(mode="json", include=set(RUN_METADATA))
    return {name: dumped[name] for name in RUN_METADATA}


def write_json_atomic(path: Path, payload: Any) -> None:
    """Write JSON so readers see the old file or the new one, never half of one."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(payload, handle, indent=2, sort_keys=True, default=str)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_events(path: str | os.PathLike[str]) -> tuple[list[dict[str, Any]], int]:
    """Every complete event of an audit file, and how many torn lines were skipped."""
    events, torn = [], 0
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            torn += 1
    return events, torn
