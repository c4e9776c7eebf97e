"""OpenMetadata's data quality model: test definitions, test suites, test cases and their
results (`/v1/dataQuality/...`), with the rules of OM's TestCaseRepository,
TestSuiteRepository and TestDefinitionRepository:

- a test definition's FQN is its name; a logical test suite's too; a basic (executable)
  suite belongs to one table and is `<table FQN>.testSuite`;
- a test case names its table (or column) by entity link, `<#E::table::FQN>` or
  `<#E::table::FQN::columns::name>`; its FQN is that table's (or column's) FQN plus the quoted
  case name. The table and column must exist, the test definition too; a COLUMN definition
  needs a column link; parameter values must be the definition's parameters (required ones
  present) unless the definition runs on Great Expectations. Creating the first test case of
  a table creates the table's basic suite. PUT of an existing FQN updates it (version bump
  when something changed), never a second case;
- a result is POSTed to `testCases/testCaseResults/{fqn}`: one per timestamp (the same
  timestamp replaces it), read back by `startTs`/`endTs`; the case's `testCaseResult` is the
  latest, and the basic suite's `summary` counts its cases' latest statuses.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from metadata.utils.fqn import quote_name
from pydantic import BaseModel, ValidationError

from om_ingest.sandbox.errors import ApiError
from om_ingest.sandbox.profiles import check_ms, range_answer
from om_ingest.sandbox.store import EntityStore

DEFINITION, SUITE, CASE = "testDefinition", "testSuite", "testCase"
Ref = Callable[[dict[str, Any], str], dict[str, Any]]


def _model(kind: str) -> type[BaseModel]:
    from metadata.generated.schema.tests import testCase, testDefinition, testSuite

    module = {DEFINITION: testDefinition, SUITE: testSuite, CASE: testCase}[kind]
    cls: type[BaseModel] = getattr(module, kind[0].upper() + kind[1:])
    return cls


def _create_model(kind: str) -> type[BaseModel]:
    from metadata.generated.schema.api.tests import (
        createTestCase,
        createTestDefinition,
        createTestSuite,
    )

    if kind == DEFINITION:
        return createTestDefinition.CreateTestDefinitionRequest
    if kind == SUITE:
        return createTestSuite.CreateTestSuiteRequest
    return createTestCase.CreateTestCaseRequest


class DataQualityApi:
    """`/v1/dataQuality/*` over the sandbox's store; every method returns (status, JSON)."""

    def __init__(self, store: EntityStore, ref: Ref, base: Callable[[], str]) -> None:
        self.store = store
        self.ref = ref
        self.base = base

    def handle(
        self, method: str, rest: str, params: dict[str, str], body: Any, caller: str
    ) -> tuple[int, Any]:
        collection, _, tail = rest.partition("/")
        kind = {"testDefinitions": DEFINITION, "testSuites": SUITE, "testCases": CASE}.get(
            collection
        )
        if kind is None:
            raise ApiError(404, f"no such endpoint /api/v1/dataQuality/{rest}")
        if kind == CASE and tail.startswith("testCaseResults/"):
            return self._results(
                method, unquote(tail.removeprefix("testCaseResults/")), params, body
            )
        if method in ("PUT", "POST") and tail in ("", "executable", "basic"):
            basic = kind == SUITE and tail in ("executable", "basic")
            return self._write(kind, body, caller, create_only=method == "POST", basic=basic)
        if method == "GET" and tail == "":
            return 200, self._list(kind, params)
        if method == "GET":
            key = unquote(tail.removeprefix("name/"))
            found = (
                self.store.get_by_fqn(kind, key)
                if tail.startswith("name/")
                else self.store.get(kind, key)
            )
            if found is None or (found.get("deleted") and params.get("include") != "all"):
                raise ApiError(404, f"{kind} instance for {key} not found")
            return 200, self._read(kind, found, params.get("fields"))
        if method == "DELETE":
            found = self.store.get(kind, tail)
            if found is None:
                raise ApiError(404, f"{kind} instance for {tail} not found")
            self.store.delete(kind, found["id"])
            return 200, found
        raise ApiError(405, f"{method} not allowed on /api/v1/dataQuality/{rest}")

    # --- writes ----------------------------------------------------------------------------

    def _write(
        self, kind: str, body: Any, caller: str, create_only: bool, basic: bool
    ) -> tuple[int, Any]:
        try:
            request = _create_model(kind).model_validate(body)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise ApiError(400, f"[{'.'.join(map(str, first['loc']))}] {first['msg']}") from None
        create = request.model_dump(mode="json", exclude_none=True, by_alias=True)
        if kind == DEFINITION:
            entity, fqn = self._definition(create)
        elif kind == SUITE:
            entity, fqn = self._suite(create, basic)
        else:
            entity, fqn = self._case(create, caller)
        existing = self.store.get_by_fqn(kind, fqn)
        if existing is not None and create_only:
            raise ApiError(409, f"Entity already exists: {kind} {fqn}")
        return self._store(kind, entity, fqn, existing, caller)

    def _store(
        self,
        kind: str,
        entity: dict[str, Any],
        fqn: str,
        existing: dict[str, Any] | None,
        caller: str,
    ) -> tuple[int, Any]:
        entity = {**entity, "fullyQualifiedName": fqn, "deleted": False}
        if existing is not None:
            kept = {k: existing[k] for k in ("id", "version", "updatedAt", "updatedBy", "href")}
            merged = {**existing, **entity, **kept}
            if _content(merged) == _content(existing):
                return 200, self._read(kind, existing, None)
            merged["version"] = round(existing["version"] + 0.1, 1)
            merged.update(updatedAt=_now_ms(), updatedBy=caller)
            stored = self._normalized(kind, merged)
            self.store.put(kind, stored)
            return 200, self._read(kind, stored, None)
        entity_id = str(uuid.uuid4())
        entity.update(
            id=entity_id,
            version=0.1,
            updatedAt=_now_ms(),
            updatedBy=caller,
            href=f"{self.base()}/api/v1/dataQuality/{kind}s/{entity_id}",
        )
        stored = self._normalized(kind, entity)
        self.store.put(kind, stored)
        return 201, self._read(kind, stored, None)

    def _normalized(self, kind: str, entity: dict[str, Any]) -> dict[str, Any]:
        try:
            model = _model(kind).model_validate(entity)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise ApiError(400, f"[{'.'.join(map(str, first['loc']))}] {first['msg']}") from None
        dumped: dict[str, Any] = model.model_dump(mode="json", exclude_none=True, by_alias=True)
        return dumped

    def _definition(self, create: dict[str, Any]) -> tuple[dict[str, Any], str]:
        create.setdefault("testPlatforms", ["OpenMetadata"])
        create.setdefault("parameterDefinition", [])
        return create, quote_name(create["name"])

    def _suite(self, create: dict[str, Any], basic: bool) -> tuple[dict[str, Any], str]:
        target_fqn = create.pop("basicEntityReference", None) or create.pop(
            "executableEntityReference", None
        )
        if not basic:
            return {**create, "basic": False}, quote_name(create["name"])
        if not target_fqn:
            raise ApiError(400, "an executable test suite needs basicEntityReference")
        table = self.store.get_by_fqn("table", target_fqn)
        if table is None or table.get("deleted"):
            raise ApiError(404, f"table instance for {target_fqn} not found")
        fqn = f"{table['fullyQualifiedName']}.testSuite"
        entity = {
            **create,
            "name": fqn,
            "basic": True,
            "basicEntityReference": self.ref(table, "table"),
        }
        return entity, fqn

    def _case(self, create: dict[str, Any], caller: str) -> tuple[dict[str, Any], str]:
        from metadata.utils.entity_link import split

        parts = split(create["entityLink"])
        if (
            len(parts) not in (2, 4)
            or parts[0] != "table"
            or (len(parts) == 4 and parts[2] != "columns")
        ):
            raise ApiError(400, f"Invalid entity link {create['entityLink']}")
        table = self.store.get_by_fqn("table", parts[1])
        if table is None or table.get("deleted"):
            raise ApiError(404, f"table instance for {parts[1]} not found")
        column = parts[3] if len(parts) == 4 else None
        if column is not None and column not in _column_names(table.get("columns") or []):
            raise ApiError(400, f"Invalid column name {column}")
        definition = self.store.get_by_fqn(DEFINITION, create["testDefinition"])
        if definition is None or definition.get("deleted"):
            raise ApiError(404, f"testDefinition instance for {create['testDefinition']} not found")
        if definition.get("entityType") == "COLUMN" and column is None:
            raise ApiError(
                400,
                "Column test case must have a field name and an array field name in the entity "
                "link. e.g. <#E::table::{entityFqn}::columns::{columnName}>",
            )
        _check_parameters(create.get("parameterValues"), definition)
        suite = self._basic_suite(table, caller)
        target = (
            f"{table['fullyQualifiedName']}.{quote_name(column)}"
            if column
            else table["fullyQualifiedName"]
        )
        entity = {
            **create,
            "testDefinition": self.ref(definition, DEFINITION),
            "testSuite": self.ref(suite, SUITE),
            "entityFQN": target,
        }
        return entity, f"{target}.{quote_name(create['name'])}"

    def _basic_suite(self, table: dict[str, Any], caller: str) -> dict[str, Any]:
        fqn = f"{table['fullyQualifiedName']}.testSuite"
        found = self.store.get_by_fqn(SUITE, fqn)
        if found is not None:
            return found
        entity = {"name": fqn, "basic": True, "basicEntityReference": self.ref(table, "table")}
        _, suite = self._store(SUITE, entity, fqn, None, caller)
        stored: dict[str, Any] = self.store.get(SUITE, suite["id"]) or suite
        return stored

    # --- reads -----------------------------------------------------------------------------

    def _read(self, kind: str, entity: dict[str, Any], fields: str | None) -> dict[str, Any]:
        wanted = {f.strip() for f in (fields or "").split(",") if f.strip()}
        out = dict(entity)
        if kind == CASE and ("testCaseResult" in wanted or "*" in wanted):
            latest = self._latest(entity)
            if latest is not None:
                out["testCaseResult"] = latest
        if kind == SUITE:
            cases = [c for c in self.store.all_of(CASE) if c["testSuite"]["id"] == entity["id"]]
            if "tests" in wanted or "*" in wanted:
                out["tests"] = [self.ref(c, CASE) for c in cases]
            if "summary" in wanted or "*" in wanted:
                out["summary"] = self._summary(cases)
        return out

    def _latest(self, case: dict[str, Any]) -> dict[str, Any] | None:
        points = self.store.profiles.get(case["id"], {})
        return max(points.items())[1]["testCaseResult"] if points else None

    def _summary(self, cases: list[dict[str, Any]]) -> dict[str, int]:
        statuses = [(self._latest(c) or {}).get("testCaseStatus") for c in cases]
        return {
            "total": len(cases),
            "success": statuses.count("Success"),
            "failed": statuses.count("Failed"),
            "aborted": statuses.count("Aborted"),
            "queued": statuses.count("Queued"),
        }

    def _list(self, kind: str, params: dict[str, str]) -> dict[str, Any]:
        items = [e for e in self.store.all_of(kind) if not e.get("deleted")]
        if kind == CASE and params.get("entityLink"):
            link = params["entityLink"]
            items = [
                e
                for e in items
                if e["entityLink"] == link
                or (
                    params.get("includeAllTests") == "true"
                    and e["entityLink"].startswith(link[:-1])
                )
            ]
        if kind == CASE and params.get("testSuiteId"):
            items = [e for e in items if e["testSuite"]["id"] == params["testSuiteId"]]
        items.sort(key=lambda e: (e["name"], e["id"]))
        data = [self._read(kind, e, params.get("fields")) for e in items]
        return {"data": data, "paging": {"total": len(data)}}

    # --- results -----------------------------------------------------------------------------

    def _results(self, method: str, fqn: str, params: dict[str, str], body: Any) -> tuple[int, Any]:
        from metadata.generated.schema.tests.basic import TestCaseResult

        case = self.store.get_by_fqn(CASE, fqn)
        if case is None or case.get("deleted"):
            raise ApiError(404, f"testCase instance for {fqn} not found")
        if method == "GET":
            points = self.store.profiles.get(case["id"], {})
            return 200, range_answer(points, params, lambda p: p.get("testCaseResult"))
        if method not in ("POST", "PUT"):
            raise ApiError(405, f"{method} not allowed on testCaseResults")
        try:
            result = TestCaseResult.model_validate(body)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise ApiError(400, f"[{'.'.join(map(str, first['loc']))}] {first['msg']}") from None
        data = result.model_dump(mode="json", exclude_none=True, by_alias=True)
        check_ms(data["timestamp"])
        data.update(
            id=str(uuid.uuid4()),
            testCaseFQN=case["fullyQualifiedName"],
            testCase=self.ref(case, CASE),
            testDefinition=case["testDefinition"],
        )
        self.store.add_profile(case["id"], data["timestamp"], {"testCaseResult": data})
        return 200, data


