"""Blocks: registration, and an ingest whose OpenMetadata connection comes from a saved block."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner

from blocks.openmetadata import OpenMetadataConnection
from flows.ingest import ingest
from om_ingest.cli.main import cli
from tests.conftest import JWT


def test_register_and_ingest_through_a_saved_block(om_sandbox: Any, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["blocks", "register"], env={"OM_HOST": om_sandbox.host_port, "OM_JWT": JWT}
    )
    assert result.exit_code == 0, result.output
    assert "registered block type openmetadata-connection" in result.output
    assert "saved block openmetadata-connection/om-ingest-openmetadata" in result.output
    assert JWT not in result.output

    block = OpenMetadataConnection.load("om-ingest-openmetadata")
    assert block.jwt_token.get_secret_value() == JWT and JWT not in repr(block)

    config = tmp_path / "block.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "metadata": {"name": "via-block"},
                "openmetadata": {"block": "om-ingest-openmetadata"},
                "audit": {"output_dir": str(tmp_path / "audit")},
                "entities": [{"type": "database_service", "name": "from_block"}],
            }
        )
    )
    summary = ingest(str(config))
    assert summary["operations"] == {"CREATE": 1}
    assert [e["path"] for e in om_sandbox.write_calls()] == ["/api/v1/services/databaseServices"]


def test_unknown_block_is_a_config_error(tmp_path: Path) -> None:
    from om_ingest.errors import ConfigError

    config = tmp_path / "missing.yaml"
    config.write_text(yaml.safe_dump({"openmetadata": {"block": "nope"}, "entities": []}))
    try:
        ingest(str(config))
    except ConfigError as exc:
        assert "OpenMetadataConnection block 'nope' not found" in str(exc)
    else:
        raise AssertionError("a missing block must fail the run")
