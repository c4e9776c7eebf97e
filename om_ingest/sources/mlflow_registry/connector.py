"""Registered models of an MLflow tracking server → OpenMetadata ML models (`mlmodel`).

Everything is read over MLflow's REST API with mlflow-skinny's own REST stores and request
helper, authenticated per source (a bearer token or basic-auth user; never through process
environment variables, so two sources can hold different credentials). For each registered
model the latest version decides the entity: its logged model's `MLmodel` file (downloaded
through the server's artifact proxy) gives the flavor (→ algorithm) and the signature (inputs →
ML features, outputs → target), its run gives hyperparameters (params) and metrics (custom
properties, with the version, stage and aliases). A changed signature in a new version is a
structural change of `mlFeatures`, reported and applied like a table's columns.

Where a feature comes from is a tag (on the registered model, its latest version or that
version's run; the version's wins): `om.feature_source.<feature>` = `<table FQN>.<column>`
(several: comma-separated). Each table so named becomes a lineage edge table → ML model
(a discovered `lineage` entity; a table OM does not hold is a warning).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from om_ingest import fqns
from om_ingest.config.models import EntityConfig, EntityType, SourceConfig
from om_ingest.errors import SourceError
from om_ingest.planning import parent_fqn_of
from om_ingest.sources.base import (
    DiscoveredEntity,
    DiscoveryFailure,
    DiscoveryWarning,
    ServiceLevelSource,
)
from om_ingest.sources.helpers import (
    discovered,
    discovery_filter,
    lineage_edge,
    passes_filter,
    reached_cap,
    reason,
)
from om_ingest.sources.mlflow_registry.properties import MlflowProperties
from om_ingest.sources.reads import HTTP_BODIES
from om_ingest.sources.registry import register_source_class

NUMERICAL = frozenset({"integer", "long", "float", "double"})
CATEGORICAL = frozenset({"string", "boolean", "binary"})
"""MLflow column types by OpenMetadata FeatureType (others, e.g. datetime, stay untyped)."""

PYFUNC = "python_function"
FEATURE_SOURCE = "om.feature_source."
"""Tag prefix naming a feature's source columns: `om.feature_source.<feature>`."""


