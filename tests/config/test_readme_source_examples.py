"""The README's Airflow, MLflow, OpenSearch and Kafka source examples validate as written
(`om-ingest validate`'s checks: the plugin's properties, the discovered entity type, the filter)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from om_ingest.config import load_config

README = Path(__file__).resolve().parents[2] / "README.md"


def example(section: str) -> str:
    text = README.read_text()
    body = text.split(f"## {section}\n", 1)[1]
    found = re.search(r"```yaml\n(.*?)```", body, re.S)
    assert found is not None
    return found.group(1)


@pytest.mark.parametrize(
    ("section", "kind", "secret"),
    [
        ("Airflow source", "pipeline", "password"),
        ("MLflow source", "mlmodel", "token"),
        ("OpenSearch source", "search_index", "password"),
        ("Kafka source", "topic", "schema_registry"),
    ],
)
def test_the_readme_source_example_validates(
    section: str, kind: str, secret: str, tmp_path: Path
) -> None:
    path = tmp_path / "example.yaml"
    path.write_text(example(section))
    env = {
        "AIRFLOW_USER": "ops",
        "AIRFLOW_PASSWORD": "pw-SECRET-1",
        "MLFLOW_TRACKING_TOKEN": "tok-SECRET-2",
        "OPENSEARCH_USER": "ingest",
        "OPENSEARCH_PASSWORD": "pw-SECRET-3",
        "KAFKA_BOOTSTRAP_SERVERS": "kafka:9092",
        "SCHEMA_REGISTRY_URL": "http://registry:8081",
        "SCHEMA_REGISTRY_AUTH": "ops:sr-SECRET-3",
    }
    config = load_config(path, env=env).config
    (entity,) = config.entities
    assert entity.type.value == kind and entity.discovery is not None
    (source,) = config.sources
    assert "SECRET" not in repr(source.properties[secret])  # held as a secret
