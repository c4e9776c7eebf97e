"""Run a contract's expectations on a table's sample with Great Expectations.

One suite, validated once (`result_format="SUMMARY"`) on the sample as pandas with decimals
cast to float64 (see `profiling.data_profiler`). An expectation GX cannot build or evaluate
(an unknown type, a missing column) is an `Aborted` outcome with GX's message, not a crash.
"""

from __future__ import annotations

import importlib
import json
import logging
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from om_ingest.quality.rules import PlannedExpectation


@dataclass
class Outcome:
    """What one expectation found: OM's TestCaseStatus and the figures behind it."""

    expectation: PlannedExpectation
    status: str
    """Success, Failed or Aborted."""
    values: dict[str, float] = field(default_factory=dict)
    message: str = ""


KEY = "om_ingest_key"
"""Meta key carrying each expectation's identity through GX's validation."""
FIGURES = ("unexpected_count", "missing_count", "element_count", "observed_value")
"""Counts only (as OM's own GX action sends them: one unit per chart)."""


def run_expectations(expectations: list[PlannedExpectation], sample: pa.Table) -> list[Outcome]:
    from om_ingest.profiling.data_profiler import _frame, _quiet_progress

    gx: Any = importlib.import_module("great_expectations")
    config_module: Any = importlib.import_module(
        "great_expectations.expectations.expectation_configuration"
    )
    logging.getLogger("great_expectations.data_context.types.base").setLevel(logging.WARNING)
    outcomes: dict[int, Outcome] = {}
    suite = gx.ExpectationSuite(name="om-ingest-contract")
    context = gx.get_context(mode="ephemeral")
    # A suite holds one copy of equal expectations (a required column with a nullValues
    # rule): each distinct one is validated once and its result given to every rule asking.
    planned: dict[str, list[int]] = {}
    for index, expectation in enumerate(expectations):
        key = json.dumps([expectation.type, expectation.kwargs], sort_keys=True, default=str)
        if key in planned:
            planned[key].append(index)
            continue
        try:
            configuration = config_module.ExpectationConfiguration(
                type=expectation.type, kwargs=expectation.kwargs, meta={KEY: key}
            )
            suite.add_expectation(configuration.to_domain_obj())
            planned[key] = [index]
        except Exception as exc:
            outcomes[index] = Outcome(expectation, "Aborted", message=_message(exc))
    if planned:
        with _quiet_progress(context):
            batch = (
                context.data_sources.add_pandas("om_ingest_contract")
                .add_dataframe_asset("sample")
                .add_batch_definition_whole_dataframe("all")
                .get_batch(batch_parameters={"dataframe": _frame(sample)})
            )
            results = batch.validate(suite, result_format="SUMMARY").results
        for result in results:  # GX orders results its own way: matched by our key
            found = result.to_json_dict()
            for index in planned[found["expectation_config"]["meta"][KEY]]:
                outcomes[index] = _outcome(expectations[index], found)
    return [outcomes[i] for i in range(len(expectations))]


def _outcome(expectation: PlannedExpectation, result: dict[str, Any]) -> Outcome:
    info = result.get("exception_info") or {}
    if info.get("raised_exception"):
        return Outcome(expectation, "Aborted", message=str(info.get("exception_message", ""))[:300])
    figures = result.get("result") or {}
    values = {
        name: float(figures[name])
        for name in FIGURES
        if isinstance(figures.get(name), int | float) and not isinstance(figures.get(name), bool)
    }
    return Outcome(expectation, "Success" if result.get("success") else "Failed", values)


def _message(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]
