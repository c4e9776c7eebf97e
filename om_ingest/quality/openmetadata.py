"""Contract validation outcomes as OpenMetadata test cases and results (the table's Data
Quality tab), the way OM's own Great Expectations action writes them: a test definition per
expectation type (platform GreatExpectations, its kwargs as parameters), a test case per
expectation named after its rule, linked to the table or the column, and one result per run.
A test case is PUT (created once, updated when its parameters change, never duplicated);
each run POSTs a new result at its own timestamp.
"""

from __future__ import annotations

import json
from typing import Any

from om_ingest.openmetadata import OMClient
from om_ingest.quality.validate import Outcome

EXCLUDED_KWARGS = frozenset({"column", "batch_id", "result_format", "catch_exceptions", "meta"})


def push_outcomes(
    client: OMClient, table_fqn: str, outcomes: list[Outcome], timestamp_ms: int, contract: str
) -> list[str]:
    """Write every outcome to OM; returns the test case FQNs."""
    from metadata.generated.schema.api.tests.createTestCase import CreateTestCaseRequest
    from metadata.generated.schema.entity.data.table import Table
    from metadata.generated.schema.tests.basic import TestCaseResult
    from metadata.utils.entity_link import get_entity_link

    written = []
    defined: set[str] = set()
    for outcome in outcomes:
        expectation = outcome.expectation
        params = {k: v for k, v in expectation.kwargs.items() if k not in EXCLUDED_KWARGS}
        if expectation.type not in defined:
            _ensure_definition(client, expectation.type, expectation.column is not None, params)
            defined.add(expectation.type)
        link = get_entity_link(Table, fqn=table_fqn, column_name=expectation.column)
        description = f"From data contract {contract}" + (
            f": {expectation.description}" if expectation.description else ""
        )
        case = client.create_or_update(
            CreateTestCaseRequest.model_validate(
                {
                    "name": expectation.name,
                    "description": description,
                    "entityLink": link,
                    "testDefinition": expectation.type,
                    "parameterValues": [
                        {"name": k, "value": v if isinstance(v, str) else json.dumps(v)}
                        for k, v in sorted(params.items())
                    ],
                }
            )
        )
        fqn = case.fullyQualifiedName.root
        result: dict[str, Any] = {
            "timestamp": timestamp_ms,
            "testCaseStatus": outcome.status,
            "testResultValue": [
                {"name": name, "value": _number(value)} for name, value in outcome.values.items()
            ],
        }
        if outcome.message:
            result["result"] = outcome.message
        client.add_test_case_result(fqn, TestCaseResult.model_validate(result))
        written.append(fqn)
    return written


def _ensure_definition(
    client: OMClient, expectation_type: str, column: bool, params: dict[str, Any]
) -> None:
    from metadata.generated.schema.api.tests.createTestDefinition import (
        CreateTestDefinitionRequest,
    )
    from metadata.generated.schema.tests.testDefinition import TestDefinition

    if client.get_by_name(TestDefinition, expectation_type) is not None:
        return
    client.create_or_update(
        CreateTestDefinitionRequest.model_validate(
            {
                "name": expectation_type,
                "description": expectation_type.replace("_", " "),
                "entityType": "COLUMN" if column else "TABLE",
                "testPlatforms": ["GreatExpectations"],
                "parameterDefinition": [{"name": name} for name in sorted(params)],
            }
        )
    )


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def push_contract_result(
    client: OMClient,
    contract_fqn: str,
    outcomes: list[Outcome],
    violations: list[str],
    schema_fields: int,
    timestamp_ms: int,
    unchecked: str = "",
) -> str | None:
    """The data contract's result of this run (its `latestResult` in OM): schema
    enforcement and quality checks together (`unchecked`: why no quality check ran, said in
    the result instead of the count). Its status, or None when OM has no contract."""
    from metadata.generated.schema.entity.data.dataContract import DataContract
    from metadata.generated.schema.entity.datacontract.dataContractResult import (
        DataContractResult,
    )

    contract = client.get_by_name(DataContract, contract_fqn)
    if contract is None:
        return None
    passed = sum(o.status == "Success" for o in outcomes)
    failed_fields = [line.split(":")[0] for line in violations]
    status = "Success" if passed == len(outcomes) and not violations else "Failed"
    checks = unchecked or f"{passed} of {len(outcomes)} quality checks passed"
    schema = f"{len(failed_fields)} schema violation(s)" if failed_fields else "schema as agreed"
    result = DataContractResult.model_validate(
        {
            "dataContractFQN": contract_fqn,
            "timestamp": timestamp_ms,
            "contractExecutionStatus": status,
            "result": f"{checks}; {schema}",
            "schemaValidation": {
                "passed": schema_fields - len(failed_fields),
                "failed": len(failed_fields),
                "total": schema_fields,
                "failedFields": failed_fields,
                "typeMismatchFields": [
                    line.split(":")[0] for line in violations if "the contract types it" in line
                ],
            },
            "qualityValidation": {
                "passed": passed,
                "failed": len(outcomes) - passed,
                "total": len(outcomes),
                "qualityScore": round(100 * passed / len(outcomes), 2) if outcomes else 100.0,
            },
        }
    )
    client.put_contract_result(str(contract.id.root), result)
    return status
