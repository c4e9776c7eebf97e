"""Every profile is audited and counted — pushed, not pushed and why, failed and why — and
`profiling.on_error` decides whether a failed one fails the run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from click.testing import CliRunner

from flows.ingest import IngestionFailed, ingest
from om_ingest.audit import read_events
from om_ingest.cli.main import cli
from om_ingest.testing.lake_writer import LakeTarget, write_table
from om_ingest.testing.moto_s3 import MotoS3Server
from tests.lake_configs import lake_config, write_config


def profiles_config(tmp_path: Path, moto: MotoS3Server, **profiling: Any) -> str:
    profiling = {
        "enabled": True,
        "sample_rows": 10,
        "storage": {"base_path": str(tmp_path / "profiles")},
        **profiling,
    }
    config = lake_config(
        tmp_path, moto, "svc.db.s", properties={"full_refresh": True}, profiling=profiling
    )
    return write_config(tmp_path, config)


def profile_events(audit_file: str) -> dict[str, dict[str, Any]]:
    events, torn = read_events(audit_file)
    assert torn == 0
    return {e["fqn"]: e for e in events if e["operation"] == "PROFILE"}


def test_profile_outcomes_are_audited_counted_and_fail_the_run_on_request(
    om_env: Any, tmp_path: Path
) -> None:
    rows = pa.table({"id": pa.array(range(5), pa.int64())})
    with MotoS3Server() as moto:
        s3 = moto.s3_client()
        s3.create_bucket(Bucket="lake")
        for name in ("good", "broken"):
            write_table(LakeTarget.s3(s3, "lake"), f"warehouse/{name}", rows, record_key="id")
        # Its schema is in the commit metadata (the table ingests); its data does not read.
        (data_file,) = [
            o["Key"]
            for o in s3.list_objects_v2(Bucket="lake", Prefix="warehouse/broken/")["Contents"]
            if o["Key"].endswith(".parquet")
        ]
        s3.put_object(Bucket="lake", Key=data_file, Body=b"not parquet")

        dry = ingest(profiles_config(tmp_path, moto), dry_run=True)
        events = profile_events(dry["audit_file"])
        assert (events["svc.db.s.good"]["outcome"], events["svc.db.s.good"]["reason"]) == (
            "not_pushed",
            "dry run",
        )

        # warn (the default): the run succeeds, the failure is in the audit and the summary.
        summary = ingest(profiles_config(tmp_path, moto))
        assert summary["profile_outcomes"] == {"pushed": 1, "failed": 1}
        events = profile_events(summary["audit_file"])
        assert events["svc.db.s.good"]["outcome"] == "pushed"
        broken = events["svc.db.s.broken"]
        assert broken["outcome"] == "failed"
        assert "s3://lake/warehouse/broken: cannot read a sample" in broken["error"]
        on_disk = json.loads(
            Path(summary["audit_file"].removesuffix(".jsonl") + ".summary.json").read_text()
        )
        assert on_disk["profile_outcomes"] == {"pushed": 1, "failed": 1}
        assert on_disk["failed_profiles"][0]["fqn"] == "svc.db.s.broken"

        # fail: the same failure fails the run, with its summary, and the CLI exits 1.
        config = profiles_config(tmp_path, moto, on_error="fail")
        with pytest.raises(IngestionFailed) as failed:
            ingest(config)
        assert "1 profile(s) failed (profiling.on_error: fail)" in str(failed.value)
        assert failed.value.summary.profile_outcomes == {"pushed": 1, "failed": 1}
        assert failed.value.summary.outcomes == {"skipped": 3 + 2}  # the entities are fine
        result = CliRunner().invoke(cli, ["ingest", config], env={"COLUMNS": "250"})
        assert result.exit_code == 1, result.output
        assert "profiles failed" in result.stdout and "profile(s) failed" in result.stderr


def test_a_rate_limited_profile_push_is_retried_not_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Profile pushes wait out 429s like writes do: every profile ends pushed."""
    from om_ingest.sandbox import FaultConfig, ThreadedSandbox
    from tests.conftest import JWT

    rows = pa.table({"id": pa.array(range(5), pa.int64())})
    faults = FaultConfig(fail_rate=0.0, fail_status=429, seed=3)
    with MotoS3Server() as moto, ThreadedSandbox(JWT, faults=faults) as om:
        monkeypatch.setenv("OM_HOST", om.host_port)
        monkeypatch.setenv("OM_JWT", JWT)
        s3 = moto.s3_client()
        s3.create_bucket(Bucket="lake")
        for name in ("a", "b", "c"):
            write_table(LakeTarget.s3(s3, "lake"), f"warehouse/{name}", rows, record_key="id")
        config = profiles_config(tmp_path, moto)
        assert ingest(config)["outcomes"] == {"success": 6}
        om.clear_requests()
        faults.fail_rate = 0.5  # the re-run's writes are nothing; its profile pushes are hit
        summary = ingest(config)
        limited = [r for r in om.requests() if r["injected"]]

    assert limited and all(r["status"] == 429 for r in limited)
    assert summary["profile_outcomes"] == {"pushed": 3}


def test_retention_keeps_the_last_snapshots_of_every_profiled_table(
    om_env: Any, tmp_path: Path
) -> None:
    """`storage.keep_last` holds after each run for every table (retention runs once per
    run, after its profiles), and an old snapshot past `max_age_days` goes too."""
    import os

    rows = pa.table({"id": pa.array(range(5), pa.int64())})
    names = ("a", "b", "c")
    with MotoS3Server() as moto:
        s3 = moto.s3_client()
        s3.create_bucket(Bucket="lake")
        for name in names:
            write_table(LakeTarget.s3(s3, "lake"), f"warehouse/{name}", rows, record_key="id")
        config = profiles_config(
            tmp_path, moto, suggest_expectations=True, storage={
                "base_path": str(tmp_path / "profiles"), "keep_last": 2, "max_age_days": 30
            },
        )  # fmt: skip
        stale = tmp_path / "profiles" / "data" / "2020-01-01" / "svc.db.s.gone_20200101T0Z.json"
        stale.parent.mkdir(parents=True)
        stale.write_text("{}")
        os.utime(stale, (0, 0))
        for run in range(3):
            summary = ingest(config)
            assert summary["profile_outcomes"] == {"pushed": len(names)}
            for kind in ("data", "expectations"):
                files = sorted(p.name for p in (tmp_path / "profiles" / kind).glob("*/*.json"))
                per_table = {n: [f for f in files if f.startswith(f"svc.db.s.{n}_")] for n in names}
                assert {len(f) for f in per_table.values()} == {min(run + 1, 2)}, files
            assert not stale.exists()
