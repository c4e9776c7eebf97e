"""Pydantic models for the whole ingestion YAML.

These models are the single description of what a config may hold: the loader validates
against them, the JSON Schema (`om-ingest schema`) is generated from them, and the engine
reads them. YAML keys are snake_case; the OpenMetadata request builders translate to OM's
camelCase. Unknown keys are errors everywhere (``extra="forbid"``) except where a section is
deliberately free-form (source properties, custom properties).
"""

from __future__ import annotations

from difflib import get_close_matches
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from om_ingest import fqns
from om_ingest.config.derived import EntityRefSpec
from om_ingest.config.om_types import DATA_TYPES, DATABASE_SERVICE_TYPES, TABLE_TYPES

TagFQN = Annotated[str, AfterValidator(fqns.tag)]
"""A tag named by its FQN, `Classification.Tag`."""


class StrictModel(BaseModel):
    """Base for every config section: unknown keys are errors, values are validated."""

    model_config = ConfigDict(extra="forbid", validate_default=True, use_enum_values=False)


def removed_setting(message: str) -> Any:
    """A key that once existed and did nothing: kept only to reject it with `message`
    (hidden from the schema and the reference). Pair with `reject_removed`."""
    return Field(default=None, exclude=True, json_schema_extra={"removed": message})


def reject_removed(model: type[BaseModel], name: str, value: Any) -> Any:
    """Raise the removal message of field `name` when a config sets it."""
    if value is not None:
        extra = model.model_fields[name].json_schema_extra
        raise ValueError(extra["removed"] if isinstance(extra, dict) else "removed")
    return value


class IdempotencyMode(StrEnum):
    """What to do when an entity already exists in OpenMetadata."""

    SKIP = "skip"
    UPDATE = "update"
    FAIL = "fail"


class EntityType(StrEnum):
    """Entity kinds a config may declare."""

    DATABASE_SERVICE = "database_service"
    DATABASE = "database"
    DATABASE_SCHEMA = "database_schema"
    TABLE = "table"
    CLASSIFICATION = "classification"
    TAG = "tag"
    USER = "user"
    TEAM = "team"
    PIPELINE_SERVICE = "pipeline_service"
    PIPELINE = "pipeline"
    MESSAGING_SERVICE = "messaging_service"
    TOPIC = "topic"
    MLMODEL_SERVICE = "mlmodel_service"
    MLMODEL = "mlmodel"
    SEARCH_SERVICE = "search_service"
    SEARCH_INDEX = "search_index"
    DATA_CONTRACT = "data_contract"
    # storage and governance
    STORAGE_SERVICE = "storage_service"
    CONTAINER = "container"
    GLOSSARY = "glossary"
    GLOSSARY_TERM = "glossary_term"
    DOMAIN = "domain"
    # lineage: an edge between two entities (named by a label, not an FQN)
    LINEAGE = "lineage"

    @property
    def plural(self) -> str:
        """How a run names many of this kind ("search_indexes from …")."""
        if self.value.endswith(("x", "s")):
            return f"{self.value}es"
        return f"{self.value[:-1]}ies" if self.value.endswith("y") else f"{self.value}s"


# --- metadata / connection -------------------------------------------------------------


class MetadataConfig(StrictModel):
    """Describes the config itself: `name` keys artifacts (e.g. `dry-run-<name>`); all of it
    is shown in the run's log and its artifacts' descriptions."""

    name: str = "om-ingest"
    version: str | None = None
    description: str | None = None
    owner: str | None = None
    tags: list[str] = Field(default_factory=list)


DEFAULT_OPENMETADATA_BLOCK = "om-ingest-openmetadata"
"""The OpenMetadataConnection block `om-ingest blocks register` saves; used when a config
names no OpenMetadata and `OM_HOST` is not set."""


