"""Every kind whose properties mirror its Create request, through the flow against the sandbox:
create, zero-write re-run, updates shown as field changes, nested schema changes, blocked
subtrees, and bad input as located config errors or failed entities (never a traceback)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from om_ingest.cli.main import cli
from om_ingest.config.models import DERIVED_KINDS
from tests.flows.test_ingest_flow import audit_events, run, run_failing, write_config


def kinds_stack() -> list[dict[str, Any]]:
    """One entity of every derived kind (and the table a data contract needs)."""
    return [
        {"type": "team", "name": "data_eng", "properties": {"team_type": "Group"}},
        {
            "type": "user",
            "name": "alice",
            # not `teams: [data_eng]`: the sandbox does not turn a user's team ids into
            # references yet (OM does); the lookup is tested in test_unknown_names_…
            "properties": {"email": "alice@example.com"},
        },
        {
            "type": "classification",
            "name": "Sensitivity",
            "properties": {"description": "How sensitive data is.", "owners": ["alice"]},
        },
        {
            "type": "tag",
            "name": "Secret",
            "properties": {"classification": "Sensitivity", "description": "Secret data."},
        },
        {"type": "pipeline_service", "name": "airflow", "properties": {"service_type": "Airflow"}},
        {
            "type": "pipeline",
            "name": "daily_etl",
            "idempotency": "update",
            "properties": {
                "service": "airflow",
                "description": "Nightly load.",
                "source_url": "http://airflow/dags/daily_etl",
                "tasks": [
                    {
                        "name": "extract",
                        "task_type": "PythonOperator",
                        "downstream_tasks": ["load"],
                    },
                    {"name": "load", "taskType": "SQLOperator"},
                ],
            },
        },
        {"type": "messaging_service", "name": "kafka", "properties": {"service_type": "Kafka"}},
        {
            "type": "topic",
            "name": "orders",
            "idempotency": "update",
            "properties": {
                "service": "kafka",
                "partitions": 3,
                "retention_time": 86400000,
                "cleanup_policies": ["delete"],
                "message_schema": {
                    "schema_type": "Avro",
                    "schema_fields": [
                        {
                            "name": "order",
                            "data_type": "RECORD",
                            "children": [
                                {"name": "id", "data_type": "LONG"},
                                {"name": "amount", "data_type": "DOUBLE"},
                            ],
                        }
                    ],
                },
            },
        },
        {"type": "mlmodel_service", "name": "mlflow", "properties": {"service_type": "Mlflow"}},
        {
            "type": "mlmodel",
            "name": "churn",
            "idempotency": "update",
            "properties": {
                "service": "mlflow",
                "algorithm": "xgboost",
                "ml_features": [
                    {"name": "tenure", "data_type": "numerical"},
                    {"name": "plan", "data_type": "categorical"},
                ],
                "ml_hyper_parameters": [{"name": "depth", "value": "6"}],
            },
        },
        {
            "type": "search_service",
            "name": "es",
            "properties": {"service_type": "ElasticSearch"},
        },
        {
            "type": "search_index",
            "name": "products",
            "idempotency": "update",
            "properties": {
                "service": "es",
                "fields": [
                    {"name": "title", "data_type": "TEXT"},
                    {
                        "name": "price",
                        "data_type": "OBJECT",
                        "children": [{"name": "amount", "data_type": "FLOAT"}],
                    },
                ],
            },
        },
        # storage and governance
        {"type": "storage_service", "name": "s3", "properties": {"service_type": "S3"}},
        {
            "type": "container",
            "name": "landing",
            "idempotency": "update",
            "properties": {
                "service": "s3",
                "prefix": "/landing",
                "file_formats": ["parquet"],
                "number_of_objects": 10,
                "data_model": {
                    "is_partitioned": False,
                    "columns": [
                        {
                            "name": "event",
                            "data_type": "STRUCT",
                            "children": [
                                {"name": "id", "data_type": "BIGINT"},
                                {"name": "at", "data_type": "TIMESTAMP"},
                            ],
                        }
                    ],
                },
            },
        },
        {
            "type": "container",
            "name": "daily",
            "properties": {
                "service": "s3",
                "parent": {"type": "container", "fqn": "s3.landing"},
                "file_formats": ["csv"],
            },
        },
        {
            "type": "glossary",
            "name": "Business",
            "properties": {"description": "Business terms.", "reviewers": ["alice"]},
        },
        {
            "type": "glossary_term",
            "name": "Revenue",
            "idempotency": "update",
            "properties": {
                "glossary": "Business",
                "description": "Money in.",
                "synonyms": ["income"],
                "reviewers": ["alice"],
            },
        },
        {
            "type": "glossary_term",
            "name": "Net",
            "properties": {
                "glossary": "Business",
                "parent": "Business.Revenue",
                "description": "After costs.",
                "related_terms": ["Business.Revenue"],
            },
        },
        {
            "type": "domain",
            "name": "Finance",
            "idempotency": "update",
            "properties": {
                "domain_type": "Aggregate",
                "description": "Money.",
                "experts": ["alice"],
            },
        },
        {
            "type": "domain",
            "name": "Payments",
            "properties": {
                "domain_type": "Source-aligned",
                "description": "Paying.",
                "parent": "Finance",
            },
        },
        {
            "type": "database_service",
            "name": "wh",
            "properties": {"service_type": "CustomDatabase"},
        },
        {"type": "database", "name": "db", "properties": {"service": "wh"}},
        {"type": "database_schema", "name": "s", "properties": {"database": "wh.db"}},
        {
            "type": "table",
            "name": "orders",
            "properties": {
                "database_schema": "wh.db.s",
                "columns": [{"name": "id", "data_type": "BIGINT"}],
            },
        },
        {
            "type": "data_contract",
            "name": "orders_contract",
            "properties": {
                "entity": {"type": "table", "fqn": "wh.db.s.orders"},
                "description": "Orders are complete by 6am.",
                "owners": ["alice"],
            },
        },
    ]


def _by_fqn(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["fqn"]: e for e in audit_events(summary)}


def _edit(entities: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(e for e in entities if e["name"] == name)


def test_every_kind_is_created_then_rerun_without_writes(om_env: Any, tmp_path: Path) -> None:
    assert {e["type"] for e in kinds_stack()} >= {k.value for k in DERIVED_KINDS}
    config = write_config(tmp_path, kinds_stack())
    # a dry run on an empty OM previews every create, owners and the contract's table
    # included (declared earlier in the run: stand-in ids), and writes nothing
    preview = run(config, dry_run=True)
    assert om_env.write_calls() == []
    assert {e["outcome"] for e in audit_events(preview)} == {"dry_run"}
    assert preview["operations"] == {"CREATE": len(kinds_stack())}
    summary = run(config)
    events = _by_fqn(summary)
    assert summary["operations"] == {"CREATE": len(kinds_stack())}, events
    # parents and named entities first: a user before what it owns
    order = [e["fqn"] for e in audit_events(summary)]
    assert order.index("alice") < order.index("Sensitivity")
    assert order.index("wh.db.s.orders") < order.index(
        "wh.db.s.orders.dataContract_orders_contract"
    )
    from metadata.generated.schema.entity.data.dataContract import DataContract
    from metadata.generated.schema.entity.data.pipeline import Pipeline
    from metadata.generated.schema.entity.data.topic import Topic

    from om_ingest.sandbox.testing import make_sdk_client
    from tests.conftest import JWT

    client = make_sdk_client(om_env.url, JWT)
    pipeline = client.get_by_name(Pipeline, "airflow.daily_etl", fields=["tasks"])
    assert [(t.name, t.taskType, t.downstreamTasks) for t in pipeline.tasks] == [
        ("extract", "PythonOperator", ["load"]),
        ("load", "SQLOperator", None),
    ]
    topic = client.get_by_name(Topic, "kafka.orders")
    assert topic.partitions == 3
    assert [c.name.root for c in topic.messageSchema.schemaFields[0].children] == ["id", "amount"]
    contract = client.get_by_name(
        DataContract, "wh.db.s.orders.dataContract_orders_contract", fields=["owners"]
    )
    assert contract.entity.type == "table" and contract.owners.root[0].name == "alice"

    om_env.clear_requests()
    again = run(config)
    assert om_env.write_calls() == []
    assert again["operations"] == {"SKIP": len(kinds_stack())}


def test_what_a_config_asks_for_equals_what_om_answers_after_creating_it(om_env: Any) -> None:
    """Without the write cache, the comparison of each kind's request with what OM answers
    after creating it finds nothing (create-only request fields, names OM answers as
    references, defaults the SDK leaves unparsed would read as changes on every run)."""
    from om_ingest.config.models import EntityConfig
    from om_ingest.engine.compare import as_json, compare
    from om_ingest.entities import handler_for
    from om_ingest.entities.lookups import Resolver
    from om_ingest.openmetadata.client import OMClient
    from om_ingest.planning.plan import parent_fqn_of
    from om_ingest.sandbox.testing import make_sdk_client
    from tests.conftest import JWT

    client = OMClient(make_sdk_client(om_env.url, JWT), om_env.url)
    for raw in kinds_stack():
        entity = EntityConfig.model_validate(raw)
        handler = handler_for(entity.type)
        request = handler.request(Resolver(client), entity, parent_fqn_of(entity))
        created = client.create_or_update(request)
        fqn = getattr(created.fullyQualifiedName, "root", created.fullyQualifiedName)
        held = client.get_by_name(handler.entity_class, fqn, fields=list(handler.read_fields))
        difference = compare(handler, as_json(request), as_json(held), override=False)
        assert not difference, (raw["name"], difference)


def test_updates_are_listed_as_field_changes_and_nested_schema_changes(
    om_env: Any, tmp_path: Path
) -> None:
    run(write_config(tmp_path, kinds_stack()))
    evolved = copy.deepcopy(kinds_stack())
    topic = next(e for e in evolved if e["type"] == "topic")
    topic["properties"]["partitions"] = 6
    topic["properties"]["message_schema"]["schema_fields"][0]["children"] = [
        {"name": "id", "data_type": "STRING"},
        {"name": "currency", "data_type": "STRING"},
    ]
    pipeline = _edit(evolved, "daily_etl")
    pipeline["properties"]["tasks"] = [
        {"name": "extract", "task_type": "PythonOperator", "downstream_tasks": ["publish"]},
        {"name": "publish", "task_type": "BashOperator"},
    ]
    model = _edit(evolved, "churn")
    model["properties"]["ml_features"][0]["data_type"] = "categorical"
    model["properties"]["algorithm"] = "lightgbm"
    index = _edit(evolved, "products")
    index["properties"]["fields"][1]["children"].append(
        {"name": "currency", "data_type": "KEYWORD"}
    )
    landing = _edit(evolved, "landing")
    landing["properties"]["data_model"]["columns"][0]["children"] = [
        {"name": "id", "data_type": "STRING"},
        {"name": "source", "data_type": "STRING"},
    ]
    _edit(evolved, "Revenue")["properties"]["synonyms"] = ["income", "sales"]
    _edit(evolved, "Finance")["properties"]["domain_type"] = "Consumer-aligned"
    config = write_config(tmp_path, evolved, name="evolved")

    om_env.clear_requests()
    skipped = _by_fqn(run(config, idempotency="skip"))
    assert om_env.write_calls() == []
    assert skipped["kafka.orders"]["operation"] == "SKIP"
    for fqn in ("kafka.orders", "s3.landing", "Business.Revenue", "Finance"):
        assert skipped[fqn]["operation"] == "SKIP"
        assert "change(s) detected, not applied" in skipped[fqn]["reason"]
    failure = run_failing(config, idempotency="fail")
    failed = [r for r in failure.results if r.outcome.value == "failed"]
    assert {r.fqn for r in failed} >= {"airflow", "kafka", "data_eng", "alice", "s3"}
    assert all("already exists and idempotency is 'fail'" in (r.error or "") for r in failed)
    assert {r.outcome.value for r in failure.results} == {"failed", "blocked"}  # children

    dry = run(config, dry_run=True)
    events = _by_fqn(dry)
    assert events["kafka.orders"]["operation"] == "UPDATE"
    schema = {
        fqn: {
            (c["change"], c["path"], c["before"], c["after"]) for c in events[fqn]["schema_changes"]
        }
        for fqn in (
            "kafka.orders",
            "airflow.daily_etl",
            "mlflow.churn",
            "es.products",
            "s3.landing",
        )
    }
    assert schema["kafka.orders"] == {
        ("type_changed", "order.id", "LONG", "STRING"),
        ("added", "order.currency", None, "STRING"),
        ("removed", "order.amount", "DOUBLE", None),
    }
    assert schema["airflow.daily_etl"] == {
        ("added", "publish", None, "BashOperator"),
        ("removed", "load", "SQLOperator", None),
    }
    assert schema["mlflow.churn"] == {("type_changed", "tenure", "numerical", "categorical")}
    assert schema["es.products"] == {("added", "price.currency", None, "KEYWORD")}
    assert schema["s3.landing"] == {
        ("type_changed", "event.id", "BIGINT", "STRING"),
        ("added", "event.source", None, "STRING"),
        ("removed", "event.at", "TIMESTAMP", None),
    }
    fields = {
        fqn: {c["field"]: (c["before"], c["after"]) for c in events[fqn]["field_changes"]}
        for fqn in (
            "kafka.orders",
            "airflow.daily_etl",
            "mlflow.churn",
            "Business.Revenue",
            "Finance",
        )
    }
    assert fields["kafka.orders"]["partitions"] == (3, 6)
    assert fields["mlflow.churn"]["algorithm"] == ("xgboost", "lightgbm")
    assert fields["airflow.daily_etl"]["tasks.extract.downstreamTasks"] == (["load"], ["publish"])
    assert fields["Business.Revenue"] == {"synonyms": (["income"], ["income", "sales"])}
    assert fields["Finance"] == {"domainType": ("Aggregate", "Consumer-aligned")}

    om_env.clear_requests()
    applied = run(config)
    assert sorted(e["path"] for e in om_env.write_calls()) == [
        "/api/v1/containers",
        "/api/v1/domains",
        "/api/v1/glossaryTerms",
        "/api/v1/mlmodels",
        "/api/v1/pipelines",
        "/api/v1/searchIndexes",
        "/api/v1/topics",
    ]
    assert all(
        applied_event["outcome"] == "success"
        for applied_event in audit_events(applied)
        if applied_event["operation"] == "UPDATE"
    )
    om_env.clear_requests()
    settled = run(config)
    assert om_env.write_calls() == [] and settled["operations"] == {"SKIP": len(evolved)}


def test_a_missing_external_parent_blocks_its_children(om_env: Any, tmp_path: Path) -> None:
    entities = [
        {"type": "messaging_service", "name": "legacy", "external": True},
        {"type": "topic", "name": "t", "properties": {"service": "legacy", "partitions": 1}},
        {"type": "classification", "name": "C", "properties": {"description": "c"}},
        {"type": "tag", "name": "T", "properties": {"classification": "C", "description": "t"}},
        {"type": "storage_service", "name": "lake", "external": True},
        {"type": "container", "name": "b", "properties": {"service": "lake"}},
        {
            "type": "container",
            "name": "day",
            "properties": {"service": "lake", "parent": {"type": "container", "fqn": "lake.b"}},
        },
        {"type": "glossary", "name": "Gone", "external": True},
        {
            "type": "glossary_term",
            "name": "t",
            "properties": {"glossary": "Gone", "description": "d"},
        },
        {
            "type": "glossary_term",
            "name": "u",
            "properties": {"glossary": "Gone", "parent": "Gone.t", "description": "d"},
        },
        {"type": "domain", "name": "Old", "external": True},
        {
            "type": "domain",
            "name": "Sub",
            "properties": {"domain_type": "Aggregate", "description": "d", "parent": "Old"},
        },
    ]
    failure = run_failing(write_config(tmp_path, entities))
    outcome = {r.fqn: r.outcome.value for r in failure.results}
    assert outcome == {
        "legacy": "failed",
        "legacy.t": "blocked",
        "C": "success",
        "C.T": "success",
        "lake": "failed",
        "lake.b": "blocked",
        "lake.b.day": "blocked",
        "Gone": "failed",
        "Gone.t": "blocked",
        "Gone.t.u": "blocked",
        "Old": "failed",
        "Old.Sub": "blocked",
    }


def test_unknown_names_fail_the_entity_with_a_message(om_env: Any, tmp_path: Path) -> None:
    entities = [
        {"type": "user", "name": "bob", "properties": {"email": "b@x.io", "teams": ["ghosts"]}},
        {
            "type": "classification",
            "name": "C",
            "properties": {"description": "c", "owners": ["nobody"]},
        },
        {"type": "mlmodel_service", "name": "ml", "properties": {"service_type": "Mlflow"}},
        {
            "type": "messaging_service",
            "name": "mq",
            "properties": {"service_type": "Kafka", "tags": ["PII.NoSuchTag"]},
        },
        {
            "type": "mlmodel",
            "name": "m",
            "properties": {
                "service": "ml",
                "ml_features": [
                    {
                        "name": "f",
                        "feature_sources": [
                            {"name": "s", "data_source": {"type": "table", "fqn": "wh.db.s.gone"}}
                        ],
                    }
                ],
            },
        },
        {"type": "team", "name": "crew", "properties": {"team_type": "Group", "users": ["ghost"]}},
        {"type": "storage_service", "name": "st", "properties": {"service_type": "S3"}},
        {
            "type": "container",
            "name": "c",
            "properties": {
                "service": "st",
                "data_model": {
                    "columns": [{"name": "x", "data_type": "INT", "tags": ["PII.NoSuchTag"]}]
                },
            },
        },
        {"type": "glossary", "name": "G", "properties": {"description": "g"}},
        {
            "type": "glossary_term",
            "name": "t",
            "properties": {"glossary": "G", "description": "t", "tags": ["PII.NoSuchTag"]},
        },
        {
            "type": "glossary_term",
            "name": "r",
            "properties": {"glossary": "G", "description": "r", "related_terms": ["G.gone"]},
        },
        {
            "type": "domain",
            "name": "D",
            "properties": {"domain_type": "Aggregate", "description": "d", "experts": ["nobody"]},
        },
    ]
    failure = run_failing(write_config(tmp_path, entities))
    errors = {r.fqn: r.error or "" for r in failure.results if r.outcome.value == "failed"}
    assert "user ghost was not found in OpenMetadata" in errors["crew"]
    for fqn in ("st.c", "G.t"):
        assert "tag instance for PII.NoSuchTag not found" in errors[fqn] and "404" in errors[fqn]
    assert "glossaryTerm instance for G.gone not found" in errors["G.r"]
    assert "user instance for nobody not found" in errors["D"]
    assert "team ghosts was not found in OpenMetadata" in errors["bob"]
    assert "owner 'nobody' is neither a user nor a team" in errors["C"]
    assert "table wh.db.s.gone was not found" in errors["ml.m"]
    assert "PII.NoSuchTag" in errors["mq"] and "404" in errors["mq"]  # OM's own message
    assert not any("Traceback" in e for e in errors.values())


BAD_KEYS: dict[str, dict[str, Any]] = {
    e["type"]: e for e in kinds_stack() if e["type"] in {k.value for k in DERIVED_KINDS}
}


@pytest.mark.parametrize("kind", sorted(BAD_KEYS))
def test_an_unknown_key_is_a_located_config_error(kind: str, tmp_path: Path) -> None:
    entities = copy.deepcopy(kinds_stack())
    entity = next(e for e in entities if e["type"] == kind)
    entity["properties"]["colour"] = "blue"
    path = write_config(tmp_path, entities)
    result = CliRunner().invoke(
        cli, ["validate", path], env={"OM_HOST": "http://127.0.0.1:1", "OM_JWT": "x"}
    )
    assert result.exit_code == 2, result.output
    index = entities.index(entity)
    (line,) = result.stderr.strip().splitlines()
    assert f"entities[{index}].properties.colour: unknown key" in line
    assert line.startswith(f"error: {path}:")
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("kind", "key", "value", "message"),
    [
        ("topic", "partitions", "many", "valid integer"),
        ("team", "team_type", "Squad", "Input should be"),
        ("pipeline", "tasks", [{"name": "x", "bogus": 1}], "unknown key"),
        ("data_contract", "entity", {"type": "spreadsheet", "fqn": "x"}, "not an entity type"),
        ("mlmodel", "ml_features", [{"name": "f", "data_type": "fuzzy"}], "Input should be"),
    ],
)
def test_a_wrong_type_is_a_located_config_error(
    kind: str, key: str, value: Any, message: str, tmp_path: Path
) -> None:
    entities = copy.deepcopy(kinds_stack())
    entity = next(e for e in entities if e["type"] == kind)
    entity["properties"][key] = value
    path = write_config(tmp_path, entities)
    result = CliRunner().invoke(
        cli, ["validate", path], env={"OM_HOST": "http://127.0.0.1:1", "OM_JWT": "x"}
    )
    assert result.exit_code == 2, result.output
    (line,) = result.stderr.strip().splitlines()
    assert f"entities[{entities.index(entity)}].properties.{key}" in line and message in line


SCHEMA_TEXTS: dict[str, tuple[str, str, str]] = {
    # schema_type: (text, evolved text (address.city retyped), path of city as OM's parser
    # nests it: Avro names a record type as a level of its own)
    "JSON": (
        """{"type": "object", "properties": {"id": {"type": "integer"},
            "address": {"type": "object", "properties": {"city": {"type": "string"}}}}}""",
        """{"type": "object", "properties": {"id": {"type": "integer"},
            "address": {"type": "object", "properties": {"city": {"type": "integer"}}}}}""",
        "default.address.city",
    ),
    "Avro": (
        """{"type": "record", "name": "Person", "fields": [{"name": "id", "type": "long"},
            {"name": "address", "type": {"type": "record", "name": "Address",
             "fields": [{"name": "city", "type": "string"}]}}]}""",
        """{"type": "record", "name": "Person", "fields": [{"name": "id", "type": "long"},
            {"name": "address", "type": {"type": "record", "name": "Address",
             "fields": [{"name": "city", "type": "int"}]}}]}""",
        "Person.address.Address.city",
    ),
    "Protobuf": (
        'syntax = "proto3"; message Person { int64 id = 1;'
        " message Address { string city = 1; } Address address = 2; }",
        'syntax = "proto3"; message Person { int64 id = 1;'
        " message Address { int32 city = 1; } Address address = 2; }",
        "Person.address.city",
    ),
}


def _topic_from_text(schema_type: str, text: str) -> list[dict[str, Any]]:
    return [
        {"type": "messaging_service", "name": "k", "properties": {"service_type": "Kafka"}},
        {
            "type": "topic",
            "name": "people",
            "idempotency": "update",
            "properties": {
                "service": "k",
                "partitions": 1,
                "message_schema": {"schema_type": schema_type, "schema_text": text},
            },
        },
    ]


@pytest.mark.parametrize("schema_type", sorted(SCHEMA_TEXTS))
def test_a_topic_schema_given_as_text_gets_its_nested_fields(
    om_env: Any, tmp_path: Path, schema_type: str
) -> None:
    text, evolved, city = SCHEMA_TEXTS[schema_type]
    run(write_config(tmp_path, _topic_from_text(schema_type, text)))
    from metadata.generated.schema.entity.data.topic import Topic

    from om_ingest.comparison import SchemaShape
    from om_ingest.sandbox.testing import make_sdk_client
    from tests.conftest import JWT

    stored = make_sdk_client(om_env.url, JWT).get_by_name(Topic, "k.people")
    flat = SchemaShape("messageSchema.schemaFields").flatten(
        stored.model_dump(mode="json", by_alias=True, exclude_none=True)
    )
    root = city.split(".")[0]
    assert flat[root] == "RECORD" and flat[f"{root}.id"] in ("INT", "LONG")
    assert flat[city] == "STRING"

    summary = run(write_config(tmp_path, _topic_from_text(schema_type, evolved), name="evolved"))
    event = _by_fqn(summary)["k.people"]
    assert event["operation"] == "UPDATE" and event["outcome"] == "success"
    assert [(c["change"], c["path"]) for c in event["schema_changes"]] == [("type_changed", city)]


def test_unreadable_schema_text_fails_the_topic_with_a_message(om_env: Any, tmp_path: Path) -> None:
    failure = run_failing(write_config(tmp_path, _topic_from_text("Avro", "{not avro")))
    (failed,) = [r for r in failure.results if r.fqn == "k.people"]
    assert "schema_text is not a readable Avro schema" in (failed.error or "")
    assert "Traceback" not in (failed.error or "")


def test_metadata_and_facts_of_every_kind_are_updated_then_settle(
    om_env: Any, tmp_path: Path
) -> None:
    run(write_config(tmp_path, kinds_stack()))
    derived = {kind.value for kind in DERIVED_KINDS}
    edited = copy.deepcopy(kinds_stack())
    for item in edited:
        if item["type"] in derived:
            item["properties"]["display_name"] = f"{item['name']} v2"
    _edit(edited, "Sensitivity")["properties"]["mutually_exclusive"] = True  # a fact: PUT
    _edit(edited, "data_eng")["properties"]["is_joinable"] = False
    config = write_config(tmp_path, edited, name="edited")

    preview = _by_fqn(run(config, dry_run=True, idempotency="update"))
    for item in edited:
        if item["type"] not in derived:
            continue
        event = next(
            e
            for e in preview.values()
            if e["entity_type"] == item["type"] and e["fqn"].endswith(item["name"])
        )
        assert event["operation"] == "UPDATE", event
        changes = {c["field"]: c["after"] for c in event["field_changes"]}
        assert changes["displayName"] == f"{item['name']} v2"
    assert {c["field"] for c in preview["Sensitivity"]["field_changes"]} == {
        "displayName",
        "mutuallyExclusive",
    }
    assert {c["field"] for c in preview["data_eng"]["field_changes"]} == {
        "displayName",
        "isJoinable",
    }

    applied = run(config, idempotency="update")
    assert applied["operations"]["UPDATE"] == len([e for e in edited if e["type"] in derived])
    om_env.clear_requests()
    settled = run(config, idempotency="update")
    assert om_env.write_calls() == [] and settled["operations"] == {"SKIP": len(edited)}


CURATED_CASES: dict[str, tuple[list[dict[str, Any]], str, str]] = {
    # kind: (entities, the curated one last; its FQN; its SDK entity class)
    "topic": (
        [
            {"type": "messaging_service", "name": "mq", "properties": {"service_type": "Kafka"}},
            {"type": "topic", "name": "orders", "properties": {"service": "mq", "partitions": 3}},
        ],
        "mq.orders",
        "metadata.generated.schema.entity.data.topic.Topic",
    ),
    "container": (
        [
            {"type": "storage_service", "name": "s3", "properties": {"service_type": "S3"}},
            {"type": "container", "name": "b", "properties": {"service": "s3"}},
            {
                "type": "container",
                "name": "day",
                "properties": {"service": "s3", "parent": {"type": "container", "fqn": "s3.b"}},
            },
        ],
        "s3.b.day",
        "metadata.generated.schema.entity.data.container.Container",
    ),
    "glossary_term": (
        [
            {"type": "glossary", "name": "G", "properties": {"description": "g"}},
            {"type": "glossary_term", "name": "t", "properties": {"glossary": "G"}},
        ],
        "G.t",
        "metadata.generated.schema.entity.data.glossaryTerm.GlossaryTerm",
    ),
    "domain": (
        [{"type": "domain", "name": "Fin", "properties": {"domain_type": "Aggregate"}}],
        "Fin",
        "metadata.generated.schema.entity.domains.domain.Domain",
    ),
}


@pytest.mark.parametrize("kind", sorted(CURATED_CASES))
def test_a_curated_description_is_kept_unless_override(
    om_env: Any, tmp_path: Path, kind: str
) -> None:
    """The curation rules are the engine's, not the table's: a person's edit of an entity is
    kept against a config edit, and replaced only with `override: true`."""
    import importlib

    from om_ingest.sandbox.testing import make_sdk_client
    from tests.conftest import USER_JWT

    cases, fqn, dotted = CURATED_CASES[kind]
    entities = copy.deepcopy(cases)
    module, _, name = dotted.rpartition(".")
    entity_class = getattr(importlib.import_module(module), name)
    curated = entities[-1]
    curated["idempotency"] = "update"
    curated["properties"]["description"] = "As written."
    run(write_config(tmp_path, entities))
    person = make_sdk_client(om_env.url, USER_JWT)
    stored = person.get_by_name(entity_class, fqn)
    edited = stored.model_copy(update={"description": type(stored.description)("Curated.")})
    assert person.patch(entity_class, stored, edited, skip_on_failure=False) is not None

    curated["properties"]["description"] = "Rewritten."
    (event,) = [e for e in audit_events(run(write_config(tmp_path, entities))) if e["fqn"] == fqn]
    assert [c["field"] for c in event["kept_curated"]] == ["description"]
    assert person.get_by_name(entity_class, fqn).description.root == "Curated."

    curated["override"] = True
    run(write_config(tmp_path, entities))
    assert person.get_by_name(entity_class, fqn).description.root == "Rewritten."


def _pipeline_with_runs(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"type": "pipeline_service", "name": "af", "properties": {"service_type": "Airflow"}},
        {
            "type": "pipeline",
            "name": "etl",
            "idempotency": "update",
            "properties": {
                "service": "af",
                "tasks": [{"name": "extract"}, {"name": "load"}],
                "statuses": runs,
            },
        },
    ]


RUN_1 = {
    "timestamp": 1_764_460_800_000,
    "execution_status": "Successful",
    "task_status": [
        {"name": "extract", "execution_status": "Successful", "start_time": 1_764_460_800_000},
        {"name": "load", "execution_status": "Successful", "end_time": 1_764_460_900_000},
    ],
}
RUN_2 = {"timestamp": 1_764_547_200_000, "execution_status": "Failed"}


def test_pipeline_runs_are_added_once_and_shown_in_the_dry_run(om_env: Any, tmp_path: Path) -> None:
    from om_ingest.sandbox.testing import make_sdk_client
    from tests.conftest import JWT

    client = make_sdk_client(om_env.url, JWT)
    created = _by_fqn(run(write_config(tmp_path, _pipeline_with_runs([RUN_1]))))["af.etl"]
    assert [(c["field"], c["after"]) for c in created["field_changes"]] == [
        ("pipelineStatus.1764460800000", "Successful")
    ]
    (stored,) = client.list_pipeline_statuses("af.etl", RUN_1["timestamp"], RUN_2["timestamp"])
    assert [(t.name, t.executionStatus.value) for t in stored.taskStatus] == [
        ("extract", "Successful"),
        ("load", "Successful"),
    ]

    om_env.clear_requests()
    rerun = run(write_config(tmp_path, _pipeline_with_runs([RUN_1]), name="again"))
    assert om_env.write_calls() == [] and rerun["operations"]["SKIP"] == 2

    both = write_config(tmp_path, _pipeline_with_runs([RUN_1, RUN_2]), name="both")
    preview = _by_fqn(run(both, dry_run=True))["af.etl"]
    assert preview["operation"] == "UPDATE"
    assert [(c["field"], c["before"], c["after"]) for c in preview["field_changes"]] == [
        ("pipelineStatus.1764547200000", None, "Failed")
    ]
    assert om_env.write_calls() == []
    run(both)
    assert [e["path"] for e in om_env.write_calls()] == ["/api/v1/pipelines/af.etl/status"]
    runs = client.list_pipeline_statuses("af.etl", RUN_1["timestamp"], RUN_2["timestamp"])
    assert sorted(r.executionStatus.value for r in runs) == ["Failed", "Successful"]


def test_a_run_naming_an_unknown_task_fails_the_pipeline_with_om_s_message(
    om_env: Any, tmp_path: Path
) -> None:
    bad = {**RUN_2, "task_status": [{"name": "transform", "execution_status": "Failed"}]}
    failure = run_failing(write_config(tmp_path, _pipeline_with_runs([bad])))
    (failed,) = [r for r in failure.results if r.fqn == "af.etl"]
    assert "Invalid task name transform" in (failed.error or "")
    assert "Traceback" not in (failed.error or "")


def test_a_field_om_keeps_from_creation_is_not_compared(om_env: Any, tmp_path: Path) -> None:
    """OM's PipelineUpdater never changes a pipeline's schedule after creation: a config
    edit of it is not an update PUT on every run (it would never take)."""
    entities = _pipeline_with_runs([])
    entities[1]["properties"]["schedule_interval"] = "@daily"
    run(write_config(tmp_path, entities))
    entities[1]["properties"]["schedule_interval"] = "@hourly"
    om_env.clear_requests()
    summary = run(write_config(tmp_path, entities, name="hourly"))
    assert om_env.write_calls() == [] and summary["operations"] == {"SKIP": 2}


def test_runs_are_added_in_skip_mode_too_and_never_twice(om_env: Any, tmp_path: Path) -> None:
    """Runs are facts, not config: a pipeline skipped because it exists (idempotency: skip)
    still gets the runs OM lacks, once."""
    from om_ingest.sandbox.testing import make_sdk_client
    from tests.conftest import JWT

    def skipping(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        entities = _pipeline_with_runs(runs)
        entities[1]["idempotency"] = "skip"
        return entities

    run(write_config(tmp_path, skipping([RUN_1])))
    both = write_config(tmp_path, skipping([RUN_1, RUN_2]), name="both")
    preview = _by_fqn(run(both, dry_run=True))["af.etl"]
    assert preview["operation"] == "SKIP" and preview["reason"].endswith("1 new run(s) to add")
    om_env.clear_requests()
    added = _by_fqn(run(both))["af.etl"]
    assert (added["operation"], added["outcome"]) == ("SKIP", "skipped")
    assert added["reason"] == "exists (idempotency: skip); 1 new run(s) added"
    assert [(c["field"], c["after"]) for c in added["field_changes"]] == [
        ("pipelineStatus.1764547200000", "Failed")
    ]
    assert [e["path"] for e in om_env.write_calls()] == ["/api/v1/pipelines/af.etl/status"]
    client = make_sdk_client(om_env.url, JWT)
    runs = client.list_pipeline_statuses("af.etl", RUN_1["timestamp"], RUN_2["timestamp"])
    assert sorted(r.executionStatus.value for r in runs) == ["Failed", "Successful"]

    om_env.clear_requests()
    again = _by_fqn(run(write_config(tmp_path, skipping([RUN_1, RUN_2]), name="again")))
    assert om_env.write_calls() == [] and again["af.etl"]["operation"] == "SKIP"
    assert "run(s)" not in again["af.etl"]["reason"]


def test_task_facts_om_cannot_store_are_a_warning_not_a_put_on_every_run(
    om_env: Any, tmp_path: Path
) -> None:
    """OM's PipelineUpdater stores a pipeline's tasks only when one is added or removed by
    name (a PATCH runs the same updater): a moved dependency or a new operator alone can never
    take, so it is reported, not PUT on every run; with a task added, all of it is applied."""
    from metadata.generated.schema.entity.data.pipeline import Pipeline

    from om_ingest.sandbox.testing import make_sdk_client
    from tests.conftest import JWT

    entities = _pipeline_with_runs([])
    tasks = entities[1]["properties"]["tasks"]
    tasks[0]["downstream_tasks"] = ["load"]
    run(write_config(tmp_path, entities))
    tasks[0]["downstream_tasks"] = None
    tasks[1]["task_type"] = "BashOperator"
    for name in ("moved", "moved-again"):
        om_env.clear_requests()
        event = _by_fqn(run(write_config(tmp_path, entities, name=name)))["af.etl"]
        assert om_env.write_calls() == []
        assert event["operation"] == "SKIP" and event["field_changes"] == []
        (warning,) = event["warnings"]
        assert warning.startswith(
            "OM cannot apply tasks.load.taskType, tasks.extract.downstreamTasks by PUT or PATCH"
        )

    tasks.append({"name": "publish"})
    event = _by_fqn(run(write_config(tmp_path, entities, name="added")))["af.etl"]
    assert event["operation"] == "UPDATE" and event["warnings"] == []
    stored = make_sdk_client(om_env.url, JWT).get_by_name(Pipeline, "af.etl", fields=["tasks"])
    assert [(t.name, t.taskType, t.downstreamTasks) for t in stored.tasks] == [
        ("extract", None, None),
        ("load", "BashOperator", None),
        ("publish", None, None),
    ]


def test_a_fact_om_does_not_store_on_put_is_reported_after_the_put(
    om_env: Any, tmp_path: Path
) -> None:
    """A classification's provider is not recorded by OM's updater: the PUT is accepted and
    changes nothing; re-reading the entity shows it, and the result says so."""
    entities = [{"type": "classification", "name": "Domainy", "properties": {"description": "d"}}]
    run(write_config(tmp_path, entities))
    entities[0]["properties"]["provider"] = "system"
    event = _by_fqn(run(write_config(tmp_path, entities, name="system"), idempotency="update"))
    assert event["Domainy"]["operation"] == "UPDATE"
    assert event["Domainy"]["warnings"] == [
        "OM cannot apply provider by PUT (the PUT was accepted; OM kept its value)"
    ]


def test_feature_sources_name_their_table_as_om_does_and_settle(
    om_env: Any, tmp_path: Path
) -> None:
    """An ML feature's source names its table (`data_source`): OM stores the reference and
    computes the source's FQN (the table's plus the column); a re-run compares equal."""
    from metadata.generated.schema.entity.data.mlmodel import MlModel

    from om_ingest.sandbox.testing import make_sdk_client
    from tests.conftest import JWT

    entities: list[dict[str, Any]] = [
        {"type": "database_service", "name": "wh", "properties": {"service_type": "Postgres"}},
        {"type": "database", "name": "db", "properties": {"service": "wh"}},
        {"type": "database_schema", "name": "s", "properties": {"database": "wh.db"}},
        {
            "type": "table",
            "name": "customers",
            "properties": {
                "database_schema": "wh.db.s",
                "columns": [{"name": "age", "data_type": "INT"}],
            },
        },
        {"type": "mlmodel_service", "name": "ml", "properties": {"service_type": "Mlflow"}},
        {
            "type": "mlmodel",
            "name": "churn",
            "idempotency": "update",
            "properties": {
                "service": "ml",
                "algorithm": "sklearn",
                "ml_features": [
                    {
                        "name": "age",
                        "data_type": "numerical",
                        "feature_sources": [
                            {
                                "name": "age",
                                "data_source": {"type": "table", "fqn": "wh.db.s.customers"},
                            }
                        ],
                    }
                ],
            },
        },
    ]
    run(write_config(tmp_path, entities))
    model = make_sdk_client(om_env.url, JWT).get_by_name(MlModel, "ml.churn")
    (source,) = model.mlFeatures[0].featureSources
    assert source.dataSource.fullyQualifiedName == "wh.db.s.customers"
    assert source.fullyQualifiedName.root == "wh.db.s.customers.age"
    om_env.clear_requests()
    again = run(write_config(tmp_path, entities, name="again"), refresh_cache=True)
    assert om_env.write_calls() == [] and again["operations"] == {"SKIP": len(entities)}
