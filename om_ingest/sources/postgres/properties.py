"""Connection and naming settings of a `postgres` source."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from om_ingest.sources.helpers import empty_as_unset

SslMode = Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]


class PostgresProperties(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = Field(min_length=1)
    port: int = Field(default=5432, ge=1, le=65535)
    database: str = Field(min_length=1, description="The PostgreSQL database (and OM database)")
    username: str | None = Field(default=None, description="Default: libpq's (the OS user)")
    password: SecretStr | None = Field(default=None, description='A secret; e.g. "${PG_PASSWORD}"')
    sslmode: SslMode | None = Field(default=None, description="libpq sslmode (default: prefer)")
    schemas: list[str] = Field(
        default_factory=list,
        description="PostgreSQL schemas to discover (default: every non-system schema); each "
        "becomes the OM schema of that name",
    )
    service: str | None = Field(
        default=None, description="Database service name (default: the source name)"
    )
    connect_timeout: int = Field(default=10, ge=1, description="Seconds to wait to connect")
    full_refresh: bool = Field(default=False, description="Ignore the incremental state")

    @field_validator("password", "sslmode", "username", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        """`${VAR:-}` gives an empty string; that means "not set" (libpq's defaults)."""
        return empty_as_unset(value)

    @classmethod
    def for_schema(cls, properties: dict[str, Any], schema: str) -> dict[str, Any]:
        """`filter.schema`: that PostgreSQL schema only."""
        return {**properties, "schemas": [schema]}

    def service_name(self, source_name: str) -> str:
        return self.service or source_name

    def url(self) -> Any:
        """The SQLAlchemy URL (psycopg2); the password stays out of its string form."""
        from sqlalchemy.engine import URL

        query = {"connect_timeout": str(self.connect_timeout)}
        if self.sslmode:
            query["sslmode"] = self.sslmode
        return URL.create(
            "postgresql+psycopg2",
            username=self.username,
            password=self.password.get_secret_value() if self.password else None,
            host=self.host,
            port=self.port,
            database=self.database,
            query=query,
        )
