"""`type: kafka` against stand-ins (no Apache Kafka broker or Confluent registry can be
installed here, SERVERS.md): Tansu, a Kafka-protocol broker, spoken to with confluent-kafka's
real AdminClient and Consumer, and the in-repo schema registry stand-in spoken to with the
real SchemaRegistryClient. Topics with Avro, JSON Schema and Protobuf value schemas (nested
records, arrays, maps, nullable unions) and a topic without one become OM topics; a schema
evolved in the registry is a detected and applied change; filters; a broker or registry that
is down, refused registry credentials or a wrong registry URL fail that source alone, with no
secret shown; an unreadable schema fails its topic alone; a deleted topic is stale; the newest
messages, decoded, become the topic's sample data in OM with no consumer group left.

One broker, one registry and one OM sandbox for the module: each test uses its own source
(service) names, so they do not see each other's entities."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from om_ingest.comparison import SchemaShape
from om_ingest.config.models import EntityConfig, SourceConfig
from om_ingest.sandbox.testing import make_sdk_client
from om_ingest.sources import DiscoveredEntity, get_source
from om_ingest.sources.reads import measuring
from om_ingest.testing.servers import (
    KafkaBroker,
    SchemaRegistry,
    free_port,
    kafka_broker,
    schema_registry,
)
from tests.conftest import JWT, running_sandbox
from tests.flows.test_ingest_flow import audit_events, run, run_failing
from tests.sources.discovery_config import discovery_config

pytestmark = pytest.mark.e2e

REGISTRY_USER = "sr-reader"
REGISTRY_PASSWORD = "sr-pw-SECRET-4e1b"

ORDER_V1 = {
    "type": "record",
    "name": "Order",
    "fields": [
        {"name": "id", "type": "long"},
        {
            "name": "customer",
            "type": {
                "type": "record",
                "name": "Customer",
                "fields": [
                    {"name": "name", "type": "string"},
                    {
                        "name": "address",
                        "type": {
                            "type": "record",
                            "name": "Address",
                            "fields": [{"name": "city", "type": "string"}],
                        },
                    },
                ],
            },
        },
        {"name": "items", "type": {"type": "array", "items": "string"}},
        {"name": "attributes", "type": {"type": "map", "values": "int"}},
        {"name": "note", "type": ["null", "string"], "default": None},
    ],
}
ORDER_V2 = {
    **ORDER_V1,
    "fields": [
        {"name": "id", "type": "string"},  # retyped
        *ORDER_V1["fields"][1:],
        {"name": "channel", "type": ["null", "string"], "default": None},  # added
    ],
}
CLICK = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "Click",
    "type": "object",
    "properties": {
        "url": {"type": "string"},
        "at": {"type": "integer"},
        "device": {
            "type": "object",
            "properties": {"os": {"type": "string"}, "version": {"type": "number"}},
        },
        "tags": {"type": "array", "items": {"type": "string"}},
    },
}
PAYMENT = """syntax = "proto3";
message Payment {
  string id = 1;
  int64 amount_cents = 2;
  message Card { string brand = 1; int32 last4 = 2; }
  Card card = 3;
  repeated string labels = 4;
  map<string, string> metadata = 5;
}
"""
TOPICS: dict[str, tuple[int, dict[str, str]]] = {
    "orders": (
        3,
        {
            "retention.ms": "86400000",
            "cleanup.policy": "compact,delete",
            "max.message.bytes": "2097152",
            "min.insync.replicas": "1",
            "retention.bytes": "1073741824",
        },
    ),
    "clicks": (2, {"retention.ms": "3600000"}),
    "payment": (1, {}),
    "raw_logs": (1, {}),
    "scratch_tmp": (1, {}),
    "scratch_broken": (1, {}),
    "__consumer_offsets_like": (1, {}),
    "_schemas": (1, {}),
}


@pytest.fixture(scope="module")
def broker() -> Iterator[KafkaBroker]:
    from confluent_kafka.admin import AdminClient, NewTopic

    with kafka_broker() as server:
        admin = AdminClient({"bootstrap.servers": server.bootstrap_servers})
        created = admin.create_topics(
            [NewTopic(name, count, 1, config=conf) for name, (count, conf) in TOPICS.items()]
        )
        for future in created.values():
            future.result(timeout=30)
        yield server


@pytest.fixture(scope="module")
def registry() -> Iterator[SchemaRegistry]:
    from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

    with schema_registry(REGISTRY_USER, REGISTRY_PASSWORD) as server:
        client = SchemaRegistryClient(server.client_config())
        client.register_schema("orders-value", Schema(json.dumps(ORDER_V1), "AVRO"))
        client.register_schema("orders-key", Schema('"string"', "AVRO"))
        client.register_schema("clicks-value", Schema(json.dumps(CLICK), "JSON"))
        client.register_schema("payment-value", Schema(PAYMENT, "PROTOBUF"))
        client.register_schema("scratch_broken-value", Schema("{not avro", "AVRO"))
        yield server


@pytest.fixture(scope="module")
def om_module() -> Iterator[Any]:
    """One OM sandbox for the module (tests use their own service names)."""
    with running_sandbox() as server:
        yield server


@pytest.fixture()
def om_env(om_module: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("OM_HOST", om_module.host_port)
    monkeypatch.setenv("OM_JWT", JWT)
    return om_module


def source(
    broker: KafkaBroker, registry: SchemaRegistry | None, name: str, **properties: Any
) -> dict[str, Any]:
    props: dict[str, Any] = {"bootstrap_servers": broker.bootstrap_servers, "timeout_seconds": 3}
    if registry is not None:
        props["schema_registry"] = {
            "url": registry.url,
            "basic_auth": f"{registry.username}:{registry.password}",
        }
    return {"name": name, "type": "kafka", "properties": {**props, **properties}}


def fields_of(topic: Any) -> dict[str, str]:
    """Every field of the topic's message schema, at every depth: dotted path → data type."""
    return SchemaShape("messageSchema.schemaFields").flatten(
        topic.model_dump(mode="json", by_alias=True, exclude_none=True)
    )


