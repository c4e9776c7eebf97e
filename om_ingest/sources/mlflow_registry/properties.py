"""Connection settings of an `mlflow` source."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator


class MlflowProperties(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tracking_uri: str = Field(
        pattern=r"^https?://", description="The MLflow tracking server, e.g. http://mlflow:5000"
    )
    registry_uri: str | None = Field(
        default=None,
        pattern=r"^https?://",
        description="The model registry, when not the tracking server",
    )
    token: SecretStr | None = Field(
        default=None, description="Bearer token (MLFLOW_TRACKING_TOKEN)"
    )
    username: str | None = Field(
        default=None, description="User of MLflow's basic-auth app (instead of a token)"
    )
    password: SecretStr | None = None
    verify_ssl: bool = True
    timeout_seconds: int = Field(default=30, ge=1, description="Per HTTP request")
    max_retries: int = Field(
        default=2, ge=0, description="Retries of a request failing with 429/5xx or no answer"
    )

    @field_validator("token", "password", "registry_uri", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        plain = value.get_secret_value() if isinstance(value, SecretStr) else value
        return None if plain == "" else value

    @model_validator(mode="after")
    def _password_with_username(self) -> MlflowProperties:
        if (self.username is None) != (self.password is None):
            raise ValueError("`username` and `password` go together")
        return self
