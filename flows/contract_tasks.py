"""Validate each contracted table's sample with its contract's GX suite and push the
outcomes to OpenMetadata's data quality model: a task per contract, after the entities are
written (and the profiles taken). A table the run did not leave in OM (failed, blocked) or
that has no source to sample (a declared table) is reported, not validated."""

from __future__ import annotations

import time
from typing import Any

from prefect import get_run_logger, task

from flows.entity_tasks import client_for, retries_for
from flows.profiling_tasks import profiling_for, read_sample, source_for
from om_ingest.config.models import ContractConfig, EntityConfig, IngestionConfig
from om_ingest.contracts.mapping import contract_name
from om_ingest.engine.results import EntityResult
from om_ingest.openmetadata.retry import call_with_retries
from om_ingest.planning import EntitySpec, entity_fqn, unpacked
from om_ingest.quality.row_counts import row_count_outcomes, split_row_counts, whole_table_rows


@task(name="validate-contract", task_run_name="validate {contract.table}")
def validate_contract_task(
    contract: ContractConfig,
    entity: EntityConfig,
    config: IngestionConfig,
    client_key: str,
    dry_run: bool,
    violations: list[str],
) -> dict[str, Any]:
    from om_ingest import fqns
    from om_ingest.quality.openmetadata import push_outcomes
    from om_ingest.quality.rules import contract_suite
    from om_ingest.quality.validate import run_expectations

    assert contract.document is not None
    name = contract_name(contract.document, contract.table, contract.name)
    suite = contract_suite(
        contract.document, fqns.unquoted_parts(contract.table)[-1], contract.suite
    )
    counts, sampled = split_row_counts(suite.expectations)
    with source_for(entity, config) as source:
        sample, statistics, rows = read_sample(
            entity, config, profiling_for(entity, config), source
        )
        counted = whole_table_rows(source, entity, statistics, rows) if counts else None
    outcomes = run_expectations(sampled, sample)
    whole, not_run = row_count_outcomes(counts, counted)
    outcomes += whole
    summary: dict[str, Any] = {
        "fqn": contract.table,
        "contract": name,
        "rows": sample.num_rows,
        "passed": sum(o.status == "Success" for o in outcomes),
        "failed": [o.expectation.name for o in outcomes if o.status == "Failed"],
        "aborted": [
            f"{o.expectation.name}: {o.message}" for o in outcomes if o.status == "Aborted"
        ],
        "not_run": suite.not_run + not_run,
        "whole_table_rows": counted[0] if counted else None,
        "test_cases": [],
    }
    if dry_run:
        summary["status"] = "not_pushed"
        summary["reason"] = "dry run"
        return summary
    client = client_for(client_key)
    now = int(time.time() * 1000)
    summary["test_cases"] = call_with_retries(
        lambda: push_outcomes(client, contract.table, outcomes, now, name),
        retries_for(client_key),
        f"validation results of {contract.table}",
    )
    summary["contract_result"] = _push_result(contract, name, client_key, outcomes, violations, now)
    summary["status"] = "pushed"
    return summary


def _push_result(
    contract: ContractConfig,
    name: str,
    client_key: str,
    outcomes: list[Any],
    violations: list[str],
    now: int,
    unchecked: str = "",
) -> str | None:
    from om_ingest import fqns
    from om_ingest.contracts.mapping import schema_object
    from om_ingest.quality.openmetadata import push_contract_result

    assert contract.document is not None
    fields = len(schema_object(contract.document, fqns.unquoted_parts(contract.table)[-1]))
    return call_with_retries(
        lambda: push_contract_result(
            client_for(client_key),
            f"{contract.table}.dataContract_{name}",
            outcomes,
            violations,
            fields,
            now,
            unchecked,
        ),
        retries_for(client_key),
        f"contract result of {contract.table}",
    )


@task(name="check-contract-schema", task_run_name="check the schema of {contract.table}")
def check_declared_schema(
    contract: ContractConfig, client_key: str, dry_run: bool, violations: list[str]
) -> dict[str, Any]:
    """A declared table has no rows to validate, but its contract's metadata facts (every
    field present, typed as agreed: the enforcement's `violations` against the declared
    columns) are checked: they are the contract's result in OM, its data rules not run."""
    assert contract.document is not None
    name = contract_name(contract.document, contract.table, contract.name)
    checked: dict[str, Any] = {"contract": name, "schema_violations": violations}
    if dry_run:
        return checked
    unchecked = "data rules not validated (a declared table has no source to sample)"
    now = int(time.time() * 1000)
    checked["contract_result"] = _push_result(
        contract, name, client_key, [], violations, now, unchecked
    )
    return checked


def validate_contracts(
    config: IngestionConfig,
    entities: list[EntitySpec],
    results: list[EntityResult],
    client_key: str,
    dry_run: bool,
) -> list[dict[str, Any]]:
    """One summary per contract: validated (and pushed), not validated and why, or failed."""
    if not config.contracts:
        return []
    ok = {r.fqn for r in results if r.in_openmetadata}
    tables: dict[str, EntityConfig] = {}
    by_fqn = {r.fqn: r for r in results}
    for spec in entities:
        entity = unpacked(spec)
        if entity.type.value == "table" and entity.discovery is None:
            tables[entity_fqn(entity)] = entity
    summaries = []
    for contract in config.contracts:
        found = tables.get(contract.table)
        base = {"fqn": contract.table, "contract": contract.name or contract.path}
        if contract.table not in ok or found is None:
            summaries.append(
                {
                    **base,
                    "status": "not_validated",
                    "reason": "the table is not in OpenMetadata after this run",
                }
            )
            continue
        violations = by_fqn[contract.table].contract_violations
        if not found.discovered_from:
            state = check_declared_schema(
                contract, client_key, dry_run, violations, return_state=True
            )
            checked = _value(state, base, contract.table)
            declared = {
                "status": "not_validated",
                "reason": "a declared table has no source to sample",
            }
            summaries.append({**base, **declared, **checked} if "error" not in checked else checked)
            continue
        state = validate_contract_task(
            contract, found, config, client_key, dry_run, violations, return_state=True
        )
        summaries.append(_value(state, base, contract.table))
    return summaries


def _value(state: Any, base: dict[str, Any], table: str) -> dict[str, Any]:
    """A task's summary, or `failed` with its error (a validation never fails the run)."""
    value = state.result(raise_on_failure=False)
    if not isinstance(value, dict):
        get_run_logger().warning("validating %s failed: %s", table, value)
        value = {**base, "status": "failed", "error": str(value) or type(value).__name__}
    return value
