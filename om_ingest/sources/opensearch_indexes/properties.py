"""Connection settings of an `opensearch` source."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from om_ingest.sources.helpers import empty_as_unset


class OpenSearchProperties(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hosts: list[str] = Field(
        min_length=1,
        description="Node URLs of one cluster, e.g. https://search.company.com:9200 (a single "
        "URL may be given as a string)",
    )
    username: str | None = Field(default=None, description="HTTP basic auth user")
    password: SecretStr | None = None
    verify_certs: bool = True
    ca_certs: str | None = Field(
        default=None, description="A CA bundle (PEM file) to verify the nodes' certificates"
    )
    include_templates: bool = Field(
        default=True,
        description="Note the index templates matching each index (needs the cluster "
        "permission to read templates)",
    )
    timeout_seconds: int = Field(default=30, ge=1, description="Per HTTP request")

    @field_validator("hosts", mode="before")
    @classmethod
    def _one_host(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("hosts")
    @classmethod
    def _urls(cls, hosts: list[str]) -> list[str]:
        from urllib.parse import urlsplit

        for host in hosts:
            if "@" in urlsplit(host).netloc or "@" in host.split("/", 1)[0]:
                raise ValueError("credentials go in `username`/`password`, not in a host URL")
            if not host.startswith(("http://", "https://")):
                raise ValueError(f"{host!r} is not an http:// or https:// URL")
        return [host.rstrip("/") for host in hosts]

    @field_validator("password", "username", "ca_certs", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        return empty_as_unset(value)

    @model_validator(mode="after")
    def _password_with_username(self) -> OpenSearchProperties:
        if (self.username is None) != (self.password is None):
            raise ValueError("`username` and `password` go together")
        return self
