"""Connection and naming settings of an `s3_hudi` source."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    field_validator,
    model_validator,
)

from om_ingest.errors import SourceError
from om_ingest.logs import register_secrets
from om_ingest.sources.helpers import empty_as_unset


class S3HudiProperties(BaseModel):
    model_config = ConfigDict(extra="forbid")
    _credentials: dict[str, str] | None = PrivateAttr(default=None)

    bucket: str | None = Field(default=None, min_length=1, description="The S3 bucket of the lake")
    path: str | None = Field(
        default=None,
        min_length=1,
        description="Instead of `bucket`: a local or mounted directory holding the lake",
    )
    prefix: str = ""
    endpoint_url: str | None = Field(default=None, description="MinIO or a test S3 endpoint")
    region: str = "us-east-1"
    aws_access_key_id: SecretStr | None = None
    aws_secret_access_key: SecretStr | None = None
    aws_session_token: SecretStr | None = None
    block: str | None = Field(default=None, description="A saved prefect-aws AwsCredentials block")
    include_meta_columns: bool = False
    service: str | None = Field(
        default=None, description="Datalake service name (default: the source name)"
    )
    database: str | None = Field(default=None, description="Database name (default: the bucket)")
    schema_: str | None = Field(
        default=None, alias="schema", description="Schema name (default: last prefix segment)"
    )
    full_refresh: bool = Field(default=False, description="Ignore the incremental state")
    read_concurrency: int = Field(
        default=8, ge=1, le=64, description="Tables whose Hudi metadata is read at the same time"
    )

    @field_validator(
        "endpoint_url",
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
        "block",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        """`${VAR:-}` gives an empty string; that means "not set", e.g. AWS's default chain."""
        return empty_as_unset(value)

    @model_validator(mode="after")
    def _one_place(self) -> S3HudiProperties:
        if (self.bucket is None) == (self.path is None):
            raise ValueError("set exactly one of `bucket` (S3) and `path` (a directory)")
        return self

    @cached_property
    def root(self) -> Path:
        """The lake's directory (with `path`), absolute (resolved once: thousands of tables
        ask)."""
        return Path(str(self.path)).expanduser().resolve()

    def location(self, key: str) -> str:
        """The URI of `key` (a table's prefix) in the lake: `s3://bucket/key` or
        `file:///dir/key`, as OM's `locationPath` records it and hudi-rs reads it."""
        key = key.strip("/")
        if self.path is not None:
            return (self.root / key).as_uri() if key else self.root.as_uri()
        return f"s3://{self.bucket}/{key}"

    def describe(self) -> str:
        return str(self.root) if self.path is not None else f"s3://{self.bucket}"

    @classmethod
    def for_schema(cls, properties: dict[str, Any], schema: str) -> dict[str, Any]:
        """`filter.schema`: the tables under `{prefix}{schema}/`, in the OM schema `schema`."""
        prefix = str(properties.get("prefix") or "").strip("/")
        narrowed = f"{prefix}/{schema}" if prefix else schema
        return {**properties, "prefix": f"{narrowed}/", "schema": schema}

    @property
    def normalized_prefix(self) -> str:
        prefix = self.prefix.strip("/")
        return f"{prefix}/" if prefix else ""

    def service_name(self, source_name: str) -> str:
        return self.service or source_name

    def database_name(self) -> str:
        return self.database or self.bucket or self.root.name

    def schema_name(self) -> str:
        return self.schema_ or (self.prefix.strip("/").rsplit("/", 1)[-1] or "default")

    def credentials(self) -> dict[str, str]:
        """Access key, secret and token, from inline values or the prefect-aws block (loaded
        once, not once per table)."""
        if self._credentials is not None:
            return self._credentials
        if self.block is not None:
            from prefect_aws import AwsCredentials

            try:
                creds: Any = AwsCredentials.load(self.block, _sync=True)  # type: ignore[call-arg]
            except ValueError as exc:
                raise SourceError(
                    f"AwsCredentials block {self.block!r} not found ({exc})"
                ) from None
            values = {
                "aws_access_key_id": creds.aws_access_key_id,
                "aws_secret_access_key": creds.aws_secret_access_key.get_secret_value()
                if creds.aws_secret_access_key
                else None,
                "aws_session_token": creds.aws_session_token,
            }
        else:
            values = {
                "aws_access_key_id": _plain(self.aws_access_key_id),
                "aws_secret_access_key": _plain(self.aws_secret_access_key),
                "aws_session_token": _plain(self.aws_session_token),
            }
        clean = {k: v for k, v in values.items() if v}
        register_secrets(clean.values())
        self._credentials = clean
        return clean

    def s3_client(self) -> Any:
        import boto3

        return boto3.client(
            "s3", endpoint_url=self.endpoint_url, region_name=self.region, **self.credentials()
        )

    def arrow_filesystem(self) -> Any:
        """pyarrow's S3 filesystem for the same bucket (Parquet footers by range reads), or
        the local one for a lake under `path`."""
        from urllib.parse import urlsplit

        from pyarrow import fs

        if self.path is not None:
            return fs.LocalFileSystem()

        creds = self.credentials()
        options: dict[str, Any] = {
            "access_key": creds.get("aws_access_key_id"),
            "secret_key": creds.get("aws_secret_access_key"),
            "session_token": creds.get("aws_session_token"),
            "region": self.region,
        }
        if self.endpoint_url:
            url = urlsplit(self.endpoint_url)
            options.update(endpoint_override=url.netloc, scheme=url.scheme or "https")
        return fs.S3FileSystem(**{k: v for k, v in options.items() if v is not None})

    def storage_options(self) -> dict[str, str]:
        """hudi-rs (object_store) options for the same bucket (none for a local lake)."""
        if self.path is not None:
            return {}
        options = {"aws_region": self.region, **self.credentials()}
        if self.endpoint_url:
            options["aws_endpoint_url"] = self.endpoint_url
            if self.endpoint_url.startswith("http://"):
                options["aws_allow_http"] = "true"
        return options


def _plain(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None
