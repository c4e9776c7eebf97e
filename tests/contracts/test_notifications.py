"""Notifications through a saved Prefect notification block (a CustomWebhookNotificationBlock
pointed at a local HTTP receiver standing in for Slack or a webhook): exactly one message per
event, naming the entity, the change and the run, never a secret."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import JWT
from tests.contracts.helpers import COLUMNS, TABLE, contract_config, odcs
from tests.flows.test_ingest_flow import run, run_failing

HOOK_SECRET = "hook-SECRET-93d1"


class Receiver:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        received = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                received.messages.append(json.loads(self.rfile.read(length)))
                received.headers.append(dict(self.headers))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    hook = Receiver()
    thread = threading.Thread(target=hook.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hook
    finally:
        hook.server.shutdown()
        hook.server.server_close()


@pytest.fixture()
def webhook_block(receiver: Receiver) -> str:
    from prefect.blocks.notifications import CustomWebhookNotificationBlock

    CustomWebhookNotificationBlock(
        name="om-ingest",
        url=receiver.url,
        json_data={"subject": "{{subject}}", "text": "{{body}}"},
        headers={"Authorization": "Bearer {{token}}"},
        secrets={"token": HOOK_SECRET},
    ).save("om-alerts", overwrite=True)
    return "om-alerts"


def _no_secret(receiver: Receiver) -> None:
    text = json.dumps(receiver.messages)
    assert JWT not in text and HOOK_SECRET not in text
    assert all(h.get("Authorization") == f"Bearer {HOOK_SECRET}" for h in receiver.headers)


def _status_retyped(tmp_path: Path, webhook_block: str) -> str:
    """The contracted table with `status` retyped to BOOLEAN (the contract says string),
    notifying through `webhook_block`."""
    retyped = [
        {"name": c["name"], "data_type": "BOOLEAN" if c["name"] == "status" else c["data_type"]}
        for c in COLUMNS
    ]
    return contract_config(
        tmp_path, odcs(), columns=retyped, notifications={"block": webhook_block}
    )


def test_a_warned_violation_sends_one_message_naming_entity_change_and_run(
    om_env: Any, tmp_path: Path, receiver: Receiver, webhook_block: str
) -> None:
    config = _status_retyped(tmp_path, webhook_block)
    assert run(config, dry_run=True)["notifications"] == 0  # a preview announces nothing
    assert receiver.messages == []
    summary = run(config)
    assert summary["notifications"] == 1
    (message,) = receiver.messages
    assert message["subject"] == f"om-ingest contract violation: {TABLE}"
    assert f"contract_violation: {TABLE}: schema violates its contract: " in message["text"]
    assert "status: the contract types it string, the table BOOLEAN" in message["text"]
    assert f"run {summary['run_id']}, flow run {summary['flow_run_id']}" in message["text"]
    _no_secret(receiver)


def test_a_warned_violation_is_reported_again_when_the_table_is_a_cache_hit(
    om_env: Any, tmp_path: Path, receiver: Receiver, webhook_block: str
) -> None:
    from tests.flows.test_ingest_flow import audit_events

    config = _status_retyped(tmp_path, webhook_block)
    run(config)
    again = run(config)  # nothing changed: the table's write is skipped from the cache
    event = next(e for e in audit_events(again) if e["fqn"] == TABLE)
    assert "cache hit" in event["reason"]
    assert event["contract_violations"] == [
        "status: the contract types it string, the table BOOLEAN"
    ]
    assert again["notifications"] == 1
    assert [m["subject"] for m in receiver.messages] == [
        f"om-ingest contract violation: {TABLE}"
    ] * 2
    assert "status: the contract types it string" in receiver.messages[1]["text"]


def test_a_blocked_table_sends_entity_failed_and_run_failed_as_configured(
    om_env: Any, tmp_path: Path, receiver: Receiver, webhook_block: str
) -> None:
    mistyped = [
        {"name": c["name"], "data_type": "STRING" if c["name"] == "id" else c["data_type"]}
        for c in COLUMNS
    ]
    failure = run_failing(
        contract_config(
            tmp_path,
            odcs(),
            columns=mistyped,
            enforcement="block",
            notifications={
                "block": f"custom-webhook/{webhook_block}",
                "on": ["entity_failed", "run_failed"],
            },
        )
    )
    subjects = [m["subject"] for m in receiver.messages]
    assert subjects == [
        f"om-ingest entity failed: {TABLE}",
        "om-ingest run failed: (run)",
    ]
    assert "id: the contract types it BIGINT, the table STRING" in receiver.messages[0]["text"]
    assert failure.summary.run_id in receiver.messages[1]["text"]
    assert "entities failed or were blocked" in receiver.messages[1]["text"]
    _no_secret(receiver)


def test_a_schema_change_sends_one_message(
    om_env: Any, tmp_path: Path, receiver: Receiver, webhook_block: str
) -> None:
    settings = {"block": webhook_block, "on": ["schema_change"]}
    run(contract_config(tmp_path, odcs(), notifications=settings))
    assert receiver.messages == []
    wider = [*COLUMNS, {"name": "note", "data_type": "STRING"}]
    run(contract_config(tmp_path, odcs(), columns=wider, notifications=settings))
    (message,) = receiver.messages
    assert message["subject"] == f"om-ingest schema change: {TABLE}"
    assert "1 schema change(s):" in message["text"] and "note" in message["text"]
    assert "(applied)" in message["text"]
    _no_secret(receiver)


def test_a_run_stopped_before_any_entity_sends_one_run_failed_message(
    tmp_path: Path,
    receiver: Receiver,
    webhook_block: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from flows.ingest import ingest
    from om_ingest.errors import OmIngestError

    monkeypatch.setenv("OM_HOST", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("OM_JWT", JWT)
    config = contract_config(
        tmp_path,
        odcs(),
        notifications={"block": webhook_block},
        execution={"retries": {"budget_seconds": 0.5, "max_attempts": 1}},
    )
    with pytest.raises(OmIngestError):
        ingest(config)
    (message,) = receiver.messages
    assert message["subject"] == "om-ingest run failed: (run)"
    assert "the run stopped: " in message["text"] and "127.0.0.1:9" in message["text"]
    assert "flow run " in message["text"] and "config contracts" in message["text"]
    _no_secret(receiver)
