"""Stale tables: gone from S3 since the last run → reported, or soft-deleted with a guard."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from flows.ingest import IngestionFailed, ingest
from om_ingest.audit import read_events
from om_ingest.sandbox.testing import make_sdk_client
from om_ingest.testing.lake_writer import LakeTarget, write_synthetic_lake
from om_ingest.testing.moto_s3 import MotoS3Server
from tests.conftest import JWT
from tests.lake_configs import lake_config, write_config

SCHEMA = "lake_svc.warehouse.hudi"


def config(tmp_path: Path, moto: MotoS3Server, bucket: str = "lake", **source: Any) -> str:
    settings = lake_config(tmp_path, moto, SCHEMA, properties={"bucket": bucket}, source=source)
    return write_config(tmp_path, settings, "stale.yaml")


def drop_table(s3: Any, name: str) -> None:
    listed = s3.list_objects_v2(Bucket="lake", Prefix=f"warehouse/{name}/")
    s3.delete_objects(
        Bucket="lake", Delete={"Objects": [{"Key": o["Key"]} for o in listed["Contents"]]}
    )


def tables(summary_or_failure: Any) -> dict[str, dict[str, Any]]:
    audit = (
        summary_or_failure.summary.audit_file
        if isinstance(summary_or_failure, IngestionFailed)
        else summary_or_failure["audit_file"]
    )
    events, torn = read_events(audit)
    assert torn == 0
    return {e["fqn"].rsplit(".", 1)[-1]: e for e in events if e["entity_type"] == "table"}


def test_stale_tables_are_reported_then_removed_within_the_guard(
    om_env: Any, tmp_path: Path
) -> None:
    from metadata.generated.schema.entity.data.table import Table

    sdk = make_sdk_client(om_env.url, JWT)

    def in_om(name: str) -> bool:
        return sdk.get_by_name(Table, f"{SCHEMA}.{name}") is not None

    with MotoS3Server() as moto:
        s3 = moto.s3_client()
        s3.create_bucket(Bucket="lake")
        write_synthetic_lake(LakeTarget.s3(s3, "lake"), "warehouse", 21, 3, rows_per_table=1)
        assert ingest(config(tmp_path, moto))["outcomes"] == {"success": 3 + 21}

        # One table gone, another unreadable: only the gone one is stale, and only reported.
        drop_table(s3, "table_00003")
        properties = "warehouse/table_00004/.hoodie/hoodie.properties"
        original = s3.get_object(Bucket="lake", Key=properties)["Body"].read()
        s3.put_object(Bucket="lake", Key=properties, Body=b"\0")
        with pytest.raises(IngestionFailed) as unreadable:
            ingest(config(tmp_path, moto))
        seen = tables(unreadable.value)
        assert seen["table_00004"]["outcome"] == "failed"  # failed, never taken for deleted
        assert seen["table_00003"]["operation"] == "SKIP"
        assert "stale: s3://lake/warehouse/table_00003 is gone" in seen["table_00003"]["reason"]
        assert in_om("table_00003") and in_om("table_00004")
        s3.put_object(Bucket="lake", Key=properties, Body=original)  # readable again

        # A failed listing (here: a bucket that does not exist) reports nothing as stale.
        with pytest.raises(IngestionFailed) as unlisted:
            ingest(config(tmp_path, moto, bucket="no-such-bucket", remove_stale=True))
        assert "table_00003" not in tables(unlisted.value) and in_om("table_00003")

        # remove_stale: 1 of 21 known tables (4.8 %) is within the 5 % guard.
        om_env.clear_requests()
        dry = tables(ingest(config(tmp_path, moto, remove_stale=True), dry_run=True))
        assert (dry["table_00003"]["operation"], dry["table_00003"]["outcome"]) == (
            "DELETE",
            "dry_run",
        )
        assert om_env.write_calls() == [] and in_om("table_00003")
        removed = tables(ingest(config(tmp_path, moto, remove_stale=True)))
        assert (removed["table_00003"]["operation"], removed["table_00003"]["outcome"]) == (
            "DELETE",
            "success",
        )
        assert not in_om("table_00003")
        deleted = sdk.get_by_name(
            Table, f"{SCHEMA}.table_00003", fields=["owners"], include="deleted"
        )
        assert deleted is not None and deleted.deleted  # soft-deleted, recoverable
        again = tables(ingest(config(tmp_path, moto, remove_stale=True)))
        assert "table_00003" not in again  # forgotten once removed

        # 2 of 20 (10 %) gone at once: over the guard, nothing removed, the run fails.
        drop_table(s3, "table_00010")
        drop_table(s3, "table_00011")
        with pytest.raises(IngestionFailed) as guarded:
            ingest(config(tmp_path, moto, remove_stale=True))
        events = tables(guarded.value)
        for name in ("table_00010", "table_00011"):
            assert events[name]["outcome"] == "failed"
            assert "2 of 20 tables of source 'lake' (10.0%) are gone" in events[name]["error"]
            assert in_om(name)
        # A user who checked raises the limit: then they go.
        raised = tables(ingest(config(tmp_path, moto, remove_stale=True, stale_max_percent=10)))
        assert {raised[n]["outcome"] for n in ("table_00010", "table_00011")} == {"success"}
        assert not in_om("table_00010") and not in_om("table_00011")


def failing_table_deletes(app: Any, failures: list[int]) -> Any:
    """The sandbox app behind a gate answering the next `failures[0]` table DELETEs with 503:
    a targeted outage of exactly the call under test, over real HTTP."""
    from starlette.responses import JSONResponse

    async def gated(scope: Any, receive: Any, send: Any) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] == "DELETE"
            and scope["path"].startswith("/api/v1/tables/")
            and failures[0] > 0
        ):
            failures[0] -= 1
            body = {"code": 503, "message": "injected fault (503)"}
            await JSONResponse(body, status_code=503)(scope, receive, send)
            return
        await app(scope, receive, send)

    return gated


def test_a_failing_soft_delete_is_retried_then_fails_its_table_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from metadata.generated.schema.entity.data.table import Table

    from om_ingest.sandbox import ThreadedSandbox

    failures = [0]
    sandbox = ThreadedSandbox(JWT)
    sandbox._server.config.app = failing_table_deletes(sandbox._server.config.app, failures)
    sandbox.start()
    monkeypatch.setenv("OM_HOST", sandbox.host_port)
    monkeypatch.setenv("OM_JWT", JWT)
    sdk = make_sdk_client(sandbox.url, JWT)
    try:
        with MotoS3Server() as moto:
            s3 = moto.s3_client()
            s3.create_bucket(Bucket="lake")
            write_synthetic_lake(LakeTarget.s3(s3, "lake"), "warehouse", 4, 2, rows_per_table=1)
            settings = lake_config(
                tmp_path,
                moto,
                SCHEMA,
                source={"remove_stale": True, "stale_max_percent": 50},
                execution={"retries": {"max_attempts": 3, "backoff_seconds": 0}},
            )
            path = write_config(tmp_path, settings, "stale.yaml")
            ingest(path)
            drop_table(s3, "table_00001")
            drop_table(s3, "table_00002")

            # Every attempt of every delete fails: each table fails alone, the run completes
            # with its audit, summary and state, and the tables stay known for the next run.
            failures[0] = 100
            with pytest.raises(IngestionFailed) as failed:
                ingest(path)
            events = tables(failed.value)
            for name in ("table_00001", "table_00002"):
                assert (events[name]["operation"], events[name]["outcome"]) == (
                    "DELETE",
                    "failed",
                )
                assert "503" in events[name]["error"] and events[name]["attempts"] == 3
                assert sdk.get_by_name(Table, f"{SCHEMA}.{name}") is not None
            assert failed.value.summary.outcomes == {"skipped": 3 + 2, "failed": 2}
            assert Path(failed.value.summary.audit_file).with_suffix(".summary.json").is_file()
            state = json.loads((tmp_path / "audit" / "state" / "lake.json").read_text())
            assert {"s3://lake/warehouse/table_00001", "s3://lake/warehouse/table_00002"} <= set(
                state["tables"]
            )

            # A transient failure is retried: two 503s, then both go.
            failures[0] = 2
            events = tables(ingest(path))
            assert {events[n]["outcome"] for n in ("table_00001", "table_00002")} == {"success"}
            assert sum(events[n]["attempts"] for n in ("table_00001", "table_00002")) == 2 + 2
            assert failures == [0]
            assert sdk.get_by_name(Table, f"{SCHEMA}.table_00001") is None
    finally:
        sandbox.stop()
