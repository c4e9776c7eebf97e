"""An ODCS v3 document as OpenMetadata sees it: the data contract's properties, the schema
rules enforced on the table, and the quality rules as Great Expectations.

The contract mapping follows OpenMetadata's own ODCS import (`ODCSConverter.fromODCS` in the
OM server): the schema object named like the table (else the first) gives the columns,
`physicalType` naming an OM type wins over `logicalType`; primaryKey / unique / required
become the column constraint; team members with role `owner` become owners; `slaProperties`
freshness / latency / retention / availabilityTime become the SLA; `roles` the security
policies; quality rules are kept as `odcsQualityRules`. Tags of a property that are
`Classification.Tag` FQNs become the contract column's tags. OM's DataContract has no tags of
its own, so the contract's top-level `tags` are kept on it as the custom property `odcsTags`
(its `extension`, comma-separated, in the document's order): they describe the contract, so
they stay on it rather than being merged into the table's tags.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from om_ingest import fqns
from om_ingest.config.om_types import DATA_TYPES

_INTS = frozenset({"TINYINT", "SMALLINT", "INT", "BIGINT", "LONG", "BYTEINT"})
_NUMBERS = _INTS | {"FLOAT", "DOUBLE", "DECIMAL", "NUMERIC", "NUMBER", "MONEY"}
_STRINGS = frozenset(
    {"STRING", "VARCHAR", "CHAR", "TEXT", "MEDIUMTEXT", "NTEXT", "CLOB", "UUID", "ENUM"}
)
COMPATIBLE: dict[str, frozenset[str]] = {
    "string": _STRINGS,
    "integer": _INTS | {"NUMBER", "NUMERIC", "DECIMAL"},
    "number": _NUMBERS,
    "boolean": frozenset({"BOOLEAN"}),
    "date": frozenset({"DATE", "DATETIME", "TIMESTAMP", "TIMESTAMPZ"}),
    "timestamp": frozenset({"TIMESTAMP", "TIMESTAMPZ", "DATETIME"}),
    "time": frozenset({"TIME"}),
    "object": frozenset({"STRUCT", "MAP", "JSON", "UNION"}),
    "map": frozenset({"MAP", "JSON", "STRUCT"}),
    "array": frozenset({"ARRAY"}),
    "vector": frozenset({"ARRAY"}),
}
"""OM column types that satisfy an ODCS logical type."""

LOGICAL_TO_OM = {
    "string": "STRING",
    "integer": "INT",
    "number": "NUMBER",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "time": "TIME",
    "object": "STRUCT",
    "map": "MAP",
    "array": "ARRAY",
    "vector": "ARRAY",
}
"""The contract column's type when `physicalType` is not an OM type (OM's converter)."""

STATUS = {
    "active": "Approved",
    "deprecated": "Deprecated",
    "retired": "Deprecated",
    "proposed": "Draft",
    "draft": "Draft",
}
SLA_UNITS = {
    "h": "hour",
    "hrs": "hour",
    "hours": "hour",
    "d": "day",
    "days": "day",
    "w": "week",
    "wks": "week",
    "weeks": "week",
    "mos": "month",
    "months": "month",
    "y": "year",
    "yrs": "year",
    "years": "year",
    "m": "minute",
    "mins": "minute",
    "minutes": "minute",
    "s": "second",
    "secs": "second",
    "seconds": "second",
}
OPERATORS = (
    "mustBe",
    "mustNotBe",
    "mustBeGreaterThan",
    "mustBeGreaterOrEqualTo",
    "mustBeLessThan",
    "mustBeLessOrEqualTo",
    "mustBeBetween",
    "mustNotBeBetween",
)


@dataclass(frozen=True)
class FieldRule:
    """One contract field as schema enforcement checks it."""

    name: str
    required: bool
    types: tuple[str, ...]
    """OM data types that satisfy the contract (empty: any type)."""
    expected: str
    """The contract's type as written (`physicalType`, else `logicalType`)."""


@dataclass(frozen=True)
class ContractGate:
    """What schema enforcement needs of a contract (hashable: it is part of a write task)."""

    contract: str
    enforcement: str
    fields: tuple[FieldRule, ...]