class OpenMetadataConfig(StrictModel):
    """Where OpenMetadata is: inline values, or the name of an `OpenMetadataConnection` block.
    Omitted (or without `host` and `block`): `OM_HOST` and `OM_JWT` from the environment of
    the run, else the block named `om-ingest-openmetadata`."""

    host: str | None = Field(
        default=None,
        description="OM URL, e.g. http://127.0.0.1:8585 (`/api` appended when absent); "
        "default: $OM_HOST",
    )
    jwt_token: SecretStr | None = Field(
        default=None, description="Bot JWT; use ${OM_JWT} (default: $OM_JWT)"
    )
    block: str | None = Field(
        default=None, description="Name of a saved OpenMetadataConnection Prefect block"
    )
    verify_ssl: bool = True
    connect_timeout_seconds: int = Field(
        default=10, ge=1, description="Seconds to wait for a connection to OpenMetadata"
    )
    read_timeout_seconds: int = Field(
        default=60,
        ge=1,
        description="Seconds to wait for an answer; a call that takes longer fails as "
        "transient (and is retried)",
    )

    @model_validator(mode="after")
    def _host_or_block(self) -> OpenMetadataConfig:
        """A block holds every connection setting: one given beside it would do nothing."""
        if self.block is None:
            return self
        beside = sorted(self.model_fields_set - {"block"})
        if beside:
            raise ValueError(
                f"give either `block` or the connection settings ({', '.join(beside)}), "
                "not both: the block holds them all"
            )
        return self

    @property
    def api_url(self) -> str | None:
        """The SDK's `hostPort`: the host with exactly one trailing `/api`."""
        return None if self.host is None else api_url(self.host)


def api_url(host: str) -> str:
    """`host` with exactly one trailing `/api` (the SDK's `hostPort`)."""
    url = host.rstrip("/")
    return url if url.endswith("/api") else f"{url}/api"


