"""Run notifications through a saved Prefect notification block.

The config names the block (`notifications: {block: custom-webhook/alerts}`, or a bare name
looked up among Prefect's notification block types); om-ingest builds one message per event
and the block delivers it (Slack, Teams, a custom webhook, e-mail, …: nothing hand-rolled).
Events: a schema change applied or detected on an entity, a contract violated (schema
enforcement or a failed validation), an entity failed, the run failed. Each message names
the entity, the change and the run; messages are built from FQNs and change summaries and
pass through the log redaction, so no secret can reach them. A delivery that fails is logged
and never fails the run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from om_ingest.config.models import NotificationsConfig
from om_ingest.engine.results import EntityResult, Operation, Outcome
from om_ingest.logs import redact

log = logging.getLogger("om_ingest.notifications")

NOTIFICATION_BLOCK_SLUGS = (
    "custom-webhook",
    "slack-webhook",
    "ms-teams-webhook",
    "discord-webhook",
    "mattermost-webhook",
    "opsgenie-webhook",
    "pager-duty-webhook",
    "sendgrid-email",
    "twilio-sms",
    "apprise-notification-block",
)
"""Prefect's notification block types, tried in turn for a bare block name."""


@dataclass(frozen=True)
class Event:
    kind: str
    entity: str
    change: str


@dataclass(frozen=True)
class RunFacts:
    """What names a run in a message."""

    config: str
    run_id: str | None
    """om-ingest's run id (None when the run stopped before it had one)."""
    flow_run_id: str | None
    dry_run: bool


def events(
    results: list[EntityResult],
    validations: list[dict[str, Any]],
    run_failed: str | None,
) -> list[Event]:
    """Every event of a run, in the order the results came (the run's own last)."""
    found = []
    for result in results:
        if result.schema_changes and result.operation in (Operation.UPDATE, Operation.SKIP):
            applied = "applied" if result.operation is Operation.UPDATE else "detected, not applied"
            found.append(
                Event(
                    "schema_change",
                    result.fqn,
                    f"{_schema_summary(result.schema_changes)} ({applied})",
                )
            )
        if result.contract_violations:
            verdict = (
                "table left unchanged" if result.failed else "written anyway (enforcement: warn)"
            )
            found.append(
                Event(
                    "contract_violation",
                    result.fqn,
                    f"schema violates its contract: {'; '.join(result.contract_violations)} "
                    f"({verdict})",
                )
            )
        if result.outcome in (Outcome.FAILED, Outcome.VALIDATION_ERROR):
            found.append(Event("entity_failed", result.fqn, result.error or result.reason))
    for validation in validations:
        failed = validation.get("failed") or []
        if failed:
            found.append(
                Event(
                    "contract_violation",
                    str(validation["fqn"]),
                    f"{len(failed)} check(s) of contract {validation.get('contract')} failed on "
                    f"{validation.get('rows')} sampled rows: {', '.join(failed)}",
                )
            )
    if run_failed:
        found.append(Event("run_failed", "(run)", run_failed))
    return found


def _schema_summary(changes: list[dict[str, Any]]) -> str:
    from om_ingest.comparison.schema_diff import describe_change

    shown = "; ".join(describe_change(change) for change in changes[:10])
    more = f"; and {len(changes) - 10} more" if len(changes) > 10 else ""
    return f"{len(changes)} schema change(s): {shown}{more}"


def message(event: Event, run: RunFacts) -> tuple[str, str]:
    """(subject, body) of one event's message."""
    subject = f"om-ingest {event.kind.replace('_', ' ')}: {event.entity}"
    names = [f"run {run.run_id}"] if run.run_id else []
    names += [f"flow run {run.flow_run_id}"] if run.flow_run_id else []
    names.append(f"config {run.config}" + (" (dry run)" if run.dry_run else ""))
    body = f"{event.kind}: {event.entity}: {event.change}\n" + ", ".join(names)
    return redact(subject), redact(body)


def load_block(name: str) -> Any:
    """The saved notification block `type/name`, or `name` among the notification types."""
    from prefect.blocks.core import Block

    if "/" in name:
        return Block.load(name)
    for slug in NOTIFICATION_BLOCK_SLUGS:
        try:
            return Block.load(f"{slug}/{name}")
        except (ValueError, KeyError):
            continue
    raise ValueError(f"no saved Prefect notification block named {name!r}")


def send(settings: NotificationsConfig | None, found: list[Event], run: RunFacts) -> int:
    """Send the events `settings.on` selects; how many messages were delivered."""
    if settings is None:
        return 0
    wanted = [event for event in found if event.kind in settings.on]
    if not wanted:
        return 0
    try:
        block = load_block(settings.block)
    except Exception as exc:
        log.warning("notifications: cannot load block %s: %s", settings.block, exc)
        return 0
    sent = 0
    for event in wanted:
        subject, body = message(event, run)
        try:
            block.notify(body=body, subject=subject)
            sent += 1
        except Exception as exc:
            log.warning("notifications: %s not delivered: %s", event.kind, redact(str(exc)))
    return sent
