"""`type: mlflow` against a real MLflow tracking server (basic-auth app): scikit-learn models
logged with signatures through the server become ML models in the sandbox; a new version
with another signature is a feature change; refused credentials and a server that is down
fail that source with one line while the rest of the run goes on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from om_ingest.sandbox.testing import make_sdk_client
from om_ingest.testing.servers import MlflowServer, free_port
from tests.conftest import JWT
from tests.flows.test_ingest_flow import audit_events, run, run_failing
from tests.sources.discovery_config import discovery_config, tables_config
from tests.sources.http_answers import declared_bodies

pytestmark = pytest.mark.e2e

LOG_MODEL = """
import mlflow, numpy as np, pandas as pd
from mlflow.models import infer_signature
from sklearn.linear_model import LogisticRegression

def log(name, X, params, metrics, alias=None):
    y = pd.Series([0, 1, 0, 1], name="churned")
    mlflow.set_experiment(name)
    with mlflow.start_run():
        model = LogisticRegression(**params).fit(X.select_dtypes("number"), y)
        mlflow.log_params(params)
        mlflow.log_metrics(metrics)
        info = mlflow.sklearn.log_model(
            model, name="model", signature=infer_signature(X, y), registered_model_name=name
        )
    if alias:
        mlflow.MlflowClient().set_registered_model_alias(
            name, alias, info.registered_model_version
        )
"""

STEPS = """
input()  # first: two models, churn's age column named as coming from a warehouse table
log("churn", pd.DataFrame({"age": np.array([30, 40, 50, 60], dtype="int64"),
    "income": [1.0, 2.5, 3.0, 4.5], "plan": ["a", "b", "a", "b"]}),
    {"C": 0.5, "max_iter": 200}, {"accuracy": 0.75, "val/auc": 0.8})
mlflow.MlflowClient().set_registered_model_tag(
    "churn", "om.feature_source.age", "wh.sales.core.customers.age")
mlflow.MlflowClient().set_registered_model_tag(
    "churn", "om.feature_source.income", "wh.sales.core.gone.income, wh.sales.core.customers.inc")
log("scratch_model", pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0]}), {"C": 1.0}, {})
print("first", flush=True)
input()  # second: a new churn version with another signature
log("churn", pd.DataFrame({"age": ["30", "40", "50", "60"], "plan": ["a", "b", "a", "b"],
    "region": ["n", "s", "n", "s"], "tenure": [1, 2, 3, 4]}),
    {"C": 0.25, "max_iter": 300}, {"accuracy": 0.8}, alias="champion")
