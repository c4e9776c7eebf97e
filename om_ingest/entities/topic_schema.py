"""A topic's fields from its schema text (Avro, JSON Schema, Protobuf), parsed by the SDK's
own parsers — the ones OpenMetadata's Kafka connector uses — so a topic declared with only
`schema_text` gets the same nested `schemaFields` OM's connector would give it."""

from __future__ import annotations

from typing import Any


def schema_fields(schema_type: str, topic: str, text: str) -> list[dict[str, Any]]:
    """The OM `FieldModel` JSON of every top-level field (children nested); raises ValueError
    for text the parser cannot read or a parser whose library is not installed."""
    from metadata.parsers.schema_parsers import schema_parser_config_registry

    parser = schema_parser_config_registry.registry.get(schema_type.lower())
    if parser is None:
        raise ValueError(f"no parser for {schema_type} schema text")
    try:
        fields = parser(topic, text)
    except ModuleNotFoundError as exc:
        raise ValueError(
            f"reading {schema_type} schema text needs the Python package {exc.name!r} "
            "(a dependency of om-ingest: reinstall it); or give `schema_fields` instead"
        ) from None
    if not fields:
        raise ValueError(f"schema_text is not a readable {schema_type} schema")
    return [f.model_dump(mode="json", exclude_none=True, by_alias=True) for f in fields]


def with_parsed_fields(body: dict[str, Any]) -> dict[str, Any]:
    """A topic request whose `messageSchema` has text but no fields, with its fields parsed
    (fields the config gives win: they may carry descriptions and tags)."""
    schema = body.get("messageSchema")
    if not isinstance(schema, dict) or not schema.get("schemaText") or schema.get("schemaFields"):
        return body
    fields = schema_fields(
        str(schema.get("schemaType") or "Other"), body["name"], schema["schemaText"]
    )
    return {**body, "messageSchema": {**schema, "schemaFields": fields}}
