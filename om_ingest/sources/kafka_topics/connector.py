"""Kafka topics → OpenMetadata topics, with their message schemas from a schema registry.

Read with the clients OM's own Kafka connector uses (`confluent-kafka`): the brokers through
`AdminClient` (`list_topics` for partitions and replicas, `describe_configs` for retention,
cleanup policies, message size and in-sync replicas — only what the broker returns, nothing
defaulted here), the registry through `SchemaRegistryClient` (the latest version of
`<topic>-value`, TopicNameStrategy, as OM's connector reads it). The schema's text and type
go to the topic's `messageSchema`; its fields are parsed at every depth by the topic kind
(`entities/topic_schema.py`, the SDK's own Avro / JSON Schema / Protobuf parsers), so a new
registry version that adds or retypes a field is a structural change of
`messageSchema.schemaFields`, reported and applied like a table's columns.

`sample_messages` reads the newest messages of a topic with `assign()` from the partitions'
watermarks: no consumer group is joined and no offset is committed. With the property
`sample_messages: N` the topic carries its newest N messages as `sample_data`, decoded as OM's
Kafka connector decodes them (Avro through the registry by the writer's schema id; other
payloads as UTF-8 text after the registry's framing; Protobuf and undecodable ones left out),
written to OM's topic sample data by the engine after the topic.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from typing import Any

from om_ingest.config.models import EntityConfig, EntityType, SourceConfig
from om_ingest.errors import SourceError
from om_ingest.logs import register_secrets
from om_ingest.sources.base import DiscoveredEntity, DiscoveryFailure, ServiceLevelSource
from om_ingest.sources.helpers import (
    discovered,
    discovery_filter,
    passes_filter,
    reached_cap,
    reason,
)
from om_ingest.sources.kafka_topics.properties import KafkaProperties
from om_ingest.sources.kafka_topics.received import BrokerBytes
from om_ingest.sources.reads import HTTP_BODIES, count_httpx_client
from om_ingest.sources.registry import register_source_class

log = logging.getLogger("om_ingest.sources.kafka")

SCHEMA_TYPES = {"AVRO": "Avro", "JSON": "JSON", "PROTOBUF": "Protobuf"}
"""Registry schema types → OM's SchemaType (another type is `Other`: no parser)."""

INTERNAL = ("__", "_schemas", "_confluent")
"""Name prefixes of the brokers' and the registry's own topics."""

CLEANUP_POLICIES = frozenset({"delete", "compact"})
SUBJECT_NOT_FOUND = 40401


