"""S3 Hudi discovery against moto over HTTP with the real Spark-written fixtures."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from om_ingest.config.models import EntityConfig, SourceConfig
from om_ingest.errors import SourceError
from om_ingest.sources import DiscoveredEntity, DiscoveryFailure, get_source
from om_ingest.sources.arrow_types import om_data_type
from om_ingest.sources.s3_hudi.connector import S3HudiSource
from om_ingest.testing.moto_s3 import MotoS3Server, upload_fixture_zip
from tests.conftest import SHARED

FIXTURES = SHARED / "fixtures" / "hudi"
SECRET_KEY = "aws-SECRET-key-9d1e77"
pytestmark = pytest.mark.skipif(
    not FIXTURES.is_dir(), reason=f"shared Hudi fixtures not found at {FIXTURES}"
)

ARROW_TO_OM = {
    "int32": "INT",
    "int64": "BIGINT",
    "string": "STRING",
    "double": "DOUBLE",
    "float": "FLOAT",
    "bool": "BOOLEAN",
    "binary": "BINARY",
    "date32[day]": "DATE",
    "timestamp[us, tz=UTC]": "TIMESTAMPZ",
}


@pytest.fixture(scope="module")
def lake() -> Iterator[MotoS3Server]:
    with MotoS3Server() as moto:
        client = moto.s3_client()
        client.create_bucket(Bucket="lake")
        for zip_path in sorted(FIXTURES.glob("*.zip")):
            upload_fixture_zip(client, "lake", zip_path, f"warehouse/{zip_path.stem}")
        # A directory that looks like a table but has no hoodie.properties.
        client.put_object(
            Bucket="lake", Key="warehouse/broken/.hoodie/20240101000000000.commit", Body=b"{"
        )
        yield moto


def source(moto: MotoS3Server, **extra: Any) -> Any:
    props = {
        "bucket": "lake",
        "prefix": "warehouse/",
        "endpoint_url": moto.endpoint_url,
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
        **extra,
    }
    return get_source(SourceConfig(name="lake", type="s3_hudi", properties=props))


def discover(moto: MotoS3Server, filter_: dict[str, Any] | None = None, **extra: Any) -> list[Any]:
    template = EntityConfig.model_validate(
        {"type": "table", "discovery": {"source": "lake", "filter": filter_ or {}}}
    )
    return list(source(moto, **extra).discover_entities(template))


def test_every_fixture_matches_expected_json(lake: MotoS3Server) -> None:
    expected = json.loads((FIXTURES / "expected.json").read_text())
    found = {t.location.split("/")[4]: t for t in discover(lake) if isinstance(t, DiscoveredEntity)}
    assert set(found) == {Path(name).stem for name in expected}
    for zip_name, facts in expected.items():
        table = found[Path(zip_name).stem]
        props = table.entity.properties
        assert table.entity.name == facts["table_dir"]  # named after its directory
        assert props.custom_properties["hudi_table_name"] == facts["table_name"]
        assert [c.name for c in props.columns] == [c["name"] for c in facts["columns"]]
        for column, fact in zip(props.columns, facts["columns"], strict=True):
            arrow = fact["arrow_type"]
            if arrow.startswith("decimal128"):
                precision, scale = (int(x) for x in arrow[len("decimal128(") : -1].split(","))
                assert (column.data_type, column.precision, column.scale) == (
                    "DECIMAL",
                    precision,
                    scale,
                )
            elif arrow.startswith("list<"):
                assert (
                    column.data_type == "ARRAY"
                    and column.array_data_type == "STRUCT"
                    and column.children
                )
            elif arrow in ARROW_TO_OM:
                assert column.data_type == ARROW_TO_OM[arrow], column.name
        assert props.custom_properties["hudi_table_type"] == facts["table_type"]
        assert props.custom_properties["hudi_table_version"] == str(facts["table_version"])
        assert props.custom_properties["hudi_commit_count"] == facts["completed_instants"]
        assert props.custom_properties.get("hudi_last_commit_time") == facts["latest_commit"]
        assert table.latest_commit == facts["latest_commit"]
        assert props.partition_columns == facts["partition_fields"]
        assert [c.columns for c in props.table_constraints] == [facts["record_key_fields"]]
        assert props.location_path == table.location and table.location.startswith(
            "s3://lake/warehouse/"
        )


def test_last_commit_completion_time_comes_from_the_timeline(lake: MotoS3Server) -> None:
    """Hudi >= 1.0 names a completed instant `<start>_<completion>.<action>` under
    `.hoodie/timeline/`; an older table's commit file's LastModified stands in (both read
    here straight from S3, beside the source's own listing)."""
    client = lake.s3_client()
    checked = set()
    for table in discover(lake):
        if not isinstance(table, DiscoveredEntity) or table.latest_commit is None:
            continue
        facts = table.entity.properties.custom_properties
        hoodie = table.location.removeprefix("s3://lake/") + "/.hoodie/"
        keys = {
            obj["Key"]: obj["LastModified"]
            for page in client.get_paginator("list_objects_v2").paginate(
                Bucket="lake", Prefix=hoodie
            )
            for obj in page.get("Contents", [])
        }
        named = [
            k.rsplit("/", 1)[1].split(".")[0].split("_")[1]
            for k in keys
            if k.startswith(f"{hoodie}timeline/{table.latest_commit}_")
        ]
        legacy = [
            when
            for k, when in keys.items()
            if k.rsplit("/", 1)[1].split(".")[0] == table.latest_commit
            and k.rsplit(".", 1)[1] in {"commit", "deltacommit", "replacecommit"}
        ]
        expected = named[0] if named else legacy[0].isoformat()
        assert facts["hudi_last_commit_completion_time"] == expected, table.location
        checked.add("named" if named else "legacy")
    assert checked == {"named", "legacy"}  # both layouts are among the fixtures


def test_configured_fields_win_over_the_sources_and_custom_properties_merge(
    lake: MotoS3Server,
) -> None:
    """What the discovery entity sets is kept on every table it finds, as for every
    discovered kind: its description and schema, and its custom properties next to the
    source's facts (the config's value wins for a key both set)."""
    template = EntityConfig.model_validate(
        {
            "type": "table",
            "discovery": {"source": "lake", "filter": {}},
            "properties": {
                "description": "Curated by the data team",
                "database_schema": "lakehouse.raw.curated",
                "custom_properties": {"steward": "ana", "hudi_table_type": "declared"},
            },
        }
    )
    tables = [
        t for t in source(lake).discover_entities(template) if isinstance(t, DiscoveredEntity)
    ]
    assert tables
    for table in tables:
        props = table.entity.properties
        assert props.description == "Curated by the data team"
        assert props.database_schema == "lakehouse.raw.curated"
        assert props.custom_properties["steward"] == "ana"
        assert props.custom_properties["hudi_table_type"] == "declared"
        assert props.custom_properties["hudi_table_name"]  # the source's facts are still there


def test_broken_table_fails_alone_naming_its_key(lake: MotoS3Server) -> None:
    items = discover(lake)
    failures = [i for i in items if isinstance(i, DiscoveryFailure)]
    assert [f.name for f in failures] == ["broken"]
    assert "s3://lake/warehouse/broken" in failures[0].error
    assert len([i for i in items if isinstance(i, DiscoveredEntity)]) == 8


def test_filters_and_max_tables(lake: MotoS3Server) -> None:
    names = {t.entity.name for t in discover(lake, {"include": ["v6_*"]})}
    assert names == {"v6_empty", "v6_nonpartitioned", "v6_simplekeygen_nonhivestyle"}
    names = {
        t.entity.name for t in discover(lake, {"include": ["*"], "exclude": ["*v9*", "broken"]})
    }
    assert names == {
        "v6_empty",
        "v6_nonpartitioned",
        "v6_simplekeygen_nonhivestyle",
        "v8_trips_8i3u1d",
        "v8_complexkeygen_hivestyle",
    }
    names = {t.entity.name for t in discover(lake, {"include": [r"v8_.*keygen"], "regex": True})}
    assert names == {"v8_complexkeygen_hivestyle"}
    assert len(discover(lake, {"max_tables": 3})) == 3


def test_incremental_marks_unchanged_tables(lake: MotoS3Server) -> None:
    first = [t for t in discover(lake) if isinstance(t, DiscoveredEntity)]
    known = {t.location: t.latest_commit for t in first if t.latest_commit}
    template = EntityConfig.model_validate({"type": "table", "discovery": {"source": "lake"}})
    again = [
        t
        for t in source(lake).discover_entities(template, known_commits=known)
        if isinstance(t, DiscoveredEntity)
    ]
    assert {t.entity.name for t in again if t.unchanged} == {
        t.entity.name for t in first if t.latest_commit
    }
    assert [t.entity.name for t in again if not t.unchanged] == ["v6_empty"]  # no commit yet
    forced = source(lake, full_refresh=True).discover_entities(template, known_commits=known)
    assert not any(getattr(t, "unchanged", False) for t in forced)


def test_unchanged_timeline_listing_skips_the_hudi_read(
    lake: MotoS3Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = [t for t in discover(lake) if isinstance(t, DiscoveredEntity) and t.latest_commit]
    known = {t.location: t.latest_commit for t in first if t.latest_commit}
    markers = {t.location: t.marker for t in first if t.marker}
    assert len(markers) == len(first)

    def no_read(*_: object) -> None:
        raise AssertionError("hudi-rs table built for an unchanged timeline")

    listed: list[str] = []
    list_dirs = S3HudiSource._list_dirs

    def recording(self: S3HudiSource, prefix: str) -> list[str]:
        listed.append(prefix)
        return list_dirs(self, prefix)

    monkeypatch.setattr(S3HudiSource, "_hudi_table", no_read)
    monkeypatch.setattr(S3HudiSource, "_list_dirs", recording)
    template = EntityConfig.model_validate({"type": "table", "discovery": {"source": "lake"}})
    again = list(
        source(lake).discover_entities(template, known_commits=known, known_markers=markers)
    )
    # a directory known as a table is not walked again: its timeline listing is the check
    assert not {f"s3://lake/{p.rstrip('/')}" for p in listed} & set(markers)
    unchanged = {t.entity.name: t.latest_commit for t in again if isinstance(t, DiscoveredEntity)}
    assert unchanged == {t.entity.name: t.latest_commit for t in first}
    # Only tables never remembered (no commit yet, or unreadable) needed a read.
    assert sorted(t.name for t in again if isinstance(t, DiscoveryFailure)) == [
        "broken",
        "v6_empty",
    ]


def test_sampling_never_exceeds_the_cap(lake: MotoS3Server) -> None:
    location = "s3://lake/warehouse/sample_table__cow__v9_txns_simple_meta/v9_txns_simple_meta"
    batches = list(source(lake).fetch_sample(location, 5, columns=["txn_id", "amount"]))
    assert sum(b.num_rows for b in batches) == 5
    assert batches[0].schema.names == ["txn_id", "amount"]


def test_listing_error_is_not_an_empty_lake(lake: MotoS3Server) -> None:
    missing = source(lake, bucket="no-such-bucket")
    template = EntityConfig.model_validate({"type": "table", "discovery": {"source": "lake"}})
    with pytest.raises(SourceError, match="no-such-bucket"):
        list(missing.discover_entities(template))


def test_secrets_stay_out_of_errors_and_repr(lake: MotoS3Server) -> None:
    bad = source(lake, bucket="no-such-bucket", aws_secret_access_key=SECRET_KEY)
    with pytest.raises(SourceError) as info:
        bad.validate_connection()
    assert SECRET_KEY not in str(info.value) and SECRET_KEY not in repr(bad.properties)


def test_nested_arrow_types_map_exactly() -> None:
    nested = pa.struct(
        [("a", pa.list_(pa.struct([("b", pa.map_(pa.string(), pa.decimal128(9, 3)))])))]
    )
    from om_ingest.sources.arrow_types import column_spec

    column = column_spec(pa.field("n", nested))
    assert column.data_type_display == "struct<a:array<struct<b:map<string,decimal(9,3)>>>>"
    child = column.children[0]
    assert (child.data_type, child.array_data_type) == ("ARRAY", "STRUCT")
    assert child.children[0].data_type == "MAP"
    assert (
        om_data_type(pa.timestamp("us")) == "TIMESTAMP"
        and om_data_type(pa.timestamp("us", "UTC")) == "TIMESTAMPZ"
    )
