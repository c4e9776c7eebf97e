"""Every setting does something: removed ones are clear errors, metric names are checked,
`openmetadata:` may be omitted, a discovery's `filter.schema` narrows what it finds."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from flows.connections import resolve_target
from om_ingest.config import load_config
from om_ingest.config.models import (
    METRIC_ALIASES,
    PROFILE_METRICS,
    OpenMetadataConfig,
    ProfilingConfig,
)
from om_ingest.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    return path


def error_of(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    return str(info.value)


LAKE = (
    "sources:\n  - name: lake\n    type: s3_hudi\n    properties: {bucket: b, prefix: warehouse/}\n"
)


@pytest.mark.parametrize("value", ["true", "false"])
def test_audit_enabled_was_removed_with_a_clear_error(tmp_path: Path, value: str) -> None:
    message = error_of(write(tmp_path, f"audit:\n  output_dir: x\n  enabled: {value}\n"))
    assert message.startswith(f"{tmp_path / 'c.yaml'}:3 audit.enabled: ")
    assert "always written" in message and "output_dir" in message


def test_discovery_options_was_removed_with_a_clear_error(tmp_path: Path) -> None:
    text = LAKE + "entities:\n  - type: table\n    discovery:\n      source: lake\n"
    message = error_of(write(tmp_path, text + "      options: {depth: 2}\n"))
    assert ":9 entities[0].discovery.options: " in message
    assert "source's `properties`" in message


def test_removed_settings_are_never_suggested(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "audit:\n  enabld: true\n"))
    assert "unknown key" in message and "enabled" not in message
    assert "options" not in error_of(
        write(
            tmp_path, LAKE + "entities:\n  - {type: table, discovery: {source: lake, optoins: 1}}\n"
        )
    )


@given(
    st.lists(st.sampled_from(sorted({*PROFILE_METRICS, *METRIC_ALIASES})), min_size=1, max_size=8)
)
def test_metric_names_and_their_aliases_name_metrics_we_compute(names: list[str]) -> None:
    metrics = ProfilingConfig(metrics=names).metrics
    assert metrics is not None and len(metrics) == len(set(metrics))
    assert set(metrics) == {METRIC_ALIASES.get(name, name) for name in names}
    assert set(metrics) <= set(PROFILE_METRICS)


def test_an_unknown_metric_is_a_config_error_with_a_hint(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "profiling:\n  metrics: [row_count, null_percentag]\n"))
    assert "profiling.metrics[1]" in message
    assert "'null_percentag' is not a known metric (did you mean 'null_percentage'?)" in message


def test_openmetadata_may_be_omitted_then_the_environment_names_it(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "entities: []\n"), env={}).config
    target = resolve_target(config.openmetadata, env={"OM_HOST": "http://om:8585", "OM_JWT": "j"})
    assert target.api_url == "http://om:8585/api"
    assert target.jwt_token is not None and target.jwt_token.get_secret_value() == "j"


def test_without_host_or_environment_the_default_block_is_used() -> None:
    from pydantic import SecretStr

    from blocks.openmetadata import OpenMetadataConnection

    OpenMetadataConnection(
        host_port="http://from-block:8585", jwt_token=SecretStr("block-jwt"), read_timeout_seconds=7
    ).save("om-ingest-openmetadata", overwrite=True)
    try:
        target = resolve_target(OpenMetadataConfig(), env={})
    finally:
        OpenMetadataConnection.delete("om-ingest-openmetadata")
    assert target.api_url == "http://from-block:8585/api" and target.read_timeout_seconds == 7
    assert target.jwt_token is not None and target.jwt_token.get_secret_value() == "block-jwt"


def test_without_host_env_or_default_block_the_error_says_what_to_set() -> None:
    from contextlib import suppress

    from blocks.openmetadata import OpenMetadataConnection

    with suppress(Exception):  # another test may have saved it in this session
        OpenMetadataConnection.delete("om-ingest-openmetadata")
    with pytest.raises(ConfigError) as info:
        resolve_target(OpenMetadataConfig(), env={})
    message = str(info.value)
    assert message.startswith("<config> openmetadata: no OpenMetadata to talk to")
    assert "OM_HOST" in message and "'om-ingest-openmetadata'" in message


@pytest.mark.parametrize(
    "beside", ["host: 'http://h'", "jwt_token: t", "read_timeout_seconds: 5", "verify_ssl: false"]
)
def test_settings_beside_a_block_are_an_error(tmp_path: Path, beside: str) -> None:
    message = error_of(write(tmp_path, f"openmetadata: {{block: b, {beside}}}\n"))
    key = beside.split(":")[0]
    assert f"openmetadata: give either `block` or the connection settings ({key})" in message


def test_a_discovery_can_only_yield_what_its_source_discovers(tmp_path: Path) -> None:
    text = LAKE + "entities:\n  - {type: pipeline, discovery: {source: lake}}\n"
    message = error_of(write(tmp_path, text))
    assert "entities[0].type: source 'lake' (s3_hudi) discovers table, not pipeline" in message


@pytest.mark.parametrize(
    ("source", "kind", "other"),
    [
        ("{name: af, type: airflow, properties: {host: af.example.com}}", "pipeline", "mlmodel"),
        ("{name: ml, type: mlflow, properties: {tracking_uri: 'http://ml'}}", "mlmodel", "table"),
        ("{name: os, type: opensearch, properties: {hosts: 'http://os'}}", "search_index", "topic"),
        ("{name: kf, type: kafka, properties: {bootstrap_servers: 'k:9092'}}", "topic", "table"),
    ],
)
def test_non_table_sources_discover_their_own_kind_only(
    tmp_path: Path, source: str, kind: str, other: str
) -> None:
    name = source.split(",")[0].split(": ")[1]
    good = (
        f"sources:\n  - {source}\nentities:\n  - {{type: {kind}, discovery: {{source: {name}}}}}\n"
    )
    assert load_config(write(tmp_path, good), env={}).config.entities[0].type.value == kind
    bad = good.replace(f"type: {kind},", f"type: {other},")
    message = error_of(write(tmp_path, bad))
    assert (
        f"entities[0].type: source '{name}' ({source.split('type: ')[1].split(',')[0]}) "
        f"discovers {kind}, not {other}" in message
    )


def test_filter_schema_on_a_source_without_schemas_is_an_error(tmp_path: Path) -> None:
    from pydantic import BaseModel

    from om_ingest.sources import registry

    class Flat(BaseModel):
        url: str

    registry.register_source("flat_files", properties=Flat)(lambda config: None)  # type: ignore[arg-type,return-value]
    try:
        text = (
            "sources: [{name: f, type: flat_files, properties: {url: x}}]\n"
            "entities:\n  - {type: table, discovery: {source: f, filter: {schema: s}}}\n"
        )
        message = error_of(write(tmp_path, text))
    finally:
        registry._SOURCES.pop("flat_files")
        registry._PROPERTIES.pop("flat_files")
    assert "entities[0].discovery.filter.schema: source type flat_files has no schemas" in message


def test_filter_schema_narrows_an_s3_hudi_source_to_one_directory(tmp_path: Path) -> None:
    from om_ingest.sources.registry import get_source

    text = (
        LAKE + "entities:\n  - {type: table, discovery: {source: lake, filter: {schema: sales}}}\n"
    )
    config = load_config(write(tmp_path, yaml.safe_dump(yaml.safe_load(text))), env={}).config
    schema = config.entities[0].discovery.filter.schema_  # type: ignore[union-attr]
    source: object = get_source(config.sources[0], schema)
    assert source.properties.normalized_prefix == "warehouse/sales/"  # type: ignore[attr-defined]
    assert source.default_schema_fqn() == "lake.b.sales"  # type: ignore[attr-defined]


def test_the_configs_metadata_describes_its_runs_artifacts(om_env: object, tmp_path: Path) -> None:
    import asyncio

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    from flows.ingest import ingest

    text = (
        "metadata: {name: described, version: '2.1', owner: data-team, tags: [nightly],"
        " description: Sales marts}\n"
        f"audit: {{output_dir: '{tmp_path / 'audit'}'}}\n"
        "entities: [{type: database_service, name: described_svc}]\n"
    )
    ingest(str(write(tmp_path, text)))

    async def description() -> str | None:
        async with get_client() as client:
            found = await client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["audit-described"]))
            )
            return found[-1].description

    assert asyncio.run(description()) == (
        "Audit events of this run of described 2.1; owner data-team; tags nightly: Sales marts"
    )
