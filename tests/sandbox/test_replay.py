"""Replay what the SDK sent to a recording stand-in (../shared/om_api/request_log_*.json)
against the sandbox: each answer has the recorded outcome class and parses in the SDK's own
models, so what the SDK accepted there it still accepts here."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests
from metadata.generated.schema.entity.data.table import Table

from om_ingest.sandbox import ThreadedSandbox
from om_ingest.sandbox.kinds import match_collection
from tests.conftest import JWT
from tests.sandbox.conftest import sandbox_only

LOGS = Path(__file__).resolve().parents[2] / ".." / "shared" / "om_api"


def _model_for(method: str, path: str) -> tuple[Any, bool]:
    """(SDK model of the answer, is it a list page) for an /api/v1 path."""
    rest = path.removeprefix("/api/v1/")
    if rest == "system/version":
        from metadata.generated.schema.api.openMetadataServerVersion import (
            OpenMetadataServerVersion,
        )

        return OpenMetadataServerVersion, False
    matched = match_collection(rest)
    assert matched is not None, path
    kind, tail = matched
    if "tableProfile" in tail:
        return Table, False
    return kind.entity_model, method == "GET" and tail == ""


def _swap(text: str, ids: dict[str, str]) -> str:
    for old, new in ids.items():
        text = text.replace(old, new)
    return text


@sandbox_only
@pytest.mark.parametrize("log", ["request_log_main.json", "request_log_extras.json"])
def test_recorded_sdk_requests_still_parse(log: str) -> None:
    entries = [e for e in json.loads((LOGS / log).read_text()) if "method" in e]
    assert entries, log
    ids: dict[str, str] = {}
    after: dict[str, str] = {}
    with ThreadedSandbox(JWT) as sandbox:
        base = sandbox.host_port
        for entry in entries:
            path = _swap(entry["raw_path"], ids)
            query = dict(entry["query"])
            if "after" in query:
                query["after"] = after[path]
            body = entry["body"]
            data = None if body is None else _swap(json.dumps(body), ids)
            headers = {**entry["headers"], "Authorization": f"Bearer {JWT}"}
            answer = requests.request(
                entry["method"], base + path, params=query, data=data, headers=headers, timeout=30
            )
            where = f"{entry['method']} {entry['raw_path']}"
            recorded = entry["status"]
            assert (answer.status_code < 300) == (recorded < 300), (where, answer.text)
            payload = answer.json()
            if recorded >= 300:
                assert payload["code"] == answer.status_code == recorded, where
                continue
            model, is_list = _model_for(entry["method"], path)
            items = payload["data"] if is_list else [payload]
            parsed = [model.model_validate(item) for item in items]
            if is_list:
                assert isinstance(payload["paging"]["total"], int), where
                if "after" in payload["paging"]:
                    after[path] = payload["paging"]["after"]
            response = entry["response"]
            if not is_list and isinstance(response, dict) and "id" in response:
                ids[response["id"]] = str(parsed[0].id.root)
