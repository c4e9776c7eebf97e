"""A contracted table's sample validated with the contract's GX suite on each run, the
outcomes in OpenMetadata's data quality model: passed and failed expectations as test case
results, a re-run appending a result to the same test cases."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import yaml
from hypothesis import given
from hypothesis import strategies as st

from flows.ingest import ingest
from om_ingest.sandbox.testing import make_sdk_client
from om_ingest.testing.lake_writer import LakeTarget, write_table
from om_ingest.testing.moto_s3 import MotoS3Server
from tests.conftest import JWT
from tests.lake_configs import lake_config, write_config

TABLE = "svc.db.s.orders"
ODCS = {
    "apiVersion": "v3.0.2",
    "kind": "DataContract",
    "id": "orders-1",
    "name": "orders_contract",
    "version": "1.0.0",
    "schema": [
        {
            "name": "orders",
            "logicalType": "object",
            "quality": [{"type": "library", "metric": "rowCount", "mustBeGreaterThan": 0}],
            "properties": [
                {"name": "id", "logicalType": "integer", "required": True},
                {
                    "name": "amount",
                    "logicalType": "number",
                    "quality": [
                        {"metric": "nullValues", "mustBe": 0, "name": "amount_not_null"},
                        {
                            "type": "custom",
                            "engine": "great-expectations",
                            "name": "amount_positive",
                            "implementation": {
                                "type": "expect_column_values_to_be_between",
                                "kwargs": {"min_value": 0},
                            },
                        },
                    ],
                },
                {
                    "name": "status",
                    "logicalType": "string",
                    "quality": [
                        {
                            "metric": "invalidValues",
                            "mustBe": 0,
                            "arguments": {"validValues": ["open", "closed"]},
                        },
                        {"type": "sql", "query": "SELECT 1", "mustBe": 1, "name": "by_sql"},
                    ],
                },
            ],
        }
    ],
}


def contracted_lake(tmp_path: Path, moto: MotoS3Server, adopted: str | None = None) -> str:
    (tmp_path / "orders.odcs.yaml").write_text(yaml.safe_dump(ODCS))
    contract = {"path": "orders.odcs.yaml", "table": TABLE}
    config = lake_config(
        tmp_path,
        moto,
        "svc.db.s",
        properties={"full_refresh": True},
        profiling={
            "enabled": adopted is None,
            "suggest_expectations": True,
            "storage": {"base_path": str(tmp_path / "profiles")},
        },
        contracts=[{**contract, **({"expectations": adopted} if adopted else {})}],
    )
    return write_config(tmp_path, config)


def test_validation_results_reach_om_and_a_rerun_appends(om_env: Any, tmp_path: Path) -> None:
    from metadata.generated.schema.tests.testCase import TestCase
    from metadata.generated.schema.tests.testSuite import TestSuite

    rows = pa.table(
        {
            "id": pa.array([1, 2, 3, 4], pa.int64()),
            "amount": pa.array([5.0, None, 7.5, 1.0], pa.float64()),
            "status": pa.array(["open", "closed", "open", "open"]),
        }
    )
    with MotoS3Server() as moto:
        s3 = moto.s3_client()
        s3.create_bucket(Bucket="lake")
        write_table(LakeTarget.s3(s3, "lake"), "warehouse/orders", rows, record_key="id")
        first = ingest(contracted_lake(tmp_path, moto))
        # the suite the first run's profile drafted, adopted by the contract from now on
        (profile,) = first["profiles"]
        second = ingest(contracted_lake(tmp_path, moto, adopted=profile["expectations"]))
    (validation,) = first["validations"]
    assert validation["status"] == "pushed" and validation["rows"] == 4
    assert validation["failed"] == ["amount_not_null"]
    assert validation["not_run"] == ["by_sql: sql rules are not run by om-ingest"]
    cases = {
        f"{TABLE}.id.id_required": "Success",
        f"{TABLE}.amount.amount_not_null": "Failed",
        f"{TABLE}.amount.amount_positive": "Success",
        f"{TABLE}.status.status_invalidValues": "Success",
        f"{TABLE}.rowCount_0": "Success",
    }
    assert sorted(validation["test_cases"]) == sorted(cases)
    adopted = sorted(set(second["validations"][0]["test_cases"]) - set(cases))
    assert set(cases) <= set(second["validations"][0]["test_cases"])
    assert f"{TABLE}.id.adopted_column_values_to_not_be_null" in adopted
    assert f"{TABLE}.status.adopted_column_values_to_be_in_set" in adopted
    assert second["validations"][0]["failed"] == ["amount_not_null"]  # the draft fits its data
    client = make_sdk_client(om_env.url, JWT)
    for fqn, status in cases.items():
        case = client.get_by_name(TestCase, fqn, fields=["testCaseResult", "testDefinition"])
        assert case.testCaseResult.testCaseStatus.value == status, fqn
        history = client.get_test_case_results(fqn, 0, 2**42)
        assert [r.testCaseStatus.value for r in history] == [status, status]
    failed = client.get_test_case_results(f"{TABLE}.amount.amount_not_null", 0, 2**42)[0]
    values = {v.name: v.value for v in failed.testResultValue}
    assert values["unexpected_count"] == "1" and values["element_count"] == "4"
    suite = client.get_by_name(TestSuite, f"{TABLE}.testSuite", fields=["tests"])
    assert len(suite.tests) == len(cases) + len(adopted)  # results added, cases not repeated
    # the contract's own result: the latest run's schema and quality verdict
    from metadata.generated.schema.entity.data.dataContract import DataContract

    assert first["validations"][0]["contract_result"] == "Failed"
    contract = client.get_by_name(DataContract, f"{TABLE}.dataContract_orders_contract")
    assert contract.latestResult.status.value == "Failed"
    assert contract.latestResult.message == "9 of 10 quality checks passed; schema as agreed"
    results = client.get_data_contract_results(contract.id, limit=10)
    assert len(results) == 2
    assert results[0].qualityValidation.failed == 1 and results[0].schemaValidation.failed == 0


def test_row_count_rules_judge_the_whole_table_not_the_sample(om_env: Any, tmp_path: Path) -> None:
    """A 2-row sample of a 6-row table: `rowCount` bounds see all 6 rows (exact, from the
    Hudi table's Parquet footers); the null check runs on the sample."""
    document = {
        **ODCS,
        "schema": [
            {
                "name": "orders",
                "logicalType": "object",
                "quality": [
                    {"metric": "rowCount", "mustBe": 6, "name": "six_rows"},
                    {"metric": "rowCount", "mustBeLessThan": 3, "name": "few_rows"},
                ],
                "properties": [{"name": "id", "logicalType": "integer", "required": True}],
            }
        ],
    }
    (tmp_path / "orders.odcs.yaml").write_text(yaml.safe_dump(document))
    rows = pa.table({"id": pa.array(range(6), pa.int64())})
    with MotoS3Server() as moto:
        s3 = moto.s3_client()
        s3.create_bucket(Bucket="lake")
        write_table(LakeTarget.s3(s3, "lake"), "warehouse/orders", rows, record_key="id")
        config = lake_config(
            tmp_path,
            moto,
            "svc.db.s",
            properties={"full_refresh": True},
            profiling={"sample_rows": 2},
            contracts=[{"path": "orders.odcs.yaml", "table": TABLE}],
        )
        summary = ingest(write_config(tmp_path, config))
    (validation,) = summary["validations"]
    assert validation["rows"] == 2 and validation["whole_table_rows"] == 6
    assert validation["failed"] == ["few_rows"] and validation["not_run"] == []
    client = make_sdk_client(om_env.url, JWT)
    for name, status in (("six_rows", "Success"), ("few_rows", "Failed")):
        (result,) = client.get_test_case_results(f"{TABLE}.{name}", 0, 2**42)
        assert result.testCaseStatus.value == status
        assert {v.name: v.value for v in result.testResultValue}["observed_value"] == "6"


@given(
    rows=st.integers(0, 10**12),
    low=st.none() | st.integers(0, 10**12),
    high=st.none() | st.integers(0, 10**12),
)
def test_a_row_count_bound_holds_exactly_when_the_count_is_within_it(
    rows: int, low: int | None, high: int | None
) -> None:
    from om_ingest.quality.row_counts import ROW_COUNT, row_count_outcomes
    from om_ingest.quality.rules import PlannedExpectation

    kwargs = {k: v for k, v in (("min_value", low), ("max_value", high)) if v is not None}
    rule = PlannedExpectation("bound", ROW_COUNT, kwargs)
    (outcome,), not_run = row_count_outcomes([rule], (rows, "a count"))
    inside = (low is None or rows >= low) and (high is None or rows <= high)
    assert outcome.status == ("Success" if inside else "Failed") and not_run == []
    assert outcome.values == {"observed_value": float(rows)}
    # a source that cannot count exactly: the rule is not run, with the reason
    assert row_count_outcomes([rule], None) == (
        [],
        ["bound: needs every row: the source cannot count them exactly and cheaply"],
    )


def test_a_declared_tables_contract_checks_its_schema_facts(om_env: Any, tmp_path: Path) -> None:
    """No source to sample: the data rules are not validated, but the contract's fields are
    checked against the declared columns and that is the contract's result in OM."""
    from metadata.generated.schema.entity.data.dataContract import DataContract

    from tests.contracts.helpers import COLUMNS, contract_config, odcs
    from tests.contracts.helpers import TABLE as DECLARED

    retyped = [
        {"name": c["name"], "data_type": "STRING" if c["name"] == "amount" else c["data_type"]}
        for c in COLUMNS
    ]
    summary = ingest(contract_config(tmp_path, odcs(), columns=retyped))
    (validation,) = summary["validations"]
    assert validation["status"] == "not_validated"
    assert validation["reason"] == "a declared table has no source to sample"
    assert validation["schema_violations"] == [
        "amount: the contract types it number, the table STRING"
    ]
    assert validation["contract_result"] == "Failed"
    client = make_sdk_client(om_env.url, JWT)
    contract = client.get_by_name(DataContract, f"{DECLARED}.dataContract_orders_contract")
    assert contract.latestResult.message == (
        "data rules not validated (a declared table has no source to sample); 1 schema violation(s)"
    )
    (result,) = client.get_data_contract_results(contract.id, limit=10)
    assert result.schemaValidation.failed == 1 and result.schemaValidation.total == 3
    assert result.qualityValidation.total == 0
    assert result.schemaValidation.typeMismatchFields == ["amount"]