@register_source_class("mlflow", MlflowProperties)
class MlflowSource(ServiceLevelSource):
    discovers = EntityType.MLMODEL
    service_type = "Mlflow"
    properties: MlflowProperties
    reads_measured = (
        "MLflow REST API (registry, runs, MLmodel files through the artifact proxy): "
        f"{HTTP_BODIES}; MLmodel files read from another artifact store are not measured"
    )

    def __init__(self, config: SourceConfig, properties: MlflowProperties) -> None:
        super().__init__(config, properties)
        self._tracking: Any = None
        self._registry: Any = None
        self._meter: Any = None  # the request-auth provider counting this source's answers

    # --- connection ----------------------------------------------------------------------

    def _creds(self, uri: str) -> Any:
        from mlflow.utils.rest_utils import MlflowHostCreds

        p = self.properties
        return MlflowHostCreds(  # type: ignore[no-untyped-call]
            host=uri.rstrip("/"),
            token=p.token.get_secret_value() if p.token else None,
            username=p.username,
            password=p.password.get_secret_value() if p.password else None,
            ignore_tls_verification=not p.verify_ssl,
            auth=self._metered(),
        )

    def _metered(self) -> str | None:
        """The name of this source's counting request-auth provider (None: no run meter)."""
        if self._reads is None:
            return None
        if self._meter is None:
            from om_ingest.sources.mlflow_registry.reads import CountingAuthProvider

            self._meter = CountingAuthProvider(self.count_read).register()
        name: str = self._meter.name
        return name

    def disconnect(self) -> None:
        if self._meter is not None:
            self._meter.unregister()
            self._meter = None
        self._tracking = self._registry = None

    @property
    def _registry_uri(self) -> str:
        return self.properties.registry_uri or self.properties.tracking_uri

    def connect(self) -> None:
        if self._tracking is None:
            from mlflow.store.model_registry.rest_store import RestStore as RegistryStore
            from mlflow.store.tracking.rest_store import RestStore as TrackingStore

            tracking, registry = (
                self._creds(self.properties.tracking_uri),
                self._creds(self._registry_uri),
            )
            self._tracking = TrackingStore(lambda: tracking)  # type: ignore[no-untyped-call]
            self._registry = RegistryStore(lambda: registry)  # type: ignore[no-untyped-call]

    def validate_connection(self) -> None:
        """One cheap registry call with few retries: refused credentials, a wrong URL or a
        server that is down fail the source with one line."""
        response = self._get(
            self._registry_uri, "/api/2.0/mlflow/registered-models/search?max_results=1"
        )
        if response.status_code in (401, 403):
            how = "token" if self.properties.token else "credentials"
            if self.properties.token is None and self.properties.username is None:
                how = "request without credentials"
            raise SourceError(
                f"source {self.config.name!r}: MLflow at {self._registry_uri} refused the "
                f"{how} ({response.status_code} {response.reason})"
            )
        if response.status_code != 200:
            raise SourceError(
                f"source {self.config.name!r}: MLflow at {self._registry_uri} answered "
                f"{response.status_code} {response.reason} to a registry search"
            )

    def _get(self, uri: str, endpoint: str) -> Any:
        from mlflow.utils.rest_utils import http_request

        try:
            return http_request(  # type: ignore[no-untyped-call]
                self._creds(uri), endpoint, "GET",
                max_retries=self.properties.max_retries, backoff_factor=0.5,
                timeout=self.properties.timeout_seconds, raise_on_status=False,
            )  # fmt: skip
        except Exception as exc:
            raise SourceError(
                f"source {self.config.name!r}: cannot reach MLflow at {uri}: {_short(exc)}"
            ) from None

    # --- discovery -----------------------------------------------------------------------

    def discover_entities(
        self,
        template: EntityConfig,
        known_commits: dict[str, str] | None = None,
        known_markers: dict[str, str] | None = None,
    ) -> Iterator[DiscoveredEntity | DiscoveryFailure | DiscoveryWarning]:
        self.connect()
        flt = discovery_filter(template)
        found = 0
        for model in self._registered_models():
            if not passes_filter(flt, model.name):
                continue
            if reached_cap(flt, found):
                return
            found += 1
            location = f"{self.properties.tracking_uri.rstrip('/')}/#/models/{quote(model.name)}"
            try:
                described = self._describe(model)
                tables = described.pop("source_tables", [])
                entity = discovered(template, model.name, described, self.config.name)
            except Exception as exc:
                yield DiscoveryFailure(model.name, location, f"{location}: {reason(exc)}")
                continue
            yield DiscoveredEntity(entity, location)
            target = ("mlmodel", fqns.child(parent_fqn_of(template), model.name))
            for table in tables:
                edge = lineage_edge(template, self.config.name, ("table", table), target)
                yield DiscoveredEntity(edge, location)

    def _registered_models(self) -> Iterator[Any]:
        token = None
        while True:
            try:
                page = self._registry.search_registered_models(
                    filter_string=None, max_results=100, order_by=["name ASC"], page_token=token
                )
            except Exception as exc:
                raise SourceError(
                    f"source {self.config.name!r}: listing registered models at "
                    f"{self._registry_uri} failed: {_short(exc)}"
                ) from None
            yield from page
            token = page.token
            if not token:
                return

    def _describe(self, model: Any) -> dict[str, Any]:
        """The ML model's properties from its latest version, its run and its MLmodel file."""
        versions = sorted(
            self._registry.search_model_versions(
                filter_string=f"name='{_quoted(model.name)}'", max_results=200
            ),
            key=lambda v: int(v.version),
        )
        if not versions:
            return {"description": model.description or None}
        latest = versions[-1]
        download = self._registry.get_model_version_download_uri(model.name, latest.version)
        flavors, inputs, outputs = self._mlmodel(download)
        run = self._tracking.get_run(latest.run_id) if latest.run_id else None
        params = dict(run.data.params) if run is not None else {}
        metrics = dict(run.data.metrics) if run is not None else {}
        aliases = dict(getattr(model, "aliases", None) or {})
        tags = {
            **(dict(run.data.tags) if run is not None else {}),
            **dict(getattr(model, "tags", None) or {}),
            **dict(getattr(latest, "tags", None) or {}),
        }
        sources = _feature_sources(tags, [str(c.get("name") or "input") for c in inputs])
        extension: dict[str, Any] = {
            "mlflow_latest_version": str(latest.version),
            "mlflow_versions": ",".join(str(v.version) for v in versions),
            "mlflow_stage": latest.current_stage if latest.current_stage != "None" else None,
            "mlflow_aliases": ",".join(f"{a}={v}" for a, v in sorted(aliases.items())) or None,
            "mlflow_run_id": latest.run_id or None,
            "mlflow_model_uri": latest.source or None,
            **{f"mlflow_metric_{_key(name)}": value for name, value in sorted(metrics.items())},
        }
        tracking = self.properties.tracking_uri.rstrip("/")
        return {
            "description": model.description or latest.description or None,
            "algorithm": next((f for f in flavors if f != PYFUNC), PYFUNC if flavors else None),
            "ml_features": [_feature(column, sources) for column in inputs] or None,
            "target": ",".join(c.get("name") or "" for c in outputs if c.get("name")) or None,
            "ml_hyper_parameters": [
                {"name": name, "value": value} for name, value in sorted(params.items())
            ]
            or None,
            "ml_store": {"storage": download},
            "source_url": f"{tracking}/#/models/{quote(model.name)}/versions/{latest.version}",
            "extension": {k: v for k, v in extension.items() if v not in (None, "")},
            "source_tables": list(
                dict.fromkeys(table for found in sources.values() for table, _ in found)
            ),
        }

    def _mlmodel(self, artifact_uri: str) -> tuple[list[str], list[dict[str, Any]], list[Any]]:
        """Flavor names and signature (inputs, outputs as MLflow's column dicts) of the
        model at `artifact_uri`, read from its `MLmodel` file through the server's artifact
        proxy (`mlflow-artifacts:`); a model stored elsewhere is read with mlflow's own
        artifact repositories and the environment's credentials for that store."""
        import yaml
        from mlflow.models import Model

        if artifact_uri.startswith("mlflow-artifacts:"):
            path = artifact_uri.split(":", 1)[1].lstrip("/")
            response = self._get(
                self.properties.tracking_uri, f"/api/2.0/mlflow-artifacts/artifacts/{path}/MLmodel"
            )
            if response.status_code != 200:
                raise SourceError(
                    f"reading {artifact_uri}/MLmodel: {response.status_code} {response.reason}"
                )
            text = response.text
        else:
            from mlflow.artifacts import download_artifacts

            with open(download_artifacts(f"{artifact_uri.rstrip('/')}/MLmodel")) as handle:
                text = handle.read()
        model = Model.from_dict(yaml.safe_load(text))
        signature = model.signature
        if signature is None:
            return list(model.flavors), [], []
        inputs = signature.inputs.to_dict() if signature.inputs is not None else []
        outputs = signature.outputs.to_dict() if signature.outputs is not None else []
        return list(model.flavors), list(inputs), list(outputs)


