"""Turn the config's `contracts:` into `data_contract` entities when the config loads.

Each ODCS file is read (relative to the config) and validated; its mapping becomes one more
entity of the plan, so the contract is created, compared, updated, skipped, previewed and
audited exactly like a declared `data_contract`. Errors in the mapped entity point at the
`contracts[i]` entry that produced it.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from om_ingest import fqns
from om_ingest.config.models import ContractConfig, EntityConfig, EntityType
from om_ingest.contracts.mapping import contract_name, contract_properties, gate
from om_ingest.contracts.odcs import load_odcs

if TYPE_CHECKING:
    from om_ingest.config.loader import LoadedConfig
    from om_ingest.contracts.mapping import ContractGate


def with_contracts(loaded: LoadedConfig) -> LoadedConfig:
    """`loaded` with each contract's document attached and its data contract entity added."""
    config = loaded.config
    if not config.contracts:
        return loaded
    lines = dict(loaded.lines)
    entities = list(config.entities)
    contracts: list[ContractConfig] = []
    for index, contract in enumerate(config.contracts):
        at = ("contracts", index)
        try:
            table = fqns.normalize(contract.table)
        except ValueError as exc:
            raise loaded.error((*at, "table"), str(exc)) from None
        if any(c.table == table for c in contracts):
            raise loaded.error(
                (*at, "table"), f"{table} has a contract already (OM keeps one per entity)"
            )
        file, line = loaded.locate((*at, "path"))
        odcs_file = loaded.path.parent / contract.path
        document = load_odcs(
            odcs_file, {"file": file, "line": line, "path": f"contracts[{index}].path"}
        )
        position = len(entities)
        lines[("entities", position)] = lines.get(at, (file, line or 1))
        data = {
            "type": EntityType.DATA_CONTRACT.value,
            "name": contract_name(document, table, contract.name),
            "properties": contract_properties(document, table),
            **({"idempotency": contract.idempotency} if contract.idempotency else {}),
        }
        entity = replace(loaded, lines=lines).validate_at(EntityConfig, data, at)
        entities.append(entity)
        suite = _adopted_suite(loaded, contract, at) if contract.expectations else None
        contracts.append(
            contract.model_copy(update={"document": document, "table": table, "suite": suite})
        )
    updated = config.model_copy(update={"entities": entities, "contracts": contracts})
    return replace(loaded, config=updated, lines=lines)


def gates_for(contracts: list[ContractConfig]) -> dict[str, ContractGate]:
    """Schema enforcement of each contracted table, by table FQN."""
    return {
        c.table: gate(
            c.document, c.table, contract_name(c.document, c.table, c.name), c.enforcement
        )
        for c in contracts
        if c.document is not None
    }


def _adopted_suite(
    loaded: LoadedConfig, contract: ContractConfig, at: tuple[str | int, ...]
) -> Any:
    """The GX suite a contract adopts: JSON with an `expectations` list of `{type, kwargs}`
    (what `ExpectationSuite.to_json_dict` writes, as `suggest_expectations` stores it)."""
    assert contract.expectations is not None
    path = loaded.path.parent / contract.expectations
    try:
        suite = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise loaded.error((*at, "expectations"), f"cannot read {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise loaded.error((*at, "expectations"), f"{path} is not JSON: {exc}") from None
    listed = suite.get("expectations") if isinstance(suite, dict) else None
    if not isinstance(listed, list) or not all(
        isinstance(e, dict) and isinstance(e.get("type"), str) for e in listed
    ):
        raise loaded.error(
            (*at, "expectations"),
            f"{path} is not a Great Expectations suite (an `expectations` list of {{type, kwargs}})",
        )
    return suite
