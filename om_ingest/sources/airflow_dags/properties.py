"""Connection and mapping settings of an `airflow` source."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from om_ingest.sources.airflow_dags.assets import AssetTable


class AirflowProperties(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = Field(
        min_length=1,
        description="The Airflow URL (API server / webserver); a bare host name means https",
    )
    username: str | None = Field(
        default=None, description="Exchanged for a token at /auth/token (Airflow 3)"
    )
    password: SecretStr | None = None
    token: SecretStr | None = Field(
        default=None, description="A JWT (Airflow 3) instead of username/password"
    )
    api_version: Literal["v2", "v1"] = Field(
        default="v2",
        description="v2: Airflow 3's /api/v2 (token auth); v1: Airflow 2's /api/v1 "
        "(basic auth with username/password, or the token as a bearer)",
    )
    verify_ssl: bool = True
    include_paused: bool = Field(default=True, description="Discover paused DAGs too")
    tags_classification: str | None = Field(
        default=None,
        description="Apply each Airflow DAG tag as the OM tag `<this>.<tag>` (they must exist "
        "or be declared); Airflow tags are always kept in the `airflow_tags` custom property",
    )
    pipeline_status_runs: int = Field(
        default=10, ge=0, le=100, description="Recent DAG runs read per DAG (pipeline statuses)"
    )
    timeout_seconds: int = Field(default=30, ge=1, description="Per HTTP request")
    lineage: bool = Field(
        default=True,
        description="Turn each DAG's assets into lineage edges: every table it reads → every "
        "table it writes, with the DAG's pipeline on the edge",
    )
    asset_tables: list[AssetTable] = Field(
        default_factory=list,
        description="Rules mapping asset URIs (or names) to OM table FQNs, tried in order; "
        "after them an asset named `<table FQN>` or `om://<table FQN>` maps to that table",
    )

    @field_validator("host")
    @classmethod
    def _https_by_default(cls, value: str) -> str:
        return value if "://" in value else f"https://{value}"

    @field_validator("token", "password", "username", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        plain = value.get_secret_value() if isinstance(value, SecretStr) else value
        return None if plain == "" else value

    @model_validator(mode="after")
    def _one_way_to_authenticate(self) -> AirflowProperties:
        if (self.username is None) != (self.password is None):
            raise ValueError("`username` and `password` go together")
        if self.token is not None and self.username is not None:
            raise ValueError("give either `token` or `username`/`password`, not both")
        return self