def test_topics_become_om_topics_with_their_schemas_and_an_evolved_schema_is_applied(
    broker: KafkaBroker, registry: SchemaRegistry, om_env: Any, tmp_path: Path
) -> None:
    from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
    from metadata.generated.schema.entity.data.topic import Topic
    from metadata.generated.schema.entity.services.messagingService import MessagingService

    path = discovery_config(
        tmp_path, "topic", [source(broker, registry, "kafka_main")], "kafka-main",
        {"exclude": ["scratch_*"]},
    )  # fmt: skip
    events = {e["fqn"]: e["operation"] for e in audit_events(run(path))}
    assert events == {
        "kafka_main": "CREATE",
        "kafka_main.clicks": "CREATE",
        "kafka_main.orders": "CREATE",
        "kafka_main.payment": "CREATE",
        "kafka_main.raw_logs": "CREATE",
    }  # internal topics (`__…`, `_schemas`) and the excluded scratch topic are not listed

    client = make_sdk_client(om_env.url, JWT)
    assert client.get_by_name(MessagingService, "kafka_main").serviceType.value == "Kafka"
    orders = client.get_by_name(Topic, "kafka_main.orders", fields=["extension"])
    assert orders.partitions == 3 and orders.replicationFactor == 1
    assert orders.retentionTime == 86400000.0 and orders.retentionSize == 1073741824.0
    assert orders.maximumMessageSize == 2097152 and orders.minimumInSyncReplicas == 1
    assert [p.value for p in orders.cleanupPolicies] == ["compact", "delete"]
    assert orders.extension.root == {"kafka_schema_version": 1, "kafka_key_schema_type": "Avro"}
    assert orders.messageSchema.schemaType.value == "Avro"
    assert json.loads(orders.messageSchema.schemaText) == ORDER_V1
    assert fields_of(orders) == {
        "Order": "RECORD",
        "Order.id": "LONG",
        "Order.customer": "RECORD",
        "Order.customer.Customer": "RECORD",
        "Order.customer.Customer.name": "STRING",
        "Order.customer.Customer.address": "RECORD",
        "Order.customer.Customer.address.Address": "RECORD",
        "Order.customer.Customer.address.Address.city": "STRING",
        "Order.items": "ARRAY",
        "Order.attributes": "MAP",
        "Order.note": "UNION",
    }

    clicks = client.get_by_name(Topic, "kafka_main.clicks")
    assert clicks.messageSchema.schemaType.value == "JSON"
    assert fields_of(clicks) == {
        "Click": "RECORD",
        "Click.url": "STRING",
        "Click.at": "INT",
        "Click.device": "RECORD",
        "Click.device.os": "STRING",
        "Click.device.version": "FLOAT",
        "Click.tags": "ARRAY",
    }
    payment = client.get_by_name(Topic, "kafka_main.payment")
    assert payment.messageSchema.schemaType.value == "Protobuf"
    assert fields_of(payment) == {  # as OM's Protobuf parser gives them (repeated: its item)
        "Payment": "RECORD",
        "Payment.id": "STRING",
        "Payment.amount_cents": "INT",
        "Payment.card": "RECORD",
        "Payment.card.brand": "STRING",
        "Payment.card.last4": "INT",
        "Payment.labels": "STRING",
        "Payment.metadata": "RECORD",
        "Payment.metadata.key": "STRING",
        "Payment.metadata.value": "STRING",
    }

    # Tansu returns only the configs a topic was created with: none are made up
    raw = client.get_by_name(Topic, "kafka_main.raw_logs", fields=["extension"])
    assert raw.partitions == 1 and raw.messageSchema is None and raw.extension is None
    assert (raw.retentionTime, raw.maximumMessageSize, raw.minimumInSyncReplicas) == (
        None,
        None,
        None,
    )
    assert raw.cleanupPolicies is None

    # the registry gets version 2 of orders-value: `id` retyped, `channel` added
    SchemaRegistryClient(registry.client_config()).register_schema(
        "orders-value", Schema(json.dumps(ORDER_V2), "AVRO")
    )
    preview = {e["fqn"]: e for e in audit_events(run(path, dry_run=True))}
    change = preview["kafka_main.orders"]
    assert change["operation"] == "UPDATE"
    assert {(c["change"], c["path"]) for c in change["schema_changes"]} == {
        ("type_changed", "Order.id"),
        ("added", "Order.channel"),
    }
    assert {e["operation"] for f, e in preview.items() if f != "kafka_main.orders"} == {"SKIP"}

    applied = {e["fqn"]: e for e in audit_events(run(path))}["kafka_main.orders"]
    assert applied["operation"] == "UPDATE" and applied["outcome"] == "success"
    orders = client.get_by_name(Topic, "kafka_main.orders", fields=["extension"])
    assert fields_of(orders)["Order.id"] == "STRING"
    assert fields_of(orders)["Order.channel"] == "UNION"
    assert orders.extension.root["kafka_schema_version"] == 2
    again = {e["fqn"]: e["operation"] for e in audit_events(run(path))}
    assert set(again.values()) == {"SKIP"}