def schema_object(document: dict[str, Any], table_name: str) -> list[dict[str, Any]]:
    """The contract's properties (columns) for the table: the schema object named like the
    table (case-insensitive), else the first; a schema of bare properties is the columns."""
    schema = [s for s in document.get("schema") or [] if isinstance(s, dict)]
    objects = [s for s in schema if s.get("logicalType") == "object" or s.get("properties")]
    if not objects:
        return schema
    chosen = next(
        (o for o in objects if str(o.get("name", "")).lower() == table_name.lower()), objects[0]
    )
    return [p for p in chosen.get("properties") or [] if isinstance(p, dict)]


def om_data_type(prop: dict[str, Any]) -> str:
    physical = str(prop.get("physicalType") or "").upper()
    base = re.sub(r"\(.*\)$", "", physical).strip()
    if base in DATA_TYPES:
        return base
    return LOGICAL_TO_OM.get(str(prop.get("logicalType") or "string"), "STRING")


def field_rules(document: dict[str, Any], table_name: str) -> tuple[FieldRule, ...]:
    rules = []
    for prop in schema_object(document, table_name):
        physical = re.sub(r"\(.*\)$", "", str(prop.get("physicalType") or "").upper()).strip()
        logical = prop.get("logicalType")
        if physical in DATA_TYPES:
            types: tuple[str, ...] = (physical,)
            expected = physical
        elif isinstance(logical, str) and logical in COMPATIBLE:
            types, expected = tuple(sorted(COMPATIBLE[logical])), logical
        else:
            types, expected = (), "any type"
        required = bool(prop.get("required") or prop.get("primaryKey"))
        rules.append(FieldRule(str(prop["name"]), required, types, expected))
    return tuple(rules)


def gate(document: dict[str, Any], table_fqn: str, contract: str, enforcement: str) -> ContractGate:
    table_name = fqns.unquoted_parts(table_fqn)[-1]
    return ContractGate(contract, enforcement, field_rules(document, table_name))


def contract_name(document: dict[str, Any], table_fqn: str, given: str | None) -> str:
    if given:
        return given
    name = document.get("name")
    if isinstance(name, str) and name.strip():
        return name.strip()
    return f"{fqns.unquoted_parts(table_fqn)[-1]}_contract"


def contract_properties(document: dict[str, Any], table_fqn: str) -> dict[str, Any]:
    """The `data_contract` properties (config spelling) the document describes."""
    table_name = fqns.unquoted_parts(table_fqn)[-1]
    props: dict[str, Any] = {"entity": {"type": "table", "fqn": table_fqn}}
    description = _description(document.get("description"))
    if description:
        props["description"] = description
    props["entity_status"] = STATUS.get(str(document.get("status", "")).lower(), "Draft")
    columns = [_column(p) for p in schema_object(document, table_name)]
    if columns:
        props["schema"] = columns
    owners = _owners(document.get("team"))
    if owners:
        props["owners"] = owners
    sla = _sla(document.get("slaProperties") or [])
    if sla:
        props["sla"] = sla
    security = _security(document.get("roles") or [])
    if security:
        props["security"] = security
    rules = [_quality_rule(rule) for rule in all_quality_rules(document, table_name)]
    if rules:
        props["odcs_quality_rules"] = rules
    tags = [str(t) for t in document.get("tags") or [] if str(t).strip()]
    if tags:
        props["extension"] = {CONTRACT_TAGS_PROPERTY: ", ".join(tags)}
    return props


CONTRACT_TAGS_PROPERTY = "odcsTags"
"""The DataContract custom property holding the ODCS document's top-level `tags`."""


