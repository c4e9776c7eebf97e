"""Discovered tables written in batches (`execution.bulk_size`): one `PUT /tables/bulk` per
batch, every decision, result and audit line still per table. moto S3 (a synthetic Hudi
lake), the OM sandbox and Prefect's ephemeral API, all real."""

from __future__ import annotations

import json
from base64 import urlsafe_b64decode as b64decode
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from flows.ingest import IngestionFailed, ingest
from om_ingest.audit import read_events
from om_ingest.engine.bulk import rows_per_task
from om_ingest.sandbox import FaultConfig
from om_ingest.sandbox.testing import make_sdk_client
from om_ingest.testing.lake_writer import LakeTarget, write_synthetic_lake
from om_ingest.testing.moto_s3 import MotoS3Server
from tests.conftest import JWT, USER_JWT
from tests.lake_configs import lake_config, write_config

TABLES = 6
SCHEMA = "lake.warehouse.tables"


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoS3Server]:
    with MotoS3Server() as server:
        client = server.s3_client()
        client.create_bucket(Bucket="lake")
        write_synthetic_lake(LakeTarget.s3(client, "lake"), "warehouse", TABLES, 5)
        yield server


def sandbox(monkeypatch: pytest.MonkeyPatch, faults: FaultConfig | None = None) -> Any:
    from om_ingest.sandbox import ThreadedSandbox

    server = ThreadedSandbox(JWT, faults=faults, user_tokens=[USER_JWT])
    server.start()
    monkeypatch.setenv("OM_HOST", server.host_port)
    monkeypatch.setenv("OM_JWT", JWT)
    return server


def config(
    tmp_path: Path, moto: MotoS3Server, bulk_size: int, schema: str = SCHEMA, **entity: Any
) -> str:
    tmp_path.mkdir(parents=True, exist_ok=True)
    body = lake_config(
        tmp_path,
        moto,
        schema,
        properties={"full_refresh": True},  # every table reaches the engine on each run
        entity=entity,
        execution={"bulk_size": bulk_size},
        defaults={"idempotency": "update"},
    )
    return write_config(tmp_path, body, f"lake-{bulk_size}-{schema}.yaml")


def table_writes(server: Any) -> list[str]:
    return [
        f"{r['method']} {r['path']}"
        for r in server.requests()
        if r["method"] in {"PUT", "PATCH", "POST"} and r["path"].startswith("/api/v1/tables")
    ]


def tables(server: Any, schema: str = SCHEMA) -> dict[str, Any]:
    from metadata.generated.schema.entity.data.table import Table

    sdk = make_sdk_client(server.url, JWT)
    found = sdk.list_all_entities(
        entity=Table, fields=["columns", "extension"], params={"databaseSchema": schema}
    )
    return {t.name.root: t for t in found}


def audit_lines(summary: dict[str, Any], schema: str) -> list[dict[str, Any]]:
    """The run's table events without what differs between two runs by nature (ids, time,
    call counts): the same for any batch size."""
    events, _ = read_events(summary["audit_file"])
    keep = ("operation", "outcome", "reason", "error", "version_before", "version_after")
    return [
        {"fqn": e["fqn"].replace(schema, "S"), **{k: e.get(k) for k in keep},
         "field_changes": e.get("field_changes"), "schema_changes": e.get("schema_changes")}
        for e in events
        if e.get("entity_type") == "table"
    ]  # fmt: skip


