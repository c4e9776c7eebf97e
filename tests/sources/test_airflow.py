"""`type: airflow` against a real Airflow 3 API server: the DAGs in `airflow_dags/` become
pipelines with their tasks; a real run (`airflow dags test`) gives task states; a DAG edited
(a task added, a dependency moved) is a detected and applied change, and the lineage edge its
changed outlet no longer produces is a stale edge (reported, then removed); a refused password
or a server that is down fails that source alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from om_ingest.config.models import SourceConfig
from om_ingest.sandbox.testing import make_sdk_client
from om_ingest.sources import get_source
from om_ingest.sources.airflow_dags.assets import Asset
from om_ingest.testing.servers import AirflowServer, free_port
from tests.conftest import JWT
from tests.flows.test_ingest_flow import audit_events, run, run_failing
from tests.sources.discovery_config import discovery_config, tables_config
from tests.sources.http_answers import declared_bodies

pytestmark = pytest.mark.e2e

EDITED = (
    (Path(__file__).parent / "airflow_dags" / "sales_etl.py")
    .read_text()
    .replace(
        "    extract >> transform >> load\n",
        '    publish = BashOperator(task_id="publish", bash_command="echo publish")\n'
        "    extract >> [transform, load]\n"
        "    load >> publish\n",
    )
    .replace("outlets=[ORDERS]", 'outlets=[Asset("postgres://warehouse/sales/mart/daily")]')
)
"""sales_etl with a task added (publish, after load), a dependency moved (load now follows
extract, not transform) and its outlet changed (load writes mart.daily, not core.orders)."""


ASSET_TABLES = [
    {
        "pattern": r"postgres://warehouse/(?P<db>\w+)/(?P<schema>\w+)/(?P<table>\w+)",
        "table": "wh.{db}.{schema}.{table}",
    }
]
"""The test DAGs' postgres assets as tables of the `wh` service."""


def source(server: AirflowServer, name: str = "af", **properties: Any) -> dict[str, Any]:
    auth = {"username": server.username, "password": server.password}
    return {
        "name": name,
        "type": "airflow",
        "properties": {
            "host": server.url,
            **auth,
            "include_paused": False,
            "asset_tables": ASSET_TABLES,
            **properties,
        },
    }


