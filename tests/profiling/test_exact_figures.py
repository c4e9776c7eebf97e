"""What OM receives as whole-table figures is exact: merge-on-read tables with uncompacted log
files are counted as hudi-rs reads their snapshot, and estimates are never sent as counts."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hudi import HudiTableBuilder

from flows.ingest import ingest
from om_ingest.config.models import SourceConfig
from om_ingest.profiling.data_profiler import profile_table
from om_ingest.profiling.openmetadata import to_om_profile
from om_ingest.sources import get_source
from om_ingest.sources.base import ColumnStatistics, TableStatistics
from om_ingest.testing.lake_writer import LakeTarget, write_table
from om_ingest.testing.moto_s3 import MotoS3Server, upload_fixture_zip
from tests.conftest import JWT, SHARED
from tests.lake_configs import lake_config, write_config

FIXTURES = SHARED / "fixtures" / "hudi"
needs_fixtures = pytest.mark.skipif(
    not FIXTURES.is_dir() and not os.environ.get("CI"),  # under CI a missing fixture fails
    reason=f"shared Hudi fixtures not found at {FIXTURES}",
)


def mor_fixtures_with_logs(tmp_path: Path) -> list[tuple[Path, dict[str, Any], Path]]:
    """(zip, its expected.json entry, the table extracted locally) of every MOR fixture
    whose latest snapshot has uncompacted log files."""
    expected = json.loads((FIXTURES / "expected.json").read_text())
    found = []
    for zip_path in sorted(FIXTURES.glob("*.zip")):
        facts = expected[zip_path.name]
        if facts["table_type"] != "MERGE_ON_READ":
            continue
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(tmp_path / zip_path.stem)
        local = next(
            p.parent.parent
            for p in (tmp_path / zip_path.stem).rglob(".hoodie/hoodie.properties")
            if "__MACOSX" not in p.parts and p.parent.parent.name == facts["table_dir"]
        )
        slices = HudiTableBuilder.from_base_uri(str(local)).build().get_file_slices()
        if any(s.has_log_files() for s in slices):
            found.append((zip_path, facts, local))
    return found


@needs_fixtures
def test_mor_statistics_are_the_merged_snapshot_s_exact_figures(tmp_path: Path) -> None:
    tables = mor_fixtures_with_logs(tmp_path)
    assert len(tables) >= 2  # the shared fixtures hold MOR tables with log files
    with MotoS3Server() as moto:
        s3 = moto.s3_client()
        s3.create_bucket(Bucket="lake")
        for zip_path, _, _ in tables:
            upload_fixture_zip(s3, "lake", zip_path, f"warehouse/{zip_path.stem}")
        config = SourceConfig.model_validate(
            {
                "name": "lake",
                "type": "s3_hudi",
                "properties": {
                    "bucket": "lake",
                    "endpoint_url": moto.endpoint_url,
                    "aws_access_key_id": "testing",
                    "aws_secret_access_key": "testing",
                },
            }
        )
        for zip_path, facts, local in tables:
            # The independent truth: hudi-rs's snapshot read of the extracted table.
            snapshot = pa.Table.from_batches(
                HudiTableBuilder.from_base_uri(str(local)).build().read()
            )
            columns = [c["name"] for c in facts["columns"]]
            location = f"s3://lake/warehouse/{zip_path.stem}/{facts['table_dir']}"
            with get_source(config) as source:
                stats = source.table_statistics(location, columns)
            assert stats is not None and stats.exact, zip_path.name
            assert stats.row_count == facts["row_count"] == snapshot.num_rows
            assert "merged read of 1 file slice(s) with log files" in stats.origin
            flat = [c for c in columns if not pa.types.is_nested(snapshot.schema.field(c).type)]
            assert set(stats.columns) == set(flat)
            for name in flat:
                values = snapshot.column(name)
                assert stats.columns[name].null_count == values.null_count, name
                if pa.types.is_floating(values.type) or pa.types.is_integer(values.type):
                    bounds = pc.min_max(values)
                    assert (stats.columns[name].min, stats.columns[name].max) == (
                        bounds["min"].as_py(),
                        bounds["max"].as_py(),
                    ), name


def test_figures_that_are_not_exact_are_not_sent_as_exact() -> None:
    sample = pa.table({"id": pa.array([1, 2, None], pa.int64())})
    estimate = TableStatistics(
        row_count=8,
        exact=False,
        origin="footers that miss log files",
        columns={"id": ColumnStatistics(null_count=0, min=0, max=99)},
    )
    profile = profile_table("s.d.s.t", sample, statistics=estimate)
    assert (profile.row_count_exact, profile.metadata_origin) == (False, None)
    (column,) = profile.columns
    assert (column.null_count, column.min, column.max) == (1, 1, 2)  # the sample's own
    assert "metadata" not in column.computed_by.values()
    request = to_om_profile(profile)
    assert request.tableProfile.rowCount is None  # a sample size is not the table's rows
    assert request.tableProfile.profileSample == 3

    exact = profile_table("s.d.s.t", sample, row_count=3)
    assert to_om_profile(exact).tableProfile.rowCount == 3


def test_om_gets_a_row_count_only_when_the_sample_saw_every_row(
    om_env: Any, tmp_path: Path
) -> None:
    from om_ingest.sandbox.testing import make_sdk_client

    with MotoS3Server() as moto:
        s3 = moto.s3_client()
        s3.create_bucket(Bucket="lake")
        for name, rows in (("big", 50), ("small", 10)):
            data = pa.table({"id": pa.array(range(rows), pa.int64())})
            write_table(LakeTarget.s3(s3, "lake"), f"warehouse/{name}", data, record_key="id")
        profiling = {
            "enabled": True,
            "sample_rows": 20,
            "metadata_stats": False,
            "storage": {"base_path": str(tmp_path / "profiles")},
        }
        ingest(write_config(tmp_path, lake_config(tmp_path, moto, "svc.db.s", profiling=profiling)))
    sdk = make_sdk_client(om_env.url, JWT)
    big = sdk.get_latest_table_profile("svc.db.s.big").profile
    assert (big.rowCount, big.profileSample) == (None, 20)  # 20 of 50 rows: count unknown
    small = sdk.get_latest_table_profile("svc.db.s.small").profile
    assert (small.rowCount, small.profileSample) == (10, 10)  # the whole snapshot was read
