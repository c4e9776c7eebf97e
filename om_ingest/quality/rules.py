"""ODCS quality rules (and the schema's required / unique / primaryKey) as GX expectations.

Library metrics count bad rows; a bound on that count is an expectation with `mostly`:
`mustBe: 0` (or `≤ 0`) rows is the plain expectation, `unit: percent` with `mustBeLessThan` /
`mustBeLessOrEqualTo: p` gives `mostly = 1 - p/100`. `rowCount` bounds become
`expect_table_row_count_to_be_between`. A `custom` rule whose engine is Great Expectations
names its expectation itself (`implementation: {type, kwargs}`, as a mapping or YAML text).
What cannot be expressed (SQL and text rules, other engines, bounds on a bad-row count other
than zero) is listed as not run, never dropped silently.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from om_ingest.contracts.mapping import all_quality_rules, schema_object

GX_ENGINES = {"great-expectations", "great_expectations", "greatexpectations", "gx"}


@dataclass(frozen=True)
class PlannedExpectation:
    """One expectation of the suite, named as its OM test case will be."""

    name: str
    type: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    description: str = ""

    @property
    def column(self) -> str | None:
        column = self.kwargs.get("column")
        return str(column) if column is not None else None


@dataclass
class ContractSuite:
    expectations: list[PlannedExpectation] = field(default_factory=list)
    not_run: list[str] = field(default_factory=list)


def contract_suite(
    document: dict[str, Any], table_name: str, adopted: dict[str, Any] | None = None
) -> ContractSuite:
    """The contract's expectations, then those of an adopted GX suite (`expectations:`)."""
    suite = ContractSuite()
    for prop in schema_object(document, table_name):
        column = str(prop["name"])
        if prop.get("required") or prop.get("primaryKey"):
            suite.expectations.append(
                PlannedExpectation(
                    f"{column}_required",
                    "expect_column_values_to_not_be_null",
                    {"column": column},
                    "required by the contract",
                )
            )
        if prop.get("unique") or prop.get("primaryKey"):
            suite.expectations.append(
                PlannedExpectation(
                    f"{column}_unique",
                    "expect_column_values_to_be_unique",
                    {"column": column},
                    "unique by the contract",
                )
            )
    for index, rule in enumerate(all_quality_rules(document, table_name)):
        try:
            suite.expectations.append(_expectation(rule, index))
        except _NotRun as reason:
            suite.not_run.append(f"{_rule_name(rule, index)}: {reason}")
    for listed in (adopted or {}).get("expectations") or []:
        kwargs = dict(listed.get("kwargs") or {})
        kind = str(listed["type"])
        suite.expectations.append(
            PlannedExpectation(
                f"adopted_{kind.removeprefix('expect_')}",
                kind,
                kwargs,
                "adopted Great Expectations suite",
            )
        )
    _unique_names(suite.expectations)
    return suite


class _NotRun(Exception):
    """A rule om-ingest cannot express as a GX expectation (the message says why)."""


def _rule_name(rule: dict[str, Any], index: int) -> str:
    name = rule.get("name") or rule.get("id")
    if name:
        return re.sub(r"::", "_", str(name))
    metric = rule.get("metric") or rule.get("rule") or rule.get("type", "rule")
    return f"{rule['column']}_{metric}" if rule.get("column") else f"{metric}_{index}"