def reserialized(server: AirflowServer, dag_id: str, until: str, timeout: float = 120) -> None:
    """Reserialize the DAG files until Airflow's API serves task `until` of `dag_id`: one
    `airflow dags reserialize` does not always reach the API server's reads (seen under load
    with Airflow 3.3), so it is repeated, with the file's mtime moved on, until it does."""
    import os
    import time

    import requests

    token = requests.post(
        f"{server.url}/auth/token",
        json={"username": server.username, "password": server.password},
        timeout=10,
    ).json()["access_token"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in server.dags_folder.glob("*.py"):
            os.utime(path)
        server.reserialize()
        for _ in range(10):
            answer = requests.get(
                f"{server.url}/api/v2/dags/{dag_id}/tasks",
                headers={"Authorization": f"Bearer {token}"},
                timeout=10,
            )
            if until in {task["task_id"] for task in answer.json().get("tasks", [])}:
                return
            time.sleep(0.5)
    raise AssertionError(f"Airflow never served task {until!r} of {dag_id}")


def config(tmp_path: Path, sources: list[dict[str, Any]], name: str = "af") -> str:
    return discovery_config(tmp_path, "pipeline", sources, name)


BRANCHING_RUN = {
    "choose": "Successful",
    "large": "Skipped",
    "small": "Successful",
    "done": "Successful",
}
"""The task statuses of a real run of `branching` (the branch not taken is skipped)."""


def assert_sales_etl(client: Any, dag_url: str, schedule: str) -> Any:
    """`sales_etl` as OM holds it, whichever Airflow API it came through (`dag_url` and the
    schedule's spelling differ); its tasks by name."""
    from metadata.generated.schema.entity.data.pipeline import Pipeline

    etl = client.get_by_name(Pipeline, "af.sales_etl", fields=["tasks", "extension"])
    assert etl.description.root == "Nightly sales load."
    assert str(etl.sourceUrl.root) == dag_url
    assert etl.concurrency == 4 and etl.scheduleInterval == schedule
    assert etl.startDate.root.isoformat().startswith("2026-01-01T00:00:00")
    assert etl.extension.root == {"airflow_owners": "data_eng", "airflow_tags": "nightly,sales"}
    tasks = {t.name: t for t in etl.tasks}
    assert {n: (t.taskType, t.downstreamTasks) for n, t in tasks.items()} == {
        "extract": ("BashOperator", ["transform"]),
        "transform": ("BashOperator", ["load"]),
        "load": ("EmptyOperator", None),
    }
    assert tasks["extract"].description.root == "Pull raw orders."
    return tasks


def test_dags_become_pipelines_and_an_edited_dag_is_an_applied_change(
    airflow: AirflowServer, om_env: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from metadata.generated.schema.entity.data.pipeline import Pipeline
    from metadata.generated.schema.entity.services.pipelineService import PipelineService

    run(tables_config(tmp_path, "core.orders"))  # orders_raw is not in OM yet
    path = config(tmp_path, [source(airflow)])
    with declared_bodies(monkeypatch, airflow.url) as declared:
        summary = run(path)
    # bytes read: the bodies Airflow declared it sent (token exchange and API answers)
    assert summary["bytes_read"]["af"]["bytes"] == sum(declared) > 0 and len(declared) > 3
    events = {e["fqn"]: e for e in audit_events(summary)}
    edge = '"wh.sales.raw.orders_raw → wh.sales.core.orders via af.sales_etl"'
    assert {fqn: e["operation"] for fqn, e in events.items()} == {
        "af": "CREATE",
        "af.branching": "CREATE",
        "af.sales_etl": "CREATE",
        "af.branching: s3://lake/branch_report": "SKIP",
        edge: "SKIP",
    }  # orders_report is paused (include_paused: false)
    assert events["af.branching: s3://lake/branch_report"]["warnings"] == [
        "DAG branching writes asset s3://lake/branch_report, which no `asset_tables` rule "
        "maps to a table FQN: no lineage edge for it"
    ]
    assert events[edge]["warnings"] == ["table wh.sales.raw.orders_raw not in OpenMetadata (yet)"]

    client = make_sdk_client(om_env.url, JWT)
    assert client.get_by_name(PipelineService, "af").serviceType.value == "Airflow"
    assert_sales_etl(client, f"{airflow.url}/dags/sales_etl", "0 0 * * *")
    branching = client.get_by_name(Pipeline, "af.branching", fields=["tasks"])
    assert {t.name: t.downstreamTasks for t in branching.tasks}["choose"] == ["large", "small"]

    # a real run: the branch not taken is skipped; assets read and written per DAG
    airflow.airflow("dags", "test", "branching", "2026-01-02")
    connector = get_source(SourceConfig.model_validate(source(airflow)))
    (last,) = connector.runs("branching")
    assert last.status == "Successful"
    assert {t.task: t.status for t in last.tasks} == BRANCHING_RUN
    assert all(t.start is not None and t.end is not None for t in last.tasks)
    from metadata.generated.schema.entity.data.pipeline import PipelineStatus

    status = PipelineStatus.model_validate(last.as_pipeline_status())  # OM's model accepts it
    assert status.executionStatus.value == "Successful" and status.executionId == last.run_id
    assert {t.name: t.executionStatus.value for t in status.taskStatus}["large"] == "Skipped"
    assets = connector.assets()
    raw, orders = (f"postgres://warehouse/sales/{t}" for t in ("raw/orders_raw", "core/orders"))
    assert assets["sales_etl"].inlets == {Asset(raw, raw)}
    assert assets["sales_etl"].outlets == {Asset(orders, orders)}
    assert assets["orders_report"].inlets == {Asset(orders, orders)}

    # the run reaches OM as the pipeline's status, once; the edge once both tables are in OM
    run(tables_config(tmp_path, "core.orders", "raw.orders_raw"))
    second = {e["fqn"]: e for e in audit_events(run(path))}
    assert (second[edge]["operation"], second[edge]["warnings"]) == ("CREATE", [])
    from metadata.generated.schema.entity.data.table import Table

    raw_table = client.get_by_name(Table, "wh.sales.raw.orders_raw")
    lineage = client.get_lineage_by_id(Table, str(raw_table.id.root), up_depth=0, down_depth=1)
    (downstream,) = lineage["downstreamEdges"]
    orders_id = str(client.get_by_name(Table, "wh.sales.core.orders").id.root)
    assert downstream["toEntity"] == orders_id
    etl_id = str(client.get_by_name(Pipeline, "af.sales_etl").id.root)
    assert downstream["lineageDetails"]["pipeline"]["id"] == etl_id
    pushed = second["af.branching"]
    assert pushed["operation"] == "UPDATE"
    assert {c["field"]: c["after"] for c in pushed["field_changes"]} == {
        f"pipelineStatus.{status.timestamp.root}": "Successful"
    }
    (held,) = client.list_pipeline_statuses(
        "af.branching", status.timestamp.root, status.timestamp.root
    )
    assert {t.name: t.executionStatus.value for t in held.taskStatus} == {
        "choose": "Successful",
        "large": "Skipped",
        "small": "Successful",
        "done": "Successful",
    }
    rerun = {e["fqn"]: e["operation"] for e in audit_events(run(path))}
    assert rerun["af.branching"] == "SKIP" and rerun[edge] == "SKIP"

    # the DAG edited: a task added, a dependency moved
    (airflow.dags_folder / "sales_etl.py").write_text(EDITED)
    reserialized(airflow, "sales_etl", until="publish")
    preview = {e["fqn"]: e for e in audit_events(run(path, dry_run=True))}
    etl_event = preview["af.sales_etl"]
    assert etl_event["operation"] == "UPDATE"
    assert {(c["change"], c["path"], c["after"]) for c in etl_event["schema_changes"]} == {
        ("added", "publish", "BashOperator")
    }
    fields = {c["field"]: (c["before"], c["after"]) for c in etl_event["field_changes"]}
    assert fields["tasks.extract.downstreamTasks"] == (["transform"], ["load", "transform"])
    assert fields["tasks.load.downstreamTasks"] == (None, ["publish"])
    assert preview["af.branching"]["operation"] == "SKIP"
    gone = "wh.sales.raw.orders_raw → wh.sales.core.orders via af.sales_etl is gone from source"
    kept = f"stale: {gone} 'af' since the last run; kept in OpenMetadata (remove_stale: false)"
    assert (preview[edge]["operation"], preview[edge]["reason"]) == ("SKIP", kept)

    applied = {e["fqn"]: e for e in audit_events(run(path))}
    assert applied["af.sales_etl"]["operation"] == "UPDATE"
    assert (applied[edge]["operation"], applied[edge]["reason"]) == ("SKIP", kept)
    etl = client.get_by_name(Pipeline, "af.sales_etl", fields=["tasks"])
    assert {t.name: t.downstreamTasks for t in etl.tasks} == {
        "extract": ["load", "transform"],
        "transform": None,
        "load": ["publish"],
        "publish": None,
    }

    # the edge sales_etl no longer produces goes with remove_stale, unless that would remove
    # more than stale_max_percent of the edges the source's pipelines carry (1 of 1 here)
    removing = source(airflow)
    removing["remove_stale"] = True
    failed = run_failing(config(tmp_path, [removing]))
    (guarded,) = [r for r in failed.results if r.fqn == edge]
    assert guarded.outcome.value == "failed" and "1 of 1 lineage edges of source 'af'" in (
        guarded.error or ""
    )
    path = config(tmp_path, [{**removing, "stale_max_percent": 100}])
    dry = {e["fqn"]: e for e in audit_events(run(path, dry_run=True))}[edge]
    assert (dry["operation"], dry["outcome"]) == ("DELETE", "dry_run")
    assert (
        len(client.get_lineage_by_id(Table, str(raw_table.id.root), 0, 1)["downstreamEdges"]) == 1
    )
    removed = {e["fqn"]: e for e in audit_events(run(path))}[edge]
    assert (removed["operation"], removed["outcome"]) == ("DELETE", "success")
    assert removed["reason"] == f"removed: {gone} 'af' since the last run"
    assert client.get_lineage_by_id(Table, str(raw_table.id.root), 0, 1)["downstreamEdges"] == []
    assert edge not in {e["fqn"] for e in audit_events(run(path))}  # nothing stale any more


def test_a_refused_password_or_a_server_down_fails_that_source_only(
    airflow: AirflowServer, om_env: Any, tmp_path: Path
) -> None:
    password = "airflow-pw-SECRET-51d0"
    sources = [
        source(airflow, "refused", password=password),
        source(airflow, "down", host=f"http://127.0.0.1:{free_port()}"),
        source(airflow, "ok"),
    ]
    failure = run_failing(config(tmp_path, sources))
    errors = {r.fqn: r.error or "" for r in failure.results if r.outcome.value == "failed"}
    assert errors == {
        "refused": f"source 'refused': Airflow at {airflow.url} refused the username/password "
        "(401 Unauthorized)",
        "down": "source 'down': cannot reach Airflow at http://127.0.0.1:"
        f"{sources[1]['properties']['host'].rsplit(':', 1)[1]}: connection refused",
    }
    outcomes = {r.fqn: r.outcome.value for r in failure.results}
    assert outcomes["ok.sales_etl"] == "success"  # the other source went on
    assert password not in Path(str(failure.summary.audit_file)).read_text()


def test_the_seed_multi_source_example_runs_against_airflow_and_a_removed_dag_is_stale(
    airflow: AirflowServer, om_env: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The seed's example as written, its Airflow host pointed at the real server (with
    credentials) and its lake left out (tests/config/test_seed_examples.py runs that part)."""
    from tests.config.test_seed_examples import MULTI, swapped

    airflow_prod = {"properties": {**source(airflow)["properties"], "include_paused": True}}
    path = swapped(MULTI, tmp_path, {"data-lake": {}, "airflow-prod": airflow_prod})
    monkeypatch.chdir(tmp_path)  # the seed keeps its audit in ./
    found = audit_events(run(str(path)))
    first = {e["fqn"]: e["operation"] for e in found if e["entity_type"] != "lineage"}
    assert first == {
        "airflow-prod": "CREATE",
        "airflow-prod.branching": "CREATE",
        "airflow-prod.orders_report": "CREATE",
        "airflow-prod.sales_etl": "CREATE",
    }
    (airflow.dags_folder / "report.py").unlink()
    airflow.airflow("dags", "delete", "orders_report", "--yes")  # file and metadata gone
    again = {e["fqn"]: e for e in audit_events(run(str(path)))}
    stale = again["airflow-prod.orders_report"]
    assert stale["operation"] == "SKIP" and stale["entity_type"] == "pipeline"
    assert stale["reason"] == (
        f"stale: {airflow.url}/dags/orders_report is gone from source 'airflow-prod' since the "
        "last run; kept in OpenMetadata (remove_stale: false)"
    )