def _description(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if not isinstance(value, dict):
        return None
    parts = [str(value["purpose"])] if value.get("purpose") else []
    if value.get("limitations"):
        parts.append(f"**Limitations:**\n{value['limitations']}")
    if value.get("usage"):
        parts.append(f"**Usage:**\n{value['usage']}")
    return "\n\n".join(parts) or None


def _column(prop: dict[str, Any]) -> dict[str, Any]:
    column: dict[str, Any] = {"name": str(prop["name"]), "data_type": om_data_type(prop)}
    if prop.get("description"):
        column["description"] = str(prop["description"])
    if prop.get("primaryKey"):
        column["constraint"] = "PRIMARY_KEY"
    elif prop.get("unique"):
        column["constraint"] = "UNIQUE"
    elif prop.get("required"):
        column["constraint"] = "NOT_NULL"
    options = prop.get("logicalTypeOptions") or {}
    if isinstance(options.get("maxLength"), int):
        column["data_length"] = options["maxLength"]
    tags = [t for t in prop.get("tags") or [] if _is_tag_fqn(t)]
    if tags:
        column["tags"] = tags
    children = [p for p in prop.get("properties") or [] if isinstance(p, dict)]
    if children:
        column["children"] = [_column(child) for child in children]
    return column


def _is_tag_fqn(value: Any) -> bool:
    try:
        fqns.tag(str(value))
    except ValueError:
        return False
    return True


def _owners(team: Any) -> list[str]:
    members = team.get("members") if isinstance(team, dict) else team
    return [
        str(m["username"])
        for m in members or []
        if isinstance(m, dict) and str(m.get("role", "")).lower() == "owner" and m.get("username")
    ]


def _sla(properties: list[dict[str, Any]]) -> dict[str, Any]:
    sla: dict[str, Any] = {}
    keys = {
        "freshness": ("refresh_frequency", "interval"),
        "refreshfrequency": ("refresh_frequency", "interval"),
        "latency": ("max_latency", "value"),
        "maxlatency": ("max_latency", "value"),
        "retention": ("retention", "period"),
    }
    for prop in properties:
        name = str(prop.get("property", "")).lower()
        if name in keys:
            field, amount = keys[name]
            unit = str(prop.get("unit", "day")).lower().strip()
            sla[field] = {amount: _integer(prop.get("value")), "unit": SLA_UNITS.get(unit, unit)}
        elif name == "availabilitytime":
            sla["availability_time"] = str(prop.get("value"))
            if prop.get("valueExt"):
                sla["timezone"] = str(prop["valueExt"])
    return sla


def _integer(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _security(roles: list[dict[str, Any]]) -> dict[str, Any]:
    security: dict[str, Any] = {}
    policies = []
    for role in roles:
        name = str(role.get("role", ""))
        if name.startswith("classification-"):
            security["data_classification"] = name.removeprefix("classification-")
            continue
        policy: dict[str, Any] = {"access_policy": name}
        approvers = role.get("firstLevelApprovers")
        if approvers:
            policy["identities"] = approvers if isinstance(approvers, list) else [approvers]
        policies.append(policy)
    if policies:
        security["policies"] = policies
    return security


def all_quality_rules(document: dict[str, Any], table_name: str) -> list[dict[str, Any]]:
    """Contract-level, object-level and property-level quality rules, each property rule
    with its `column` (as OM collects them)."""
    rules: list[dict[str, Any]] = [dict(r) for r in document.get("quality") or []]
    schema = [s for s in document.get("schema") or [] if isinstance(s, dict)]
    objects = [s for s in schema if s.get("logicalType") == "object" or s.get("properties")]
    chosen = next(
        (o for o in objects if str(o.get("name", "")).lower() == table_name.lower()),
        objects[0] if objects else None,
    )
    if chosen is not None:
        rules += [dict(r) for r in chosen.get("quality") or []]
    for prop in schema_object(document, table_name):
        for rule in prop.get("quality") or []:
            rules.append({"column": str(prop["name"]), **rule})
    return rules


def _quality_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """One rule in OM's `OdcsQualityRule` shape (config spelling is OM's camelCase here:
    the derived model accepts both)."""
    kept = (
        "type",
        "name",
        "description",
        "metric",
        "rule",
        "column",
        "query",
        "engine",
        "dimension",
        "severity",
        "businessImpact",
        "unit",
        "scheduler",
        "schedule",
        "tags",
    )
    out = {key: rule[key] for key in kept if key in rule}
    for operator in OPERATORS:
        value = rule.get(operator)
        if isinstance(value, int | float) and not isinstance(value, bool):
            out[operator] = float(value)
        elif isinstance(value, list) and all(isinstance(v, int | float) for v in value):
            out[operator] = [float(v) for v in value]
    if "implementation" in rule:
        implementation = rule["implementation"]
        out["implementation"] = (
            implementation if isinstance(implementation, str) else json.dumps(implementation)
        )
    valid = (rule.get("arguments") or {}).get("validValues")
    if isinstance(valid, list):
        out["validValues"] = [str(v) for v in valid]
    return out
