"""Resolve the config's `openmetadata:` section (inline values, a block, or the
environment) to a client."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr

from om_ingest.config.models import (
    DEFAULT_OPENMETADATA_BLOCK,
    OpenMetadataConfig,
    RetryConfig,
    api_url,
)
from om_ingest.errors import ConfigError
from om_ingest.logs import register_secrets
from om_ingest.openmetadata import OMClient, connect_openmetadata
from om_ingest.openmetadata.retry import call_with_retries


@dataclass(frozen=True)
class OpenMetadataTarget:
    api_url: str
    jwt_token: SecretStr | None
    verify_ssl: bool
    connect_timeout_seconds: int = 10
    read_timeout_seconds: int = 60


def resolve_target(
    config: OpenMetadataConfig, env: Mapping[str, str] | None = None
) -> OpenMetadataTarget:
    """The config's host, else its block, else `OM_HOST`/`OM_JWT` from the environment of
    the run, else the default block (`om-ingest-openmetadata`)."""
    env = os.environ if env is None else env
    if config.host is not None:
        resolved = config
    elif config.block is not None:
        resolved = _from_block(config.block, config, required=True)
    elif env.get("OM_HOST"):
        token = config.jwt_token or (SecretStr(env["OM_JWT"]) if env.get("OM_JWT") else None)
        resolved = config.model_copy(update={"host": env["OM_HOST"], "jwt_token": token})
    else:
        resolved = _from_block(DEFAULT_OPENMETADATA_BLOCK, config, required=False)
    assert resolved.host is not None
    return OpenMetadataTarget(
        api_url(resolved.host),
        resolved.jwt_token,
        resolved.verify_ssl,
        resolved.connect_timeout_seconds,
        resolved.read_timeout_seconds,
    )


def _from_block(name: str, config: OpenMetadataConfig, required: bool) -> OpenMetadataConfig:
    from blocks.openmetadata import OpenMetadataConnection

    try:
        block: OpenMetadataConnection = OpenMetadataConnection.load(name, _sync=True)  # type: ignore[call-arg,assignment]
    except ValueError as exc:
        if required:
            raise ConfigError(
                f"OpenMetadataConnection block {name!r} not found ({exc})",
                path="openmetadata.block",
            ) from None
        raise ConfigError(
            "no OpenMetadata to talk to: give `openmetadata.host` (or `block`), set OM_HOST "
            f"and OM_JWT, or save the OpenMetadataConnection block {name!r} "
            "(`om-ingest blocks register`)",
            path="openmetadata",
        ) from None
    return config.model_copy(
        update={
            "host": block.host_port,
            "jwt_token": block.jwt_token,
            "verify_ssl": block.verify_ssl,
            "connect_timeout_seconds": block.connect_timeout_seconds,
            "read_timeout_seconds": block.read_timeout_seconds,
        }
    )


def load_result_storage(slug: str | None) -> Any:
    """`execution.result_storage` (`block-type/name`) as the block Prefect writes results to."""
    if slug is None:
        return None
    from prefect.blocks.core import Block

    try:
        return Block.load(slug, _sync=True)  # type: ignore[call-arg]
    except (ValueError, KeyError) as exc:
        raise ConfigError(
            f"result storage block {slug!r} not found ({exc})", path="execution.result_storage"
        ) from None


def open_client(config: OpenMetadataConfig, retries: RetryConfig | None = None) -> OMClient:
    """Connect (the SDK's version check), retrying transient failures like any other call."""
    target = resolve_target(config)
    if target.jwt_token is not None:
        register_secrets([target.jwt_token.get_secret_value()])
    sdk = call_with_retries(
        lambda: connect_openmetadata(
            target.api_url,
            target.jwt_token,
            verify_ssl=target.verify_ssl,
            connect_timeout_seconds=target.connect_timeout_seconds,
            read_timeout_seconds=target.read_timeout_seconds,
        ),
        retries or RetryConfig(),
        f"connecting to OpenMetadata at {target.api_url}",
    )
    return OMClient(sdk, target.api_url)
