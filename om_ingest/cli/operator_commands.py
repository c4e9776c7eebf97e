"""Operator commands: what the sources would produce, and what om-ingest can declare.

`discover` runs each source's own discovery (the same `discover_entities` a run streams)
without an OpenMetadata client and with a throw-away state directory, so nothing is written
anywhere and nothing is skipped as unchanged. `list-sources` and `list-entities` print the
registered source plugins and entity kinds with their properties, generated from the
plugins' and the config's pydantic models (the rows of the config reference).
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from om_ingest.cli.main import cli, reports_errors, stdout


@cli.command()
@click.argument("config", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--source", "source_name", help="Only the discovery entities of this source.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@reports_errors
def discover(config: Path, source_name: str | None, as_json: bool) -> None:
    """Print what each source of CONFIG would produce (tables, columns, properties),
    without touching OpenMetadata."""
    from om_ingest.config import load_config
    from om_ingest.engine.discovery import expand_entities
    from om_ingest.engine.results import EntityResult
    from om_ingest.errors import ConfigError
    from om_ingest.planning import unpacked

    loaded = load_config(config)
    names = [s.name for s in loaded.config.sources]
    if source_name is not None and source_name not in names:
        raise ConfigError(
            f"no source named {source_name!r} (sources: {', '.join(names) or 'none'})"
        )
    wanted = [
        e
        for e in loaded.config.entities
        if e.discovery is not None and source_name in (None, e.discovery.source)
    ]
    loaded = replace(loaded, config=loaded.config.model_copy(update={"entities": wanted}))
    with tempfile.TemporaryDirectory(prefix="om-ingest-discover-") as state_dir:
        expansion = expand_entities(loaded, state_dir, dry_run=True, client=None)
        for result in expansion.pre_results:
            _print({"source": result.fqn, "error": result.error}, as_json)
        for index in sorted(expansion.streams):
            source = expansion.streams[index].source_config.name
            for item in expansion.discover(index):
                if isinstance(item, EntityResult):
                    _print({"source": source, "fqn": item.fqn, "error": item.error}, as_json)
                    continue
                _print(_described(unpacked(item), source), as_json)


def _described(entity: Any, source: str) -> dict[str, Any]:
    from om_ingest.planning import entity_fqn

    props = entity.properties
    dumped = props.model_dump(mode="json", exclude_defaults=True) if props else {}
    return {
        "source": source,
        "type": entity.type.value,
        "fqn": entity_fqn(entity),
        "columns": [_column(c) for c in dumped.pop("columns", [])],
        "properties": dumped,
    }


def _column(column: dict[str, Any]) -> str:
    text = f"{column['name']} {column['data_type']}"
    if column.get("children"):
        text += " <" + ", ".join(_column(c) for c in column["children"]) + ">"
    if column.get("array_data_type"):
        text += f"<{column['array_data_type']}>"
    return text


def _print(record: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(record, sort_keys=True, default=str))
        return
    if "error" in record:
        click.echo(f"{record['source']}: {record.get('fqn', '')} FAILED: {record['error']}")
        return
    click.echo(f"{record['type']} {record['fqn']} (from {record['source']})")
    for column in record["columns"]:
        click.echo(f"  column {column}")
    for key, value in sorted(record["properties"].items()):
        if key != "database_schema":
            click.echo(f"  {key}: {json.dumps(value, sort_keys=True, default=str)}")


@cli.command("list-sources")
@reports_errors
def list_sources() -> None:
    """Print the registered source plugins, what they discover and their properties."""
    from om_ingest.config.reference import field_rows
    from om_ingest.sources.registry import discovers, properties_model, source_types

    for source_type in source_types():
        model = properties_model(source_type)
        found = ", ".join(sorted(discovers(source_type)))
        stdout.print(f"{source_type}: discovers {found}", highlight=False, markup=False)
        _rows(field_rows(model) if model is not None else [])


@cli.command("list-entities")
@reports_errors
def list_entities() -> None:
    """Print the entity kinds a config can declare and their properties."""
    from om_ingest.config.models import PROPERTY_MODELS, EntityType
    from om_ingest.config.reference import field_rows
    from om_ingest.planning.plan import PARENT_FIELD

    for kind in EntityType:
        model = PROPERTY_MODELS.get(kind)
        parent = PARENT_FIELD.get(kind)
        suffix = f" (parent: {parent})" if parent else ""
        stdout.print(f"{kind.value}{suffix}", highlight=False, markup=False)
        _rows(field_rows(model) if model is not None else [])


def _rows(rows: list[tuple[str, str, str, str]]) -> None:
    for key, type_text, default, description in rows:
        about = f" — {description}" if description.strip() else ""
        stdout.print(
            f"  {key}: {type_text} (default {default}){about}", highlight=False, markup=False
        )
