"""Resolve the config's `openmetadata:` section (inline values or a block) to a client."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import tenacity
from pydantic import SecretStr

from om_ingest.config.models import OpenMetadataConfig, RetryConfig
from om_ingest.errors import ConfigError, TransientOpenMetadataError
from om_ingest.logs import register_secrets
from om_ingest.openmetadata import OMClient, connect_openmetadata

log = logging.getLogger("om_ingest.connections")


@dataclass(frozen=True)
class OpenMetadataTarget:
    api_url: str
    jwt_token: SecretStr | None
    verify_ssl: bool


def resolve_target(config: OpenMetadataConfig) -> OpenMetadataTarget:
    if config.block is not None:
        from blocks.openmetadata import OpenMetadataConnection

        try:
            block: OpenMetadataConnection = OpenMetadataConnection.load(config.block, _sync=True)  # type: ignore[call-arg,assignment]
        except ValueError as exc:
            raise ConfigError(
                f"OpenMetadataConnection block {config.block!r} not found ({exc})",
                path="openmetadata.block",
            ) from None
        resolved = OpenMetadataConfig(
            host=block.host_port, jwt_token=block.jwt_token, verify_ssl=block.verify_ssl
        )
    else:
        resolved = config
    assert resolved.api_url is not None  # host or block is required by validation
    return OpenMetadataTarget(resolved.api_url, resolved.jwt_token, resolved.verify_ssl)


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
    retries = retries or RetryConfig()
    connect = tenacity.retry(
        retry=tenacity.retry_if_exception_type(TransientOpenMetadataError),
        stop=tenacity.stop_after_attempt(retries.max_attempts),
        wait=tenacity.wait_random_exponential(
            multiplier=retries.backoff_seconds, max=retries.max_backoff_seconds
        ),
        before_sleep=lambda state: log.warning(
            "connecting to OpenMetadata (attempt %d/%d): %s",
            state.attempt_number,
            retries.max_attempts,
            state.outcome.exception() if state.outcome else "",
        ),
        reraise=True,
    )(connect_openmetadata)
    sdk = connect(target.api_url, target.jwt_token, verify_ssl=target.verify_ssl)
    return OMClient(sdk, target.api_url)
