"""Run metadata checked against the servers' own records: OpenMetadata API calls by verb
against the sandbox's request log, bytes read against what an S3 server served, CPU and wall
seconds, and the config's run tags in the summary, the artifact and the audit."""

from __future__ import annotations

import asyncio
import json
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import yaml

from flows.ingest import ingest
from om_ingest.audit import read_events
from om_ingest.sources.reads import SourceReads
from om_ingest.testing.lake_writer import LakeTarget, write_table
from om_ingest.testing.moto_s3 import local_s3_client
from tests.lake_configs import lake_config, write_config

TAGS = {"governance": ["pii", "gdpr"], "business": ["cost-center:finance", "Sales Ops"]}


class CountingS3:
    """moto's S3 app in this process behind a WSGI wrapper that records, per request, the
    verb, the client (User-Agent) and the bytes of the answer's body actually sent."""

    def __init__(self) -> None:
        from moto.server import DomainDispatcherApplication, create_backend_app
        from werkzeug.serving import make_server

        self.served: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        inner = DomainDispatcherApplication(create_backend_app)

        def app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
            body = inner(environ, start_response)
            sent = 0
            try:
                for chunk in body:
                    sent += len(chunk)
                    yield chunk
            finally:
                getattr(body, "close", lambda: None)()
                with self._lock:
                    self.served.append(
                        {
                            "method": environ["REQUEST_METHOD"],
                            "path": environ.get("PATH_INFO", ""),
                            "agent": environ.get("HTTP_USER_AGENT", ""),
                            "bytes": sent,
                        }
                    )

        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.endpoint_url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def s3_client(self) -> Any:
        return local_s3_client(self.endpoint_url)

    def bytes_to(self, *agents: str) -> int:
        with self._lock:
            return sum(r["bytes"] for r in self.served if r["agent"].startswith(agents))

    def __enter__(self) -> CountingS3:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._thread.join(10)


def _lake(tmp_path: Path, s3: CountingS3, **top: Any) -> str:
    client = s3.s3_client()
    client.create_bucket(Bucket="lake")
    rows = pa.table({"id": pa.array(range(40), pa.int64()), "v": [f"r{i}" for i in range(40)]})
    write_table(LakeTarget.s3(client, "lake"), "warehouse/orders", rows, record_key="id")
    config = lake_config(
        tmp_path,
        s3,  # type: ignore[arg-type]
        "svc.db.s",
        properties={"full_refresh": True},
        profiling={"enabled": True, "storage": {"base_path": str(tmp_path / "profiles")}},
        run={"tags": TAGS},
        **top,
    )
    config["metadata"] = {"name": "run-metadata"}  # its own artifact key
    return write_config(tmp_path, config)


def test_run_metadata_matches_the_servers_records(om_env: Any, tmp_path: Path) -> None:
    with CountingS3() as s3:
        config = _lake(tmp_path, s3)
        s3.served.clear()  # what the run reads, not what the test wrote
        summary = ingest(config)
        served_to_us = s3.bytes_to("Boto3", "aws-sdk-cpp")  # boto3 and pyarrow's S3 client
        served_to_hudi_rs = s3.bytes_to("object_store")  # hudi-rs (Rust object_store)
        listed = s3.s3_client().list_objects_v2(Bucket="lake", Prefix="warehouse/")["Contents"]
        footers = sum(o["Size"] for o in listed if o["Key"].endswith(".parquet"))

    # every HTTP request the SDK sent is in the sandbox's log, and nothing else is
    logged = Counter(entry["method"] for entry in om_env.requests())
    by_verb = summary["api_calls_by_verb"]
    assert {verb: n for verb, n in by_verb.items() if n} == dict(logged)
    assert set(by_verb) >= {"GET", "PUT", "PATCH", "POST", "DELETE"}
    assert by_verb["PUT"] > 0 and by_verb["GET"] > 0
    # the entities' own SDK calls are part of those requests
    assert 0 < summary["api_calls"] <= sum(by_verb.values())

    read = summary["bytes_read"]["lake"]
    assert read["bytes"] == served_to_us > 0
    assert read["bytes"] > footers > 0  # the footers (small files: read whole) and listings
    assert "hudi-rs" in read["measured"] and "not measured" in read["measured"]
    assert served_to_hudi_rs > 0  # real, and said to be unmeasured rather than guessed

    assert summary["cpu_time_sec"] > 0 and summary["wall_time_sec"] >= 0
    assert summary["tags"] == TAGS

    # the audit: the last event is the run's, carrying the same metadata; the summary file too
    events, torn = read_events(summary["audit_file"])
    assert torn == 0
    run_event = events[-1]
    assert (run_event["operation"], run_event["entity_type"]) == ("RUN", "run")
    for name in ("cpu_time_sec", "wall_time_sec", "api_calls_by_verb", "bytes_read", "tags"):
        assert run_event[name] == summary[name]
    stored = json.loads(Path(summary["audit_file"].replace(".jsonl", ".summary.json")).read_text())
    assert stored["api_calls_by_verb"] == by_verb and stored["tags"] == TAGS

    artifact = _artifact("ingest-summary-run-metadata")
    assert f"| bytes read from lake | {read['bytes']} |" in artifact
    assert f"| OpenMetadata requests PUT | {by_verb['PUT']} |" in artifact
    assert "| governance tags | pii, gdpr |" in artifact
    assert "| business tags | cost-center:finance, Sales Ops |" in artifact


def test_a_source_that_reads_nothing_reads_0_and_one_that_cannot_count_says_so(
    om_env: Any, tmp_path: Path
) -> None:
    """A declared-only config (no source read): each source read 0 bytes, and says what it
    would have counted; a source type that measures nothing is null with "not measured",
    never 0."""
    config = lake_config(tmp_path, None, "svc.db.s", run={"tags": {"business": ["x"]}})
    config["sources"].append(
        {
            "name": "shop",
            "type": "postgres",
            "properties": {"host": "127.0.0.1", "database": "shop", "username": "u"},
        }
    )
    config["entities"] = []
    summary = ingest(write_config(tmp_path, config))
    assert summary["bytes_read"]["shop"]["bytes"] == 0
    assert "libpq" in summary["bytes_read"]["shop"]["measured"]
    assert SourceReads().report({"shop": None}) == {
        "shop": {"bytes": None, "measured": "not measured"}
    }
    assert summary["bytes_read"]["lake"]["bytes"] == 0
    assert summary["tags"] == {"governance": [], "business": ["x"]}
    assert (
        summary["api_calls_by_verb"]["GET"]
        == Counter(e["method"] for e in om_env.requests())["GET"]
    )


@pytest.mark.parametrize(
    ("tags", "message"),
    [
        (
            {"governance": ["pii", "pii"]},
            "run.tags.governance: tags listed twice: pii",
        ),
        ({"business": [" padded"]}, "run.tags.business[0]: String should match pattern"),
        ({"finance": ["x"]}, "run.tags.finance: unknown key (allowed: governance, business)"),
    ],
)
def test_bad_run_tags_are_config_errors_with_their_line(
    tmp_path: Path, tags: dict[str, Any], message: str
) -> None:
    from om_ingest.config import load_config
    from om_ingest.errors import ConfigError

    path = tmp_path / "tags.yaml"
    path.write_text(yaml.safe_dump({"metadata": {"name": "t"}, "run": {"tags": tags}}))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert f"{path}:" in str(info.value) and message in str(info.value)


def _artifact(key: str) -> str:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    async def latest() -> Any:
        async with get_client() as client:
            found = await client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key]))
            )
            return max(found, key=lambda artifact: artifact.created)

    return str(asyncio.run(latest()).data)
