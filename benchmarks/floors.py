"""The floors the flow is compared with: plain loops with no Prefect and no om-ingest code.

Discovery lists the lake (os.scandir for a directory, boto3 for S3), reads each table with
hudi-rs and maps its Arrow schema to OM columns; then (a) one `create_or_update` per table or
(b) `bulk_create_or_update` in batches of 100, as OpenMetadata's own ingestion sink does.
Custom properties (the Hudi facts) are defined once first, as anyone writing them must.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pyarrow as pa

BATCH = 100
SCHEMA = "bench.lake.tables"
FACTS = ("hudi_table_name", "hudi_table_type", "hudi_table_version", "hudi_record_key_fields")


def fs_tables(root: str) -> Iterator[str]:
    """file:// URIs of every directory holding `.hoodie/`, not descending into tables."""
    with os.scandir(root) as entries:
        dirs = sorted(e.path for e in entries if e.is_dir())
    if os.path.join(root, ".hoodie") in dirs:
        yield "file://" + os.path.abspath(root)
        return
    for path in dirs:
        yield from fs_tables(path)


def s3_tables(client: Any, bucket: str, prefix: str) -> Iterator[str]:
    pages = client.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=prefix, Delimiter="/"
    )
    dirs = [p["Prefix"] for page in pages for p in page.get("CommonPrefixes", [])]
    if prefix + ".hoodie/" in dirs:
        yield f"s3://{bucket}/{prefix.rstrip('/')}"
        return
    for sub in dirs:
        yield from s3_tables(client, bucket, sub)


def om_type(kind: pa.DataType) -> dict[str, Any]:
    if pa.types.is_decimal(kind):
        return {"dataType": "DECIMAL", "precision": kind.precision, "scale": kind.scale}
    names = {
        pa.int64(): "BIGINT",
        pa.int32(): "INT",
        pa.string(): "STRING",
        pa.large_string(): "STRING",
        pa.float64(): "DOUBLE",
        pa.bool_(): "BOOLEAN",
        pa.date32(): "DATE",
    }
    return {"dataType": names.get(kind, "UNKNOWN")}


def request(location: str, options: dict[str, str]) -> Any:
    from hudi import HudiTableBuilder
    from metadata.generated.schema.api.data.createTable import CreateTableRequest

    builder = HudiTableBuilder.from_base_uri(location)
    for key, value in options.items():
        builder = builder.with_storage_option(key, value)
    table = builder.build()
    hudi = table.hudi_options()
    columns = [{"name": f.name, **om_type(f.type)} for f in table.get_schema()]
    facts = {
        "hudi_table_name": hudi.get("hoodie.table.name"),
        "hudi_table_type": table.table_type,
        "hudi_table_version": hudi.get("hoodie.table.version"),
        "hudi_record_key_fields": hudi.get("hoodie.table.recordkey.fields"),
    }
    return CreateTableRequest.model_validate(
        {
            "name": location.rstrip("/").rsplit("/", 1)[-1],
            "databaseSchema": SCHEMA,
            "columns": columns,
            "locationPath": location,
            "extension": {k: v for k, v in facts.items() if v},
        }
    )


def parents(sdk: Any) -> None:
    from metadata.generated.schema.api.data.createCustomProperty import (
        CreateCustomPropertyRequest,
    )
    from metadata.generated.schema.api.data.createDatabase import CreateDatabaseRequest
    from metadata.generated.schema.api.data.createDatabaseSchema import (
        CreateDatabaseSchemaRequest,
    )
    from metadata.generated.schema.api.services.createDatabaseService import (
        CreateDatabaseServiceRequest,
    )
    from metadata.generated.schema.entity.data.table import Table
    from metadata.ingestion.models.custom_properties import (
        CustomPropertyDataTypes,
        OMetaCustomProperties,
    )

    for model, body in (
        (CreateDatabaseServiceRequest, {"name": "bench", "serviceType": "Datalake"}),
        (CreateDatabaseRequest, {"name": "lake", "service": "bench"}),
        (CreateDatabaseSchemaRequest, {"name": "tables", "database": "bench.lake"}),
    ):
        sdk.create_or_update(model.model_validate(body))
    string = sdk.get_property_type_ref(CustomPropertyDataTypes.STRING)
    for name in FACTS:
        sdk.create_or_update_custom_property(
            OMetaCustomProperties(
                entity_type=Table,
                createCustomPropertyRequest=CreateCustomPropertyRequest(
                    name=name, description=name, propertyType=string
                ),
            )
        )


def run_floor(kind: str, sdk: Any, locations: Iterator[str], options: dict[str, str]) -> int:
    """(a) `floor_a`: a PUT per table; (b) `floor_b`: bulk PUTs of 100. Returns the count."""
    parents(sdk)
    count, batch = 0, []
    for location in locations:
        body = request(location, options)
        count += 1
        if kind == "floor_a":
            sdk.create_or_update(body)
            continue
        batch.append(body)
        if len(batch) == BATCH:
            sdk.bulk_create_or_update(batch)
            batch = []
    if batch:
        sdk.bulk_create_or_update(batch)
    return count


def connect(url: str, jwt: str) -> Any:
    """The SDK client, as any script would build it."""
    from metadata.generated.schema.entity.services.connections.metadata.openMetadataConnection import (
        OpenMetadataConnection,
    )
    from metadata.generated.schema.security.client.openMetadataJWTClientConfig import (
        OpenMetadataJWTClientConfig,
    )
    from metadata.ingestion.ometa.ometa_api import OpenMetadata

    return OpenMetadata(
        OpenMetadataConnection(
            hostPort=url,
            authProvider="openmetadata",
            securityConfig=OpenMetadataJWTClientConfig(jwtToken=jwt),
        )
    )


def floor_from_config(kind: str, config: dict[str, Any], url: str, jwt: str) -> int:
    """Run floor `kind` over the lakes a bench config names (its sources' path or bucket)."""
    import itertools

    sdk = connect(url, jwt)
    found: list[Iterator[str]] = []
    options: dict[str, str] = {}
    for source in config["sources"]:
        props = source["properties"]
        if "path" in props:
            found.append(fs_tables(os.path.join(props["path"], props.get("prefix", ""))))
            continue
        import boto3

        client = boto3.client(
            "s3",
            endpoint_url=props["endpoint_url"],
            aws_access_key_id=props["aws_access_key_id"],
            aws_secret_access_key=props["aws_secret_access_key"],
            region_name="us-east-1",
        )
        options = {
            "aws_endpoint_url": props["endpoint_url"],
            "aws_access_key_id": props["aws_access_key_id"],
            "aws_secret_access_key": props["aws_secret_access_key"],
            "aws_region": "us-east-1",
            "aws_allow_http": "true",
        }
        found.append(s3_tables(client, props["bucket"], props.get("prefix", "")))
    return run_floor(kind, sdk, itertools.chain(*found), options)