class SourceConfig(StrictModel):
    """A data source entities can be discovered from; `properties` belong to its plugin
    (the ones it declares secret are held as secrets: never shown in a repr, dump or log)."""

    name: str = Field(min_length=1)
    type: str = Field(min_length=1, description="Source plugin name: s3_hudi, postgres")
    properties: dict[str, Any] = Field(default_factory=dict)
    remove_stale: bool = Field(
        default=False,
        description="Soft-delete in OM the tables this source ingested before and no longer "
        "finds, and delete the lineage edges its pipelines carry that it no longer derives "
        "(Airflow); default: only report them. Never after an incomplete listing.",
    )
    stale_max_percent: float = Field(
        default=5.0,
        ge=0,
        le=100,
        description="Remove nothing when more than this share of the source's known tables "
        "(or of the edges its pipelines carry) would go (a sign of a broken listing or a "
        "wrong prefix, not of deletions).",
    )

    @field_validator("properties")
    @classmethod
    def _secrets_hidden(cls, props: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        """The plugin's secret properties as `SecretStr` (from the first moment they exist)."""
        from om_ingest.sources.registry import hide_secrets

        source_type = info.data.get("type")
        if not isinstance(source_type, str):
            return props
        return hide_secrets(source_type, props)


# --- profiling / audit / execution ----------------------------------------------------------


class ColumnSelection(StrictModel):
    """Glob patterns selecting columns by name."""

    include: list[str] = Field(default_factory=lambda: ["*"])
    exclude: list[str] = Field(default_factory=list)


class ProfileStorageConfig(StrictModel):
    base_path: str = Field(
        default="./profiles",
        description="Directory of profile, suggested-suite and schema snapshots "
        "(`{profile type}/{date}/{fqn}_{timestamp}.json`).",
    )
    keep_last: int | None = Field(
        default=None,
        ge=1,
        description="Snapshots kept per table and profile type; older ones are deleted once "
        "per run, after its profiles. Unset: all kept.",
    )
    max_age_days: int | None = Field(
        default=None,
        ge=1,
        description="Snapshots older than this are deleted once per run, after its profiles "
        "(any table's, profiled by the run or not). Unset: no age limit.",
    )


PROFILE_METRICS = (
    "row_count",
    "null_count",
    "distinct_count",
    "min",
    "max",
    "mean",
    "median",
    "stddev",
    "quantiles",
    "value_lengths",
    "top_values",
    "histogram",
)
"""The metrics a profile computes (`om_ingest.profiling.data_profiler` computes these)."""

METRIC_ALIASES = {
    "null_percentage": "null_count",
    "null_proportion": "null_count",
    "distinct_percentage": "distinct_count",
    "distinct_proportion": "distinct_count",
    "unique_count": "distinct_count",
    "std_dev": "stddev",
    "standard_deviation": "stddev",
    "min_length": "value_lengths",
    "max_length": "value_lengths",
    "value_distribution": "histogram",
    "value_distributions": "histogram",
    "column_count": "row_count",
    "sample_percentage": "row_count",
}
"""Other names for what a metric computes (the seed plan's among them): `null_percentage`
is the null count's proportion, `column_count` and `sample_percentage` come with every
table's row count."""


def _known_metric(name: str) -> str:
    return _check_choice(name, frozenset({*PROFILE_METRICS, *METRIC_ALIASES}), "metric")


MetricName = Annotated[
    str,
    AfterValidator(_known_metric),
    Field(json_schema_extra={"enum": sorted({*PROFILE_METRICS, *METRIC_ALIASES})}),
]


class ProfilingConfig(StrictModel):
    """Data profiling of sampled rows (Great Expectations) and schema history."""

    enabled: bool = False
    sample_rows: int | None = Field(
        default=None,
        ge=0,
        description="Rows read for the profile (default 10,000); 0: metadata only",
    )
    metadata_stats: bool = Field(
        default=True,
        description="Whole-table row count, null counts and min/max from the source's file "
        "metadata (Hudi: Parquet footers of the latest snapshot) without scanning data; the "
        "profile says which figures came from metadata and which from the sample",
    )
    sample_percentage: float | None = Field(
        default=None,
        gt=0,
        le=100,
        description="Rows read as a share of the table's row count (from file metadata); "
        "instead of sample_rows",
    )
    metrics: list[MetricName] | None = Field(
        default=None,
        description="Metrics to compute (default: all); other names for one are accepted, "
        "e.g. null_percentage for null_count",
    )
    columns: ColumnSelection = Field(default_factory=ColumnSelection)
    push_to_openmetadata: bool = True
    suggest_expectations: bool = Field(
        default=False,
        description="Also store a Great Expectations suite suggested from the profile "
        "(not-null, numeric ranges, small value sets): the first draft of a data contract",
    )
    storage: ProfileStorageConfig = Field(default_factory=ProfileStorageConfig)
    on_error: Literal["fail", "warn"] = Field(
        default="warn",
        description="A profile that fails (unreadable sample, rejected push) is audited and "
        "counted either way; `fail` also fails the run (CLI exit 1), `warn` does not",
    )

    @field_validator("metrics")
    @classmethod
    def _known_metrics(cls, names: list[str] | None) -> list[str] | None:
        """Each name as the metric that computes it (aliases resolved, duplicates dropped)."""
        if names is None:
            return None
        return list(dict.fromkeys(METRIC_ALIASES.get(name, name) for name in names))

    @model_validator(mode="after")
    def _one_sample_size(self) -> ProfilingConfig:
        if self.sample_rows is not None and self.sample_percentage is not None:
            raise ValueError("give sample_rows or sample_percentage, not both")
        return self


class AuditConfig(StrictModel):
    """Where the audit trail goes; it is always written."""

    output_dir: str = "./audit_logs"
    enabled: SkipJsonSchema[Any] = removed_setting(
        "`audit.enabled` was removed (it never switched anything off): the audit trail is "
        "always written, as the record of what a run changed; choose where with `output_dir`"
    )

    @field_validator("enabled")
    @classmethod
    def _removed(cls, value: Any, info: ValidationInfo) -> Any:
        return reject_removed(cls, str(info.field_name), value)


class RetryConfig(StrictModel):
    """Retries of transient OpenMetadata failures (connection errors, timeouts, 429, 5xx):
    each entity (and the first connection) is retried until `budget_seconds` would be
    exceeded, waiting a jittered exponential backoff and never less than the server's
    `Retry-After`. Other failures are not retried."""

    budget_seconds: float = Field(
        default=300.0,
        gt=0,
        description="How long one entity (or the first connection) may keep retrying",
    )
    max_attempts: int | None = Field(
        default=None, ge=1, description="Also stop after this many tries (default: no limit)"
    )
    backoff_seconds: float = Field(
        default=0.5, ge=0, description="First wait; doubles with each retry"
    )
    max_backoff_seconds: float = Field(default=30.0, ge=0, description="Longest wait")
    jitter: float = Field(
        default=0.5, ge=0, le=1, description="Each wait is shortened by a random share up to this"
    )


class ShardingConfig(StrictModel):
    """How the `ingest-sharded` flow splits discovery into shards, each run by a worker of
    the work pool as a child run of its deployment (the plain `ingest` flow ignores this)."""

    by: Literal["prefix", "source"] = Field(
        default="prefix",
        description="`prefix`: each discovery's top-level units (s3_hudi: the directories "
        "right under its prefix; postgres/iceberg: each schema/namespace) may go to different "
        "shards; `source`: one discovery entity (a source) is never split",
    )
    max_shards: int = Field(
        default=8,
        ge=1,
        le=256,
        description="At most this many shards (child runs); units are spread over them evenly",
    )


class ExecutionConfig(StrictModel):
    max_concurrency: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Entities (with `bulk_size` > 1: batches) written to OpenMetadata at once; "
        "a batch more builds and decides its rows meanwhile",
    )
    shards: ShardingConfig = Field(default_factory=ShardingConfig)
    bulk_size: int = Field(
        default=100,
        ge=1,
        le=1000,
        description="Discovered tables written per `PUT /v1/tables/bulk` (one Prefect task per "
        "batch); 1 writes each table by itself (one task and one PUT each)",
    )
    retries: RetryConfig = Field(default_factory=RetryConfig)
    result_storage: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9-]+/[^/]+$",
        description="Prefect storage block holding the write cache (idempotency records), as "
        "`block-type/name`, e.g. `s3-bucket/om-ingest-results`; default: local "
        "($PREFECT_HOME/storage). Share one across workers so any of them skips done work.",
    )


