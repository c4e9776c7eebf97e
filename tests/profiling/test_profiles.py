"""Profiles computed by Great Expectations, checked against pyarrow computed independently."""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hudi import HudiTableBuilder

from om_ingest.profiling.data_profiler import collect_sample, profile_table
from om_ingest.profiling.openmetadata import to_om_profile
from om_ingest.profiling.storage import ProfileStorage
from tests.conftest import SHARED

SAMPLE = pa.table(
    {
        "i": pa.array([5, None, 3, 3, 10, -2], pa.int64()),
        "f": pa.array([0.5, 1.5, None, 2.5, 2.5, 9.0]),
        "d": pa.array(
            [
                Decimal("1.50"),
                Decimal("2.25"),
                None,
                Decimal("4.00"),
                Decimal("4.00"),
                Decimal("0.10"),
            ],
            pa.decimal128(8, 2),
        ),
        "s": pa.array(["a", "bbb", None, "a", "cc", "a"]),
        "b": pa.array([True, False, None, True, True, True]),
        "dt": pa.array(
            [
                date(2024, 1, 3),
                None,
                date(2024, 1, 1),
                date(2024, 2, 1),
                date(2024, 1, 1),
                date(2023, 12, 31),
            ]
        ),
        "st": pa.array(
            [{"x": 1}, None, {"x": 2}, {"x": 3}, None, {"x": 1}], pa.struct([("x", pa.int32())])
        ),
        "l": pa.array([[1], [], None, [1, 2, 3], [4], None], pa.list_(pa.int64())),
        "m": pa.array(
            [[("k", 1)], None, [], None, None, [("a", 2), ("b", 3)]],
            pa.map_(pa.string(), pa.int64()),
        ),
        "bin": pa.array([b"x", None, b"yy", b"", b"z", b"q"]),
    }
)


@pytest.fixture(scope="module")
def profile() -> dict[str, object]:
    result = profile_table("svc.db.sch.t", SAMPLE)
    return {c.name: c for c in result.columns} | {"__table__": result}


def test_numeric_metrics_match_pyarrow(profile: dict[str, object]) -> None:
    for name in ("i", "f", "d"):
        column = profile[name]
        values = [float(v) for v in SAMPLE.column(name).to_pylist() if v is not None]
        assert column.null_count == SAMPLE.column(name).null_count  # type: ignore[attr-defined]
        assert column.null_proportion == pytest.approx(
            SAMPLE.column(name).null_count / SAMPLE.num_rows
        )  # type: ignore[attr-defined]
        assert column.distinct_count == len(set(values))  # type: ignore[attr-defined]
        assert column.min == pytest.approx(min(values)) and column.max == pytest.approx(max(values))  # type: ignore[attr-defined]
        assert column.mean == pytest.approx(statistics.fmean(values))  # type: ignore[attr-defined]
        assert column.stddev == pytest.approx(statistics.stdev(values))  # type: ignore[attr-defined]
        assert column.median == pytest.approx(statistics.median(values)) or column.median in values  # type: ignore[attr-defined]
        assert set(column.quantiles) == {"25", "50", "75"}  # type: ignore[attr-defined]
        assert all(min(values) <= q <= max(values) for q in column.quantiles.values())  # type: ignore[attr-defined]
        assert sum(column.histogram["frequencies"]) == len(values)  # type: ignore[attr-defined]
        assert column.computed_by["mean"] == "gx"  # type: ignore[attr-defined]


def test_strings_bools_dates_and_nested(profile: dict[str, object]) -> None:
    s = profile["s"]
    lengths = pc.utf8_length(SAMPLE.column("s"))
    assert (s.min_length, s.max_length) == (pc.min(lengths).as_py(), pc.max(lengths).as_py())  # type: ignore[attr-defined]
    assert s.top_values[0] == ("a", 3) and s.distinct_count == 3  # type: ignore[attr-defined]
    assert "mean" in s.not_computed  # type: ignore[attr-defined]
    dt = profile["dt"]
    assert dt.min.startswith("2023-12-31") and dt.max.startswith("2024-02-01")  # type: ignore[attr-defined]
    assert "quantiles" in dt.not_computed  # type: ignore[attr-defined]
    assert profile["b"].distinct_count == 2  # type: ignore[attr-defined]
    for name in ("st", "l", "m", "bin"):
        column = profile[name]
        assert (
            column.null_count == SAMPLE.column(name).null_count
            and column.computed_by["null_count"] == "pyarrow"
        )  # type: ignore[attr-defined]
        assert "distinct_count" in column.not_computed and "min" in column.not_computed  # type: ignore[attr-defined]
    assert (profile["l"].min_length, profile["l"].max_length) == (0, 3)  # type: ignore[attr-defined]


def test_om_request_carries_the_same_values(profile: dict[str, object]) -> None:
    request = to_om_profile(profile["__table__"])  # type: ignore[arg-type]
    # a sample without the table's count: its size is the profile sample, not the rowCount
    assert (
        request.tableProfile.rowCount is None
        and request.tableProfile.profileSample == SAMPLE.num_rows
        and request.tableProfile.columnCount == SAMPLE.num_columns
    )
    by_name = {c.name: c for c in request.columnProfile}
    assert by_name["i"].mean == pytest.approx(profile["i"].mean) and by_name["i"].nullCount == 1  # type: ignore[attr-defined]
    assert by_name["s"].histogram.boundaries[0] == "a"


