"""Connection settings of a `kafka` source: the brokers, and the schema registry."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from om_ingest.sources.helpers import empty_as_unset

MAX_SAMPLE_MESSAGES = 100


class SchemaRegistryProperties(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(pattern=r"^https?://", description="e.g. http://schema-registry:8081")
    basic_auth: SecretStr | None = Field(
        default=None,
        description="`user:password` for the registry's HTTP basic auth "
        "(Confluent's basic.auth.user.info)",
    )

    @field_validator("basic_auth", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        return empty_as_unset(value)

    @field_validator("basic_auth")
    @classmethod
    def _user_and_password(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and ":" not in value.get_secret_value():
            raise ValueError("basic_auth is `user:password`")
        return value


class KafkaProperties(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bootstrap_servers: str = Field(
        min_length=1, description="Comma-separated `host:port` list (bootstrap.servers)"
    )
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: (
        Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "GSSAPI", "OAUTHBEARER"] | None
    ) = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    schema_registry: SchemaRegistryProperties | None = Field(
        default=None,
        description="Where topic schemas are read: the latest version of `<topic>-value` "
        "(TopicNameStrategy); without it topics carry no schema",
    )
    include_internal: bool = Field(
        default=False,
        description="Discover internal topics too (names starting with `__`, `_schemas`)",
    )
    timeout_seconds: int = Field(
        default=10, ge=1, description="Per broker or registry request (and the sample read)"
    )
    sample_messages: int = Field(
        default=0,
        ge=0,
        le=MAX_SAMPLE_MESSAGES,
        description="The newest messages of each topic to store as its sample data in "
        "OpenMetadata (0: none), read with assign() (no consumer group left behind) and decoded "
        "as OM's Kafka connector does (Avro through the registry, JSON as text, Protobuf not)",
    )

    @field_validator("sasl_username", "sasl_password", "sasl_mechanism", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        return empty_as_unset(value)

    @model_validator(mode="after")
    def _sasl_settings_together(self) -> KafkaProperties:
        if (self.sasl_username is None) != (self.sasl_password is None):
            raise ValueError("`sasl_username` and `sasl_password` go together")
        sasl = self.security_protocol.startswith("SASL_")
        if self.sasl_username is not None and not sasl:
            raise ValueError("SASL credentials need security_protocol SASL_PLAINTEXT or SASL_SSL")
        if sasl and self.sasl_mechanism is None:
            raise ValueError(f"security_protocol {self.security_protocol} needs sasl_mechanism")
        return self

    @classmethod
    def hide_secrets(cls, properties: dict[str, Any]) -> dict[str, Any]:
        """`properties` with the registry's `basic_auth` as a `SecretStr` too."""
        registry = properties.get("schema_registry")
        if not isinstance(registry, dict) or not isinstance(registry.get("basic_auth"), str):
            return properties
        hidden = {**registry, "basic_auth": SecretStr(registry["basic_auth"])}
        return {**properties, "schema_registry": hidden}

    def client_config(self) -> dict[str, Any]:
        """librdkafka settings (AdminClient, Consumer): plain values, secrets included."""
        config: dict[str, Any] = {
            "bootstrap.servers": self.bootstrap_servers,
            "security.protocol": self.security_protocol,
        }
        if self.sasl_mechanism is not None:
            config["sasl.mechanism"] = self.sasl_mechanism
        if self.sasl_username is not None and self.sasl_password is not None:
            config["sasl.username"] = self.sasl_username
            config["sasl.password"] = self.sasl_password.get_secret_value()
        return config
