"""Airflow assets (Airflow 2: datasets) → the OpenMetadata tables they name.

A DAG's inlets and outlets are assets identified by a URI and a name. An `asset_tables` rule
maps them to table FQNs: its `pattern`, a regular expression, must match the whole URI (else
the whole name); the FQN is its `table` template filled with the pattern's named groups (and
`{uri}`, `{name}`). Rules are tried in order; after them, an asset whose URI or name is a
table FQN itself, bare or as `om://<fqn>`, maps to that table. An asset no rule maps is
reported (a warning), never a failure.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from om_ingest import fqns

TABLE_PARTS = 4
"""service.database.schema.table"""


@dataclass(frozen=True, order=True)
class Asset:
    uri: str
    name: str


class AssetTable(BaseModel):
    """One rule mapping asset URIs (or names) to OpenMetadata table FQNs."""

    model_config = ConfigDict(extra="forbid")

    pattern: str = Field(
        min_length=1,
        description="A regular expression matching the whole asset URI (else its name), "
        r"e.g. `postgres://warehouse/(?P<db>\w+)/(?P<schema>\w+)/(?P<table>\w+)`",
    )
    table: str = Field(
        min_length=1,
        description="The table FQN: `{group}` is a named group of `pattern`, `{uri}` and "
        "`{name}` the asset's, e.g. `pg.{db}.{schema}.{table}`",
    )

    @field_validator("pattern")
    @classmethod
    def _a_regular_expression(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from None
        return value

    @model_validator(mode="after")
    def _template_names_groups(self) -> AssetTable:
        groups = set(re.compile(self.pattern).groupindex) | {"uri", "name"}
        try:
            named = {field for _, field, _, _ in string.Formatter().parse(self.table) if field}
        except ValueError as exc:
            raise ValueError(f"`table` is not a template: {exc}") from None
        unknown = sorted(named - groups)
        if unknown:
            raise ValueError(
                f"`table` names {', '.join(unknown)}, which is no named group of `pattern` "
                f"(known: {', '.join(sorted(groups))})"
            )
        return self


FQN_ITSELF = AssetTable(pattern=r"(?:om://)?(?P<fqn>[^/]+)", table="{fqn}")
"""The rule after the configured ones: an asset named by its table's FQN."""


def table_for(rules: list[AssetTable], asset: Asset) -> str | None:
    """The FQN of the table `asset` names (the first rule that maps it), or None."""
    for rule in (*rules, FQN_ITSELF):
        for text in dict.fromkeys((asset.uri, asset.name)):
            match = re.fullmatch(rule.pattern, text)
            if match is None:
                continue
            values = {k: v for k, v in match.groupdict().items() if v is not None}
            try:  # a group that took no part in the match leaves its name unfilled
                fqn = rule.table.format(**{"uri": asset.uri, "name": asset.name, **values})
                if len(fqns.split(fqn)) == TABLE_PARTS:
                    return fqns.normalize(fqn)
            except (KeyError, ValueError):
                continue
    return None
