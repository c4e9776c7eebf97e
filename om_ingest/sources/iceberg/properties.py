"""Connection and naming settings of an `iceberg` source.

`catalog` is what pyiceberg's `load_catalog` takes, under pyiceberg's own property names
(`type`, `uri`, `warehouse`, `s3.endpoint`, `token`, …), so any catalog pyiceberg supports
works without om-ingest knowing its options. Credential-like keys (and a catalog URI that
carries a password, e.g. a SQL catalog's `postgresql://user:pass@host/db`) are held as
`SecretStr` from the moment the config is loaded.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from om_ingest import fqns
from om_ingest.logs import register_secrets

SECRET_KEY = re.compile(
    r"(?i)(secret|token|credential|password|passwd|access-key|account-key|private-key|sas)"
)
"""pyiceberg property names holding credentials (`s3.secret-access-key`, `s3.session-token`,
`token`, `credential`, `adls.account-key`, `gcs.oauth2.token`, …)."""


class IcebergProperties(BaseModel):
    model_config = ConfigDict(extra="forbid")

    catalog: dict[str, Any] = Field(
        description="pyiceberg catalog properties, as `load_catalog` takes them (type: sql | "
        "rest | glue | hive, uri, warehouse, s3.endpoint, …); `name`: the catalog's name "
        "(default: the source name). Credential keys are secrets."
    )
    namespaces: list[str] = Field(
        default_factory=list,
        description="Only these namespaces, dotted when nested (default: every namespace)",
    )
    service: str | None = Field(
        default=None, description="Iceberg service name (default: the source name)"
    )
    database: str | None = Field(
        default=None, description="Database name (default: the catalog name)"
    )
    full_refresh: bool = Field(default=False, description="Ignore the incremental state")
    read_concurrency: int = Field(
        default=4, ge=1, le=64, description="Tables whose metadata is read at the same time"
    )

    @field_validator("catalog")
    @classmethod
    def _catalog_has_values(cls, catalog: dict[str, Any]) -> dict[str, Any]:
        for key, value in catalog.items():
            if isinstance(value, dict | list):
                raise ValueError(f"catalog.{key}: a pyiceberg property is a single value")
        return catalog

    @classmethod
    def hide_secrets(cls, properties: dict[str, Any]) -> dict[str, Any]:
        """`properties` with every credential in `catalog` as a `SecretStr`."""
        catalog = properties.get("catalog")
        if not isinstance(catalog, dict):
            return properties
        return {**properties, "catalog": {k: _hidden(k, v) for k, v in catalog.items()}}

    @classmethod
    def for_schema(cls, properties: dict[str, Any], schema: str) -> dict[str, Any]:
        """`filter.schema`: the tables of namespace `schema` (dotted when nested) alone."""
        return {**properties, "namespaces": [schema]}

    def catalog_name(self, source_name: str) -> str:
        return str(_plain(self.catalog.get("name")) or source_name)

    def service_name(self, source_name: str) -> str:
        return self.service or source_name

    def database_name(self, source_name: str) -> str:
        return self.database or self.catalog_name(source_name)

    def load_properties(self) -> dict[str, str]:
        """What `load_catalog` gets: every value a plain string (secrets registered, so a log
        line that carries one is masked)."""
        plain = {k: str(_plain(v)) for k, v in self.catalog.items() if k != "name"}
        register_secrets(
            [str(_plain(v)) for v in self.catalog.values() if isinstance(v, SecretStr)]
            + [_url_password(v) for v in plain.values()]
        )
        return plain

    def shown_catalog(self) -> dict[str, str]:
        """The catalog's settings without its credentials (a URL keeps all but its password):
        part of the incremental key and of error messages."""
        shown = {}
        for key, value in sorted(self.catalog.items()):
            plain = str(_plain(value))
            password = _url_password(plain)
            if password:
                shown[key] = plain.replace(f":{password}@", ":***@", 1)
            elif not isinstance(value, SecretStr):
                shown[key] = plain
        return shown

    def selected(self, namespace: tuple[str, ...]) -> bool:
        """Whether `namespaces` (empty: all) takes this namespace."""
        return not self.namespaces or schema_name(namespace) in self.namespaces


def schema_name(namespace: tuple[str, ...]) -> str:
    """The OM schema a namespace becomes: its levels joined by `.` (quoted in FQNs)."""
    return ".".join(namespace)


def schema_fqn(service: str, database: str, namespace: tuple[str, ...]) -> str:
    return fqns.child(fqns.child(fqns.child(None, service), database), schema_name(namespace))


def _hidden(key: str, value: Any) -> Any:
    if isinstance(value, str) and (SECRET_KEY.search(key) or _url_password(value)):
        return SecretStr(value)
    return value


def _url_password(value: str) -> str | None:
    """The password of a URL with credentials (`postgresql://u:pw@host/db`), else None."""
    if "://" not in value or "@" not in value:
        return None
    try:
        return urlsplit(value).password
    except ValueError:
        return None


def _plain(value: Any) -> Any:
    return value.get_secret_value() if isinstance(value, SecretStr) else value