def test_metric_and_column_selection() -> None:
    result = profile_table(
        "t", SAMPLE, include=["i", "s"], exclude=["s"], metrics=["null_count", "min"]
    )
    assert [c.name for c in result.columns] == ["i"]
    assert (
        result.columns[0].min == -2
        and result.columns[0].mean is None
        and result.columns[0].histogram is None
    )


def test_sampling_stops_pulling_batches_at_the_cap() -> None:
    pulled = []

    def batches() -> Iterator[pa.RecordBatch]:
        for i in range(100):
            pulled.append(i)
            yield pa.record_batch({"x": pa.array(range(10))})

    sample = collect_sample(batches(), 25)
    assert sample.num_rows == 25 and len(pulled) == 3


def test_storage_latest_and_retention(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    storage = ProfileStorage(tmp_path)
    base = datetime(2026, 1, 1, tzinfo=UTC)
    for day in range(4):
        storage.save("data", 'svc."a.b".t', {"row_count": day}, when=base + timedelta(days=day))
    assert storage.load_latest("data", 'svc."a.b".t')["row_count"] == 3  # type: ignore[index]
    removed = storage.apply_retention(keep_last=2)
    assert len(removed) == 2 and [storage.load_latest("data", 'svc."a.b".t')["row_count"]] == [3]  # type: ignore[index]
    assert len(storage.snapshots("data", 'svc."a.b".t')) == 2


FIXTURES = SHARED / "fixtures" / "hudi"


@pytest.mark.skipif(not FIXTURES.is_dir(), reason=f"shared Hudi fixtures not found at {FIXTURES}")
def test_every_fixture_profiles_without_crashing(tmp_path: Path) -> None:
    import zipfile

    for zip_path in sorted(FIXTURES.glob("*.zip")):
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(tmp_path / zip_path.stem)
        table_dir = next(
            p.parent.parent
            for p in (tmp_path / zip_path.stem).rglob("hoodie.properties")
            if "__MACOSX" not in str(p)
        )
        hudi = HudiTableBuilder.from_base_uri(str(table_dir)).build()
        batches = hudi.read()
        data = (
            pa.Table.from_batches(batches)
            if batches
            else hudi.get_schema_with_meta_fields().empty_table()
        )
        result = profile_table(zip_path.stem, data)
        assert result.row_count == data.num_rows
        for column in result.columns:
            assert column.null_count == data.column(column.name).null_count, (
                zip_path.name,
                column.name,
            )


def test_suggested_suite_passes_on_its_data_and_catches_drift() -> None:
    import great_expectations as gx

    from om_ingest.profiling.expectations import suggest_suite

    notes = [f"note {i}" for i in range(12)]
    good = pa.table(
        {
            "id": pa.array(range(1, 13), pa.int64()),
            "amount": pa.array([1.5, 2.0, None, 9.0] * 3),
            "status": pa.array(["new", "paid", "new", "void"] * 3),
            "note": pa.array(notes),
        }
    )
    suite = suggest_suite(profile_table("svc.db.s.orders", good))
    found = {(e["type"], e["kwargs"]["column"]): e["kwargs"] for e in suite["expectations"]}
    assert set(found) == {
        ("expect_column_values_to_not_be_null", "id"),
        ("expect_column_values_to_be_between", "id"),
        ("expect_column_values_to_be_between", "amount"),  # has nulls: no not-null
        ("expect_column_values_to_not_be_null", "status"),
        ("expect_column_values_to_be_in_set", "status"),
        ("expect_column_values_to_not_be_null", "note"),  # 12 distinct: no value set
    }
    assert found[("expect_column_values_to_be_between", "amount")] == {
        "column": "amount",
        "min_value": 1.5,
        "max_value": 9.0,
    }
    assert found[("expect_column_values_to_be_in_set", "status")]["value_set"] == [
        "new",
        "paid",
        "void",
    ]

    def failing(table: pa.Table) -> set[tuple[str, str]]:
        context = gx.get_context(mode="ephemeral")
        batch = (
            context.data_sources.add_pandas("check")
            .add_dataframe_asset("t")
            .add_batch_definition_whole_dataframe("all")
            .get_batch(batch_parameters={"dataframe": table.to_pandas()})
        )
        loaded = gx.ExpectationSuite(name=suite["name"], expectations=suite["expectations"])
        return {
            (r.expectation_config.type, r.expectation_config.kwargs["column"])
            for r in batch.validate(loaded).results
            if not r.success
        }

    assert failing(good) == set()
    drifted = good.set_column(0, "id", pa.array([None, *range(2, 13)], pa.int64()))
    drifted = drifted.set_column(2, "status", pa.array(["new", "lost", *["new"] * 10]))
    assert failing(drifted) == {
        ("expect_column_values_to_not_be_null", "id"),
        ("expect_column_values_to_be_in_set", "status"),
    }