# --- entity properties ---------------------------------------------------------------------

DataTypeName = Annotated[str, Field(json_schema_extra={"enum": list(sorted(DATA_TYPES))})]


class PropertiesBase(StrictModel):
    """An entity's typed `properties` (one model per entity `type`)."""


class EntityProperties(PropertiesBase):
    """What every OM entity can carry."""

    display_name: str | None = None
    description: str | None = None
    tags: list[TagFQN] = Field(default_factory=list, description="Tag FQNs, e.g. PII.Sensitive")
    owners: list[str] = Field(default_factory=list, description="User or team names")


class DatabaseServiceProperties(EntityProperties):
    service_type: str = Field(
        default="CustomDatabase",
        json_schema_extra={"enum": list(sorted(DATABASE_SERVICE_TYPES))},
        description="Any OM DatabaseServiceType; Datalake for S3",
    )

    @field_validator("service_type")
    @classmethod
    def _known_service_type(cls, value: str) -> str:
        return _check_choice(value, DATABASE_SERVICE_TYPES)


class DatabaseProperties(EntityProperties):
    service: str = Field(description="FQN of the database service")


class DatabaseSchemaProperties(EntityProperties):
    database: str = Field(description="FQN of the database: service.database")


ColumnConstraint = Literal["NULL", "NOT_NULL", "UNIQUE", "PRIMARY_KEY"]


class ColumnSpec(StrictModel):
    """A column with full type fidelity; nested types carry children at every depth."""

    name: str = Field(min_length=1)
    data_type: DataTypeName
    data_type_display: str | None = None
    array_data_type: DataTypeName | None = None
    data_length: int | None = Field(default=None, ge=0)
    precision: int | None = Field(default=None, ge=0)
    scale: int | None = Field(default=None, ge=0)
    constraint: ColumnConstraint | None = None
    description: str | None = None
    tags: list[TagFQN] = Field(default_factory=list)
    children: list[ColumnSpec] = Field(default_factory=list)

    @field_validator("data_type", "array_data_type")
    @classmethod
    def _known_data_type(cls, value: str | None) -> str | None:
        return None if value is None else _check_choice(value, DATA_TYPES)


class TableConstraintSpec(StrictModel):
    constraint_type: Literal[
        "UNIQUE", "PRIMARY_KEY", "FOREIGN_KEY", "SORT_KEY", "DIST_KEY", "CLUSTER_KEY"
    ]
    columns: list[str] = Field(min_length=1)
    referred_columns: list[str] = Field(
        default_factory=list,
        description="FOREIGN_KEY: the referenced columns as OM column FQNs "
        "(service.database.schema.table.column), in the order of `columns`",
    )


PartitionIntervalType = Literal[
    "TIME-UNIT", "INTEGER-RANGE", "INGESTION-TIME", "COLUMN-VALUE", "INJECTED", "ENUM", "OTHER"
]


