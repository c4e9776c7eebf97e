"""An OpenMetadata that rate-limits 30% of calls (429 + Retry-After) is waited out with the
default retry settings: every entity is written exactly once and the audit's `attempts` is
the true number of tries, for successes and for failures."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
import yaml

from flows.ingest import IngestionFailed, ingest
from om_ingest.audit import read_events
from om_ingest.sandbox import FaultConfig, ThreadedSandbox
from tests.conftest import JWT
from tests.reliability.test_outages import entities_in_om

TABLES = 12


def declared_config(tmp_path: Path, retries: dict[str, Any] | None = None) -> str:
    entities: list[dict[str, Any]] = [
        {"type": "database_service", "name": "rl", "properties": {"service_type": "Mysql"}},
        {"type": "database", "name": "db", "properties": {"service": "rl"}},
        {"type": "database_schema", "name": "core", "properties": {"database": "rl.db"}},
    ]
    entities += [
        {
            "type": "table",
            "name": f"t{i:02d}",
            "properties": {
                "database_schema": "rl.db.core",
                "columns": [{"name": "id", "data_type": "BIGINT"}],
            },
        }
        for i in range(TABLES)
    ]
    config: dict[str, Any] = {
        "metadata": {"name": "rate-limited"},
        "audit": {"output_dir": str(tmp_path / "audit")},
        "entities": entities,
    }
    if retries is not None:
        config["execution"] = {"retries": retries}
    path = tmp_path / "rate_limited.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return str(path)


def lookups_by_fqn(requests: list[dict[str, Any]]) -> Counter[str]:
    """Every try of an entity starts with one GET of it by name."""
    return Counter(
        unquote(r["path"].split("/name/", 1)[1]).split("&", 1)[0]
        for r in requests
        if r["method"] == "GET" and "/name/" in r["path"]
    )


def test_rate_limited_run_completes_with_every_entity_written_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    faults = FaultConfig(fail_rate=0.3, fail_status=429, seed=15)
    with ThreadedSandbox(JWT, faults=faults) as om:
        monkeypatch.setenv("OM_HOST", om.host_port)  # no `openmetadata:` section: from env
        monkeypatch.setenv("OM_JWT", JWT)
        config = declared_config(tmp_path)
        summary = ingest(config)  # default retries: a budget in minutes
        requests = om.requests()
        again = ingest(config)  # cache hits, each checked with a (rate-limited) GET
        faults.fail_rate = 0.0
        in_om = entities_in_om(om.url)

    expected = 3 + TABLES
    assert summary["outcomes"] == {"success": expected}
    assert again["outcomes"] == {"skipped": expected}
    assert len(in_om) == len(set(in_om)) == expected
    created = [r for r in requests if r["method"] == "PUT" and r["status"] == 201]
    assert len(created) == expected  # each written exactly once
    limited = [r for r in requests if r["injected"]]
    assert len(limited) >= 5 and all(r["status"] == 429 for r in limited)

    events, torn = read_events(summary["audit_file"])
    assert torn == 0 and events.pop()["operation"] == "RUN"  # entity events, then the run's
    assert len(events) == expected
    tries = lookups_by_fqn(requests)
    assert {e["fqn"]: e["attempts"] for e in events} == {e["fqn"]: tries[e["fqn"]] for e in events}
    assert any(e["attempts"] > 1 for e in events)


def test_a_failed_entity_records_every_try(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    faults = FaultConfig(fail_rate=1.0, fail_status=503)
    with ThreadedSandbox(JWT, faults=faults) as om:
        monkeypatch.setenv("OM_HOST", om.host_port)
        monkeypatch.setenv("OM_JWT", JWT)
        retries = {"max_attempts": 3, "backoff_seconds": 0.01}
        with pytest.raises(IngestionFailed) as info:
            ingest(declared_config(tmp_path, retries))
        requests = om.requests()

    results = {r.fqn: r for r in info.value.results}
    service = results["rl"]
    assert service.outcome.value == "failed" and "503" in (service.error or "")
    assert service.attempts == 3 == lookups_by_fqn(requests)["rl"]
    assert {r.outcome.value for r in results.values() if r.fqn != "rl"} == {"blocked"}
    events, _ = read_events(info.value.summary.audit_file)
    assert next(e for e in events if e["fqn"] == "rl")["attempts"] == 3


@pytest.mark.parametrize("status", [429, 504])
def test_no_call_waits_on_the_sdks_own_sleeps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, status: int
) -> None:
    """The SDK sleeps 30/60/90 s on a 504 and blocks a path for 60 s after a 429; both are
    switched off and our retries take over (429s wait their 1 s Retry-After): the SDK's
    retry loop never sleeps, and every entity lands (a blocked path would fail them)."""
    import time
    from types import SimpleNamespace

    from metadata.ingestion.ometa import client as sdk_rest

    sdk_sleeps: list[float] = []

    def recorded_sleep(seconds: float) -> None:
        sdk_sleeps.append(seconds)
        time.sleep(seconds)

    monkeypatch.setattr(sdk_rest, "time", SimpleNamespace(sleep=recorded_sleep))
    faults = FaultConfig(fail_rate=0.3, fail_status=status, seed=7)
    with ThreadedSandbox(JWT, faults=faults) as om:
        monkeypatch.setenv("OM_HOST", om.host_port)
        monkeypatch.setenv("OM_JWT", JWT)
        config = declared_config(tmp_path, {"backoff_seconds": 0.05, "max_backoff_seconds": 0.2})
        summary = ingest(config)
        requests = om.requests()

    assert summary["outcomes"] == {"success": 3 + TABLES}
    assert [r for r in requests if r["injected"]]  # the faults did happen
    events, _ = read_events(summary["audit_file"])
    assert events.pop()["operation"] == "RUN"  # entity events, then the run's
    tries = lookups_by_fqn(requests)
    assert {e["fqn"]: e["attempts"] for e in events} == {e["fqn"]: tries[e["fqn"]] for e in events}
    assert sum(e["attempts"] for e in events) > len(events)  # our retries did the retrying
    assert sdk_sleeps == [], f"the SDK slept {sdk_sleeps} s in its own retry loop"