VISIBLE = sorted(name for name in TOPICS if not name.startswith("_"))


def discovered_names(
    broker: KafkaBroker, discovery_filter: dict[str, Any], **props: Any
) -> list[str]:
    """The topic names the connector lists through `discovery_filter` (no registry: only the
    listing is under test)."""
    connector = get_source(SourceConfig.model_validate(source(broker, None, "k", **props)))
    template = EntityConfig.model_validate(
        {"type": "topic", "discovery": {"source": "k", "filter": discovery_filter},
         "properties": {"service": "k"}}
    )  # fmt: skip
    with connector:
        items = list(connector.discover_entities(template))
    assert all(isinstance(item, DiscoveredEntity) for item in items)
    return [item.entity.name or "" for item in items if isinstance(item, DiscoveredEntity)]


@settings(max_examples=12, deadline=None)
@given(
    include=st.lists(st.sampled_from(VISIBLE), min_size=1, unique=True),
    exclude=st.lists(st.sampled_from(VISIBLE), unique=True),
)
def test_filters_choose_topics_and_internal_topics_stay_out(
    broker: KafkaBroker, include: list[str], exclude: list[str]
) -> None:
    found = discovered_names(broker, {"include": include, "exclude": exclude})
    assert found == sorted(set(include) - set(exclude))


def test_regex_filters_max_topics_and_internal_topics_on_request(broker: KafkaBroker) -> None:
    assert discovered_names(broker, {"include": ["^(orders|clicks)$"], "regex": True}) == [
        "clicks",
        "orders",
    ]
    assert discovered_names(broker, {"max_tables": 2}) == VISIBLE[:2]
    assert discovered_names(broker, {}) == VISIBLE
    assert discovered_names(broker, {}, include_internal=True) == sorted(TOPICS)


