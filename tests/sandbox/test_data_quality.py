"""OM's data quality model through the SDK (TestDefinition/TestSuite/TestCase resources):
FQNs from the entity link, the table's basic suite created with its first case, a PUT that
updates rather than duplicates, results per timestamp with the latest on the case, and OM's
validation messages."""

from __future__ import annotations

from typing import Any

import pytest
from metadata.generated.schema.api.tests.createTestCase import CreateTestCaseRequest
from metadata.generated.schema.api.tests.createTestDefinition import (
    CreateTestDefinitionRequest,
)
from metadata.generated.schema.tests.basic import TestCaseResult
from metadata.generated.schema.tests.testCase import TestCase
from metadata.generated.schema.tests.testDefinition import TestDefinition
from metadata.generated.schema.tests.testSuite import TestSuite
from metadata.ingestion.ometa.client import APIError
from metadata.utils.entity_link import get_entity_link

from tests.sandbox.om_helpers import put_table

TS = 1_700_000_000_000


def definition(client: Any, name: str, entity_type: str, platform: str, params: list[str]) -> Any:
    return client.create_or_update(
        CreateTestDefinitionRequest.model_validate(
            {
                "name": name,
                "description": name,
                "entityType": entity_type,
                "testPlatforms": [platform],
                "parameterDefinition": [{"name": p, "required": True} for p in params],
            }
        )
    )


def case(client: Any, name: str, link: str, definition_fqn: str, **params: Any) -> Any:
    return client.create_or_update(
        CreateTestCaseRequest.model_validate(
            {
                "name": name,
                "entityLink": link,
                "testDefinition": definition_fqn,
                "parameterValues": [{"name": k, "value": str(v)} for k, v in params.items()],
            }
        )
    )


def result(ts: int, status: str) -> TestCaseResult:
    return TestCaseResult.model_validate(
        {
            "timestamp": ts,
            "testCaseStatus": status,
            "testResultValue": [{"name": "unexpected_count", "value": "3"}],
        }
    )


def test_cases_results_and_the_basic_suite(client: Any, unique: str) -> None:
    from metadata.generated.schema.entity.data.table import Table

    table = put_table(client, unique)
    table_fqn = table.fullyQualifiedName.root
    column_def = f"{unique}expect_column_values_to_not_be_null"
    table_def = f"{unique}expect_table_row_count_to_be_between"
    assert definition(client, column_def, "COLUMN", "GreatExpectations", ["column"])
    found = client.get_by_name(TestDefinition, column_def)
    assert found.fullyQualifiedName.root == column_def
    definition(client, table_def, "TABLE", "GreatExpectations", ["min_value"])

    column_link = get_entity_link(Table, fqn=table_fqn, column_name="id")
    created = case(client, "id_not_null", column_link, column_def, column="id")
    assert created.fullyQualifiedName.root == f"{table_fqn}.id.id_not_null"
    table_case = case(client, "rows", get_entity_link(Table, fqn=table_fqn), table_def, min_value=1)
    assert table_case.fullyQualifiedName.root == f"{table_fqn}.rows"
    assert created.testSuite.fullyQualifiedName == f"{table_fqn}.testSuite"
    # the same name again updates the case, never a second one
    again = case(client, "id_not_null", column_link, column_def, column="id", mostly=0.9)
    assert again.id == created.id
    assert {p.name for p in again.parameterValues} == {"column", "mostly"}

    fqn = created.fullyQualifiedName.root
    client.add_test_case_results(result(TS, "Failed"), fqn)
    client.add_test_case_results(result(TS, "Success"), fqn)  # same timestamp: replaced
    client.add_test_case_results(result(TS + 1, "Failed"), fqn)
    history = client.get_test_case_results(fqn, TS - 1, TS + 10)
    assert [(r.timestamp.root, r.testCaseStatus.value) for r in history] == [
        (TS + 1, "Failed"),
        (TS, "Success"),
    ]
    latest = client.get_by_name(TestCase, fqn, fields=["testCaseResult", "testDefinition"])
    assert latest.testCaseResult.testCaseStatus.value == "Failed"
    assert latest.testDefinition.fullyQualifiedName == column_def
    suite = client.get_by_name(TestSuite, f"{table_fqn}.testSuite", fields=["tests"])
    assert suite.basic is True
    assert sorted(t.fullyQualifiedName for t in suite.tests) == sorted(
        [fqn, table_case.fullyQualifiedName.root]
    )


def test_om_validation_of_test_cases(client: Any, unique: str) -> None:
    from metadata.generated.schema.entity.data.table import Table

    table_fqn = put_table(client, unique).fullyQualifiedName.root
    column_def = f"{unique}columnCheck"
    definition(client, column_def, "COLUMN", "OpenMetadata", ["limit"])
    table_link = get_entity_link(Table, fqn=table_fqn)
    with pytest.raises(APIError, match="Column test case must have a field name") as no_column:
        case(client, "c1", table_link, column_def, limit=1)
    assert no_column.value.code == 400
    with pytest.raises(APIError) as ghost_column:
        case(client, "c2", get_entity_link(Table, fqn=table_fqn, column_name="ghost"), column_def)
    assert ghost_column.value.code in (400, 404)
    link = get_entity_link(Table, fqn=table_fqn, column_name="id")
    with pytest.raises(APIError, match="is not defined in the test definition") as unknown:
        case(client, "c3", link, column_def, limit=1, other=2)
    assert unknown.value.code == 400
    with pytest.raises(APIError, match="Required parameter limit") as missing:
        client.create_or_update(
            CreateTestCaseRequest.model_validate(
                {
                    "name": "c4",
                    "entityLink": link,
                    "testDefinition": column_def,
                    "parameterValues": [],
                }
            )
        )
    assert missing.value.code == 400
    with pytest.raises(APIError) as no_definition:
        case(client, "c5", link, f"{unique}nothing", limit=1)
    assert no_definition.value.code == 404
    with pytest.raises(APIError) as no_table:
        case(client, "c6", get_entity_link(Table, fqn=f"{table_fqn}_gone"), column_def)
    assert no_table.value.code == 404
