"""The `om-ingest` CLI: exit codes, one-line errors, and a run killed mid-way then resumed."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner

from om_ingest.audit import read_events
from om_ingest.cli.main import cli
from om_ingest.sandbox.testing import make_sdk_client
from tests.conftest import JWT

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "configs" / "examples" / "simple_database.yaml"


def test_validate_and_plan_print_the_plan() -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["validate", str(EXAMPLE)], env={"OM_JWT": "x"})
    assert result.exit_code == 0, result.output
    assert "5 entities in 4 levels" in result.output
    result = runner.invoke(cli, ["plan", str(EXAMPLE)], env={"OM_JWT": "x", "COLUMNS": "200"})
    assert result.exit_code == 0
    lines = [line for line in result.output.splitlines() if "sales_svc" in line]
    assert [line.split("│")[4].strip() for line in lines] == [
        "sales_svc",
        "sales_svc.sales",
        "sales_svc.sales.core",
        "sales_svc.sales.core.orders",
        "sales_svc.sales.core.customers",
    ]


def test_config_errors_exit_2_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("openmetadata:\n  host: http://h\n  jwt_token: ${NOPE}\n")
    result = CliRunner().invoke(cli, ["validate", str(path)], env={})
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"error: {path}:3 openmetadata.jwt_token: environment variable ${{NOPE}} is not set (and has no :-default)"
    ]
    path.write_text(
        "openmetadata: {host: http://h}\nentities:\n  - {type: database, name: d, properties: {service: ghost}}\n"
    )
    result = CliRunner().invoke(cli, ["plan", str(path)], env={})
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert f"{path}:3 entities[0].properties.service: parent ghost is not declared" in result.stderr


def test_ingest_of_a_broken_config_exits_2_and_leaves_no_prefect_server(tmp_path: Path) -> None:
    """`ingest` boots Prefect's ephemeral API while the config loads; a broken config still
    exits 2 with one line, and the server it started is stopped on exit."""
    path = tmp_path / "bad.yaml"
    path.write_text("openmetadata:\n  host: http://h\n  jwt_token: ${NOPE}\n")
    home = tmp_path / "prefect-home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false")
    run = subprocess.run(
        [sys.executable, "-m", "om_ingest.cli", "ingest", str(path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 2, run.stderr[-2000:]
    assert run.stderr.strip().splitlines()[-1].startswith(f"error: {path}:3 openmetadata.jwt_token")
    assert home.exists()  # the early boot did run
    assert _processes_with_env(f"PREFECT_HOME={home}") == []


def _processes_with_env(entry: str) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            with contextlib.suppress(OSError):
                if entry.encode() in (proc / "environ").read_bytes().split(b"\0"):
                    found.append(int(proc.name))
    return found


def test_killed_run_leaves_valid_audit_and_resumes_without_duplicates(tmp_path: Path) -> None:
    from om_ingest.sandbox import FaultConfig, ThreadedSandbox

    n = 30
    entities: list[dict[str, Any]] = [
        {"type": "database_service", "name": f"svc{i:02d}"} for i in range(n)
    ]
    config = tmp_path / "many.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "metadata": {"name": "many"},
                "openmetadata": {"host": "${OM_HOST}", "jwt_token": "${OM_JWT}"},
                "entities": entities,
            }
        )
    )
    audit = tmp_path / "audit"
    with ThreadedSandbox(JWT, faults=FaultConfig(latency_ms=150)) as sandbox:
        env = {
            **os.environ,
            "OM_HOST": sandbox.host_port,
            "OM_JWT": JWT,
            "PREFECT_HOME": str(tmp_path / "prefect"),
        }
        env.pop("PREFECT_API_URL", None)
        command = [
            sys.executable,
            "-m",
            "om_ingest.cli",
            "ingest",
            str(config),
            "--audit-dir",
            str(audit),
        ]
        # Its own process group: the CLI's ephemeral Prefect server dies with it.
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
        )
        try:
            deadline = time.monotonic() + 240
            while time.monotonic() < deadline:
                files = list(audit.rglob("*.jsonl"))
                if files and len(read_events(files[0])[0]) >= 5:
                    break
                assert process.poll() is None, process.communicate()[1].decode()[-2000:]
                time.sleep(0.2)
            os.killpg(process.pid, signal.SIGKILL)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(30)
        first_audit = next(audit.rglob("*.jsonl"))
        events, torn = read_events(first_audit)
        assert 5 <= len(events) < n and torn == 0
        assert not list(audit.rglob("*.summary.json"))  # the killed run wrote no summary

        done = {e["fqn"] for e in events}
        rerun = subprocess.run(command, env=env, capture_output=True, timeout=400)
        assert rerun.returncode == 0, rerun.stderr.decode()[-2000:]
        created = [e for e in sandbox.write_calls() if e["status"] == 201]
        assert len(created) == n  # every entity exists exactly once
        client = make_sdk_client(sandbox.url, JWT)
        from metadata.generated.schema.entity.services.databaseService import DatabaseService

        assert len(list(client.list_all_entities(entity=DatabaseService))) == n
        second_audit = next(p for p in audit.rglob("*.jsonl") if p != first_audit)
        rerun_events, torn = read_events(second_audit)
        assert rerun_events.pop()["operation"] == "RUN"  # entity events, then the run's
        assert torn == 0 and len(rerun_events) == n
        for event in rerun_events:
            expected = "SKIP" if event["fqn"] in done else "CREATE"
            assert event["operation"] == expected, event
        assert JWT not in rerun.stdout.decode() + rerun.stderr.decode()
