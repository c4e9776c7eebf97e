"""Apache Airflow DAGs → OpenMetadata pipelines, over Airflow's stable REST API.

Airflow 3 (`api_version: v2`, the default) serves `/api/v2` and exchanges a username and
password for a JWT at `/auth/token`; Airflow 2 (`v1`) serves `/api/v1` with basic auth. Both
list the same facts, read here with plain HTTP so one path covers both: each DAG becomes a
`pipeline` (description, schedule, start date, concurrency, paused → Inactive, its URL in the
Airflow UI) with one task per Airflow task (operator, downstream tasks, doc, task URL).

Recent DAG runs with each task's state (`runs`) become the pipeline's `statuses` (written by the
pipeline kind, once each). The assets each DAG reads and writes (`assets`) that name tables
(`assets.table_for`) become lineage edges, each table read → each table written, with the
DAG's pipeline on the edge (discovered `lineage` entities, streamed right after their
pipeline); an asset naming no table is a warning.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

from om_ingest import fqns
from om_ingest.config.models import EntityConfig, EntityType, SourceConfig
from om_ingest.errors import SourceError
from om_ingest.logs import register_secrets
from om_ingest.planning import parent_fqn_of
from om_ingest.sources.airflow_dags.assets import Asset, table_for
from om_ingest.sources.airflow_dags.properties import AirflowProperties
from om_ingest.sources.base import (
    DiscoveredEntity,
    DiscoveryFailure,
    DiscoveryWarning,
    ServiceLevelSource,
)
from om_ingest.sources.helpers import (
    discovered,
    discovery_filter,
    lineage_edge,
    passes_filter,
    reached_cap,
    reason,
    unreachable,
)
from om_ingest.sources.reads import HTTP_BODIES, count_requests_session
from om_ingest.sources.registry import register_source_class

PAGE = 100

STATUS = {
    "success": "Successful",
    "failed": "Failed",
    "upstream_failed": "Failed",
    "skipped": "Skipped",
    "removed": "Skipped",
}
"""Airflow run and task-instance states as OM's pipeline StatusType (others: Pending)."""


@dataclass(frozen=True)
class TaskRun:
    """One task instance of a DAG run, as an OM task status needs it."""

    task: str
    status: str
    """OM StatusType: Successful, Failed, Skipped or Pending."""
    start: datetime | None
    end: datetime | None


@dataclass(frozen=True)
class DagRun:
    """One DAG run, as an OM pipeline status needs it (`timestamp`: its logical date, or its
    start when it has none)."""

    run_id: str
    status: str
    timestamp: datetime | None
    end: datetime | None
    tasks: tuple[TaskRun, ...]

    def as_pipeline_status(self) -> dict[str, Any]:
        """This run as the JSON of OM's `PipelineStatus` (what the SDK's
        `add_pipeline_status` sends), times in epoch milliseconds."""
        status: dict[str, Any] = {
            "timestamp": _millis(self.timestamp),
            "executionStatus": self.status,
            "executionId": self.run_id,
            "endTime": _millis(self.end),
            "taskStatus": [
                {
                    "name": task.task,
                    "executionStatus": task.status,
                    "startTime": _millis(task.start),
                    "endTime": _millis(task.end),
                }
                for task in self.tasks
            ],
        }
        return status


@dataclass
class DagAssets:
    """The assets (Airflow 2: datasets) a DAG reads (task inlets, the assets that schedule
    it) and writes (task outlets)."""

    inlets: set[Asset] = field(default_factory=set)
    outlets: set[Asset] = field(default_factory=set)