def contract_results(
    store: EntityStore,
    contract: dict[str, Any],
    method: str,
    tail: str,
    params: dict[str, str],
    body: Any,
) -> tuple[int, Any]:
    """`/dataContracts/{id}/results[/latest]` (DataContractRepository.addContractResult): a
    result per timestamp; the latest is the contract's `latestResult` (no new version)."""
    from metadata.generated.schema.entity.datacontract.dataContractResult import (
        DataContractResult,
    )

    if method == "GET" and tail == "latest":
        points = store.profiles.get(contract["id"], {})
        if not points:
            raise ApiError(404, f"No results found for data contract {contract['id']}")
        return 200, max(points.items())[1]["contractResult"]
    if method == "GET" and tail == "":
        points = store.profiles.get(contract["id"], {})
        listed = [p["contractResult"] for _, p in sorted(points.items(), reverse=True)]
        limit = int(params.get("limit", 10))
        return 200, {"data": listed[:limit], "paging": {"total": len(listed)}}
    if method != "PUT" or tail != "":
        raise ApiError(405, f"{method} not allowed on dataContracts results")
    try:
        result = DataContractResult.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ApiError(400, f"[{'.'.join(map(str, first['loc']))}] {first['msg']}") from None
    data = result.model_dump(mode="json", exclude_none=True, by_alias=True)
    check_ms(data["timestamp"])
    data.setdefault("id", str(uuid.uuid4()))
    store.add_profile(contract["id"], data["timestamp"], {"contractResult": data})
    latest = max(store.profiles[contract["id"]].items())[1]["contractResult"]
    contract["latestResult"] = {
        "timestamp": latest["timestamp"],
        "status": latest["contractExecutionStatus"],
        "message": latest.get("result"),
        "resultId": latest["id"],
    }
    store.put("dataContract", contract)
    return 200, data


