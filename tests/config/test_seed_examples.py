"""The seed plan's two example configs, kept verbatim under `data/`: they validate except for
the sources that do not exist yet (postgres, airflow), and, with only those sources swapped
for s3_hudi, they validate, plan and (the lake one) run."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from om_ingest.config import load_config
from om_ingest.errors import ConfigError
from om_ingest.planning import build_plan
from om_ingest.sources import source_types
from om_ingest.testing.lake_writer import LakeTarget, write_synthetic_lake
from om_ingest.testing.moto_s3 import MotoS3Server

DATA = Path(__file__).parent / "data"
SIMPLE = DATA / "seed_simple_database.yaml"
MULTI = DATA / "seed_multi_source_profiling.yaml"


@pytest.mark.parametrize(
    ("path", "line", "where", "source_type"),
    [(SIMPLE, 10, "sources[0].type", "postgres"), (MULTI, 18, "sources[1].type", "airflow")],
)
def test_the_originals_fail_only_on_their_missing_source_type(
    path: Path, line: int, where: str, source_type: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert str(info.value) == (
        f"{path}:{line} {where}: unknown source type {source_type!r} "
        f"(available: {', '.join(source_types())})"
    )


def swapped(path: Path, tmp_path: Path, sources: dict[str, dict[str, Any]]) -> Path:
    """The original with the named sources replaced (or removed, with the entities they
    discover, when given `{}`): nothing else changes."""
    data = yaml.safe_load(path.read_text())
    gone = {name for name, source in sources.items() if not source}
    data["sources"] = [
        {**s, **sources[s["name"]]} if sources.get(s["name"]) else s
        for s in data["sources"]
        if s["name"] not in gone
    ]
    data["entities"] = [
        e for e in data["entities"] if (e.get("discovery") or {}).get("source") not in gone
    ]
    out = tmp_path / path.name
    out.write_text(yaml.safe_dump(data, sort_keys=False))
    return out


def test_simple_database_with_an_s3_hudi_source_validates_and_plans(tmp_path: Path) -> None:
    lake = {"type": "s3_hudi", "properties": {"bucket": "localhost", "database": "mydb"}}
    loaded = load_config(swapped(SIMPLE, tmp_path, {"local-postgres": lake}), env={})
    discovery = loaded.config.entities[2].discovery
    assert discovery is not None and discovery.filter.schema_ == "public"
    plan = build_plan(loaded.config.entities)
    assert {p.fqn for p in plan.order} == {
        "LocalPostgres",
        "LocalPostgres.mydb",
        "<tables from local-postgres>",
    }


def test_multi_source_validates_with_seed_metric_names(tmp_path: Path) -> None:
    loaded = load_config(swapped(MULTI, tmp_path, {"airflow-prod": {}}), env={})
    config = loaded.config
    assert config.openmetadata.host is None  # omitted: resolved from the environment
    profiling = config.entities[0].profiling
    assert profiling is not None and profiling.metrics == ["row_count", "null_count"]
    assert profiling.enabled and profiling.sample_percentage == 5  # the defaults' settings


@pytest.fixture(scope="module")
def datalake() -> Iterator[MotoS3Server]:
    with MotoS3Server() as moto:
        client = moto.s3_client()
        client.create_bucket(Bucket="company-datalake")
        write_synthetic_lake(LakeTarget.s3(client, "company-datalake"), "", 2, 4, 40)
        yield moto


def test_multi_source_runs_without_openmetadata_section_or_database_schema(
    datalake: MotoS3Server, om_env: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.ingest import ingest

    lake = {
        "properties": {
            "bucket": "company-datalake",
            "endpoint_url": datalake.endpoint_url,
            "aws_access_key_id": "testing",
            "aws_secret_access_key": "testing",
        }
    }
    config = swapped(MULTI, tmp_path, {"airflow-prod": {}, "data-lake": lake})
    monkeypatch.chdir(tmp_path)  # the seed's config keeps audit and profiles in ./
    summary = ingest(str(config))
    assert summary["outcomes"] == {"success": 3 + 2}
    tables = sorted(p["fqn"] for p in summary["profiles"])
    assert tables == [f"data-lake.company-datalake.default.table_0000{i}" for i in range(2)]
    for entry in summary["profiles"]:  # null_percentage: the null count and its proportion
        profile = json.loads(Path(entry["file"]).read_text())
        computed = {m for c in profile["columns"] for m in c["computed_by"]}
        assert "null_count" in computed and computed <= {"row_count", "null_count"}
        assert all(c["null_proportion"] is not None for c in profile["columns"])
