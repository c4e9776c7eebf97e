"""A Hudi lake in a directory (`path:` instead of `bucket:`): the real fixture tables, unzipped
into a tmp dir, read by hudi-rs from `file://` URIs; OM through the sandbox."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from flows.ingest import IngestionFailed, ingest
from om_ingest.audit import read_events
from om_ingest.config import load_config
from om_ingest.errors import ConfigError
from om_ingest.sandbox.testing import make_sdk_client
from tests.conftest import JWT, SHARED

FIXTURES = SHARED / "fixtures" / "hudi"
pytestmark = pytest.mark.skipif(
    not FIXTURES.is_dir(), reason=f"shared Hudi fixtures not found at {FIXTURES}"
)
SCHEMA = "files.lake.hudi"


def unzip_lake(root: Path) -> list[Path]:
    """Each fixture table under root/warehouse/<zip stem> (macOS resource forks skipped)."""
    zips = [z for z in sorted(FIXTURES.glob("*.zip")) if "mor__avro__v9" not in z.name]
    for zip_path in zips:
        with zipfile.ZipFile(zip_path) as archive:
            for info in archive.infolist():
                if "__MACOSX" in info.filename or info.filename.endswith(".DS_Store"):
                    continue
                archive.extract(info, root / "warehouse" / zip_path.stem)
    return zips


def config(tmp_path: Path, lake: Path | str, **props: Any) -> str:
    body = {
        "metadata": {"name": "files"},
        "openmetadata": {"host": "${OM_HOST}", "jwt_token": "${OM_JWT}"},
        "audit": {"output_dir": str(tmp_path / "audit")},
        "sources": [
            {
                "name": "files",
                "type": "s3_hudi",
                "properties": {"path": str(lake), "prefix": "warehouse/", **props},
            }
        ],
        "entities": [
            {
                "type": "table",
                "discovery": {"source": "files"},
                "properties": {"database_schema": SCHEMA},
            }
        ],
    }
    path = tmp_path / "files.yaml"
    path.write_text(yaml.safe_dump(body))
    return str(path)


def test_a_lake_in_a_directory_is_ingested_and_an_unchanged_rerun_writes_nothing(
    om_env: Any, tmp_path: Path
) -> None:
    from metadata.generated.schema.entity.data.table import Table

    lake = tmp_path / "lake"
    zips = unzip_lake(lake)
    path = config(tmp_path, lake)
    summary = ingest(path)
    assert summary["outcomes"] == {"success": 3 + len(zips)}
    sdk = make_sdk_client(om_env.url, JWT)
    table = sdk.get_by_name(
        Table,
        f"{SCHEMA}.v9_txns_simple_meta",
        fields=["columns", "tableConstraints", "tablePartition", "extension"],
    )
    where = lake / "warehouse/sample_table__cow__v9_txns_simple_meta/v9_txns_simple_meta"
    # a file:// URI: what hudi-rs reads, like s3:// for a bucket
    assert table.locationPath == where.resolve().as_uri()
    assert table.extension.root["hudi_base_path"] == where.resolve().as_uri()
    assert table.extension.root["hudi_table_type"] == "COPY_ON_WRITE"
    amount = next(c for c in table.columns if c.name.root == "amount")
    assert (amount.dataType.value, amount.precision, amount.scale) == ("DECIMAL", 15, 2)
    assert [c.columnName for c in table.tablePartition.columns] == ["region"]
    assert table.tableConstraints[0].columns == ["txn_id"]

    om_env.clear_requests()
    again = ingest(path)
    assert om_env.write_calls() == []
    events, _ = read_events(again["audit_file"])
    reasons = [e["reason"] for e in events if e["entity_type"] == "table"]
    # the timeline fingerprint (file names, times, sizes) works on a directory as on S3
    assert sum("Hudi timeline unchanged" in r for r in reasons) == len(zips) - 1


def test_filters_and_caps_apply_to_a_directory_as_to_a_bucket(om_env: Any, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    unzip_lake(lake)
    body = yaml.safe_load(Path(config(tmp_path, lake)).read_text())
    body["entities"][0]["discovery"]["filter"] = {"include": ["*cow*"], "max_tables": 2}
    Path(tmp_path / "files.yaml").write_text(yaml.safe_dump(body))
    summary = ingest(str(tmp_path / "files.yaml"))
    events, _ = read_events(summary["audit_file"])
    tables = [e["fqn"] for e in events if e["entity_type"] == "table"]
    assert len(tables) == 2


def test_a_missing_lake_path_fails_its_source_naming_the_path(om_env: Any, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-lake"
    with pytest.raises(IngestionFailed) as info:
        ingest(config(tmp_path, missing))
    (failed,) = info.value.results
    assert failed.outcome.value == "failed"
    assert failed.error == f"source 'files': the lake path {missing} is not a directory"


def test_bucket_and_path_together_are_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OM_HOST", "http://127.0.0.1:1")
    monkeypatch.setenv("OM_JWT", JWT)
    path = config(tmp_path, tmp_path, bucket="lake")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "exactly one of `bucket` (S3) and `path` (a directory)" in str(info.value)


def test_declared_parents_get_subflows_implied_ones_a_task_of_the_run(
    om_env: Any, tmp_path: Path
) -> None:
    """What the Prefect UI shows: a declared entity is a subflow named by its FQN; the
    database and schema only the discovery needs are `write-entity` tasks of the run itself."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterParentTaskRunId,
        TaskRunFilter,
        TaskRunFilterFlowRunId,
    )

    lake = tmp_path / "lake"
    unzip_lake(lake)
    path = Path(config(tmp_path, lake))
    body = yaml.safe_load(path.read_text())
    body["entities"].append(
        {"type": "database_service", "name": "files", "properties": {"service_type": "Datalake"}}
    )
    path.write_text(yaml.safe_dump(body))
    summary = ingest(str(path))
    run_id = summary["flow_run_id"]
    with get_client(sync_client=True) as client:
        tasks = client.read_task_runs(
            task_run_filter=TaskRunFilter(flow_run_id=TaskRunFilterFlowRunId(any_=[run_id]))
        )
        subflows = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                parent_task_run_id=FlowRunFilterParentTaskRunId(any_=[t.id for t in tasks])
            )
        )
    written_here = {t.name for t in tasks if t.task_key.startswith("write_entity")}
    assert {"files.lake", "files.lake.hudi"} <= written_here and "files" not in written_here
    names = {f.name for f in subflows}
    assert "files" in names and not names & {"files.lake", "files.lake.hudi"}
