"""The OpenMetadata SDK client, configured for an engine that owns its retries.

The SDK retries only 504 (sleeping 30/60/90 s) and blocks a path for 60 s after a 429; both
would stall a run. We switch those off, pass the config's timeouts, and map every failure to
our error hierarchy: connection errors, timeouts, 429 and 5xx become
`TransientOpenMetadataError` (retried on a time budget, see `retry`), everything else —
other 4xx, an answer the SDK cannot parse, a bug — becomes `OpenMetadataError` at once,
carrying OM's (or the exception's) message.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import quote

import requests
from pydantic import BaseModel, SecretStr

from om_ingest.engine.curation import Authors, parse_versions
from om_ingest.errors import OpenMetadataError, TransientOpenMetadataError
from om_ingest.openmetadata.calls import request_counter

log = logging.getLogger("om_ingest.openmetadata")

T = TypeVar("T", bound=BaseModel)


@dataclass(frozen=True)
class Stored:
    """What OM holds of one entity, as a write's result reports it: id, version, custom
    properties."""

    id: str
    version: float
    extension: dict[str, Any]


NO_SDK_RETRIES: dict[str, Any] = {"retry": 0, "retry_wait": 0, "limit_codes": [], "retry_codes": []}


def connect_openmetadata(
    api_url: str,
    jwt_token: SecretStr | None,
    *,
    verify_ssl: bool = True,
    connect_timeout_seconds: int = 10,
    read_timeout_seconds: int = 60,
) -> Any:
    """Build the SDK client (one version request); errors name the host, never the token."""
    from metadata.generated.schema.entity.services.connections.metadata.openMetadataConnection import (
        OpenMetadataConnection,
    )
    from metadata.generated.schema.security.client.openMetadataJWTClientConfig import (
        OpenMetadataJWTClientConfig,
    )
    from metadata.ingestion.ometa.ometa_api import OpenMetadata

    token = jwt_token.get_secret_value() if jwt_token else ""
    connection = OpenMetadataConnection.model_validate(
        {
            "hostPort": api_url,
            "authProvider": "openmetadata",
            "securityConfig": OpenMetadataJWTClientConfig.model_validate({"jwtToken": token}),
            "verifySSL": "validate" if verify_ssl and api_url.startswith("https") else "no-ssl",
            # checked below, once the request counter is on the session
            "enableVersionValidation": False,
        }
    )
    try:
        sdk: Any = OpenMetadata(
            connection,
            additional_client_config_arguments={
                **NO_SDK_RETRIES,
                "timeout": (connect_timeout_seconds, read_timeout_seconds),
            },
        )
        request_counter(sdk)
        sdk.validate_versions()
        _check_token(sdk)
    except Exception as exc:
        raise _connect_error(api_url, exc) from None
    return sdk


def _check_token(sdk: Any) -> None:
    """OM answers `/system/version` without a token (its JwtFilter excludes it), so one
    authenticated call tells a bad token at connect rather than at the first entity. Only a
    401 stops here: anything else is left to the entity calls and their retries."""
    try:
        sdk.client.get("/users/loggedInUser")
    except Exception as exc:
        if _status_of(exc) == 401 or "(HTTP 401)" in str(exc):
            raise
        log.debug("checking the token at connect did not answer (%s)", exc)


def _connect_error(api_url: str, exc: Exception) -> OpenMetadataError:
    name = type(exc).__name__
    if name in {"VersionMismatchException", "VersionParsingException"}:
        return OpenMetadataError(
            f"OpenMetadata at {api_url} runs a version this SDK cannot talk to: {exc}. "
            "Install the openmetadata-ingestion release matching the server's major.minor "
            "(see README: 'Other OpenMetadata versions')."
        )
    status = _status_of(exc)
    if status == 401 or "(HTTP 401)" in str(exc):
        return OpenMetadataError(f"OpenMetadata at {api_url} rejected the JWT (401)", status=401)
    if _is_transient(exc, status):
        return TransientOpenMetadataError(
            f"cannot reach OpenMetadata at {api_url}: {_reason(exc)}",
            status=status,
            retry_after=_retry_after(exc),
        )
    answered = f" answered {status}" if status is not None else ""
    return OpenMetadataError(f"OpenMetadata at {api_url}{answered}: {_reason(exc)}", status=status)


@dataclass
class _Lookups:
    """What one run looks up once and every entity reuses (shared by scoped clients)."""

    owners: dict[str, dict[str, str]] = field(default_factory=dict)  # name → {id, type, name}
    custom_properties: dict[str, set[str]] = field(default_factory=dict)  # entity → names
    property_types: dict[Any, Any] = field(default_factory=dict)
    empty_parents: set[tuple[str, str | None]] = field(default_factory=set)  # (entity, parent)
    answered: set[str] = field(default_factory=set)  # FQNs whose lookup was skipped once
    identity: list[str | None] = field(default_factory=list)  # [OM user name] once looked up
    whole_listings: bool = False  # the server refused a listing from a made-up cursor
    lock: threading.Lock = field(default_factory=threading.Lock)


class OMClient:
    """A thin, counted view of the SDK client for one unit of work (e.g. one entity).

    The underlying SDK client is shared (it is thread-safe: one requests session); each
    OMClient counts its own API calls so the audit can say what an entity cost.
    """

    def __init__(self, sdk: Any, api_url: str, lookups: _Lookups | None = None) -> None:
        self.sdk = sdk
        self.api_url = api_url
        self.api_calls = 0
        self._lock = threading.Lock()
        self._lookups = lookups or _Lookups()

    def requests_by_verb(self) -> dict[str, int]:
        """Every HTTP request the shared SDK client has sent, by verb (see `calls`)."""
        return request_counter(self.sdk).by_verb()

    def scoped(self) -> OMClient:
        """A fresh counter over the same SDK client (and the same lookups)."""
        return OMClient(self.sdk, self.api_url, self._lookups)

    def owner_refs(self, names: list[str]) -> list[dict[str, str]]:
        """Owners named in config as OM references: a user of that name, else a team."""
        from metadata.generated.schema.entity.teams.team import Team
        from metadata.generated.schema.entity.teams.user import User

        refs = []
        for name in names:
            if name not in self._lookups.owners:
                for kind, model in (("user", User), ("team", Team)):
                    found: Any = self.get_by_name(model, name)
                    if found is not None:
                        ref = {"id": str(found.id.root), "type": kind, "name": name}
                        self._lookups.owners[name] = ref
                        break
                else:
                    raise OpenMetadataError(
                        f"owner {name!r} is neither a user nor a team in OpenMetadata"
                    )
            refs.append(self._lookups.owners[name])
        return refs

    def ensure_custom_properties(self, entity: type[BaseModel], values: dict[str, Any]) -> None:
        """Define the custom properties of `entity`'s type that `values` (an `extension`) needs
        and OM lacks: OM rejects unknown extension keys. Integers → integer, other numbers →
        number, anything else → string; looked up once per run."""
        from metadata.generated.schema.api.data.createCustomProperty import (
            CreateCustomPropertyRequest,
        )
        from metadata.ingestion.models.custom_properties import (
            CustomPropertyDataTypes,
            OMetaCustomProperties,
        )

        _teach_sdk_type_name(entity)
        with self._lookups.lock:
            known = self._lookups.custom_properties.get(entity.__name__)
            if known is None:
                with self._call(f"GET {entity.__name__} custom properties"):
                    defined = self.sdk.get_entity_custom_properties(entity) or []
                known = {p["name"] for p in defined}
                self._lookups.custom_properties[entity.__name__] = known
            for name, value in values.items():
                if name in known:
                    continue
                data_type = (
                    CustomPropertyDataTypes.INTEGER
                    if isinstance(value, int) and not isinstance(value, bool)
                    else CustomPropertyDataTypes.NUMBER
                    if isinstance(value, float)
                    else CustomPropertyDataTypes.STRING
                )
                if data_type not in self._lookups.property_types:
                    with self._call(f"GET custom property type {data_type.value}"):
                        type_ref = self.sdk.get_property_type_ref(data_type)
                    self._lookups.property_types[data_type] = type_ref
                request = CreateCustomPropertyRequest.model_validate(
                    {
                        "name": name,
                        "description": f"{name} (defined by om-ingest)",
                        "propertyType": self._lookups.property_types[data_type],
                    }
                )
                with self._call(f"PUT custom property {entity.__name__}.{name}"):
                    self.sdk.create_or_update_custom_property(
                        OMetaCustomProperties(
                            entity_type=entity, createCustomPropertyRequest=request
                        )
                    )
                known.add(name)

    def patch(self, entity: type[T], source: T, destination: T) -> T | None:
        """JSON Patch from `source` to `destination` (what a PUT may not overwrite: curated
        descriptions, tags, owners); None when they do not differ."""
        with self._call(f"PATCH {entity.__name__}"):
            result: T | None = self.sdk.patch(
                entity=entity,
                source=source,
                destination=destination,
                override_metadata=True,
                skip_on_failure=False,
            )
        return result

    def note_if_empty(self, entity: type[BaseModel], parent_param: str, parent_fqn: str) -> bool:
        """One probe (a listing of one) before many children of `parent_fqn` are written: if
        OM holds none yet, each child's lookup can be skipped (see `surely_absent`), so a
        first run costs one PUT per entity instead of a GET and a PUT."""
        with self._call(f"LIST {entity.__name__} in {parent_fqn}"):
            page = self.sdk.list_entities(entity=entity, params={parent_param: parent_fqn}, limit=1)
        if page.total:
            return False
        with self._lookups.lock:
            self._lookups.empty_parents.add((entity.__name__, parent_fqn))
        return True

    def names_under(self, entity: type[BaseModel], parent_param: str, parent_fqn: str) -> set[str]:
        """The FQNs of every `entity` under `parent_fqn` (e.g. a schema's tables): one paged
        listing without fields, so a run can confirm that entities it means to skip still
        exist, in a few calls for thousands of them."""
        with self._call(f"LIST {entity.__name__} names in {parent_fqn}"):
            return {
                str(found["fullyQualifiedName"])
                for found in self._listed(entity, [], {parent_param: parent_fqn})
            }

    def entities_under(
        self, entity: type[BaseModel], parent_param: str, parent_fqn: str, fields: list[str]
    ) -> dict[str, str]:
        """Every `entity` under `parent_fqn` with `fields`, as compact JSON by FQN: what a
        batch of writes compares against, read in pages of 1,000 instead of a GET each (JSON
        text, not models: thousands are held while a schema's tables stream, and only those
        looked up are ever parsed)."""
        with self._call(
            f"LIST {entity.__name__} with {','.join(fields) or 'no fields'} in {parent_fqn}"
        ):
            return {
                str(found["fullyQualifiedName"]): json.dumps(found, separators=(",", ":"))
                for found in self._listed(entity, fields, {parent_param: parent_fqn})
            }

    def stored_under(
        self,
        entity: type[BaseModel],
        parent_param: str,
        parent_fqn: str,
        names: Collection[str] = (),
    ) -> dict[str, Stored]:
        """Id, version and custom properties of the `entity`s under `parent_fqn`: what a bulk
        write is checked against after it landed (a paged listing, no model parsing). With
        `names` (a batch just written), the listing starts at the first of them and stops
        once it has seen them all: OM lists by name, then id, from a cursor that is base64 of
        `{name, id}`, so a read-back costs its batch, not the whole parent. A server that
        fails that listing is listed whole, then and for the rest of the run."""
        params = {parent_param: parent_fqn}
        with self._call(f"LIST {entity.__name__} with extension in {parent_fqn}"):
            if names and not self._lookups.whole_listings:
                try:
                    return _stored(self._listed(entity, ["extension"], params, names), names)
                except Exception as exc:  # the whole listing says what fails, if it does
                    log.info(
                        "%s refused a listing from a cursor (HTTP %s): listing whole",
                        self.api_url,
                        _status_of(exc),
                    )
                    self._lookups.whole_listings = True
            return _stored(self._listed(entity, ["extension"], params), ())

    def _listed(
        self,
        entity: type[BaseModel],
        fields: list[str],
        params: dict[str, str],
        names: Collection[str] = (),
    ) -> Iterator[dict[str, Any]]:
        """The SDK's paged listing (`list_entities`' request) as OM's JSON, pages of 1,000:
        building the SDK's models of thousands of tables costs more than the whole write.
        With `names`: from the smallest of them, first a page the size of the batch."""
        suffix = self.sdk.get_suffix(entity)
        after: str | None = None
        limit = 1000
        if names:
            start = json.dumps({"name": min(names), "id": ""}, separators=(",", ":"))
            after = base64.urlsafe_b64encode(start.encode()).decode()
            limit = min(limit, len(names))
        while True:
            query = "&".join(
                part
                for part in (
                    f"limit={limit}",
                    f"after={after}" if after else "",
                    f"fields={','.join(fields)}" if fields else "",
                )
                if part
            )
            page = self.sdk.client.get(path=f"{suffix}?{query}", data=params) or {}
            yield from page.get("data") or []
            after = (page.get("paging") or {}).get("after")
            if not after:
                return
            limit = 1000

    def bulk_create_or_update(self, requests: list[BaseModel]) -> Any:
        """One `PUT /{collection}/bulk` of create requests: OM's `BulkOperationResult`, each
        row passed or failed alone. A call that failed as a whole raises a transient error
        (the SDK keeps no status of it: the caller splits the batch)."""
        what = f"PUT {type(requests[0]).__name__} bulk ({len(requests)})"
        with self._call(what):
            answer = self.sdk.bulk_create_or_update(requests)
        # The SDK answers a call that failed as a whole as one failed row without a request.
        whole = [r for r in answer.failedRequest or [] if r.request is None]
        if whole:
            raise TransientOpenMetadataError(
                f"{what}: OpenMetadata at {self.api_url} failed: {whole[0].message}",
                status=whole[0].status,
            )
        return answer

    def surely_absent(self, entity: type[BaseModel], fqn: str, parent_fqn: str | None) -> bool:
        """True, once per FQN, when its parent held no `entity` at this run's probe: the
        first lookup of a new child is skipped; a retry looks it up (its PUT may have
        landed)."""
        with self._lookups.lock:
            if (entity.__name__, parent_fqn) not in self._lookups.empty_parents:
                return False
            if fqn in self._lookups.answered:
                return False
            self._lookups.answered.add(fqn)
            return True

    def get_by_name(self, entity: type[T], fqn: str, fields: list[str] | None = None) -> T | None:
        """The entity, or None when OM answers 404; other failures raise mapped errors."""
        with self._call(f"GET {entity.__name__} {fqn}"):
            result: T | None = self.sdk.get_by_name(entity=entity, fqn=fqn, fields=fields)
        return result

    def identity(self) -> str | None:
        """The OM user name this client writes as (the ingestion bot, usually): what OM
        records as `updatedBy` of our changes. None when OM will not say (then every value
        OM holds is treated as curated). Looked up once per run."""
        with self._lookups.lock:
            if not self._lookups.identity:
                try:
                    with self._call("GET loggedInUser"):
                        user = self.sdk.client.get("/users/loggedInUser")
                    name = user.get("name") if isinstance(user, dict) else None
                except TransientOpenMetadataError:
                    raise
                except OpenMetadataError as exc:
                    log.warning("OpenMetadata did not say who this token is (%s)", exc)
                    name = None
                self._lookups.identity.append(name)
            return self._lookups.identity[0]

    def authors(self, entity: type[BaseModel], entity_id: str, schema_key: str | None) -> Authors:
        """Who last changed each curated value of the entity, from its version history."""
        me = self.identity()
        with self._call(f"GET {entity.__name__} versions"):
            history = self.sdk.get_list_entity_versions(entity_id=entity_id, entity=entity)
        raw = history.get("versions", []) if isinstance(history, dict) else history.versions
        return Authors.from_versions(parse_versions(raw), schema_key, me)

    def create_or_update(self, request: BaseModel) -> Any:
        with self._call(f"PUT {type(request).__name__}"):
            return self.sdk.create_or_update(request)

    def lineage(
        self, entity_type: str, entity_id: str, upstream: int = 1, downstream: int = 1
    ) -> dict[str, Any]:
        """OM's `EntityLineage` around one entity (`entity_type` as OM names it: `table`,
        `mlmodel`, …). The SDK answers None for any failure (it logs the status); the entity
        was just looked up, so that is taken as transient (retried)."""
        with self._call(f"GET lineage of {entity_type} {entity_id}"):
            answer: dict[str, Any] | None = self.sdk.get_lineage_by_id(
                entity_type, entity_id, up_depth=upstream, down_depth=downstream
            )
        if answer is None:
            raise TransientOpenMetadataError(
                f"GET lineage of {entity_type} {entity_id}: OpenMetadata at {self.api_url} "
                "gave no answer"
            )
        return answer

    def add_lineage(self, request: BaseModel) -> None:
        """PUT one lineage edge (OM adds it or replaces its details). The SDK reports a
        failure as `{"error": "Error <status> trying to PUT lineage for …: <message>"}`."""
        with self._call("PUT lineage"):
            answer = self.sdk.add_lineage(request, check_patch=False, return_lineage=False)
        error = answer.get("error") if isinstance(answer, dict) else None
        if error:
            found = _LINEAGE_ERROR.match(str(error))
            status = int(found.group(1)) if found else None
            message = (
                f"PUT lineage: OpenMetadata answered {status}: {found.group(2)}"
                if found
                else f"PUT lineage: {error}"
            )
            if _is_transient(Exception(message), status):
                raise TransientOpenMetadataError(message, status=status)
            raise OpenMetadataError(message, status=status)

    def pipeline_edges(self, pipeline_fqn: str) -> list[PipelineEdge]:
        """The lineage edges OM holds with pipeline `pipeline_fqn` on them (none when OM has
        no such pipeline). OM's lineage of a pipeline answers the ends of the edges carrying
        it, not which end goes with which, so each pair of an upstream and a downstream end
        is checked at `getLineageEdge` (read without the SDK's cache, which would keep an
        edge this run removed)."""
        from metadata.ingestion.ometa.client import APIError

        with self._call(f"GET lineage of pipeline {pipeline_fqn}"):
            try:
                graph = self.sdk.client.get(
                    f"/lineage/pipeline/name/{quote(pipeline_fqn)}"
                    "?upstreamDepth=1&downstreamDepth=1"
                )
            except APIError as exc:
                if exc.status_code == 404:
                    return []
                raise
        pipeline_id = str((graph or {}).get("entity", {}).get("id"))
        nodes = {str(n["id"]): n for n in (graph or {}).get("nodes") or []}
        ups = {str(e["fromEntity"]) for e in graph.get("upstreamEdges") or []}
        downs = {str(e["toEntity"]) for e in graph.get("downstreamEdges") or []}
        found = []
        for up in sorted(ups - {pipeline_id}):
            for down in sorted(downs - {pipeline_id, up}):
                with self._call(f"GET lineage edge {up} → {down}"):
                    try:
                        answer = self.sdk.client.get(f"/lineage/getLineageEdge/{up}/{down}")
                    except APIError as exc:
                        if exc.status_code == 404:
                            continue
                        raise
                carried = ((answer or {}).get("edge") or {}).get("pipeline") or {}
                if str(carried.get("id")) == pipeline_id and up in nodes and down in nodes:
                    found.append(PipelineEdge(_end(nodes[up]), _end(nodes[down])))
        return found

    def delete_lineage(self, edge: PipelineEdge) -> None:
        """DELETE one lineage edge, by its ends' ids (the SDK's `delete_lineage_edge` path;
        called directly: the SDK's method logs a failure instead of raising it)."""
        (from_type, from_id, _), (to_type, to_id, _) = edge.upstream, edge.downstream
        with self._call(f"DELETE lineage {edge.upstream[2]} → {edge.downstream[2]}"):
            self.sdk.client.delete(f"/lineage/{from_type}/{from_id}/{to_type}/{to_id}")

    def put_table_profile(self, table: Any, profile_request: BaseModel) -> Any:
        with self._call("PUT tableProfile"):
            return self.sdk.ingest_profile_data(table=table, profile_request=profile_request)

    def pipeline_runs(self, fqn: str, timestamps: list[int]) -> dict[int, dict[str, Any]]:
        """The runs OM has for the pipeline between the first and last of `timestamps`."""
        with self._call("GET pipeline status"):
            found = self.sdk.list_pipeline_statuses(fqn, min(timestamps), max(timestamps))
        runs = (s.model_dump(mode="json", exclude_none=True, by_alias=True) for s in found)
        return {int(run["timestamp"]): run for run in runs}

    def add_pipeline_run(self, fqn: str, status: dict[str, Any]) -> None:
        from metadata.generated.schema.entity.data.pipeline import PipelineStatus

        with self._call("PUT pipeline status"):
            self.sdk.add_pipeline_status(fqn, PipelineStatus.model_validate(status))

    def topic_sample(self, topic: Any) -> list[str]:
        """The sample messages OM holds for `topic` (an entity with its id)."""
        with self._call("GET topic sampleData"):
            answer = self.sdk.client.get(f"/topics/{topic.id.root}/sampleData")
        sample = (answer or {}).get("sampleData") or {}
        return [str(message) for message in sample.get("messages") or []]

    def put_topic_sample(self, topic: Any, messages: list[str]) -> None:
        """Replace the topic's sample data (TopicRepository keeps one sample per topic)."""
        from metadata.generated.schema.entity.data.topic import TopicSampleData

        with self._call("PUT topic sampleData"):
            self.sdk.ingest_topic_sample_data(topic, TopicSampleData(messages=messages))

    def add_test_case_result(self, test_case_fqn: str, result: BaseModel) -> None:
        with self._call(f"POST testCaseResults {test_case_fqn}"):
            self.sdk.add_test_case_results(test_results=result, test_case_fqn=test_case_fqn)

    def put_contract_result(self, contract_id: str, result: BaseModel) -> None:
        """A data contract's execution result (the SDK's own call logs and drops errors)."""
        with self._call("PUT dataContract result"):
            self.sdk.client.put(
                f"/dataContracts/{contract_id}/results", data=result.model_dump_json()
            )

    def soft_delete(self, entity: type[T], entity_id: str) -> None:
        with self._call(f"DELETE {entity.__name__}"):
            self.sdk.delete(entity=entity, entity_id=entity_id, recursive=False, hard_delete=False)

    @contextmanager
    def _call(self, what: str) -> Iterator[None]:
        with self._lock:
            self.api_calls += 1
        try:
            yield
        except (OpenMetadataError, KeyboardInterrupt):
            raise
        except Exception as exc:
            raise map_sdk_error(exc, what, self.api_url) from None


