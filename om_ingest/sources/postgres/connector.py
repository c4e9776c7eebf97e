"""PostgreSQL: tables, views and materialized views with exact types, constraints, comments.

Everything comes from the system catalog through SQLAlchemy (psycopg2), queried per relation
on an autocommit connection (no locks held, so DDL elsewhere never waits on a discovery, and
a relation dropped meanwhile is skipped). A relation's marker is the hash of its catalog
facts: equal to the last run's, the table is not written again. Profiles are computed by the
database (Great Expectations over SQL; see `om_ingest.profiling.sql_profiler`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

import pyarrow as pa

from om_ingest import fqns
from om_ingest.config.models import (
    ColumnSpec,
    EntityConfig,
    PartitionColumnSpec,
    PartitionIntervalType,
    ProfilingConfig,
    SourceConfig,
    TableConstraintSpec,
)
from om_ingest.errors import SourceError
from om_ingest.logs import register_secrets
from om_ingest.sources.base import (
    ColumnStatistics,
    DataSource,
    DiscoveredEntity,
    DiscoveryFailure,
    TableStatistics,
)
from om_ingest.sources.helpers import discovery_filter, passes_filter, reached_cap, reason
from om_ingest.sources.postgres.catalog import (
    RelationFacts,
    TypeCatalog,
    describe,
    list_relations,
    list_schemas,
)
from om_ingest.sources.postgres.properties import PostgresProperties
from om_ingest.sources.postgres.received import counting_cursor
from om_ingest.sources.registry import register_source_class

if TYPE_CHECKING:
    from om_ingest.profiling.data_profiler import TableProfileResult

log = logging.getLogger("om_ingest.sources.postgres")

UNCHANGED = "PostgreSQL catalog definition unchanged since the last run"
TEMPORAL = {"DATE", "TIMESTAMP", "TIMESTAMPZ", "TIME", "DATETIME"}
STORED = {"r", "p", "m"}
"""Relation kinds TABLESAMPLE applies to (tables, partitioned tables, materialized views)."""
INTEGRAL = {"SMALLINT", "INT", "BIGINT", "DECIMAL", "NUMERIC"}


@register_source_class("postgres", PostgresProperties)
class PostgresSource(DataSource):
    properties: PostgresProperties
    service_type = "Postgres"
    spans_schemas = True
    reads_measured = (
        "result rows received: the bytes of each value in libpq's results (PQgetlength) of "
        "every query, profiles included (libpq has no wire-byte counter; protocol framing "
        "not counted)"
    )

    def __init__(self, config: SourceConfig, properties: PostgresProperties) -> None:
        super().__init__(config, properties)
        self._engine: Any = None
        self._types = TypeCatalog()
        if properties.password is not None:
            register_secrets([properties.password.get_secret_value()])

    # --- connection ----------------------------------------------------------------------

    def connect(self) -> None:
        if self._engine is None:
            from sqlalchemy import create_engine

            self._engine = create_engine(
                self.properties.url(), isolation_level="AUTOCOMMIT", pool_pre_ping=True,
                connect_args={"cursor_factory": counting_cursor(self.count_read)},
            )  # fmt: skip

    def disconnect(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    @property
    def where(self) -> str:
        p = self.properties
        return f"postgresql://{p.host}:{p.port}/{p.database}"

    def validate_connection(self) -> None:
        self.connect()
        known = self._run(list_schemas, "cannot connect to")
        absent = [s for s in self.properties.schemas if s not in known]
        if absent:
            raise SourceError(
                f"source {self.config.name!r}: schema {', '.join(map(repr, absent))} not found "
                f"in {self.where} (it has: {', '.join(known) or 'none'})"
            )

    def _run(self, query: Any, doing: str, *args: Any) -> Any:
        """`query(conn, *args)` on a fresh connection; a database error as a SourceError naming
        the source and the server, never the password."""
        try:
            with self._engine.connect() as conn:
                return query(conn, *args)
        except Exception as exc:
            raise SourceError(f"source {self.config.name!r}: {doing} {self.where}: "
                              f"{self._message(exc)}") from None  # fmt: skip

    def _message(self, exc: BaseException) -> str:
        """The driver's own message (e.g. `password authentication failed for user "x"`),
        one line, without the password even if a server echoed it."""
        original = getattr(exc, "orig", None) or exc
        text = " ".join(str(original).split()) or type(original).__name__
        password = self.properties.password
        if password is not None and password.get_secret_value():
            text = text.replace(password.get_secret_value(), "**********")
        return text

    # --- schemas -------------------------------------------------------------------------

    def schemas(self) -> list[str]:
        if self.properties.schemas:
            return list(self.properties.schemas)
        self.connect()
        schemas: list[str] = self._run(list_schemas, "cannot list the schemas of")
        return schemas

    def targets(self, declared_schema: str | None) -> list[tuple[str, DataSource]]:
        """One OM schema per PostgreSQL schema (service.database.schema); a declared
        `database_schema` takes the tables of exactly one PostgreSQL schema."""
        schemas = self.schemas()
        if declared_schema is not None:
            if len(schemas) != 1:
                raise SourceError(
                    f"source {self.config.name!r}: `database_schema` {declared_schema!r} takes "
                    f"one PostgreSQL schema, and the source covers {len(schemas)} "
                    f"({', '.join(schemas)}): name one with `schemas:` or `filter.schema`"
                )
            return [(declared_schema, self._narrowed(schemas[0]))]
        return [(self._schema_fqn(schema), self._narrowed(schema)) for schema in schemas]

    def _schema_fqn(self, schema: str) -> str:
        service = fqns.child(None, self.properties.service_name(self.config.name))
        return fqns.child(fqns.child(service, self.properties.database), schema)

    def _narrowed(self, schema: str) -> PostgresSource:
        props = self.properties.model_copy(update={"schemas": [schema]})
        config = self.config.model_copy(
            update={"properties": PostgresProperties.for_schema(self.config.properties, schema)}
        )
        return PostgresSource(config, props)

    def default_schema_fqn(self) -> str | None:
        schemas = self.properties.schemas
        return self._schema_fqn(schemas[0]) if len(schemas) == 1 else None

    def location(self, schema: str, table: str) -> str:
        return f"{self.where}/{quote(schema, safe='')}/{quote(table, safe='')}"

    @staticmethod
    def parse_location(location: str) -> tuple[str, str]:
        """(schema, table) of a location this source made."""
        schema, table = location.rstrip("/").rsplit("/", 2)[-2:]
        return unquote(schema), unquote(table)

    # --- discovery -----------------------------------------------------------------------

    def discover_entities(
        self,
        template: EntityConfig,
        known_commits: dict[str, str] | None = None,
        known_markers: dict[str, str] | None = None,
    ) -> Iterator[DiscoveredEntity | DiscoveryFailure]:
        self.connect()
        flt = discovery_filter(template)
        known = known_commits or {}
        markers = known_markers or {}
        found = 0
        for schema in self.schemas():
            relations = self._run(list_relations, "cannot list the relations of", schema)
            for relation in relations:
                if not passes_filter(flt, f"{schema}.{relation.name}", relation.name):
                    continue
                if reached_cap(flt, found):
                    return
                location = self.location(schema, relation.name)
                try:
                    with self._engine.connect() as conn:
                        facts = describe(conn, schema, relation)
                        if facts is None:
                            log.info("%s was dropped during the discovery; skipped", location)
                            continue
                        self._types.load(conn, {int(c["typid"]) for c in facts.columns})
                except Exception as exc:
                    yield DiscoveryFailure(
                        relation.name, location, f"{location}: {self._message(exc)}"
                    )
                    continue
                found += 1
                marker = facts.marker()
                commit = marker[:16]
                if (
                    not self.properties.full_refresh
                    and location in known
                    and markers.get(location) == marker
                ):
                    yield DiscoveredEntity.unchanged_at(
                        template,
                        facts.name,
                        location,
                        commit,
                        marker,
                        f"{UNCHANGED} (catalog marker {commit})",
                    )
                    continue
                try:
                    entity = self._entity(template, schema, facts, location)
                except Exception as exc:
                    yield DiscoveryFailure(facts.name, location, f"{location}: {reason(exc)}")
                    continue
                yield DiscoveredEntity(entity, location, commit, marker=marker)

    def _entity(
        self, template: EntityConfig, schema: str, facts: RelationFacts, location: str
    ) -> EntityConfig:
        enums: dict[str, list[str]] = {}
        columns = [
            self._types.column(c["name"], c["typid"], c["typmod"], c["display"], enums)
            for c in facts.columns
        ]
        single: dict[str, str] = {}  # a single-column key's contype: p (primary) wins over u
        for con in sorted(facts.constraints, key=lambda c: c.kind):
            if con.kind in ("p", "u") and len(con.columns) == 1:
                single.setdefault(con.columns[0], con.kind)
        by_name = {c["name"]: c for c in facts.columns}
        for column in columns:
            if single.get(column.name) == "p":
                column.constraint = "PRIMARY_KEY"
            elif single.get(column.name) == "u":
                column.constraint = "UNIQUE"
            elif by_name[column.name]["notnull"]:
                column.constraint = "NOT_NULL"
            column.description = by_name[column.name]["comment"]
        constraints = []
        for con in facts.constraints:
            if con.kind in ("p", "u") and len(con.columns) == 1:
                continue  # a column's own constraint (as OM's connectors do)
            referred = []
            if con.kind == "f" and con.referred_schema and con.referred_table:
                table_fqn = fqns.child(self._schema_fqn(con.referred_schema), con.referred_table)
                referred = [fqns.child(table_fqn, name) for name in con.referred_columns]
            constraints.append(
                TableConstraintSpec(
                    constraint_type={"p": "PRIMARY_KEY", "u": "UNIQUE", "f": "FOREIGN_KEY"}[
                        con.kind
                    ],  # type: ignore[arg-type]
                    columns=con.columns,
                    referred_columns=referred,
                )
            )
        types = {c.name: c.data_type for c in columns}
        partitions = [
            PartitionColumnSpec(column=name, interval_type=_interval_type(
                facts.partition_strategy, types.get(name)))
            for name in facts.partition_columns
        ]  # fmt: skip
        custom: dict[str, Any] = {
            "postgres_partition_key": facts.partition_key,
            "postgres_partitions": facts.partitions if facts.partition_strategy else None,
            "postgres_enum_values": json.dumps(enums, sort_keys=True) if enums else None,
        }
        return self.table_entity(
            template,
            facts.name,
            database_schema=self._schema_fqn(schema),
            description=facts.comment,
            table_type=facts.table_type,
            columns=[c.model_dump() for c in columns],
            table_constraints=[c.model_dump() for c in constraints],
            partition_columns=[p.model_dump() for p in partitions],
            view_definition=facts.view_definition,
            location_path=location,
            custom_properties={k: v for k, v in custom.items() if v not in (None, "")},
        )

    def entity_settings(self) -> dict[str, Any]:
        return {"database": self.properties.database, "service": self.properties.service}

    # --- statistics and profiles ---------------------------------------------------------

    def exact_row_count(self, location: str) -> tuple[int, str] | None:
        """`count(*)`, run by the database (the planner's figures are estimates)."""
        from sqlalchemy import text

        schema, table = self.parse_location(location)

        def count(conn: Any) -> int:
            quote = conn.dialect.identifier_preparer.quote
            return int(
                conn.execute(text(f"SELECT count(*) FROM {quote(schema)}.{quote(table)}")).scalar()
            )

        self.connect()
        rows: int = self._run(count, "cannot count the rows of")
        return rows, "count(*) in PostgreSQL"

    def table_statistics(self, location: str, columns: list[str]) -> TableStatistics | None:
        """The planner's estimates (pg_class.reltuples, pg_stats.null_frac / n_distinct):
        no scan, never exact; None when the table was never analyzed."""
        from sqlalchemy import text

        schema, table = self.parse_location(location)

        def read(conn: Any) -> TableStatistics | None:
            rows = conn.execute(
                text(
                    "SELECT c.reltuples FROM pg_class c JOIN pg_namespace n "
                    "ON n.oid = c.relnamespace WHERE n.nspname = :s AND c.relname = :t"
                ),
                {"s": schema, "t": table},
            ).scalar()
            if rows is None or rows < 0:
                return None
            stats = {
                r[0]: ColumnStatistics(
                    null_count=round(float(r[1]) * rows),
                    null_fraction=float(r[1]),
                    distinct_count=round(float(r[2]) if r[2] >= 0 else -float(r[2]) * rows),
                )
                for r in conn.execute(
                    text(
                        "SELECT attname, null_frac, n_distinct FROM pg_stats "
                        "WHERE schemaname = :s AND tablename = :t AND NOT inherited"
                    ),
                    {"s": schema, "t": table},
                )
                if r[0] in columns
            }
            return TableStatistics(
                row_count=round(rows),
                exact=False,
                origin="PostgreSQL planner estimates (pg_class.reltuples, pg_stats)",
                columns=stats,
            )

        self.connect()
        result: TableStatistics | None = self._run(read, "cannot read statistics from")
        return result

    def profile(
        self, fqn: str, location: str, columns: list[ColumnSpec], settings: ProfilingConfig
    ) -> TableProfileResult | None:
        from om_ingest.profiling.sql_profiler import profile_sql_table

        schema, table = self.parse_location(location)
        estimates = self.table_statistics(location, [c.name for c in columns])
        self.connect()
        try:
            kind = self._run(_relkind, "cannot read the catalog of", schema, table)
            return profile_sql_table(
                fqn, self._engine, schema, table, columns, settings, estimates,
                stored=kind in STORED,
            )  # fmt: skip
        except SourceError:
            raise
        except Exception as exc:
            raise SourceError(f"{location}: profile failed: {self._message(exc)}") from None

    def fetch_sample(
        self, location: str, max_rows: int, columns: list[str] | None = None
    ) -> Iterator[pa.RecordBatch]:
        """Rows as Arrow (values Arrow cannot hold, e.g. UUIDs or ranges, as text); profiles
        do not need this (the database computes them), other consumers may."""
        from sqlalchemy import text

        schema, table = self.parse_location(location)
        self.connect()
        with self._engine.connect() as conn:
            prep = conn.dialect.identifier_preparer
            names = ", ".join(prep.quote(c) for c in columns) if columns else "*"
            query = (
                f"SELECT {names} FROM {prep.quote(schema)}.{prep.quote(table)} "
                f"LIMIT {max(max_rows, 0)}"
            )
            # a server-side cursor needs a transaction (the engine's connections autocommit)
            streamed = conn.execution_options(isolation_level="READ COMMITTED", stream_results=True)
            result = streamed.execute(text(query))
            keys = list(result.keys())
            while chunk := result.fetchmany(8192):
                yield pa.RecordBatch.from_pylist(
                    [dict(zip(keys, map(_arrow_value, row), strict=True)) for row in chunk]
                )


def _relkind(conn: Any, schema: str, table: str) -> str | None:
    from sqlalchemy import text

    kind: str | None = conn.execute(
        text(
            "SELECT c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = :s AND c.relname = :t"
        ),
        {"s": schema, "t": table},
    ).scalar()
    return kind


def _arrow_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str | bytes):
        return value
    import datetime
    import decimal

    if isinstance(value, datetime.date | datetime.time | decimal.Decimal):
        return value
    return json.dumps(value, default=str) if isinstance(value, dict | list) else str(value)


def _interval_type(strategy: str | None, data_type: str | None) -> PartitionIntervalType:
    """OM's partition interval type: range over time → TIME-UNIT, over numbers →
    INTEGER-RANGE; list and hash partition by value."""
    if strategy == "range" and data_type in TEMPORAL:
        return "TIME-UNIT"
    if strategy == "range" and data_type in INTEGRAL:
        return "INTEGER-RANGE"
    return "COLUMN-VALUE"
