"""Resolve the config's `openmetadata:` section (inline values or a block) to a client."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import SecretStr

from om_ingest.config.models import OpenMetadataConfig
from om_ingest.errors import ConfigError
from om_ingest.logs import register_secrets
from om_ingest.openmetadata import OMClient, connect_openmetadata


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


def open_client(config: OpenMetadataConfig) -> OMClient:
    target = resolve_target(config)
    if target.jwt_token is not None:
        register_secrets([target.jwt_token.get_secret_value()])
    sdk = connect_openmetadata(target.api_url, target.jwt_token, verify_ssl=target.verify_ssl)
    return OMClient(sdk, target.api_url)
