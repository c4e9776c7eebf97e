"""The `OpenMetadataConnection` block: where OpenMetadata is and the bot JWT to reach it."""

from __future__ import annotations

from typing import ClassVar

from prefect.blocks.core import Block
from pydantic import Field, SecretStr


class OpenMetadataConnection(Block):
    """Connection settings for an OpenMetadata server (the JWT is stored as a secret)."""

    _block_type_name: ClassVar[str] = "OpenMetadata Connection"
    _block_type_slug: ClassVar[str] = "openmetadata-connection"
    _description: ClassVar[str] = "Host and bot JWT of an OpenMetadata server, for om-ingest."
    _logo_url: ClassVar[None] = None

    host_port: str = Field(
        description="OM URL, e.g. https://om.example.com (`/api` appended when absent)"
    )
    jwt_token: SecretStr = Field(description="JWT of an OpenMetadata bot")
    verify_ssl: bool = Field(default=True, description="Verify the server's TLS certificate")
    connect_timeout_seconds: int = Field(
        default=10, ge=1, description="Seconds to wait for a connection"
    )
    read_timeout_seconds: int = Field(default=60, ge=1, description="Seconds to wait for an answer")