@register_source_class("airflow", AirflowProperties)
class AirflowSource(ServiceLevelSource):
    discovers = EntityType.PIPELINE
    service_type = "Airflow"
    properties: AirflowProperties
    reads_measured = f"Airflow REST API: {HTTP_BODIES}"

    def __init__(self, config: SourceConfig, properties: AirflowProperties) -> None:
        super().__init__(config, properties)
        self._session: Any = None

    def owns_pipeline_lineage(self) -> bool:
        return self.properties.lineage

    @property
    def _host(self) -> str:
        return self.properties.host.rstrip("/")

    # --- connection ----------------------------------------------------------------------

    def connect(self) -> None:
        """A session authenticated the way the API version wants (a v2 username/password is
        exchanged for a JWT once)."""
        if self._session is not None:
            return
        import requests

        session = requests.Session()
        session.verify = self.properties.verify_ssl
        count_requests_session(session, self.count_read)
        p = self.properties
        if p.token is not None:
            session.headers["Authorization"] = f"Bearer {p.token.get_secret_value()}"
        elif p.username is not None and p.password is not None:
            if p.api_version == "v1":
                session.auth = (p.username, p.password.get_secret_value())
            else:
                response = self._send(
                    session, "POST", f"{self._host}/auth/token",
                    json={"username": p.username, "password": p.password.get_secret_value()},
                )  # fmt: skip
                if response.status_code in (401, 403):
                    raise self._refused("username/password", response)
                self._check(response, "/auth/token")
                token = response.json()["access_token"]
                register_secrets([token])
                session.headers["Authorization"] = f"Bearer {token}"
        self._session = session

    def disconnect(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    def validate_connection(self) -> None:
        self.connect()
        self._get("/dags", params={"limit": 1})

    def _send(self, session: Any, method: str, url: str, **kwargs: Any) -> Any:
        try:
            return session.request(method, url, timeout=self.properties.timeout_seconds, **kwargs)
        except Exception as exc:
            raise SourceError(
                f"source {self.config.name!r}: cannot reach Airflow at {self._host}: {unreachable(exc)}"
            ) from None

    def _get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        url = f"{self._host}/api/{self.properties.api_version}{path}"
        response = self._send(self._session, "GET", url, params=params)
        if response.status_code in (401, 403):
            how = "token" if self.properties.token is not None else "username/password"
            raise self._refused(how, response)
        self._check(response, path)
        result: dict[str, Any] = response.json()
        return result

    def _refused(self, how: str, response: Any) -> SourceError:
        return SourceError(
            f"source {self.config.name!r}: Airflow at {self._host} refused the {how} "
            f"({response.status_code} {response.reason})"
        )

    def _check(self, response: Any, path: str) -> None:
        if response.status_code >= 400:
            raise SourceError(
                f"source {self.config.name!r}: Airflow at {self._host} answered "
                f"{response.status_code} {response.reason} to {path}"
            )

    def _pages(self, path: str, key: str, **params: Any) -> Iterator[dict[str, Any]]:
        offset = 0
        while True:
            page = self._get(path, params={**params, "limit": PAGE, "offset": offset})
            items = page.get(key) or []
            yield from items
            offset += len(items)
            if not items or offset >= int(page.get("total_entries") or 0):
                return

    # --- discovery -----------------------------------------------------------------------

    def discover_entities(
        self,
        template: EntityConfig,
        known_commits: dict[str, str] | None = None,
        known_markers: dict[str, str] | None = None,
    ) -> Iterator[DiscoveredEntity | DiscoveryFailure | DiscoveryWarning]:
        self.connect()
        flt = discovery_filter(template)
        found = 0
        by_dag = self.assets() if self.properties.lineage else {}
        for dag in self._pages("/dags", "dags"):
            dag_id = str(dag["dag_id"])
            if not passes_filter(flt, dag_id):
                continue
            if dag.get("is_stale"):  # its file is gone: Airflow keeps it until cleaned up
                continue
            if dag.get("is_paused") and not self.properties.include_paused:
                continue
            if reached_cap(flt, found):
                return
            found += 1
            location = self.dag_url(dag_id)
            try:
                entity = discovered(template, dag_id, self._describe(dag), self.config.name)
            except SourceError:
                raise  # the server went away or refused us: the listing is incomplete
            except Exception as exc:
                yield DiscoveryFailure(dag_id, location, f"{location}: {reason(exc)}")
                continue
            yield DiscoveredEntity(entity, location)
            if dag_id in by_dag:
                yield from self._lineage(template, dag_id, by_dag[dag_id])

    def _lineage(
        self, template: EntityConfig, dag_id: str, assets: DagAssets
    ) -> Iterator[DiscoveredEntity | DiscoveryWarning]:
        """Each table the DAG reads → each table it writes, its pipeline on the edge; an
        asset that names no table is a warning."""
        pipeline = fqns.child(parent_fqn_of(template), dag_id)
        location = self.dag_url(dag_id)
        tables: dict[str, list[str]] = {}
        for role, found in (("reads", assets.inlets), ("writes", assets.outlets)):
            tables[role] = []
            for asset in sorted(found):
                fqn = table_for(self.properties.asset_tables, asset)
                if fqn is not None:
                    tables[role].append(fqn)
                    continue
                yield DiscoveryWarning(
                    f"{pipeline}: {asset.uri}",
                    location,
                    f"DAG {dag_id} {role} asset {asset.uri}, which no `asset_tables` rule "
                    "maps to a table FQN: no lineage edge for it",
                )
        for upstream in tables["reads"]:
            for downstream in tables["writes"]:
                if upstream != downstream:
                    edge = lineage_edge(
                        template, self.config.name, ("table", upstream),
                        ("table", downstream), pipeline,
                    )  # fmt: skip
                    yield DiscoveredEntity(edge, location)

    def dag_url(self, dag_id: str) -> str:
        """The DAG in the Airflow UI (Airflow 2's grid view for v1)."""
        suffix = "/grid" if self.properties.api_version == "v1" else ""
        return f"{self._host}/dags/{quote(dag_id, safe='')}{suffix}"

    def _describe(self, dag: dict[str, Any]) -> dict[str, Any]:
        dag_id = str(dag["dag_id"])
        path = f"/dags/{quote(dag_id, safe='')}"
        # Airflow 2's details answer `owners: []` where its DAG list has them: an empty
        # detail does not hide what the list says
        more = self._get(f"{path}/details")
        details = {**dag, **{k: v for k, v in more.items() if v not in (None, [], "")}}
        tasks = self._get(f"{path}/tasks").get("tasks") or []
        tags = sorted(
            str(t["name"]) if isinstance(t, dict) else str(t) for t in details.get("tags") or []
        )
        owners = sorted({str(o) for o in details.get("owners") or []})
        start = details.get("start_date")
        display = details.get("dag_display_name")
        classification = self.properties.tags_classification
        props: dict[str, Any] = {
            "display_name": display if display and display != dag_id else None,
            "description": details.get("description") or None,
            "source_url": self.dag_url(dag_id),
            "concurrency": details.get("max_active_tasks") or details.get("concurrency"),
            "pipeline_location": details.get("fileloc"),
            "start_date": start,
            "schedule_interval": _schedule(details),
            "state": "Inactive" if details.get("is_paused") else "Active",
            "tasks": [self._task(dag_id, task, start) for task in tasks],
            # recent runs as OM's PipelineStatus, oldest first; one OM holds is not sent again
            "statuses": [run.as_pipeline_status() for run in reversed(self.runs(dag_id))] or None,
            "tags": [f"{classification}.{tag}" for tag in tags] if classification else None,
            "extension": {
                k: v
                for k, v in {
                    "airflow_owners": ",".join(owners),
                    "airflow_tags": ",".join(tags),
                }.items()
                if v
            },
        }
        return {k: v for k, v in props.items() if v is not None}

    def _task(self, dag_id: str, task: dict[str, Any], dag_start: Any) -> dict[str, Any]:
        task_id = str(task["task_id"])
        class_ref = task.get("class_ref") or {}
        display = task.get("task_display_name")
        spec = {
            "name": task_id,
            "display_name": display if display and display != task_id else None,
            "task_type": task.get("operator_name") or class_ref.get("class_name"),
            "downstream_tasks": sorted(task.get("downstream_task_ids") or []) or None,
            "description": task.get("doc_md") or task.get("doc") or None,
            "source_url": f"{self.dag_url(dag_id)}/tasks/{quote(task_id, safe='')}"
            if self.properties.api_version == "v2"
            else f"{self.dag_url(dag_id)}?task_id={quote(task_id, safe='')}",
            "start_date": task.get("start_date") or dag_start,
            "end_date": task.get("end_date"),
        }
        return {k: v for k, v in spec.items() if v is not None}

    # --- runs (the pipeline's `statuses`) and assets (lineage) -----------------------------

    def runs(self, dag_id: str) -> list[DagRun]:
        """The DAG's most recent runs (`pipeline_status_runs`, newest first), each with its
        task instances' states and times."""
        if self.properties.pipeline_status_runs == 0:
            return []
        self.connect()
        path = f"/dags/{quote(dag_id, safe='')}/dagRuns"
        order = "-start_date" if self.properties.api_version == "v2" else "-execution_date"
        listed = self._get(
            path, params={"limit": self.properties.pipeline_status_runs, "order_by": order}
        )
        found = []
        for run in listed.get("dag_runs") or []:
            run_id = str(run["dag_run_id"])
            instances = self._get(f"{path}/{quote(run_id, safe='')}/taskInstances")
            tasks = tuple(
                TaskRun(
                    str(ti["task_id"]),
                    _status(ti.get("state")),
                    _when(ti.get("start_date")),
                    _when(ti.get("end_date")),
                )
                for ti in sorted(
                    instances.get("task_instances") or [], key=lambda ti: str(ti["task_id"])
                )
            )
            logical = run.get("logical_date") or run.get("execution_date")
            found.append(
                DagRun(
                    run_id,
                    _status(run.get("state")),
                    _when(logical or run.get("start_date")),
                    _when(run.get("end_date")),
                    tasks,
                )
            )
        return found

    def assets(self) -> dict[str, DagAssets]:
        """DAG id → the assets it reads and writes, from the asset (v1: dataset) list."""
        self.connect()
        v2 = self.properties.api_version == "v2"
        by_dag: dict[str, DagAssets] = {}
        for asset in self._pages("/assets" if v2 else "/datasets", "assets" if v2 else "datasets"):
            named = Asset(str(asset["uri"]), str(asset.get("name") or asset["uri"]))
            for ref in asset.get("producing_tasks") or []:
                by_dag.setdefault(str(ref["dag_id"]), DagAssets()).outlets.add(named)
            readers = (asset.get("consuming_tasks") or []) + (
                asset.get("scheduled_dags") or asset.get("consuming_dags") or []
            )
            for ref in readers:
                by_dag.setdefault(str(ref["dag_id"]), DagAssets()).inlets.add(named)
        return by_dag


def _schedule(details: dict[str, Any]) -> str | None:
    """Airflow 3's timetable summary (a cron, `Asset`, …); Airflow 2's schedule interval."""
    summary = details.get("timetable_summary")
    if summary:
        return str(summary)
    interval = details.get("schedule_interval")
    if isinstance(interval, dict):
        return str(interval.get("value")) if interval.get("value") else None
    return str(interval) if interval else None


def _status(state: Any) -> str:
    return STATUS.get(str(state), "Pending")


def _when(value: Any) -> datetime | None:
    return datetime.fromisoformat(str(value)) if value else None


def _millis(when: datetime | None) -> int | None:
    return round(when.timestamp() * 1000) if when is not None else None