def _expectation(rule: dict[str, Any], index: int) -> PlannedExpectation:
    name = _rule_name(rule, index)
    description = str(rule.get("description") or "")
    kind = rule.get("type", "library")
    if kind == "custom":
        if str(rule.get("engine", "")).lower() not in GX_ENGINES:
            raise _NotRun(f"custom rules for engine {rule.get('engine')!r} are not run")
        implementation = rule.get("implementation")
        if isinstance(implementation, str):
            implementation = yaml.safe_load(implementation)
        if not isinstance(implementation, dict):
            raise _NotRun("a Great Expectations implementation must be {type, kwargs}")
        gx_type = implementation.get("type") or implementation.get("expectation_type")
        kwargs = dict(implementation.get("kwargs") or {})
        if rule.get("column") and "column" not in kwargs:
            kwargs["column"] = rule["column"]
        if not isinstance(gx_type, str):
            raise _NotRun("a Great Expectations implementation needs its expectation `type`")
        return PlannedExpectation(name, gx_type, kwargs, description)
    if kind != "library" and "metric" not in rule:
        raise _NotRun(f"{kind} rules are not run by om-ingest")
    metric = rule.get("metric") or rule.get("rule")
    column = rule.get("column")
    arguments = rule.get("arguments") or {}
    if metric == "rowCount":
        low, high = _bounds(rule)
        kwargs = {k: v for k, v in (("min_value", low), ("max_value", high)) if v is not None}
        return PlannedExpectation(name, "expect_table_row_count_to_be_between", kwargs, description)
    if not column:
        raise _NotRun(f"metric {metric} needs a column")
    base: dict[str, Any] = {"column": column, **_mostly(rule)}
    if metric == "nullValues":
        return PlannedExpectation(name, "expect_column_values_to_not_be_null", base, description)
    if metric == "duplicateValues":
        return PlannedExpectation(name, "expect_column_values_to_be_unique", base, description)
    if metric == "invalidValues" and isinstance(arguments.get("validValues"), list):
        kwargs = {**base, "value_set": arguments["validValues"]}
        return PlannedExpectation(name, "expect_column_values_to_be_in_set", kwargs, description)
    if metric == "invalidValues" and isinstance(arguments.get("pattern"), str):
        kwargs = {**base, "regex": arguments["pattern"]}
        return PlannedExpectation(name, "expect_column_values_to_match_regex", kwargs, description)
    if metric == "missingValues":
        missing = [v for v in arguments.get("missingValues") or [] if v is not None]
        if missing:
            kwargs = {**base, "value_set": missing}
            return PlannedExpectation(
                name, "expect_column_values_to_not_be_in_set", kwargs, description
            )
        return PlannedExpectation(name, "expect_column_values_to_not_be_null", base, description)
    raise _NotRun(f"metric {metric} with these arguments is not run by om-ingest")


def _bounds(rule: dict[str, Any]) -> tuple[float | None, float | None]:
    """Inclusive integer bounds of a count from the rule's operator."""
    if "mustBe" in rule:
        return rule["mustBe"], rule["mustBe"]
    if "mustBeGreaterThan" in rule:
        return math.floor(rule["mustBeGreaterThan"]) + 1, None
    if "mustBeGreaterOrEqualTo" in rule:
        return rule["mustBeGreaterOrEqualTo"], None
    if "mustBeLessThan" in rule:
        return None, math.ceil(rule["mustBeLessThan"]) - 1
    if "mustBeLessOrEqualTo" in rule:
        return None, rule["mustBeLessOrEqualTo"]
    if "mustBeBetween" in rule:
        low, high = rule["mustBeBetween"]
        return low, high
    raise _NotRun("only mustBe, mustBeGreater…/mustBeLess… and mustBeBetween are run")


def _mostly(rule: dict[str, Any]) -> dict[str, float]:
    """The share of rows that must be good, from a bound on the bad ones."""
    if not any(op in rule for op in ("mustBe", "mustBeLessThan", "mustBeLessOrEqualTo")):
        raise _NotRun("a bad-row count takes mustBe, mustBeLessThan or mustBeLessOrEqualTo")
    low, high = _bounds(rule)
    if rule.get("unit") == "percent":
        allowed = float(high if high is not None else 0)
        return {} if allowed <= 0 else {"mostly": max(0.0, 1 - allowed / 100)}
    if high is not None and high <= 0 and (low is None or low <= 0):
        return {}
    raise _NotRun("a bad-row count other than zero needs unit: percent")


def _unique_names(expectations: list[PlannedExpectation]) -> None:
    """Test case names must be unique per table/column: repeats get `_2`, `_3`, …"""
    seen: dict[tuple[str | None, str], int] = {}
    for position, expectation in enumerate(expectations):
        key = (expectation.column, expectation.name)
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:
            expectations[position] = PlannedExpectation(
                f"{expectation.name}_{seen[key]}",
                expectation.type,
                expectation.kwargs,
                expectation.description,
            )