class PartitionColumnSpec(StrictModel):
    """A partition column with how it partitions (OM's PartitionColumnDetails)."""

    column: str = Field(min_length=1)
    interval_type: PartitionIntervalType = "COLUMN-VALUE"
    interval: str | None = Field(
        default=None, description="e.g. a transform or granularity: day, bucket[16]"
    )


class TableProperties(EntityProperties):
    database_schema: str = Field(description="FQN of the schema: service.database.schema")
    table_type: str = Field(
        default="Regular", json_schema_extra={"enum": list(sorted(TABLE_TYPES))}
    )
    columns: list[ColumnSpec] = Field(default_factory=list)
    table_constraints: list[TableConstraintSpec] = Field(default_factory=list)
    partition_columns: list[str | PartitionColumnSpec] = Field(
        default_factory=list,
        description="Partition columns: names (partitioned by value) or how each is cut",
    )
    view_definition: str | None = Field(
        default=None, description="A view's SQL (OM's schemaDefinition)"
    )
    location_path: str | None = None
    file_format: str | None = None
    custom_properties: dict[str, Any] = Field(
        default_factory=dict, description="Source facts kept with the table (e.g. Hudi properties)"
    )

    @field_validator("table_type")
    @classmethod
    def _known_table_type(cls, value: str) -> str:
        return _check_choice(value, TABLE_TYPES)


# --- lineage ---------------------------------------------------------------------------------


