"""Metadata profiles: whole-table figures from Parquet footers, checked against pyarrow."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import yaml

from flows.ingest import ingest
from om_ingest.config.models import SourceConfig
from om_ingest.profiling.data_profiler import collect_sample, profile_table
from om_ingest.sources import get_source
from om_ingest.testing.lake_writer import LakeTarget, write_table
from om_ingest.testing.moto_s3 import MotoS3Server

ROWS = 40
TABLE = pa.table(
    {
        "id": pa.array(range(ROWS), pa.int64()),
        "amount": pa.array(
            [None if i % 7 == 0 else Decimal(f"{i}.25") for i in range(ROWS)], pa.decimal128(12, 2)
        ),
        "name": pa.array([None if i % 3 == 0 else f"n{i:02d}" for i in range(ROWS)]),
        "day": pa.array([date(2024, 1, 1 + i % 28) for i in range(ROWS)]),
        "nested": pa.array([{"a": i} for i in range(ROWS)], pa.struct([("a", pa.int32())])),
    }
)


def source_config(moto: MotoS3Server) -> dict[str, Any]:
    return {
        "name": "lake",
        "type": "s3_hudi",
        "properties": {
            "bucket": "meta",
            "prefix": "warehouse/",
            "endpoint_url": moto.endpoint_url,
            "aws_access_key_id": "testing",
            "aws_secret_access_key": "testing",
        },
    }


def expected(column: str) -> tuple[int, Any, Any]:
    values = TABLE.column(column)
    low, high = pc.min_max(values)["min"].as_py(), pc.min_max(values)["max"].as_py()
    return values.null_count, low, high


def test_footer_statistics_cover_the_whole_table_and_say_so() -> None:
    with MotoS3Server() as moto:
        s3 = moto.s3_client()
        s3.create_bucket(Bucket="meta")
        write_table(LakeTarget.s3(s3, "meta"), "warehouse/t", TABLE, record_key="id")
        columns = TABLE.column_names
        with get_source(SourceConfig.model_validate(source_config(moto))) as source:
            stats = source.table_statistics("s3://meta/warehouse/t", columns)
            sample = collect_sample(source.fetch_sample("s3://meta/warehouse/t", 5, columns), 5)
    assert stats is not None and (stats.row_count, stats.exact) == (ROWS, True)
    assert "nested" not in stats.columns  # nested leaves have no top-level footer figures
    nulls, low, high = expected("amount")
    assert (stats.columns["amount"].null_count, stats.columns["amount"].min) == (nulls, float(low))
    assert stats.columns["amount"].max == float(high)
    nulls, low, high = expected("name")
    assert (stats.columns["name"].null_count, stats.columns["name"].min) == (nulls, low)
    assert stats.columns["day"].min == expected("day")[1].isoformat()

    profile = profile_table("svc.db.s.t", sample, statistics=stats)
    assert (profile.row_count, profile.row_count_exact, profile.sample_rows) == (ROWS, True, 5)
    assert profile.metadata_origin and "Parquet footers of 1 base file" in profile.metadata_origin
    by_name = {c.name: c for c in profile.columns}
    name = by_name["name"]
    assert name.null_count == expected("name")[0]  # the whole table, not the 5-row sample
    assert name.null_proportion == expected("name")[0] / ROWS
    assert name.computed_by["null_count"] == "metadata" and name.computed_by["min"] == "metadata"
    sample_ids = sample.column("id").to_pylist()
    assert by_name["id"].distinct_count == len(set(sample_ids))  # still from the sample
    assert by_name["id"].computed_by["distinct_count"] != "metadata"
    assert (by_name["id"].min, by_name["id"].max) == (0, ROWS - 1)


def test_metadata_only_profile_reads_no_rows(om_env: Any, tmp_path: Path) -> None:
    with MotoS3Server() as moto:
        s3 = moto.s3_client()
        s3.create_bucket(Bucket="meta")
        write_table(LakeTarget.s3(s3, "meta"), "warehouse/t", TABLE, record_key="id")
        config = tmp_path / "meta.yaml"
        config.write_text(
            yaml.safe_dump(
                {
                    "metadata": {"name": "meta"},
                    "openmetadata": {"host": "${OM_HOST}", "jwt_token": "${OM_JWT}"},
                    "audit": {"output_dir": str(tmp_path / "audit")},
                    "profiling": {
                        "enabled": True,
                        "sample_rows": 0,
                        "suggest_expectations": True,
                        "storage": {"base_path": str(tmp_path / "profiles")},
                    },
                    "sources": [source_config(moto)],
                    "entities": [
                        {
                            "type": "table",
                            "discovery": {"source": "lake"},
                            "properties": {"database_schema": "svc.db.s"},
                        }
                    ],
                }
            )
        )
        (summary,) = ingest(str(config))["profiles"]
        # sample_percentage: a share of the row count the footers give.
        by_share = yaml.safe_load(config.read_text())
        del by_share["profiling"]["sample_rows"]
        by_share["profiling"]["sample_percentage"] = 25
        by_share["sources"][0]["properties"]["full_refresh"] = True  # the table is unchanged
        shared = tmp_path / "share.yaml"
        shared.write_text(yaml.safe_dump(by_share))
        (quarter,) = ingest(str(shared))["profiles"]
        assert quarter["rows"] == ROWS // 4
    stored = json.loads(Path(summary["file"]).read_text())
    assert (stored["row_count"], stored["sample_rows"]) == (ROWS, 0)
    columns = {c["name"]: c for c in stored["columns"]}
    assert columns["amount"]["null_count"] == expected("amount")[0]
    assert columns["amount"]["computed_by"]["max"] == "metadata"
    assert "metadata-only" in columns["amount"]["not_computed"]["distinct_count"]
    # No footer figures for a struct, and no rows read: nothing invented.
    assert columns["nested"]["null_count"] is None
    assert "metadata-only" in columns["nested"]["not_computed"]["null_count"]
    assert summary["pushed"] is True
    # The suggested suite rests on whole-table figures even without a sample.
    suite = json.loads(Path(summary["expectations"]).read_text())
    kwargs = {(e["type"], e["kwargs"]["column"]): e["kwargs"] for e in suite["expectations"]}
    assert ("expect_column_values_to_not_be_null", "id") in kwargs
    assert ("expect_column_values_to_not_be_null", "amount") not in kwargs  # it has nulls
    id_range = kwargs[("expect_column_values_to_be_between", "id")]
    assert (id_range["min_value"], id_range["max_value"]) == (0, ROWS - 1)
    from metadata.generated.schema.entity.data.table import Table

    from om_ingest.sandbox.testing import make_sdk_client
    from tests.conftest import JWT

    table = make_sdk_client(om_env.url, JWT).get_latest_table_profile("svc.db.s.t")
    assert table.profile.rowCount == ROWS
    amount = next(c for c in table.columns if c.name.root == "amount")
    assert amount.profile.valuesCount == ROWS - expected("amount")[0]
    assert amount.profile.max == float(expected("amount")[2])
    assert isinstance(table, Table)


def test_sample_rows_and_percentage_exclude_each_other(tmp_path: Path) -> None:
    from om_ingest.config import load_config
    from om_ingest.errors import ConfigError

    path = tmp_path / "both.yaml"
    path.write_text(
        "openmetadata: {host: http://x, jwt_token: t}\n"
        "profiling: {enabled: true, sample_rows: 10, sample_percentage: 5}\n"
    )
    try:
        load_config(path)
    except ConfigError as exc:
        assert f"{path}:2 profiling: " in str(exc) and "not both" in str(exc)
    else:
        raise AssertionError("sample_rows with sample_percentage must be a config error")