def test_a_broker_or_registry_down_or_refused_credentials_fail_that_source_only(
    broker: KafkaBroker,
    registry: SchemaRegistry,
    om_env: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    sasl_password = "kafka-pw-SECRET-93ad"
    wrong_auth = f"{REGISTRY_USER}:wrong-SECRET-0c7e"
    closed = free_port()
    down_url = f"http://127.0.0.1:{free_port()}"
    sources = [
        source(broker, None, "kafka_down", bootstrap_servers=f"127.0.0.1:{closed}",
               security_protocol="SASL_PLAINTEXT", sasl_mechanism="PLAIN",
               sasl_username="ingest", sasl_password=sasl_password, timeout_seconds=2),
        source(broker, None, "registry_down", schema_registry={"url": down_url}),
        source(broker, None, "registry_refused",
               schema_registry={"url": registry.url, "basic_auth": wrong_auth}),
        source(broker, None, "registry_wrong_url",
               schema_registry={"url": f"{registry.url}/not-the-api",
                                "basic_auth": f"{REGISTRY_USER}:{REGISTRY_PASSWORD}"}),
        source(broker, registry, "kafka_ok"),
    ]  # fmt: skip
    path = discovery_config(
        tmp_path, "topic", sources, "kafka-failures", {"include": ["orders", "scratch_broken"]}
    )
    caplog.set_level("DEBUG")
    failure = run_failing(path)
    errors = {r.fqn: r.error or "" for r in failure.results if r.outcome.value != "success"}
    assert errors == {
        "kafka_down": f"source 'kafka_down': cannot reach Kafka at 127.0.0.1:{closed}: "
        "Failed to get metadata: Local: Broker transport failure",
        "registry_down": f"source 'registry_down': cannot reach the schema registry at "
        f"{down_url}: connection refused",
        "registry_refused": f"source 'registry_refused': the schema registry at {registry.url} "
        "refused the basic_auth credentials (401 Unauthorized)",
        "registry_wrong_url": "source 'registry_wrong_url': the schema registry at "
        f"{registry.url}/not-the-api answered 404 HTTP 404 Not Found",
        "kafka_ok.scratch_broken": "invalid for OpenMetadata: schema_text is not a readable "
        "Avro schema",
    }
    outcomes = {r.fqn: r.outcome.value for r in failure.results}
    assert outcomes["kafka_ok.orders"] == "success"  # the other source went on

    audit = Path(str(failure.summary.audit_file))
    shown = "\n".join(
        [
            audit.read_text(),
            *(p.read_text() for p in audit.parent.glob("*.summary.json")),
            repr(failure.results),
            capsys.readouterr().out,
            caplog.text,
        ]
    )
    for secret in (sasl_password, wrong_auth, "wrong-SECRET-0c7e", REGISTRY_PASSWORD):
        assert secret not in shown


def test_sample_messages_are_the_newest_read_with_assign_and_leave_no_consumer_group(
    broker: KafkaBroker,
) -> None:
    from confluent_kafka import ConsumerGroupTopicPartitions, Producer, TopicPartition
    from confluent_kafka.admin import AdminClient

    producer = Producer({"bootstrap.servers": broker.bootstrap_servers})
    for number in range(7):
        producer.produce("scratch_tmp", value=f"m{number}".encode())
    producer.flush(10)
    connector = get_source(SourceConfig.model_validate(source(broker, None, "k")))
    with connector:
        assert connector.sample_messages("scratch_tmp", 4) == [b"m3", b"m4", b"m5", b"m6"]
        assert connector.sample_messages("scratch_tmp", 50) == [f"m{n}".encode() for n in range(7)]
        assert connector.sample_messages("raw_logs", 5) == []  # empty: nothing to wait for

    admin = AdminClient({"bootstrap.servers": broker.bootstrap_servers})
    assert admin.list_consumer_groups().result(timeout=10).valid == []
    offsets = admin.list_consumer_group_offsets(
        [ConsumerGroupTopicPartitions("om-ingest-sampler", [TopicPartition("scratch_tmp", 0)])]
    )
    (held,) = [future.result(timeout=10) for future in offsets.values()]
    assert [tp.offset for tp in held.topic_partitions] == [-1001]  # nothing committed


def test_the_readme_example_runs_as_written(
    broker: KafkaBroker,
    registry: SchemaRegistry,
    om_env: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.config.test_readme_source_examples import example

    path = tmp_path / "kafka.yaml"
    path.write_text(example("Kafka source"))
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", broker.bootstrap_servers)
    monkeypatch.setenv("SCHEMA_REGISTRY_URL", registry.url)
    monkeypatch.setenv("SCHEMA_REGISTRY_AUTH", f"{REGISTRY_USER}:{REGISTRY_PASSWORD}")
    monkeypatch.chdir(tmp_path)
    events = {e["fqn"]: e["operation"] for e in audit_events(run(str(path)))}
    assert events == {
        "kafka-prod": "CREATE",
        "kafka-prod.clicks": "CREATE",
        "kafka-prod.orders": "CREATE",
        "kafka-prod.payment": "CREATE",
        "kafka-prod.raw_logs": "CREATE",
    }


def test_a_deleted_topic_is_reported_stale(
    broker: KafkaBroker, registry: SchemaRegistry, om_env: Any, tmp_path: Path
) -> None:
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": broker.bootstrap_servers})
    admin.create_topics([NewTopic("short_lived", 1, 1)])["short_lived"].result(timeout=30)
    path = discovery_config(
        tmp_path, "topic", [source(broker, registry, "kafka_stale")], "kafka-stale",
        {"include": ["short_lived", "clicks"]},
    )  # fmt: skip
    first = {e["fqn"]: e["operation"] for e in audit_events(run(path))}
    assert first["kafka_stale.short_lived"] == "CREATE"

    admin.delete_topics(["short_lived"])["short_lived"].result(timeout=30)
    stale = {e["fqn"]: e for e in audit_events(run(path))}["kafka_stale.short_lived"]
    assert stale["operation"] == "SKIP" and stale["entity_type"] == "topic"
    assert stale["reason"] == (
        f"stale: kafka://{broker.bootstrap_servers}/short_lived is gone from source "
        "'kafka_stale' since the last run; kept in OpenMetadata (remove_stale: false)"
    )


READING = {
    "type": "record",
    "name": "Reading",
    "fields": [{"name": "sensor", "type": "string"}, {"name": "value", "type": "long"}],
}


def test_sample_messages_become_the_topics_decoded_sample_data_in_om(
    broker: KafkaBroker,
    registry: SchemaRegistry,
    om_env: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from confluent_kafka import Producer
    from confluent_kafka.admin import AdminClient, NewTopic
    from confluent_kafka.schema_registry import SchemaRegistryClient
    from confluent_kafka.schema_registry.avro import AvroSerializer
    from confluent_kafka.serialization import MessageField, SerializationContext
    from metadata.generated.schema.entity.data.topic import Topic

    from om_ingest.sandbox import ThreadedSandbox
    from om_ingest.sandbox.faults import FaultConfig

    admin = AdminClient({"bootstrap.servers": broker.bootstrap_servers})
    admin.create_topics([NewTopic("readings", 1, 1)])["readings"].result(timeout=30)
    try:
        serialize = AvroSerializer(
            SchemaRegistryClient(registry.client_config()), json.dumps(READING)
        )
        context = SerializationContext("readings", MessageField.VALUE)
        producer = Producer({"bootstrap.servers": broker.bootstrap_servers})
        for number in range(3):
            record = {"sensor": f"s{number}", "value": 100 + number}
            producer.produce("readings", value=serialize(record, context))
        producer.flush(10)

        path = discovery_config(
            tmp_path, "topic",
            [source(broker, registry, "kafka_sampled", sample_messages=2),
             source(broker, registry, "kafka_unsampled")],
            "kafka-samples", {"include": ["readings"]},
        )  # fmt: skip
        preview = {e["fqn"]: e for e in audit_events(run(path, dry_run=True))}
        changes = preview["kafka_sampled.readings"]["field_changes"]
        assert {"field": "sampleData", "before": None, "after": "2 messages"} in [
            {k: c.get(k) for k in ("field", "before", "after")} for c in changes
        ]
        assert not any(
            c["field"] == "sampleData" for c in preview["kafka_unsampled.readings"]["field_changes"]
        )

        events = {e["fqn"]: e for e in audit_events(run(path))}
        assert events["kafka_sampled.readings"]["outcome"] == "success"
        client = make_sdk_client(om_env.url, JWT)
        sampled = client.get_by_name(Topic, "kafka_sampled.readings")
        held = client.get_topic_sample_data(sampled).sampleData.messages
        assert [json.loads(message) for message in held] == [
            {"sensor": "s1", "value": 101},
            {"sensor": "s2", "value": 102},
        ]  # the newest two, decoded through the registry
        unsampled = client.get_by_name(Topic, "kafka_unsampled.readings")
        assert client.get_topic_sample_data(unsampled).sampleData is None

        again = {e["fqn"]: e["operation"] for e in audit_events(run(path))}
        assert again["kafka_sampled.readings"] == "SKIP"  # the same sample is not sent again
        assert admin.list_consumer_groups().result(timeout=10).valid == []

        # an OM that refuses the sample: the topic is written, the sample is a warning
        faults = FaultConfig(fail_path_suffix="/sampleData", fail_times=10, fail_status=400)
        with ThreadedSandbox(JWT, faults=faults) as refusing:
            monkeypatch.setenv("OM_HOST", refusing.host_port)
            event = {e["fqn"]: e for e in audit_events(run(path))}["kafka_sampled.readings"]
            assert (event["operation"], event["outcome"]) == ("CREATE", "success")
            assert [w[:24] for w in event["warnings"]] == ["sample data not written:"]
            topic = make_sdk_client(refusing.url, JWT).get_by_name(Topic, "kafka_sampled.readings")
            assert topic is not None
    finally:
        admin.delete_topics(["readings"])["readings"].result(timeout=30)


def test_bytes_read_are_what_the_broker_and_the_registry_sent(
    tmp_path: Path, registry: SchemaRegistry
) -> None:
    """A broker advertised through a test-side TCP proxy that counts what it sent on each
    connection, and the registry's answers as a test-side hook on the same httpx client sees
    their Content-Length. The brokers' share is librdkafka's rx_bytes: never more than the
    proxy saw, and less only by what librdkafka leaves out of its statistics — each client's
    bootstrap connection (its ApiVersions and first metadata answers, dropped once the broker
    is known: 0.5-0.7 KiB here) and answers still in flight when a client closes — within the
    documented tolerance of 1 KiB per client (the admin client and one sample consumer)."""
    import subprocess

    from confluent_kafka import Producer

    from om_ingest.testing.servers import (
        HOST,
        port_open,
        stop_group,
        tansu_binary,
        wait_until,
    )
    from tests.sources.counting_proxy import CountingProxy

    proxy, port, log = CountingProxy(), free_port(), tmp_path / "tansu.log"
    with log.open("wb") as out:
        broker = subprocess.Popen(
            [str(tansu_binary()), "broker", "--listener-url", f"tcp://{HOST}:{port}",
             "--advertised-listener-url", f"tcp://{HOST}:{proxy.port}",
             "--storage-engine", "memory://tansu/"],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True, cwd=tmp_path,
        )  # fmt: skip
    try:
        wait_until(lambda: port_open(port), broker, log, 30, "Tansu")
        proxy.start(port)
        bootstrap = f"{HOST}:{proxy.port}"
        producer = Producer({"bootstrap.servers": bootstrap})
        for number in range(30):
            producer.produce("orders", value=f"order-{number:03d}".encode() * 20)
        producer.flush(10)
        del producer
        proxy.connections.clear()  # what the source reads, not what the test wrote
        config = source(KafkaBroker(bootstrap), registry, "k")
        answered: list[int] = []
        with measuring() as reads:
            with get_source(SourceConfig.model_validate(config)) as connector:
                connector._registry._rest_client.session.event_hooks["response"].insert(  # type: ignore[attr-defined]
                    0, lambda response: answered.append(int(response.headers["Content-Length"]))
                )
                assert connector._latest_schema("orders-value") is not None  # type: ignore[attr-defined]
                assert len(connector.sample_messages("orders", 10)) == 10  # type: ignore[attr-defined]
            counted = reads.of("k") - sum(answered)
        total = proxy.served()
    finally:
        proxy.close()
        stop_group(broker)
    assert total - 2 * 1024 <= counted <= total
    assert counted > 10 * len(b"order-000" * 20) and len(answered) == 1 and answered[0] > 0