def _stored(listed: Iterator[dict[str, Any]], names: Collection[str]) -> dict[str, Stored]:
    """What `listed` holds, by FQN; with `names`, read only until every one of them is seen
    (by name: a listing ordered by a collation other than Python's still finds them all)."""
    stored: dict[str, Stored] = {}
    missing = set(names)
    for found in listed:
        stored[str(found["fullyQualifiedName"])] = Stored(
            str(found["id"]), float(found["version"]), found.get("extension") or {}
        )
        missing.discard(str(found["name"]))
        if names and not missing:
            break
    return stored


@dataclass(frozen=True)
class PipelineEdge:
    """A lineage edge OM holds with a pipeline on it: each end as (OM type, id, FQN)."""

    upstream: tuple[str, str, str]
    downstream: tuple[str, str, str]


def _end(node: dict[str, Any]) -> tuple[str, str, str]:
    return (str(node["type"]), str(node["id"]), str(node.get("fullyQualifiedName") or ""))


_SDK_MISSING_TYPE_NAMES = {"DataContract": "dataContract"}
"""Extensible OM entity types the SDK's custom-property helpers cannot name (their
`ENTITY_REFERENCE_TYPE_MAP` lacks them, so they ask for type `None`)."""


def _teach_sdk_type_name(entity: type[BaseModel]) -> None:
    """Add `entity`'s OM type name to the SDK's map when it lacks it (DataContract in SDK
    2.0.6), so `get_entity_custom_properties` and `create_or_update_custom_property` work."""
    from metadata.utils.constants import ENTITY_REFERENCE_TYPE_MAP

    name = _SDK_MISSING_TYPE_NAMES.get(entity.__name__)
    if name is not None:
        ENTITY_REFERENCE_TYPE_MAP.setdefault(entity.__name__, name)


