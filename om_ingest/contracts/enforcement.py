"""Schema enforcement: a table's columns (as discovered or declared) against its contract.

Every contract field must be a column of the table (OpenMetadata rejects a contract naming a
column its table lacks), typed as the contract says: `physicalType` naming an OM type must
match exactly, a `logicalType` accepts the OM types of that kind (`mapping.COMPATIBLE`).
Names match case-insensitively, as OM matches columns.
"""

from __future__ import annotations

from typing import Any

from om_ingest.contracts.mapping import ContractGate


def violations(gate: ContractGate, columns: list[dict[str, Any]]) -> list[str]:
    """One line per violated contract field, naming it and what is wrong."""
    by_name = {str(c.get("name", "")).lower(): c for c in columns}
    found = []
    for rule in gate.fields:
        column = by_name.get(rule.name.lower())
        if column is None:
            what = "required by the contract" if rule.required else "in the contract"
            found.append(f"{rule.name}: {what}, missing from the table")
            continue
        data_type = str(column.get("dataType", ""))
        if rule.types and data_type not in rule.types:
            found.append(
                f"{rule.name}: the contract types it {rule.expected}, the table {data_type}"
            )
    return found


def blocked_message(gate: ContractGate, found: list[str]) -> str:
    return (
        f"contract {gate.contract} (enforcement: block) violated, the table is left unchanged "
        f"in OpenMetadata: {'; '.join(found)}"
    )