print("second", flush=True)
"""
"""Both steps in one interpreter (mlflow and scikit-learn imported once, not twice)."""


def config(tmp_path: Path, sources: list[dict[str, Any]], name: str = "ml") -> str:
    return discovery_config(tmp_path, "mlmodel", sources, name, {"exclude": ["scratch_*"]})


def source(server: MlflowServer, name: str = "ml", **properties: Any) -> dict[str, Any]:
    auth = {"username": server.username, "password": server.password}
    return {
        "name": name,
        "type": "mlflow",
        "properties": {"tracking_uri": server.tracking_uri, **(properties or auth)},
    }


def test_registered_models_become_ml_models_and_a_new_signature_is_a_feature_change(
    mlflow: MlflowServer, om_env: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with mlflow.python_session(LOG_MODEL + STEPS) as step:
        step("first")
        path = config(tmp_path, [source(mlflow)])
        _check_first_version(path, om_env, tmp_path, monkeypatch, mlflow.tracking_uri)
        step("second")
    _check_second_version(path, om_env)


def _check_first_version(
    path: str, om_env: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tracking_uri: str
) -> None:
    from metadata.generated.schema.entity.data.mlmodel import MlModel
    from metadata.generated.schema.entity.data.table import Table
    from metadata.generated.schema.entity.services.mlmodelService import MlModelService

    run(tables_config(tmp_path, "core.customers"))  # core.gone is not in OM
    with declared_bodies(monkeypatch, tracking_uri) as declared:
        summary = run(path)
    # bytes read: the bodies MLflow declared it sent (registry, run, MLmodel through the proxy)
    assert summary["bytes_read"]["ml"]["bytes"] == sum(declared) > 0 and len(declared) >= 4
    events = {e["fqn"]: e for e in audit_events(summary)}
    assert events["ml"]["operation"] == "CREATE" and events["ml.churn"]["operation"] == "CREATE"
    assert "ml.scratch_model" not in events  # filtered out
    # the features' source tables (om.feature_source.<feature> tags) → the model
    edge = events['"wh.sales.core.customers → ml.churn"']
    assert (edge["entity_type"], edge["operation"], edge["warnings"]) == ("lineage", "CREATE", [])
    missing = events['"wh.sales.core.gone → ml.churn"']
    assert (missing["operation"], missing["outcome"]) == ("SKIP", "skipped")
    assert missing["warnings"] == ["table wh.sales.core.gone not in OpenMetadata (yet)"]

    client = make_sdk_client(om_env.url, JWT)
    customers = client.get_by_name(Table, "wh.sales.core.customers")
    lineage = client.get_lineage_by_id(Table, str(customers.id.root), up_depth=0, down_depth=1)
    (downstream,) = lineage["downstreamEdges"]
    assert downstream["toEntity"] == str(client.get_by_name(MlModel, "ml.churn").id.root)
    service = client.get_by_name(MlModelService, "ml")
    assert service.serviceType.value == "Mlflow"
    model = client.get_by_name(MlModel, "ml.churn", fields=["extension"])
    assert model.algorithm == "sklearn"
    assert [(f.model_dump(mode="json")["name"], f.dataType.value) for f in model.mlFeatures] == [
        ("age", "numerical"),
        ("income", "numerical"),
        ("plan", "categorical"),
    ]
    sources = {
        f.model_dump(mode="json")["name"]: [s.fullyQualifiedName.root for s in f.featureSources]
        for f in model.mlFeatures
        if f.featureSources
    }  # the missing table's source left out (its edge said so)
    assert sources == {
        "age": ["wh.sales.core.customers.age"],
        "income": ["wh.sales.core.customers.inc"],
    }
    assert model.target.root == "churned"
    assert {(p.name, p.value) for p in model.mlHyperParameters} == {
        ("C", "0.5"),
        ("max_iter", "200"),
    }
    extension = model.extension.root
    assert extension["mlflow_metric_accuracy"] == 0.75 and extension["mlflow_metric_val_auc"] == 0.8
    assert extension["mlflow_latest_version"] == "1"
    assert str(model.mlStore.storage).startswith("mlflow-artifacts:/")
    assert str(model.sourceUrl.root).endswith("/#/models/churn/versions/1")


def _check_second_version(path: str, om_env: Any) -> None:
    from metadata.generated.schema.entity.data.mlmodel import MlModel

    client = make_sdk_client(om_env.url, JWT)
    preview = {e["fqn"]: e for e in audit_events(run(path, dry_run=True))}
    changes = {
        (c["change"], c["path"], c["before"], c["after"])
        for c in preview["ml.churn"]["schema_changes"]
    }
    assert changes == {
        ("type_changed", "age", "numerical", "categorical"),
        ("removed", "income", "numerical", None),
        ("added", "region", None, "categorical"),
        ("added", "tenure", None, "numerical"),
    }
    applied = {e["fqn"]: e for e in audit_events(run(path))}
    assert applied["ml.churn"]["operation"] == "UPDATE"
    model = client.get_by_name(MlModel, "ml.churn", fields=["extension"])
    features = [f.model_dump(mode="json") for f in model.mlFeatures]
    assert [(f["name"], f["dataType"]) for f in features] == [
        ("age", "categorical"),
        ("plan", "categorical"),
        ("region", "categorical"),
        ("tenure", "numerical"),
    ]
    assert model.extension.root["mlflow_aliases"] == "champion=2"
    assert model.extension.root["mlflow_versions"] == "1,2"
    assert {(p.name, p.value) for p in model.mlHyperParameters} == {
        ("C", "0.25"),
        ("max_iter", "300"),
    }


def test_refused_token_and_unreachable_server_fail_their_source_only(
    mlflow: MlflowServer, om_env: Any, tmp_path: Path
) -> None:
    token = "mlflow-token-SECRET-93c1"
    sources = [
        source(mlflow, "refused", token=token),
        source(mlflow, "down", tracking_uri=f"http://127.0.0.1:{free_port()}"),
        source(mlflow, "ok"),
    ]
    sources[1]["properties"].update(username="u", password="p")
    failure = run_failing(config(tmp_path, sources))
    errors = {r.fqn: r.error or "" for r in failure.results if r.outcome.value == "failed"}
    assert set(errors) == {"refused", "down"}
    assert errors["refused"] == (
        f"source 'refused': MLflow at {mlflow.tracking_uri} refused the token (401 Unauthorized)"
    )
    assert "cannot reach MLflow at http://127.0.0.1:" in errors["down"]
    assert "connection refused" in errors["down"]
    others = {r.fqn: r.outcome.value for r in failure.results}
    assert others["ok"] == "success"  # the third source went on
    audit = Path(failure.summary.audit_file).read_text()
    assert token not in audit
