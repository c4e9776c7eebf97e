"""Discovered tables stream through the run: each is written before the next is read."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import yaml

from om_ingest.config import load_config
from om_ingest.config.models import EntityConfig
from om_ingest.engine.executor import EntityTask
from om_ingest.engine.results import EntityResult, Operation, Outcome
from om_ingest.engine.run import ResultHook, RunContext, RunOptions, execute_run
from om_ingest.planning import EntitySpec, PackedEntity, PlannedEntity

SCHEMA = "svc.db.core"


def context(tmp_path: Path, events: list[str], only: list[str] | None = None) -> RunContext:
    config = {
        "openmetadata": {"host": "http://127.0.0.1:1", "jwt_token": "t"},
        "audit": {"output_dir": str(tmp_path / "audit")},
        "sources": [{"name": "lake", "type": "s3_hudi", "properties": {"bucket": "lake"}}],
        "entities": [
            {"type": "database_service", "name": "svc"},
            {"type": "database", "name": "db", "properties": {"service": "svc"}},
            {"type": "database_schema", "name": "core", "properties": {"database": "svc.db"}},
            {
                "type": "table",
                "discovery": {"source": "lake"},
                "properties": {"database_schema": SCHEMA},
            },
        ],
    }
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(config))
    loaded = load_config(path)

    def discover(node: PlannedEntity) -> Iterator[EntitySpec | EntityResult]:
        events.append(f"list {node.parent_fqn}")
        for name in ("t0", "t1", "bad", "t2"):
            events.append(f"read {name}")
            if name == "bad":
                yield EntityResult(
                    fqn=f"{SCHEMA}.bad",
                    entity_type="table",
                    operation=Operation.FAIL,
                    outcome=Outcome.FAILED,
                    error="s3://lake/bad: unreadable",
                )
                continue
            yield PackedEntity.pack(
                EntityConfig.model_validate(
                    {
                        "type": "table",
                        "name": name,
                        "discovered_from": "lake",
                        "properties": {"database_schema": SCHEMA, "columns": []},
                    }
                )
            )

    return RunContext(
        loaded=loaded,
        options=RunOptions(only=only),
        entities=list(loaded.config.entities),
        discover=discover,
    )


def writer(events: list[str], failing: str | None = None):  # type: ignore[no-untyped-def]
    def dispatch(jobs: Sequence[EntityTask], record: ResultHook) -> None:
        for job in jobs:
            events.append(f"write {job.node.fqn}")
            outcome = Outcome.FAILED if job.node.fqn == failing else Outcome.SUCCESS
            record(
                EntityResult(
                    fqn=job.node.fqn,
                    entity_type=job.node.type.value,
                    operation=Operation.CREATE,
                    outcome=outcome,
                )
            )

    return dispatch


def test_each_table_is_written_before_the_next_is_read(tmp_path: Path) -> None:
    events: list[str] = []
    summary, results = execute_run(context(tmp_path, events), writer(events))
    assert events == [
        "write svc",
        "write svc.db",
        "write svc.db.core",
        "list svc.db.core",
        "read t0",
        f"write {SCHEMA}.t0",
        "read t1",
        f"write {SCHEMA}.t1",
        "read bad",
        "read t2",
        f"write {SCHEMA}.t2",
    ]
    # discovery's own verdicts land in the audit in discovery order
    assert [r.fqn.rsplit(".", 1)[-1] for r in results[3:]] == ["t0", "t1", "bad", "t2"]
    assert summary.total == 7


def test_only_filters_streamed_tables(tmp_path: Path) -> None:
    events: list[str] = []
    _, results = execute_run(
        context(tmp_path, events, only=["svc", "svc.db", SCHEMA, f"{SCHEMA}.t1"]), writer(events)
    )
    assert [e for e in events if e.startswith("write svc.db.core.")] == [f"write {SCHEMA}.t1"]
    assert f"{SCHEMA}.bad" in {r.fqn for r in results}  # a read failure is still reported


def test_a_failed_schema_blocks_its_discovery_without_listing(tmp_path: Path) -> None:
    events: list[str] = []
    _, results = execute_run(context(tmp_path, events), writer(events, failing="svc.db.core"))
    assert not any(e.startswith(("list", "read")) for e in events)
    blocked = [r for r in results if r.outcome is Outcome.BLOCKED]
    assert [r.fqn for r in blocked] == [f"{SCHEMA}.<tables from lake>"]
    assert "svc.db.core" in blocked[0].reason