def test_batches_leave_the_same_om_and_audit_as_one_by_one(
    moto: MotoS3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = sandbox(monkeypatch)
    try:
        one = ingest(config(tmp_path / "a", moto, 1, "lake.warehouse.one"))
        server.clear_requests()
        many = ingest(config(tmp_path / "b", moto, 4, "lake.warehouse.many"))
        writes = table_writes(server)
        alone, batched = tables(server, "lake.warehouse.one"), tables(server, "lake.warehouse.many")
    finally:
        server.stop()
    # 6 tables in batches of 4: two bulk PUTs and no table written by itself
    assert writes == ["PUT /api/v1/tables/bulk"] * 2
    assert audit_lines(one, "lake.warehouse.one") == audit_lines(many, "lake.warehouse.many")
    assert len(batched) == TABLES and set(batched) == set(alone)
    for name, table in batched.items():
        twin = alone[name]
        assert table.version.root == twin.version.root == 0.1
        assert [c.model_dump(exclude={"fullyQualifiedName"}) for c in table.columns] == [
            c.model_dump(exclude={"fullyQualifiedName"}) for c in twin.columns
        ]
        # the Hudi facts (custom properties) are there after a bulk create
        assert table.extension.root["hudi_table_name"] == name
        assert table.extension.root == {
            **twin.extension.root,
            "hudi_base_path": table.extension.root["hudi_base_path"],
        }


def test_a_rejected_row_fails_alone_and_nothing_is_written_twice(
    moto: MotoS3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = sandbox(monkeypatch, FaultConfig(reject_names=frozenset({"table_00002"})))
    try:
        with pytest.raises(IngestionFailed) as failure:
            ingest(config(tmp_path, moto, 100))
        written = tables(server)
        writes = table_writes(server)
    finally:
        server.stop()
    results = {r.fqn: r for r in failure.value.results if r.entity_type == "table"}
    bad = results[f"{SCHEMA}.table_00002"]
    assert bad.outcome.value == "failed"
    assert bad.error == (
        "PUT CreateTableRequest: OpenMetadata answered 400: "
        "injected rejection of table_00002 (sandbox faults)"
    )
    assert [r.outcome.value for f, r in results.items() if f != bad.fqn] == ["success"] * 5
    assert writes == ["PUT /api/v1/tables/bulk"]  # the good rows were not sent again
    assert sorted(written) == [f"table_0000{i}" for i in (0, 1, 3, 4, 5)]
    assert {t.version.root for t in written.values()} == {0.1}


def test_a_failed_batch_is_split_and_every_row_written_once(
    moto: MotoS3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    faults = FaultConfig(fail_path_suffix="/tables/bulk", fail_times=1, fail_status=503)
    server = sandbox(monkeypatch, faults)
    try:
        summary = ingest(config(tmp_path, moto, 100))
        writes = table_writes(server)
        statuses = [r["status"] for r in server.requests() if r["path"] == "/api/v1/tables/bulk"]
        written = tables(server)
    finally:
        server.stop()
    assert summary["outcomes"] == {"success": 3 + TABLES}
    # the failed call (answered 503, nothing stored), then its two halves
    assert statuses == [503, 200, 200]
    assert writes == ["PUT /api/v1/tables/bulk"] * 3
    assert len(written) == TABLES
    assert {t.version.root for t in written.values()} == {0.1}  # each row landed once


def test_rerun_writes_nothing_and_dry_run_previews_without_writing(
    moto: MotoS3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = sandbox(monkeypatch)
    try:
        path = config(tmp_path, moto, 4)
        dry = ingest(path, dry_run=True)
        dry_writes = [r for r in server.requests() if r["method"] != "GET"]
        ingest(path)
        server.clear_requests()
        again = ingest(path)  # cache records: skipped from the batch's listing
        cached_writes = table_writes(server)
        server.clear_requests()
        compared = ingest(path, refresh_cache=True)  # no cache: compared, nothing differs
        compared_writes = table_writes(server)
    finally:
        server.stop()
    assert dry["outcomes"] == {"dry_run": 3 + TABLES} and dry_writes == []
    dry_events, _ = read_events(dry["audit_file"])
    create = next(e for e in dry_events if e["fqn"] == f"{SCHEMA}.table_00000")
    assert create["operation"] == "CREATE" and create["outcome"] == "dry_run"
    assert cached_writes == [] and compared_writes == []
    events, _ = read_events(again["audit_file"])
    reasons = {e["reason"] for e in events if e["entity_type"] == "table"}
    assert reasons == {"unchanged since a previous run (cache hit, OM version 0.1)"}
    events, _ = read_events(compared["audit_file"])
    assert {e["reason"] for e in events if e["entity_type"] == "table"} == {"up to date"}


def test_a_curated_description_is_kept_the_others_follow_the_config(
    moto: MotoS3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from metadata.generated.schema.entity.data.table import Table

    server = sandbox(monkeypatch)
    try:
        ingest(config(tmp_path, moto, 4, description="first words"))
        user = make_sdk_client(server.url, USER_JWT)
        edited = f"{SCHEMA}.table_00001"
        user.patch_description(
            Table, user.get_by_name(Table, edited), description="a person's words", force=True
        )
        server.clear_requests()
        summary = ingest(config(tmp_path, moto, 4, description="second words"))
        writes = table_writes(server)
        written = tables(server)
    finally:
        server.stop()
    events, _ = read_events(summary["audit_file"])
    kept = next(e for e in events if e["fqn"] == edited)
    assert kept["kept_curated"][0]["after"] == "second words"
    assert written["table_00001"].description.root == "a person's words"
    others = [t for n, t in written.items() if n != "table_00001"]
    assert {t.description.root for t in others} == {"second words"}
    # a description is a JSON Patch per table (what a bot's PUT keeps), never a bulk row
    assert sorted(writes) == sorted(f"PATCH /api/v1/tables/{t.id.root}" for t in others)


def test_a_read_back_lists_the_rows_its_batch_wrote_not_the_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each batch task checks what it wrote with one listing that starts at its first name
    and stops once it has seen them all: a first run lists each table once, not N²/2 rows."""
    n, bulk = 40, 2
    rows = rows_per_task(bulk)
    write_synthetic_lake(LakeTarget.local(tmp_path / "lake"), "warehouse", n, 3)
    body = lake_config(
        tmp_path, None, SCHEMA, execution={"bulk_size": bulk}, defaults={"idempotency": "update"}
    )
    properties = body["sources"][0]["properties"]
    for key in ("bucket", "aws_access_key_id", "aws_secret_access_key"):
        properties.pop(key)
    properties["path"] = str(tmp_path / "lake")
    server = sandbox(monkeypatch)
    try:
        summary = ingest(write_config(tmp_path, body, "fs-lake.yaml"))
        log = server.requests()
        written = tables(server)
    finally:
        server.stop()
    assert summary["outcomes"] == {"success": 3 + n}
    assert len(written) == n and {t.version.root for t in written.values()} == {0.1}
    puts = [r for r in log if r["method"] == "PUT" and r["path"] == "/api/v1/tables/bulk"]
    assert len(puts) == n // bulk  # every bulk call carries `bulk_size` rows
    listings = [
        parse_qs(r["query"])
        for r in log[log.index(puts[0]) :]
        if r["method"] == "GET" and r["path"] == "/api/v1/tables"
    ]
    # one page per batch, no bigger than the batch, from a cursor at the batch's first name
    assert len(listings) == n // rows
    assert all(int(q["limit"][0]) <= rows and "after" in q for q in listings), listings
    starts = sorted(json.loads(b64decode(q["after"][0]))["name"] for q in listings)
    assert starts == sorted(written)[::rows]


@pytest.mark.parametrize("refused", [False, True], ids=["cursor", "cursor-refused"])
def test_a_read_back_finds_every_name_it_asks_for(
    monkeypatch: pytest.MonkeyPatch, refused: bool
) -> None:
    """A read-back of scattered names (and of one OM does not hold) still finds every table
    there is; a server refusing the made-up cursor (400) is listed whole, then and after."""
    from metadata.generated.schema.entity.data.table import Table

    from om_ingest.openmetadata import OMClient
    from tests.engine.test_sibling_lookup import SCHEMA as LISTED
    from tests.engine.test_sibling_lookup import run, table

    faults = FaultConfig(fail_status=400, fail_path_suffix="/tables", fail_times=0)
    server = sandbox(monkeypatch, faults)
    try:
        client = OMClient(make_sdk_client(server.url, JWT), server.url)
        names = [f"t{i:02d}" for i in range(30)]
        run(client, [table(n) for n in names])
        held = {t.fullyQualifiedName.root: t for t in client.sdk.list_all_entities(Table)}
        faults.fail_times = int(refused)  # the next listing's cursor is answered 400
        server.clear_requests()
        asked = ["t03", "t17", "t29", "t99"]
        found = client.stored_under(Table, "databaseSchema", LISTED, asked)
        again = client.scoped().stored_under(Table, "databaseSchema", LISTED, asked[:1])
        log = [r for r in server.requests() if r["path"] == "/api/v1/tables"]
    finally:
        server.stop()
    for name in asked[:3]:
        fqn = f"{LISTED}.{name}"
        assert found[fqn].id == str(held[fqn].id.root)
        assert found[fqn].version == held[fqn].version.root
    assert f"{LISTED}.t99" not in found
    queries = [parse_qs(r["query"]) for r in log]
    if refused:  # the refused page, then the whole schema from its start, twice
        assert [r["status"] for r in log] == [400, 200, 200]
        assert not any("after" in q for q in queries[1:])
        assert len(found) == len(again) == len(names)
    else:  # from t03: a page the batch's size, then on to the end (t99 is not there)
        assert all(r["status"] == 200 for r in log)
        assert set(found) == {f"{LISTED}.{n}" for n in names[3:]}
        assert [int(q["limit"][0]) for q in queries] == [len(asked), 1000, 1]
        assert set(again) == {f"{LISTED}.t03"}
