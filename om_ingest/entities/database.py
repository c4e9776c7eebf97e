"""Handlers for the database family: service → database → schema → table."""

from __future__ import annotations

from typing import Any, ClassVar

from metadata.generated.schema.api.data.createDatabase import CreateDatabaseRequest
from metadata.generated.schema.api.data.createDatabaseSchema import CreateDatabaseSchemaRequest
from metadata.generated.schema.api.data.createTable import CreateTableRequest
from metadata.generated.schema.api.services.createDatabaseService import (
    CreateDatabaseServiceRequest,
)
from metadata.generated.schema.entity.data.database import Database
from metadata.generated.schema.entity.data.databaseSchema import DatabaseSchema
from metadata.generated.schema.entity.data.table import Table
from metadata.generated.schema.entity.services.databaseService import DatabaseService
from pydantic import BaseModel

from om_ingest.comparison import SchemaShape
from om_ingest.config.models import (
    ColumnSpec,
    DatabaseProperties,
    DatabaseSchemaProperties,
    DatabaseServiceProperties,
    EntityConfig,
    EntityType,
    PartitionColumnSpec,
    TableProperties,
)
from om_ingest.entities.base import EntityHandler, common_fields, register, tag_label


def _props(entity: EntityConfig, model: type[Any]) -> Any:
    props = entity.properties
    return props if isinstance(props, model) else model.model_validate(props)


def _name(entity: EntityConfig) -> str:
    assert entity.name is not None  # discovery entities are expanded before handling
    return entity.name


@register(EntityType.DATABASE_SERVICE)
class DatabaseServiceHandler(EntityHandler):
    entity_class = DatabaseService
    read_fields = ("tags", "owners")

    def build_request(self, entity: EntityConfig, parent_fqn: str | None) -> BaseModel:
        props: DatabaseServiceProperties = _props(entity, DatabaseServiceProperties)
        return CreateDatabaseServiceRequest.model_validate(
            {"name": _name(entity), "serviceType": props.service_type, **common_fields(props)}
        )

    def owned_fields(self) -> frozenset[str]:
        return frozenset({"serviceType"})


@register(EntityType.DATABASE)
class DatabaseHandler(EntityHandler):
    entity_class = Database

    def build_request(self, entity: EntityConfig, parent_fqn: str | None) -> BaseModel:
        props: DatabaseProperties = _props(entity, DatabaseProperties)
        return CreateDatabaseRequest.model_validate(
            {"name": _name(entity), "service": parent_fqn, **common_fields(props)}
        )


@register(EntityType.DATABASE_SCHEMA)
class DatabaseSchemaHandler(EntityHandler):
    entity_class = DatabaseSchema

    def build_request(self, entity: EntityConfig, parent_fqn: str | None) -> BaseModel:
        props: DatabaseSchemaProperties = _props(entity, DatabaseSchemaProperties)
        return CreateDatabaseSchemaRequest.model_validate(
            {"name": _name(entity), "database": parent_fqn, **common_fields(props)}
        )


@register(EntityType.TABLE)
class TableHandler(EntityHandler):
    entity_class = Table
    list_filter = "databaseSchema"
    read_fields = ("columns", "tags", "owners", "tableConstraints", "extension")
    schema_shape: ClassVar[SchemaShape | None] = SchemaShape("columns", facts=("constraint",))

    def build_request(self, entity: EntityConfig, parent_fqn: str | None) -> BaseModel:
        props: TableProperties = _props(entity, TableProperties)
        body: dict[str, Any] = {
            "name": _name(entity),
            "databaseSchema": parent_fqn,
            "tableType": props.table_type,
            "columns": [column_json(c, i + 1) for i, c in enumerate(props.columns)],
            **common_fields(props),
        }
        if props.table_constraints:
            body["tableConstraints"] = [
                {"constraintType": c.constraint_type, "columns": c.columns}
                for c in props.table_constraints
            ]
        if props.partition_columns:
            body["tablePartition"] = {
                "columns": [_partition_json(p) for p in props.partition_columns]
            }
        if props.location_path:
            body["locationPath"] = props.location_path
        if props.file_format:
            body["fileFormat"] = props.file_format
        if props.custom_properties:
            body["extension"] = props.custom_properties
        return CreateTableRequest.model_validate(body)

    def owned_fields(self) -> frozenset[str]:
        # Not `tablePartition` or `fileFormat`: OM's TableUpdater does not update them after
        # creation (by PUT or PATCH), so a difference could never be applied.
        return frozenset({"tableType", "tableConstraints", "locationPath"})


def _partition_json(column: str | PartitionColumnSpec) -> dict[str, Any]:
    if isinstance(column, str):
        return {"columnName": column, "intervalType": "COLUMN-VALUE"}
    body = {"columnName": column.column, "intervalType": column.interval_type}
    return body | ({"interval": column.interval} if column.interval else {})


def column_json(column: ColumnSpec, position: int | None = None) -> dict[str, Any]:
    """A config column as OM's Column JSON, children at every depth."""
    body: dict[str, Any] = {"name": column.name, "dataType": column.data_type}
    optional = {
        "dataTypeDisplay": column.data_type_display,
        "arrayDataType": column.array_data_type,
        "dataLength": column.data_length,
        "precision": column.precision,
        "scale": column.scale,
        "constraint": column.constraint,
        "description": column.description,
        "ordinalPosition": position,
    }
    body.update({k: v for k, v in optional.items() if v is not None})
    if column.data_type in {"VARCHAR", "CHAR", "BINARY", "VARBINARY"} and "dataLength" not in body:
        body["dataLength"] = 1  # OM requires a length for these types
    if column.tags:
        body["tags"] = [tag_label(tag) for tag in column.tags]
    if column.children:
        body["children"] = [column_json(child) for child in column.children]
    return body
