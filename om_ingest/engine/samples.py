"""A topic's sample messages (OM's TopicSampleData): written after the topic by their own
endpoint, replacing the sample OM holds; a sample OM already holds as declared is not sent
again. Shown (dry run, audit) as the field change `sampleData`: N messages held → N
declared. Like runs, a sample is a fact, not config: written under every idempotency mode but
`fail`, never in a dry run, never for a topic that failed; a write that fails is a warning."""

from __future__ import annotations

from typing import Any

from om_ingest.engine.results import SAMPLE_FIELD, FieldChange
from om_ingest.errors import OpenMetadataError
from om_ingest.openmetadata import OMClient


def _count(messages: list[str] | None) -> str | None:
    return None if messages is None else f"{len(messages)} messages"


def sample_to_write(
    client: OMClient, current: Any, declared: list[str] | None
) -> tuple[list[str] | None, list[FieldChange]]:
    """The declared sample when OM (holding `current`, None before a create) lacks it, with
    its field change; (None, []) when there is nothing to write."""
    if declared is None:
        return None, []
    held = client.topic_sample(current) if current is not None else None
    if held == declared:
        return None, []
    return declared, [FieldChange(field=SAMPLE_FIELD, before=_count(held), after=_count(declared))]


def write_sample(client: OMClient, entity: Any, messages: list[str] | None) -> list[str]:
    """Write the sample of `entity` (as OM holds it); the warnings of a write that failed."""
    if messages is None or entity is None:
        return []
    try:
        client.put_topic_sample(entity, messages)
    except OpenMetadataError as exc:
        return [f"sample data not written: {exc}"]
    return []
