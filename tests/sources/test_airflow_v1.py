"""`type: airflow` with `api_version: v1` against a real Airflow 2 webserver (`/api/v1`, basic
auth): the DAGs in `airflow_dags/` become the same pipelines with their tasks, real runs
(`airflow dags test`) their statuses, and datasets lineage edges. Airflow 2's API lists a
dataset's producing tasks and the DAGs it schedules but not task inlets, so there a DAG reads
only the datasets that schedule it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from om_ingest.config.models import SourceConfig
from om_ingest.errors import SourceError
from om_ingest.sandbox.testing import make_sdk_client
from om_ingest.sources import get_source
from om_ingest.testing.servers import AirflowServer
from tests.conftest import JWT
from tests.flows.test_ingest_flow import audit_events, run
from tests.sources.discovery_config import tables_config
from tests.sources.test_airflow import BRANCHING_RUN, assert_sales_etl, config, source

pytestmark = pytest.mark.e2e


def v1_source(server: AirflowServer, **properties: Any) -> dict[str, Any]:
    return source(server, api_version="v1", include_paused=True, **properties)


def test_v1_discovers_pipelines_tasks_statuses_and_lineage_from_airflow_2(
    airflow2: AirflowServer, om_env: Any, tmp_path: Path
) -> None:
    from metadata.generated.schema.entity.data.pipeline import Pipeline
    from metadata.generated.schema.entity.data.table import Table

    airflow2.airflow("dags", "test", "branching", "2026-01-02")
    run(tables_config(tmp_path, "core.orders", "raw.orders_raw", "mart.daily_orders"))
    path = config(tmp_path, [v1_source(airflow2)])
    events = {e["fqn"]: e for e in audit_events(run(path))}
    edge = '"wh.sales.core.orders → wh.sales.mart.daily_orders via af.orders_report"'
    assert {fqn: e["operation"] for fqn, e in events.items()} == {
        "af": "CREATE",
        "af.branching": "CREATE",
        "af.orders_report": "CREATE",
        "af.sales_etl": "CREATE",
        "af.branching: s3://lake/branch_report": "SKIP",
        edge: "CREATE",
    }  # no orders_raw → orders edge: Airflow 2 does not list sales_etl's task inlet

    client = make_sdk_client(om_env.url, JWT)
    tasks = assert_sales_etl(client, f"{airflow2.url}/dags/sales_etl/grid", "@daily")
    assert str(tasks["extract"].sourceUrl.root) == (
        f"{airflow2.url}/dags/sales_etl/grid?task_id=extract"
    )

    # the run of branching, read through /api/v1, is the pipeline's status in OM
    (held,) = client.list_pipeline_statuses("af.branching", 0, 2**62)
    assert held.executionStatus.value == "Successful"
    assert {t.name: t.executionStatus.value for t in held.taskStatus} == BRANCHING_RUN

    orders = client.get_by_name(Table, "wh.sales.core.orders")
    lineage = client.get_lineage_by_id(Table, str(orders.id.root), up_depth=0, down_depth=1)
    (downstream,) = lineage["downstreamEdges"]
    report_id = str(client.get_by_name(Pipeline, "af.orders_report").id.root)
    assert downstream["lineageDetails"]["pipeline"]["id"] == report_id

    again = {e["fqn"]: e["operation"] for e in audit_events(run(path))}
    assert again["af.branching"] == "SKIP" and again[edge] == "SKIP"  # the status not re-sent


def test_v1_refuses_a_wrong_password_with_a_clear_error(airflow2: AirflowServer) -> None:
    refused = get_source(
        SourceConfig.model_validate(v1_source(airflow2, password="airflow2-pw-SECRET-9c1e"))
    )
    with pytest.raises(SourceError) as info:
        refused.validate_connection()
    message = str(info.value)
    assert message.startswith(f"source 'af': Airflow at {airflow2.url} refused the username/")
    assert "(401 " in message and "SECRET" not in message