@register_source_class("kafka", KafkaProperties)
class KafkaSource(ServiceLevelSource):
    discovers = EntityType.TOPIC
    service_type = "Kafka"
    properties: KafkaProperties
    reads_measured = (
        "bytes librdkafka received from the brokers (its rx_bytes statistic, admin and sample "
        "consumers; the bootstrap connection's first answers, which librdkafka drops from its "
        f"statistics, are not counted); schema registry: {HTTP_BODIES}"
    )

    def __init__(self, config: SourceConfig, properties: KafkaProperties) -> None:
        super().__init__(config, properties)
        self._admin: Any = None
        self._admin_bytes = BrokerBytes()
        self._registry: Any = None
        self._avro: Any = None

    @property
    def _brokers(self) -> str:
        return self.properties.bootstrap_servers

    def _fail(self, message: str) -> SourceError:
        return SourceError(f"source {self.config.name!r}: {message}")

    # --- connection ----------------------------------------------------------------------

    def _client_config(self) -> dict[str, Any]:
        timeout_ms = self.properties.timeout_seconds * 1000
        return {
            **self.properties.client_config(),
            "socket.timeout.ms": timeout_ms,
            "logger": log,  # librdkafka's connection chatter through our (redacting) logging
        }

    def connect(self) -> None:
        if self._admin is not None:
            return
        from confluent_kafka.admin import AdminClient

        self._admin_bytes = BrokerBytes()  # this admin client's own statistics
        self._admin = AdminClient({**self._client_config(), **self._admin_bytes.settings()})
        registry = self.properties.schema_registry
        if registry is not None:
            from confluent_kafka.schema_registry import SchemaRegistryClient

            settings: dict[str, Any] = {
                "url": registry.url,
                "timeout": self.properties.timeout_seconds,
                "max.retries": 1,
                "retries.wait.ms": 200,
            }
            if registry.basic_auth is not None:
                auth = registry.basic_auth.get_secret_value()
                register_secrets([auth, auth.split(":", 1)[1]])
                settings["basic.auth.user.info"] = auth
            self._registry = SchemaRegistryClient(settings)
            count_httpx_client(self._registry._rest_client.session, self.count_read)

    def disconnect(self) -> None:
        if self._admin is not None:
            self.count_read(self._admin_bytes.settle(self._admin))
        if self._registry is not None:
            self._registry.close()
        self._admin = self._registry = self._avro = None

    def validate_connection(self) -> None:
        """One metadata request to the brokers and one subject listing at the registry: a
        broker or a registry that is down, or refused credentials, fail the source here."""
        self.connect()
        self._topics()
        if self._registry is not None:
            self._registry_call(self._registry.get_subjects)

    def _topics(self) -> dict[str, Any]:
        from confluent_kafka import KafkaException

        try:
            metadata = self._admin.list_topics(timeout=self.properties.timeout_seconds)
        except KafkaException as exc:
            raise self._fail(
                f"cannot reach Kafka at {self._brokers}: {_kafka_error(exc)}"
            ) from None
        topics: dict[str, Any] = metadata.topics
        return topics

    def _registry_call(self, call: Any, *args: Any) -> Any:
        """`call(*args)` on the registry; a refusal, an error answer or no answer fails the
        source (a subject that does not exist is the caller's to handle)."""
        from confluent_kafka.schema_registry.error import SchemaRegistryError

        url = self._registry_url
        try:
            return call(*args)
        except SchemaRegistryError as exc:
            if exc.error_code == SUBJECT_NOT_FOUND:
                raise
            if exc.http_status_code in (401, 403):
                how = "basic_auth credentials" if self._has_registry_auth else "request"
                raise self._fail(
                    f"the schema registry at {url} refused the {how} "
                    f"({exc.http_status_code} {exc.error_message})"
                ) from None
            raise self._fail(
                f"the schema registry at {url} answered {exc.http_status_code} {exc.error_message}"
            ) from None
        except Exception as exc:  # no answer (httpx or httpx2 errors, whichever it uses)
            raise self._fail(
                f"cannot reach the schema registry at {url}: {_transport_error(exc)}"
            ) from None

    @property
    def _registry_url(self) -> str:
        registry = self.properties.schema_registry
        return registry.url if registry is not None else ""

    @property
    def _has_registry_auth(self) -> bool:
        registry = self.properties.schema_registry
        return registry is not None and registry.basic_auth is not None

    # --- discovery -----------------------------------------------------------------------

    def discover_entities(
        self,
        template: EntityConfig,
        known_commits: dict[str, str] | None = None,
        known_markers: dict[str, str] | None = None,
    ) -> Iterator[DiscoveredEntity | DiscoveryFailure]:
        self.connect()
        flt = discovery_filter(template)
        found = 0
        for name, metadata in sorted(self._topics().items()):
            if name.startswith(INTERNAL) and not self.properties.include_internal:
                continue
            if not passes_filter(flt, name):
                continue
            if reached_cap(flt, found):
                return
            found += 1
            location = self.topic_url(name)
            try:
                entity = discovered(
                    template, name, self._describe(name, metadata), self.config.name
                )
            except SourceError:
                raise  # the registry went away or refused us: the listing is incomplete
            except Exception as exc:
                yield DiscoveryFailure(name, location, f"{location}: {reason(exc)}")
                continue
            yield DiscoveredEntity(entity, location)

    def topic_url(self, topic: str) -> str:
        """Where the topic lives: stale detection compares these between runs."""
        return f"kafka://{self._brokers.split(',')[0].strip()}/{topic}"

    def _describe(self, topic: str, metadata: Any) -> dict[str, Any]:
        if metadata.error is not None:
            raise RuntimeError(f"the broker answered {metadata.error.str()}")
        partitions = metadata.partitions
        facts: dict[str, Any] = {
            "partitions": len(partitions),
            "replication_factor": max((len(p.replicas) for p in partitions.values()), default=0)
            or None,
            **self._config_facts(topic),
        }
        registered = self._latest_schema(f"{topic}-value")
        if registered is not None:
            schema = registered.schema
            facts["message_schema"] = {
                "schema_type": SCHEMA_TYPES.get(str(schema.schema_type).upper(), "Other"),
                "schema_text": schema.schema_str,
            }
            facts["extension"] = {"kafka_schema_version": int(registered.version)}
        key = self._latest_schema(f"{topic}-key")
        if key is not None:  # OM's topic has one schema (the value's): the key's type is kept
            key_type = SCHEMA_TYPES.get(str(key.schema.schema_type).upper(), "Other")
            facts.setdefault("extension", {})["kafka_key_schema_type"] = key_type
        if self.properties.sample_messages:
            schema_type = facts.get("message_schema", {}).get("schema_type")
            facts["sample_data"] = self._decoded_sample(topic, schema_type)
        return {k: v for k, v in facts.items() if v is not None}

    def _decoded_sample(self, topic: str, schema_type: str | None) -> list[str] | None:
        """The topic's newest messages as text; None (no sample, the topic goes on) when the
        read fails."""
        try:
            values = self.sample_messages(topic, self.properties.sample_messages)
        except Exception as exc:
            log.warning("source %r: no sample of topic %s: %s", self.config.name, topic, exc)
            return None
        decoded = (self._decode(value, schema_type) for value in values if value is not None)
        return [text for text in decoded if text is not None]

    def _decode(self, value: bytes, schema_type: str | None) -> str | None:
        """One message as OM's connector decodes it (`CommonBrokerSource.decode_message`), the
        Avro record as JSON text; None when it cannot be."""
        from metadata.ingestion.source.messaging.common_broker_source import (
            strip_confluent_framing,
        )

        try:
            if schema_type == "Avro" and self._registry is not None:
                from confluent_kafka.schema_registry.avro import AvroDeserializer

                if self._avro is None:
                    self._avro = AvroDeserializer(schema_registry_client=self._registry)
                return json.dumps(self._avro(value, None), default=str)
            if schema_type == "Protobuf":
                return None  # as OM's connector: Protobuf samples are not decoded
            return strip_confluent_framing(value).decode("utf-8")
        except Exception as exc:
            log.debug("undecodable sample message: %s", exc)
            return None

    def _config_facts(self, topic: str) -> dict[str, Any]:
        """What the topic's configs say, as OM's Kafka connector maps them; a config the broker
        does not return is left out (Kafka returns its defaults too, other brokers may not)."""
        from confluent_kafka.admin import ConfigResource  # type: ignore[attr-defined]

        resource = ConfigResource("topic", topic)
        future = self._admin.describe_configs([resource])[resource]
        configs = {
            name: entry.value
            for name, entry in future.result(timeout=self.properties.timeout_seconds).items()
            if entry.value is not None  # a sensitive config's value is not shown
        }
        # not `topicConfig`: the SDK's TopicConfig model has no fields and drops every key
        facts: dict[str, Any] = {}
        for key, fact, convert in (
            ("retention.ms", "retention_time", float),
            ("retention.bytes", "retention_size", float),
            ("max.message.bytes", "maximum_message_size", int),
            ("min.insync.replicas", "minimum_in_sync_replicas", int),
        ):
            if key in configs:
                facts[fact] = convert(configs[key])
        if "cleanup.policy" in configs:
            policies = [p.strip() for p in configs["cleanup.policy"].split(",")]
            facts["cleanup_policies"] = [p for p in policies if p in CLEANUP_POLICIES] or None
        return facts

    def _latest_schema(self, subject: str) -> Any:
        """The subject's latest registered schema; None without a registry or subject."""
        from confluent_kafka.schema_registry.error import SchemaRegistryError

        if self._registry is None:
            return None
        try:
            return self._registry_call(self._registry.get_latest_version, subject)
        except SchemaRegistryError:  # only "subject not found" comes through
            return None

    # --- sample messages -----------------------------------------------------------------

    def sample_messages(self, topic: str, count: int) -> list[bytes | None]:
        """The newest `count` (at most) message values of `topic`, oldest first: each
        partition is read from `count` before its high watermark with `assign()` (no group
        joined, no offset committed) until its end or the source's timeout."""
        from confluent_kafka import Consumer, KafkaError, TopicPartition

        self.connect()
        received = BrokerBytes()
        consumer = Consumer(
            {
                **self._client_config(),
                **received.settings(),
                "group.id": "om-ingest-sampler",  # required by the client; never joined
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "enable.partition.eof": True,
            }
        )
        try:
            assigned = []
            for partition in sorted(self._topics()[topic].partitions):
                low, high = consumer.get_watermark_offsets(
                    TopicPartition(topic, partition), timeout=self.properties.timeout_seconds
                )
                if high > low:
                    assigned.append(TopicPartition(topic, partition, max(low, high - count)))
            if not assigned:
                return []
            consumer.assign(assigned)
            pending = {tp.partition for tp in assigned}
            messages: list[tuple[int, int, int, bytes | None]] = []
            deadline = time.monotonic() + self.properties.timeout_seconds
            while pending and time.monotonic() < deadline:
                message = consumer.poll(min(1.0, max(0.0, deadline - time.monotonic())))
                if message is None:
                    continue
                partition, offset, error = message.partition(), message.offset(), message.error()
                if error is not None:
                    if error.code() == KafkaError._PARTITION_EOF:
                        pending.discard(partition or 0)
                        continue
                    raise self._fail(f"reading {topic}: {error.str()}")
                when = message.timestamp()[1]
                messages.append((when, partition or 0, offset or 0, message.value()))
            return [value for *_, value in sorted(messages)[-count:]]
        finally:
            self.count_read(received.settle(consumer))
            consumer.close()


def _kafka_error(exc: Exception) -> str:
    """librdkafka's error text, first line (e.g. `Local: Broker transport failure`)."""
    error: Any = exc.args[0] if exc.args else None
    text = error.str() if hasattr(error, "str") else str(exc)
    return str(text).splitlines()[0][:300] or type(exc).__name__


def _transport_error(exc: Exception) -> str:
    text = str(exc)
    if "Connection refused" in text or "All connection attempts failed" in text:
        return "connection refused"
    for marker in ("Name or service not known", "timed out", "certificate verify failed"):
        if marker in text:
            return marker
    return text.splitlines()[0][:300] if text else type(exc).__name__
