"""A source's secret properties are secrets from the moment the config is loaded, and the
flow masks them in every log record wherever it runs (here: called directly, as a Prefect
worker runs a deployment, without the CLI's logging set-up)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows.ingest import ingest
from om_ingest.config import load_config
from om_ingest.config.models import SourceConfig
from om_ingest.errors import ConfigError
from om_ingest.sandbox import ThreadedSandbox
from om_ingest.testing.lake_writer import LakeTarget, write_synthetic_lake
from om_ingest.testing.moto_s3 import MotoS3Server
from tests.conftest import JWT
from tests.lake_configs import lake_config as shared_lake_config
from tests.lake_configs import write_config

AWS_KEY_ID = "AKIAFLOWPLANTED9Z8Y"
AWS_SECRET = "aws-flow-SECRET-31c4e2a7"

suffixes = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=6, max_size=24)


def lake_config(tmp_path: Path, endpoint: str, key_id: str, secret: str) -> str:
    """A lake source holding the planted keys; OM from the environment."""
    properties = {
        "endpoint_url": endpoint,
        "aws_access_key_id": key_id,
        "aws_secret_access_key": secret,
    }
    config = shared_lake_config(tmp_path, None, properties=properties, om=False)
    return write_config(tmp_path, config, "secret_source.yaml")


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(suffix=suffixes)
def test_loaded_config_never_shows_a_source_secret(tmp_path: Path, suffix: str) -> None:
    key_id, secret = f"AKIA{suffix.upper()}", f"planted-{suffix}"
    config = load_config(lake_config(tmp_path, "http://127.0.0.1:9", key_id, secret)).config
    shown = [repr(config), str(config), config.model_dump_json(), str(config.model_dump())]
    for text in shown:
        assert key_id not in text and secret not in text
    properties = config.sources[0].properties  # the plugin still gets the real values
    assert properties["aws_secret_access_key"].get_secret_value() == secret


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(suffix=suffixes)
def test_unknown_source_types_hide_secret_looking_properties(tmp_path: Path, suffix: str) -> None:
    password = f"pw-{suffix}"
    raw = {"name": "db", "type": "nosuch_db", "properties": {"host": "db", "password": password}}
    source = SourceConfig.model_validate(raw)
    assert password not in repr(source) + source.model_dump_json()
    assert source.properties["host"] == "db"  # only secrets are wrapped
    path = tmp_path / "db.yaml"
    path.write_text(yaml.safe_dump({"sources": [raw]}))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "unknown source type 'nosuch_db'" in str(info.value) and password not in str(info.value)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(suffix=suffixes)
def test_the_postgres_password_is_a_secret_from_the_start(tmp_path: Path, suffix: str) -> None:
    password = f"pw-{suffix}"
    raw = {"name": "pg", "type": "postgres", "properties": {"host": "db", "password": password}}
    source = SourceConfig.model_validate(raw)
    assert password not in repr(source) + source.model_dump_json()
    assert source.properties["password"].get_secret_value() == password
    path = tmp_path / "pg.yaml"
    path.write_text(yaml.safe_dump({"sources": [raw]}))
    with pytest.raises(ConfigError) as info:  # `database` is missing
        load_config(path)
    assert "database" in str(info.value) and password not in str(info.value)


@pytest.fixture(scope="module")
def lake() -> Iterator[MotoS3Server]:
    with MotoS3Server() as moto:
        client = moto.s3_client()
        client.create_bucket(Bucket="lake")
        write_synthetic_lake(LakeTarget.s3(client, "lake"), "warehouse", 2, 4)
        yield moto


def test_the_flow_masks_secrets_in_library_logs_without_the_cli(
    lake: MotoS3Server,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # botocore logs its signed requests (the key id) at DEBUG
    caplog.set_level(logging.DEBUG, logger="botocore")
    config = lake_config(tmp_path, lake.endpoint_url, AWS_KEY_ID, AWS_SECRET)
    with ThreadedSandbox(JWT) as om:
        monkeypatch.setenv("OM_HOST", om.host_port)
        monkeypatch.setenv("OM_JWT", JWT)
        summary = ingest(str(config))
    assert summary["outcomes"] == {"success": 3 + 2}
    logged = [r.getMessage() + (r.exc_text or "") for r in caplog.records]
    for secret in (AWS_KEY_ID, AWS_SECRET, JWT):
        leaks = [m[max(0, m.find(secret) - 100) :][:200] for m in logged if secret in m]
        assert not leaks, leaks[0]
    assert any("**********" in m for m in logged), "nothing was masked: nothing was tested"


def test_redaction_covers_messages_and_tracebacks_under_any_handler() -> None:
    import io

    from om_ingest.logs import install_redaction, register_secrets

    install_redaction()
    register_secrets(["tb-SECRET-5e6f7a"])
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)  # a plain handler: no redacting formatter
    logger = logging.getLogger("om_ingest.tests.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    records: list[logging.LogRecord] = []
    handler.addFilter(lambda record: records.append(record) or True)
    try:
        try:
            raise ValueError("rejected tb-SECRET-5e6f7a")
        except ValueError:
            logger.exception("call failed with %s", "tb-SECRET-5e6f7a")
        logger.warning("%d tables", 3)
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert "tb-SECRET-5e6f7a" not in output
    assert "call failed with **********" in output and "ValueError: rejected **********" in output
    assert records[-1].args == (3,)  # records without secrets are left as they were