class ColumnLineageSpec(StrictModel):
    """Columns of the `from` table feeding one column of the `to` table: names relative to
    their table (nested ones dotted: `address.city`), or their full column FQNs."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: list[str] = Field(alias="from", min_length=1, description="Columns of `from`")
    to: str = Field(min_length=1, description="The column of `to` they feed")

    @field_validator("from_", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class LineageProperties(PropertiesBase):
    """A lineage edge `from` → `to` (OpenMetadata's `AddLineageRequest`); the entity's `name`
    is only its label. Both ends (and the pipeline) are looked up by FQN when it runs."""

    model_config = ConfigDict(extra="forbid", validate_default=True, populate_by_name=True)

    from_: EntityRefSpec = Field(alias="from", description="The upstream entity: {type, fqn}")
    to: EntityRefSpec = Field(description="The downstream entity: {type, fqn}")
    pipeline: EntityRefSpec | None = Field(
        default=None, description="The pipeline that moves the data: {type: pipeline, fqn}"
    )
    columns: list[ColumnLineageSpec] = Field(
        default_factory=list, description="Column mappings (both ends tables)"
    )
    description: str | None = None

    @field_validator("pipeline")
    @classmethod
    def _a_pipeline(cls, ref: EntityRefSpec | None) -> EntityRefSpec | None:
        if ref is not None and ref.type != EntityType.PIPELINE.value:
            raise ValueError(f"the pipeline of an edge is a `type: pipeline` (got {ref.type!r})")
        return ref

    @field_validator("columns")
    @classmethod
    def _between_tables(
        cls, columns: list[ColumnLineageSpec], info: ValidationInfo
    ) -> list[ColumnLineageSpec]:
        ends = [info.data.get("from_"), info.data.get("to")]
        if columns and not all(
            isinstance(end, EntityRefSpec) and end.type == EntityType.TABLE.value for end in ends
        ):
            kinds = " → ".join(end.type if isinstance(end, EntityRefSpec) else "?" for end in ends)
            raise ValueError(f"column mappings are between tables only (this edge is {kinds})")
        return columns


DERIVED_KINDS: dict[EntityType, tuple[str, str | None]] = {
    EntityType.CLASSIFICATION: ("classification.createClassification", None),
    EntityType.TAG: ("classification.createTag", "classification"),
    EntityType.USER: ("teams.createUser", None),
    EntityType.TEAM: ("teams.createTeam", None),
    EntityType.PIPELINE_SERVICE: ("services.createPipelineService", None),
    EntityType.PIPELINE: ("data.createPipeline", "service"),
    EntityType.MESSAGING_SERVICE: ("services.createMessagingService", None),
    EntityType.TOPIC: ("data.createTopic", "service"),
    EntityType.MLMODEL_SERVICE: ("services.createMlModelService", None),
    EntityType.MLMODEL: ("data.createMlModel", "service"),
    EntityType.SEARCH_SERVICE: ("services.createSearchService", None),
    EntityType.SEARCH_INDEX: ("data.createSearchIndex", "service"),
    EntityType.DATA_CONTRACT: ("data.createDataContract", "entity"),
    # storage and governance
    EntityType.STORAGE_SERVICE: ("services.createStorageService", None),
    EntityType.CONTAINER: ("data.createContainer", "service"),
    EntityType.GLOSSARY: ("data.createGlossary", None),
    EntityType.GLOSSARY_TERM: ("data.createGlossaryTerm", "glossary"),
    EntityType.DOMAIN: ("domains.createDomain", None),
}
"""Kinds whose `properties` mirror their SDK Create…Request (module under
`metadata.generated.schema.api`, and the field naming the parent): `config.derived`."""

NESTED_PARENT: dict[EntityType, str] = {
    EntityType.CONTAINER: "parent",
    EntityType.GLOSSARY_TERM: "parent",
    EntityType.DOMAIN: "parent",
}
"""Kinds that nest in one of their own kind: the Create field naming that parent (a
container's parent container, a term's parent term, a subdomain's domain). When set it is
the entity's parent (its FQN is the parent's plus its name), else the `DERIVED_KINDS` one is."""


def create_request_model(kind: EntityType) -> type[BaseModel]:
    """The SDK's Create…Request model of a derived kind."""
    import importlib

    module = importlib.import_module(f"metadata.generated.schema.api.{DERIVED_KINDS[kind][0]}")
    return next(
        value
        for name, value in vars(module).items()
        if name.startswith("Create") and name.endswith("Request") and isinstance(value, type)
    )


def _derived_models() -> dict[EntityType, type[PropertiesBase]]:
    from om_ingest.config.derived import derived_properties, side_list

    side = {
        EntityType.PIPELINE: {
            "statuses": side_list(
                "entity.data.pipeline.PipelineStatus",
                "Runs of the pipeline (OM's PipelineStatus, one per timestamp in epoch ms), "
                "added after the pipeline is written; one OM already has is not sent again",
            )
        },
        EntityType.TOPIC: {
            "sample_data": (
                list[str] | None,
                Field(
                    None,
                    description="Sample messages of the topic as text (OM's TopicSampleData), "
                    "written after the topic and replacing the sample OM holds",
                ),
            )
        },
    }
    return {
        kind: derived_properties(  # type: ignore[misc]
            create_request_model(kind),
            base=PropertiesBase,
            title=f"{kind.value.title().replace('_', '')}Properties",
            parent=parent,
            doc=f"The `{kind.value}` properties: the fields of OpenMetadata's "
            f"`{create_request_model(kind).__name__}` in snake_case.",
            keep=frozenset({NESTED_PARENT[kind]}) if kind in NESTED_PARENT else frozenset(),
            extra=side.get(kind, {}),
        )
        for kind, (_, parent) in DERIVED_KINDS.items()
    }


PROPERTY_MODELS: dict[EntityType, type[PropertiesBase]] = {
    EntityType.DATABASE_SERVICE: DatabaseServiceProperties,
    EntityType.DATABASE: DatabaseProperties,
    EntityType.DATABASE_SCHEMA: DatabaseSchemaProperties,
    EntityType.TABLE: TableProperties,
    **_derived_models(),
    EntityType.LINEAGE: LineageProperties,
}
"""The typed `properties` model of every entity kind."""


# --- entities ------------------------------------------------------------------------------


class DiscoveryFilter(StrictModel):
    include: list[str] = Field(default_factory=lambda: ["*"])
    exclude: list[str] = Field(default_factory=list)
    regex: bool = Field(default=False, description="Patterns are regular expressions, not globs")
    max_tables: int | None = Field(default=None, ge=1)
    schema_: str | None = Field(
        default=None,
        alias="schema",
        min_length=1,
        description="Only the source's tables in this schema, and they go into the OM "
        "schema of that name (service and database: the source's naming defaults). s3_hudi: "
        "the directory of that name right under the prefix; postgres: that PostgreSQL schema; "
        "iceberg: the namespace of that name (dotted when nested)",
    )

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class DiscoveryConfig(StrictModel):
    """Expand this entity into one entity per object the source finds."""

    source: str = Field(min_length=1, description="Name of a source in `sources`")
    filter: DiscoveryFilter = Field(default_factory=DiscoveryFilter)
    options: SkipJsonSchema[Any] = removed_setting(
        "`discovery.options` was removed (no source read it): source settings belong in "
        "the source's `properties`"
    )

    @field_validator("options")
    @classmethod
    def _removed(cls, value: Any, info: ValidationInfo) -> Any:
        return reject_removed(cls, str(info.field_name), value)


class EntityConfig(StrictModel):
    """One entity (or, with `discovery`, a family of discovered entities)."""

    type: EntityType
    name: str | None = Field(default=None, min_length=1, max_length=256)  # OM's entityName
    discovery: DiscoveryConfig | None = None
    properties: dict[str, Any] | PropertiesBase = Field(default_factory=dict)
    idempotency: IdempotencyMode | None = None
    override: bool = Field(
        default=False, description="Let updates replace descriptions/tags/owners curated in OM"
    )
    external: bool = Field(default=False, description="Exists in OM already; only checked")
    depends_on: list[str] = Field(default_factory=list, description="FQNs this entity waits for")
    profiling: ProfilingConfig | None = None
    discovered_from: SkipJsonSchema[str | None] = Field(
        default=None, description="Set by discovery: the source this entity came from"
    )

    @field_validator("properties", mode="before")
    @classmethod
    def _typed_properties(cls, props: Any, info: ValidationInfo) -> Any:
        """Parse `properties` with the model for the entity's type, so errors name the key.

        Discovered entities are completed by their source, so theirs are validated after
        discovery, when the concrete entities exist.
        """
        model = PROPERTY_MODELS.get(info.data.get("type"))  # type: ignore[arg-type]
        if model is None or not isinstance(props, dict) or info.data.get("discovery") is not None:
            return props
        return model.model_validate(props)

    @model_validator(mode="before")
    @classmethod
    def _external_needs_only_its_parent(cls, data: Any) -> Any:
        """An external entity exists in OM already: only its parent matters, so the
        request's required fields (a service's type, a topic's partitions) may be left out."""
        if not isinstance(data, dict) or data.get("external") is not True:
            return data
        model = PROPERTY_MODELS.get(data.get("type"))  # type: ignore[arg-type]
        props = data.get("properties") or {}
        if model is None or not isinstance(props, dict):
            return data
        try:
            model.model_validate(props)
        except ValidationError as exc:
            if all(error["type"] == "missing" for error in exc.errors()):
                return {**data, "properties": model.model_construct(**props)}
        return data

    @model_validator(mode="after")
    def _named_or_discovered(self) -> EntityConfig:
        if self.name is None and self.discovery is None:
            raise ValueError("an entity needs a `name` (or `discovery` to find its names)")
        if self.type is EntityType.LINEAGE and (self.external or self.discovery is not None):
            raise ValueError("a lineage edge is declared by its ends: not `external`/`discovery`")
        return self


class DefaultsConfig(StrictModel):
    """Applied to every entity; an entity's own values win (entity > defaults > template)."""

    idempotency: IdempotencyMode = IdempotencyMode.SKIP
    override: bool = False
    profiling: ProfilingConfig | None = None
    tags: list[TagFQN] = Field(default_factory=list)
    owners: list[str] = Field(default_factory=list)


# --- data contracts and notifications ------------------------------------------------------


class ContractConfig(StrictModel):
    """An Open Data Contract Standard v3 file governing one OpenMetadata table: validated
    against the ODCS JSON Schema when the config loads, written as the table's OM data
    contract, its schema enforced before the table is written and its quality rules run as
    Great Expectations on each run's sample."""

    path: str = Field(min_length=1, description="The ODCS YAML file, relative to this config")
    table: str = Field(min_length=1, description="FQN of the OM table the contract covers")
    enforcement: Literal["warn", "block"] = Field(
        default="warn",
        description="A discovered or declared schema missing a contract field or typing it "
        "otherwise: `block` leaves the table unchanged in OM and fails it; `warn` writes it "
        "and reports the violations",
    )
    name: str | None = Field(
        default=None,
        min_length=1,
        max_length=256,
        description="The OM data contract's name (default: the ODCS `name`, else "
        "`<table name>_contract`)",
    )
    idempotency: IdempotencyMode | None = None
    expectations: str | None = Field(
        default=None,
        min_length=1,
        description="A Great Expectations suite (JSON, e.g. the draft `profiling."
        "suggest_expectations` stored) adopted for this table: run with the contract's rules, "
        "its results pushed the same way; relative to this config",
    )
    document: SkipJsonSchema[dict[str, Any] | None] = Field(
        default=None, exclude=True, description="The ODCS document, set by the loader"
    )
    suite: SkipJsonSchema[dict[str, Any] | None] = Field(
        default=None, exclude=True, description="The adopted GX suite, set by the loader"
    )


NotificationEvent = Literal["schema_change", "contract_violation", "entity_failed", "run_failed"]
NOTIFICATION_EVENTS: tuple[NotificationEvent, ...] = (
    "schema_change",
    "contract_violation",
    "entity_failed",
    "run_failed",
)
"""What a run can notify about (`notifications.on`)."""


class NotificationsConfig(StrictModel):
    """Messages about a run through a saved Prefect notification block (SlackWebhook,
    CustomWebhookNotificationBlock, an e-mail block, …): one per event, naming the entity,
    the change and the run, never a secret."""

    block: str = Field(
        min_length=1,
        description="Name of a saved Prefect notification block, as `block-type/name` or "
        "just `name` (looked up among the notification block types)",
    )
    on: list[NotificationEvent] = Field(
        default_factory=lambda: list(NOTIFICATION_EVENTS),
        description="Events that send a message",
    )


RunTag = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9 _.:/=@+-]{0,99}$"),
    Field(description="A label such as `pii`, `gdpr` or `cost-center:finance`"),
]


