"""OM's checks on what a create or update carries, beyond the SDK models' own.

Columns: `DatabaseUtil.validateColumns`; tags: `TagLabelUtil.applyTagCommonFields` and
`checkMutuallyExclusive`; owners: `EntityRepository.validateOwners`.
"""

from __future__ import annotations

from typing import Any

from om_ingest import fqns
from om_ingest.sandbox.errors import ApiError
from om_ingest.sandbox.store import EntityStore

NEEDS_LENGTH = ("CHAR", "VARCHAR", "BINARY", "VARBINARY")


def validate_columns(columns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The columns with dataTypeDisplay defaulted and lower-cased, or a 400."""
    seen: set[str] = set()
    out = []
    for column in columns:
        name = column["name"]
        if name in seen:
            raise ApiError(400, f"Column name {name} is repeated")
        seen.add(name)
        column = dict(column)
        data_type = column["dataType"]
        display = column.get("dataTypeDisplay") or data_type
        column["dataTypeDisplay"] = display.lower()
        if data_type in NEEDS_LENGTH and column.get("dataLength") is None:
            raise ApiError(
                400, "For column data types char, varchar and binary, dataLength must not be null"
            )
        if data_type == "ARRAY" and column.get("arrayDataType") is None:
            raise ApiError(400, "For column data type array, arrayDataType must not be null")
        if data_type == "STRUCT" and not column.get("children"):
            raise ApiError(400, "For column data type struct, children must not be null")
        precision, scale = column.get("precision"), column.get("scale")
        if scale is not None and precision is not None and scale > precision:
            raise ApiError(400, "Scale can't be greater than the precision")
        if column.get("children"):
            column["children"] = validate_columns(column["children"])
        out.append(column)
    return out


def check_tags(store: EntityStore, tags: list[dict[str, Any]] | None) -> None:
    """Every label names an existing tag; at most one per mutually exclusive classification."""
    by_classification: dict[str, str] = {}
    for label in tags or []:
        fqn = label["tagFQN"]
        kind = "glossaryTerm" if label.get("source") == "Glossary" else "tag"
        if store.get_by_fqn(kind, fqn) is None:
            raise ApiError(404, f"{kind} instance for {fqn} not found")
        if kind == "glossaryTerm":
            continue
        classification = fqns.split(fqn)[0]
        found = store.get_by_fqn("classification", classification)
        if found is not None and found.get("mutuallyExclusive"):
            other = by_classification.get(classification)
            if other is not None and other != fqn:
                raise ApiError(
                    400,
                    f"Tag labels {other} and {fqn} are mutually exclusive and can't be "
                    "assigned together",
                )
            by_classification[classification] = fqn


def check_column_tags(store: EntityStore, columns: list[dict[str, Any]] | None) -> None:
    for column in columns or []:
        check_tags(store, column.get("tags"))
        check_column_tags(store, column.get("children"))


def owner_entity(store: EntityStore, ref: dict[str, Any]) -> dict[str, Any]:
    """The user or Group team an owner reference names (deleted ones are allowed)."""
    owner = store.get(ref["type"], ref["id"]) if ref["type"] in ("user", "team") else None
    if owner is None:
        raise ApiError(404, f"{ref['type']} instance for {ref['id']} not found")
    if ref["type"] == "team" and owner.get("teamType") != "Group":
        raise ApiError(
            400,
            f"Team of type {owner.get('teamType')} can't own entities. "
            "Only Team of type Group can own entities.",
        )
    return owner