def _check_parameters(values: list[dict[str, Any]] | None, definition: dict[str, Any]) -> None:
    """TestCaseRepository.validateTestParameters."""
    if values is None:
        return
    defined = definition.get("parameterDefinition") or []
    if not defined and values:
        raise ApiError(400, "Parameter Values doesn't match Test Definition Parameters")
    if "GreatExpectations" in (definition.get("testPlatforms") or []):
        return
    names = {p["name"] for p in defined}
    given = {}
    for value in values:
        if value["name"] not in names:
            raise ApiError(
                400,
                f"Parameter '{value['name']}' is not defined in the test definition. "
                f"Defined parameters are: {sorted(names)}",
            )
        given[value["name"]] = value.get("value")
    for parameter in defined:
        if parameter.get("required") and given.get(parameter["name"]) is None:
            raise ApiError(
                400, f"Required parameter {parameter['name']} is not passed in parameterValues"
            )


def _column_names(columns: list[dict[str, Any]], prefix: str = "") -> set[str]:
    names = set()
    for column in columns:
        name = f"{prefix}{column['name']}"
        names.add(name)
        names |= _column_names(column.get("children") or [], f"{name}.")
    return names


def _content(entity: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v
        for k, v in entity.items()
        if k not in ("version", "updatedAt", "updatedBy", "href", "changeDescription")
    }


def _now_ms() -> int:
    return int(time.time() * 1000)