class RunTagsConfig(StrictModel):
    """A run's labels, in two classes (governance and business, as the platform plan asks),
    carried by its summary, artifacts and audit for whoever accounts for the run."""

    governance: list[RunTag] = Field(
        default_factory=list, description="Governance tags: data classes, regimes (pii, gdpr…)"
    )
    business: list[RunTag] = Field(
        default_factory=list, description="Business tags: domain, cost centre, product…"
    )

    @field_validator("governance", "business")
    @classmethod
    def _unique(cls, tags: list[str]) -> list[str]:
        repeated = sorted({t for t in tags if tags.count(t) > 1})
        if repeated:
            raise ValueError(f"tags listed twice: {', '.join(repeated)}")
        return tags


class RunConfig(StrictModel):
    """What every run of this config carries in its run metadata."""

    tags: RunTagsConfig = Field(default_factory=RunTagsConfig)


class IngestionConfig(StrictModel):
    """The root of an ingestion YAML."""

    metadata: MetadataConfig = Field(default_factory=MetadataConfig)
    openmetadata: OpenMetadataConfig = Field(default_factory=OpenMetadataConfig)
    sources: list[SourceConfig] = Field(default_factory=list)
    defaults: DefaultsConfig = Field(default_factory=DefaultsConfig)
    entities: list[EntityConfig] = Field(default_factory=list)
    profiling: ProfilingConfig = Field(default_factory=ProfilingConfig)
    audit: AuditConfig = Field(default_factory=AuditConfig)
    execution: ExecutionConfig = Field(default_factory=ExecutionConfig)
    templates: dict[str, Any] = Field(
        default_factory=dict, description="Named templates entities can `extends:`"
    )
    contracts: list[ContractConfig] = Field(
        default_factory=list,
        description="ODCS v3 data contracts, each becoming its table's OM data contract",
    )
    notifications: NotificationsConfig | None = None
    run: RunConfig = Field(
        default_factory=RunConfig,
        description="Run metadata: governance and business tags every run carries",
    )

    def source(self, name: str) -> SourceConfig | None:
        return next((s for s in self.sources if s.name == name), None)


def _check_choice(value: str, choices: frozenset[str], what: str = "OpenMetadata value") -> str:
    """Accept one of `choices` (e.g. OpenMetadata's enum values), hinting the closest."""
    if value in choices:
        return value
    hint = get_close_matches(value, sorted(choices), n=1)
    listed = f" (known: {', '.join(sorted(choices))})" if len(choices) <= 30 else ""
    suffix = f" (did you mean {hint[0]!r}?)" if hint else listed
    raise ValueError(f"{value!r} is not a known {what}{suffix}")
