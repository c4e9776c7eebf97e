"""Incremental discovery: a table is skipped unread only when its timeline, the config and the
target OM are as they were when OM last matched it, and OM still holds it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa

from flows.ingest import ingest
from om_ingest.audit import read_events
from om_ingest.sandbox import ThreadedSandbox
from om_ingest.sandbox.testing import make_sdk_client
from om_ingest.testing.lake_writer import LakeTarget, write_table
from om_ingest.testing.moto_s3 import MotoS3Server
from tests import lake_configs as configs
from tests.conftest import JWT
from tests.lake_configs import lake_config

SCHEMA = "lake_svc.warehouse.hudi"
UNCHANGED = "Hudi timeline unchanged"
ROWS = pa.table({"id": pa.array([1, 2], pa.int64()), "name": pa.array(["a", "b"])})


def write_config(
    tmp_path: Path,
    moto: MotoS3Server,
    description: str = "v1",
    idempotency: str = "update",
    host: str = "${OM_HOST}",
) -> str:
    config = lake_config(
        tmp_path,
        moto,
        SCHEMA,
        entity={"description": description},
        defaults={"idempotency": idempotency},
    )
    config["openmetadata"]["host"] = host
    return configs.write_config(tmp_path, config)


def table_events(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    events, torn = read_events(summary["audit_file"])
    assert torn == 0
    return {e["fqn"].rsplit(".", 1)[-1]: e for e in events if e["entity_type"] == "table"}


def skipped_unread(events: dict[str, dict[str, Any]]) -> set[str]:
    return {name for name, e in events.items() if UNCHANGED in e["reason"]}


def test_config_target_and_deletions_in_om_make_unchanged_tables_read_again(
    om_env: Any, tmp_path: Path
) -> None:
    from metadata.generated.schema.entity.data.table import Table

    with MotoS3Server() as moto:
        s3 = moto.s3_client()
        s3.create_bucket(Bucket="lake")
        for name in ("orders", "payments"):
            write_table(LakeTarget.s3(s3, "lake"), f"warehouse/{name}", ROWS, record_key="id")
        assert ingest(write_config(tmp_path, moto))["outcomes"] == {"success": 5}

        # Nothing changed: skipped unread, for one listing of the schema's names in OM.
        om_env.clear_requests()
        assert skipped_unread(table_events(ingest(write_config(tmp_path, moto)))) == {
            "orders",
            "payments",
        }
        table_calls = [r for r in om_env.requests() if "/tables" in r["path"]]
        assert [(r["method"], r["path"]) for r in table_calls] == [("GET", "/api/v1/tables")]
        assert om_env.write_calls() == []

        # The template's description changed: both tables are read and compared again.
        events = table_events(ingest(write_config(tmp_path, moto, description="v2")))
        assert skipped_unread(events) == set()
        assert {e["operation"] for e in events.values()} <= {"UPDATE", "SKIP"}
        # … and that config is remembered once OM matches it.
        again = table_events(ingest(write_config(tmp_path, moto, description="v2")))
        assert skipped_unread(again) == {"orders", "payments"}

        # The run's idempotency mode is part of the key too.
        events = table_events(
            ingest(write_config(tmp_path, moto, description="v2"), idempotency="skip")
        )
        assert {e["reason"] for e in events.values()} == {"exists (idempotency: skip)"}

        # A table deleted in OM since the last run is written again; the other stays skipped.
        sdk = make_sdk_client(om_env.url, JWT)
        orders = sdk.get_by_name(Table, f"{SCHEMA}.orders")
        sdk.delete(Table, orders.id, recursive=True, hard_delete=True)
        events = table_events(
            ingest(write_config(tmp_path, moto, description="v2"), idempotency="skip")
        )
        assert (events["orders"]["operation"], events["orders"]["outcome"]) == (
            "CREATE",
            "success",
        )
        assert skipped_unread(events) == {"payments"}
        assert sdk.get_by_name(Table, f"{SCHEMA}.orders") is not None

        # Another OpenMetadata: nothing there is taken as done.
        other = ThreadedSandbox(JWT).start()
        try:
            config = write_config(tmp_path, moto, description="v2", host=other.host_port)
            events = table_events(ingest(config, idempotency="skip"))
            assert {(e["operation"], e["outcome"]) for e in events.values()} == {
                ("CREATE", "success")
            }
            other_sdk = make_sdk_client(other.url, JWT)
            assert other_sdk.get_by_name(Table, f"{SCHEMA}.payments") is not None
        finally:
            other.stop()


def test_changes_a_skip_did_not_apply_are_reported_on_every_run(
    om_env: Any, tmp_path: Path
) -> None:
    with MotoS3Server() as moto:
        s3 = moto.s3_client()
        s3.create_bucket(Bucket="lake")
        target = LakeTarget.s3(s3, "lake")
        write_table(target, "warehouse/orders", ROWS, record_key="id")
        config = write_config(tmp_path, moto, idempotency="skip")
        ingest(config)
        evolved = ROWS.append_column("channel", pa.array(["web", "app"]))
        write_table(target, "warehouse/orders", evolved, record_key="id")
        for _ in range(2):  # not remembered as done: the next run reports it again
            orders = table_events(ingest(config))["orders"]
            assert orders["operation"] == "SKIP"
            assert "change(s) detected, not applied" in orders["reason"]
            assert [(c["change"], c["path"]) for c in orders["schema_changes"]] == [
                ("added", "channel")
            ]
    from metadata.generated.schema.entity.data.table import Table

    table = make_sdk_client(om_env.url, JWT).get_by_name(Table, f"{SCHEMA}.orders", ["columns"])
    assert [c.name.root for c in table.columns] == ["id", "name"]