def map_sdk_error(exc: BaseException, what: str, api_url: str) -> OpenMetadataError:
    """Classify an SDK failure: transient (retry) or final (report the message at once)."""
    status = _status_of(exc)
    reason = _reason(exc)
    if _is_transient(exc, status):
        return TransientOpenMetadataError(
            f"{what}: OpenMetadata at {api_url} failed transiently ({status or 'no response'}): {reason}",
            status=status,
            retry_after=_retry_after(exc),
        )
    if status is None:
        return OpenMetadataError(f"{what}: failed talking to OpenMetadata at {api_url}: {reason}")
    return OpenMetadataError(f"{what}: OpenMetadata answered {status}: {reason}", status=status)


def _is_transient(exc: BaseException, status: int | None) -> bool:
    """429 and 5xx answers, and failures to connect or to get an answer in time."""
    if status is not None:
        return status == 429 or status >= 500
    return any(isinstance(e, _TRANSPORT_ERRORS) for e in _chain(exc))


def _chain(exc: BaseException) -> list[BaseException]:
    """`exc` and its causes (explicit or implicit), outermost first."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _retry_after(exc: BaseException) -> float | None:
    """Seconds the server asked us to wait (`Retry-After`: seconds or an HTTP date)."""
    from email.utils import parsedate_to_datetime

    for error in _chain(exc):
        response = getattr(error, "response", None)
        value: str | None = (
            getattr(response, "headers", {}).get("Retry-After") if response is not None else None
        )
        if not value:
            continue
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
        return max(0.0, (when - datetime.now(UTC)).total_seconds())
    return None


def _status_of(exc: BaseException) -> int | None:
    from metadata.ingestion.ometa.client import APIError

    if isinstance(exc, APIError):
        code = exc.status_code or exc.code
        return int(code) if code is not None else None
    response = getattr(exc, "response", None)
    if isinstance(exc, requests.HTTPError) and response is not None:
        return int(response.status_code)
    cause = exc.__cause__ or exc.__context__
    return _status_of(cause) if isinstance(cause, BaseException) and cause is not exc else None


def _reason(exc: BaseException) -> str:
    from metadata.ingestion.ometa.client import APIError

    if isinstance(exc, APIError):
        return str(exc._error.get("message", exc))  # OM's own message
    root: BaseException = exc
    while root.__cause__ is not None:
        root = root.__cause__
    socket_error = _SOCKET_ERROR.search(str(root))
    if isinstance(root, requests.ConnectionError) and socket_error:
        return f"connection failed ({socket_error.group(0)})"  # not urllib3's pool internals
    return f"{type(root).__name__}: {root}"


_LINEAGE_ERROR = re.compile(r"Error (\d+) trying to PUT lineage for .*\}: (.*)$", re.DOTALL)
_SOCKET_ERROR = re.compile(r"\[Errno -?\d+\] [^'\")]+|timed out|Name or service not known")
_TRANSPORT_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.RetryError,
    ConnectionError,
    TimeoutError,
)
"""Failures to connect or to get a whole answer in time (the SDK wraps them in its
`RestTransportError`, chained to these)."""