def _feature(column: dict[str, Any], sources: dict[str, list[tuple[str, str]]]) -> dict[str, Any]:
    """One signature input as an ML feature (its source columns, when a tag names them); an
    unnamed tensor input is `input`."""
    kind = column.get("type")
    if kind == "tensor":
        kind = str(column.get("tensor-spec", {}).get("dtype", ""))
        kind = "double" if kind.startswith("float") else "long" if kind.startswith("int") else kind
    data_type = "numerical" if kind in NUMERICAL else "categorical" if kind in CATEGORICAL else None
    name = column.get("name") or "input"
    feature: dict[str, Any] = {"name": name, "data_type": data_type}
    if sources.get(name):
        feature["feature_sources"] = [
            {"name": source_column, "data_source": {"type": "table", "fqn": table}}
            for table, source_column in sources[name]
        ]
    return feature


def _feature_sources(tags: dict[str, str], features: list[str]) -> dict[str, list[tuple[str, str]]]:
    """Feature → its source (table FQN, column) pairs, from `om.feature_source.<feature>` tags
    (`<table FQN>.<column>`, comma-separated); a malformed one is an error."""
    found: dict[str, list[tuple[str, str]]] = {}
    for feature in features:
        for item in (tags.get(f"{FEATURE_SOURCE}{feature}") or "").split(","):
            if not item.strip():
                continue
            table = fqns.parent(item.strip())
            if table is None or len(fqns.split(table)) != 4:
                raise ValueError(
                    f"tag {FEATURE_SOURCE}{feature}: {item.strip()!r} is not "
                    "<service>.<database>.<schema>.<table>.<column>"
                )
            column = fqns.unquoted_parts(item.strip())[-1]
            found.setdefault(feature, []).append((table, column))
    return found


def _key(name: str) -> str:
    """A metric name as a custom property name (lower snake case)."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "metric"


def _quoted(name: str) -> str:
    return name.replace("'", "\\'")


def _short(exc: BaseException) -> str:
    """An HTTP library's message without its retry chatter (first line, no pool details)."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if "Connection refused" in text:
        return "connection refused"
    match = re.search(r"(Name or service not known|timed out|Max retries exceeded)", text)
    return match.group(1) if match else text[:300]
