"""Source facts OM's enums lack never stop a table hudi-rs reads from ingesting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from flows.ingest import ingest
from om_ingest.config.om_types import DATA_TYPES, FILE_FORMATS
from om_ingest.sandbox.testing import make_sdk_client
from om_ingest.sources.arrow_types import om_data_type, om_enum_value
from om_ingest.testing.lake_writer import LakeTarget, write_table
from om_ingest.testing.moto_s3 import MotoS3Server
from tests.conftest import JWT
from tests.lake_configs import lake_config, write_config

SCHEMA = "lake_svc.warehouse.hudi"


def test_base_file_formats_om_lacks_are_custom_properties_not_file_formats(
    om_env: Any, tmp_path: Path
) -> None:
    from metadata.generated.schema.entity.data.table import Table

    formats = {"lance_t": "LANCE", "hfile_t": "HFILE", "parquet_t": "PARQUET"}
    assert "lance" not in FILE_FORMATS and "hfile" not in FILE_FORMATS
    rows = pa.table({"id": pa.array([1, 2], pa.int64()), "v": pa.array(["a", "b"])})
    with MotoS3Server() as moto:
        s3 = moto.s3_client()
        s3.create_bucket(Bucket="lake")
        for name, base_format in formats.items():
            write_table(
                LakeTarget.s3(s3, "lake"),
                f"warehouse/{name}",
                rows,
                record_key="id",
                base_file_format=base_format,
            )
        config = write_config(tmp_path, lake_config(tmp_path, moto, SCHEMA))
        assert ingest(config)["outcomes"] == {"success": 3 + len(formats)}
    sdk = make_sdk_client(om_env.url, JWT)
    for name, base_format in formats.items():
        table = sdk.get_by_name(Table, f"{SCHEMA}.{name}", fields=["columns", "extension"])
        assert [c.name.root for c in table.columns] == ["id", "v"]  # read by hudi-rs
        assert table.extension.root["hudi_base_file_format"] == base_format
        expected = "parquet" if base_format == "PARQUET" else None
        assert (table.fileFormat.value if table.fileFormat else None) == expected


@given(st.text(max_size=12), st.sampled_from(sorted(FILE_FORMATS)))
def test_enum_values_pass_only_when_om_has_them(value: str, known: str) -> None:
    assert om_enum_value(known, FILE_FORMATS) == known
    assert om_enum_value(value, FILE_FORMATS) == (value if value in FILE_FORMATS else None)


def test_every_arrow_type_maps_to_an_om_data_type() -> None:
    kinds = [
        pa.string_view(),
        pa.binary_view(),
        pa.large_list_view(pa.int8()),
        pa.run_end_encoded(pa.int32(), pa.string()),
        pa.month_day_nano_interval(),
        pa.dictionary(pa.int8(), pa.string()),
        pa.uint64(),
        pa.null(),
        pa.time64("ns"),
        pa.duration("s"),
    ]
    assert {om_data_type(kind) for kind in kinds} <= DATA_TYPES
