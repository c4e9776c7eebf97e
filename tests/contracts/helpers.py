"""A table, its schema tree and an ODCS contract next to the config, for contract tests."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

TABLE = "sales_svc.sales.core.orders"

ODCS: dict[str, Any] = {
    "apiVersion": "v3.0.2",
    "kind": "DataContract",
    "id": "orders-contract-1",
    "name": "orders_contract",
    "version": "1.0.0",
    "status": "active",
    "description": {"purpose": "Orders as sales publishes them."},
    "team": [{"username": "ada", "role": "owner"}, {"username": "bob", "role": "consumer"}],
    "slaProperties": [
        {"property": "freshness", "value": 1, "unit": "d"},
        {"property": "retention", "value": 3, "unit": "years"},
    ],
    "schema": [
        {
            "name": "orders",
            "logicalType": "object",
            "quality": [{"type": "library", "metric": "rowCount", "mustBeGreaterThan": 0}],
            "properties": [
                {
                    "name": "id",
                    "logicalType": "integer",
                    "physicalType": "BIGINT",
                    "primaryKey": True,
                },
                {
                    "name": "amount",
                    "logicalType": "number",
                    "required": True,
                    "tags": ["PII.NonSensitive", "finance"],
                    "quality": [
                        {
                            "type": "library",
                            "metric": "nullValues",
                            "mustBe": 0,
                            "name": "amount_not_null",
                        }
                    ],
                },
                {"name": "status", "logicalType": "string"},
            ],
        }
    ],
}

COLUMNS = [
    {"name": "id", "data_type": "BIGINT", "constraint": "PRIMARY_KEY"},
    {"name": "amount", "data_type": "DECIMAL", "precision": 12, "scale": 2},
    {"name": "status", "data_type": "STRING"},
]


def odcs(**changes: Any) -> dict[str, Any]:
    document = copy.deepcopy(ODCS)
    document.update(changes)
    return document


def contract_config(
    tmp_path: Path,
    document: dict[str, Any] | str,
    columns: list[dict[str, Any]] | None = None,
    enforcement: str = "warn",
    idempotency: str | None = None,
    **top: Any,
) -> str:
    """A config with the orders table (`columns`) and its contract at specs/orders.odcs.yaml."""
    specs = tmp_path / "specs"
    specs.mkdir(exist_ok=True)
    text = document if isinstance(document, str) else yaml.safe_dump(document, sort_keys=False)
    (specs / "orders.odcs.yaml").write_text(text)
    config = {
        "metadata": {"name": "contracts"},
        "openmetadata": {"host": "${OM_HOST}", "jwt_token": "${OM_JWT}"},
        "audit": {"output_dir": str(tmp_path / "audit")},
        "contracts": [
            {
                "path": "specs/orders.odcs.yaml",
                "table": TABLE,
                "enforcement": enforcement,
                **({"idempotency": idempotency} if idempotency else {}),
            }
        ],
        "entities": [
            {"type": "user", "name": "ada", "properties": {"email": "ada@example.com"}},
            {
                "type": "database_service",
                "name": "sales_svc",
                "properties": {"service_type": "CustomDatabase"},
            },
            {"type": "database", "name": "sales", "properties": {"service": "sales_svc"}},
            {
                "type": "database_schema",
                "name": "core",
                "properties": {"database": "sales_svc.sales"},
            },
            {
                "type": "table",
                "name": "orders",
                "idempotency": "update",
                "properties": {
                    "database_schema": "sales_svc.sales.core",
                    "columns": columns or COLUMNS,
                },
            },
        ],
        **top,
    }
    path = tmp_path / "contracts.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return str(path)
