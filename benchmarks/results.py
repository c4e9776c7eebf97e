"""The bench's rows: repeated runs folded into one (median, with min/max kept), merged into
benchmarks/results.json and rendered as the table between the markers of results.md."""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results.md"
ROWS = ROOT / "benchmarks" / "results.json"
START, END = "<!-- measured: start (written by make bench) -->", "<!-- measured: end -->"
FLOOR_BULK = {"floor_a": 1, "floor_b": 100}
"""The floors' own batch sizes (benchmarks/floors.py), whatever BENCH_BULK_SIZE is."""
SETTINGS = ("n", "concurrency", "bulk_size")
"""Numbers that say what was run, not what was measured."""
PROCESSES = ("", "prefect_", "om_", "s3_")
"""The flow (or floor) process, the Prefect server, the OM sandbox, moto: the columns' order."""


def median_row(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One row for R runs of a scenario: each measured number is the median of the runs, and
    `range` keeps its min and max; anything else (outcomes, flags) is the last run's."""
    row = {**runs[-1], "runs": len(runs)}
    spread = {}
    for key, value in runs[-1].items():
        if key in SETTINGS or isinstance(value, bool) or not isinstance(value, int | float):
            continue
        values = [run[key] for run in runs if key in run]
        row[key] = statistics.median(values)
        if len(runs) > 1:
            spread[key] = [min(values), max(values)]
    if spread:
        row["range"] = spread
    return row


def row_bulk(row: dict[str, Any]) -> int:
    """The batch size a row wrote with: a floor's own, else the flow's `bulk_size` (rows from
    before bulk writes wrote one by one)."""
    bulk: int = FLOOR_BULK.get(row["scenario"], row.get("bulk_size", 1))
    return bulk


def row_key(row: dict[str, Any]) -> tuple[Any, ...]:
    """What a new measurement replaces: same N, lake (moto before lakes were named), scenario,
    concurrency, batch size and Prefect ('' for the floors and rows from before it was
    recorded)."""
    return (
        row["n"], row.get("lake", "moto"), row["scenario"], row["concurrency"], row_bulk(row),
        row.get("prefect", ""),
    )  # fmt: skip


def merge(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    merged = {row_key(r): r for r in old}
    for row in new:
        merged[row_key(row)] = {**row, "measured": row.get("measured", time.strftime("%Y-%m-%d"))}
    return sorted(
        merged.values(),
        key=lambda r: (r["n"], r.get("lake", "moto"), r["concurrency"], r.get("prefect", ""),
                       row_bulk(r), r["scenario"]),
    )  # fmt: skip


def write_results(rows: list[dict[str, Any]]) -> None:
    """Merge `rows` into results.json and rewrite the table of results.md (the text around the
    markers is kept)."""
    ordered = merge(_load_rows(), rows)
    ROWS.write_text(json.dumps(ordered, indent=1) + "\n")
    text = RESULTS.read_text() if RESULTS.exists() else f"# Benchmark results\n\n{START}\n{END}\n"
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    RESULTS.write_text(head + render(ordered) + tail)


def render(ordered: list[dict[str, Any]]) -> str:
    floors = {
        (r["n"], r.get("lake", "moto")): r["seconds"] for r in ordered if r["scenario"] == "floor_b"
    }
    lines = [
        START,
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"om-ingest {version('om-ingest')}, Prefect {version('prefect')}, openmetadata-ingestion "
        f"{version('openmetadata-ingestion')}, hudi {version('hudi')}, moto {version('moto')}. "
        "OM = the om-ingest API sandbox; S3 = moto (lake `moto`) or a directory read through "
        "`path:` (lake `fs`). Each scenario is its own process.",
        "",
        "Prefect: `ephemeral` = the API server Prefect starts as a subprocess of the flow's "
        "process, `server` = a running `prefect server start` (as deployments run), `none` = the "
        "floors. runs: the scenario was repeated that many times and every number is the median "
        "(min/max in results.json). start s: from the scenario process's start to the `ingest` "
        "flow entering Running (SDK import, Prefect's start, the flow run's creation), for the "
        "floors to the SDK import; tables/s after start = N / the median of (wall - start). "
        "CPU s and peak RSS MB: the flow (or floor) process / the Prefect server / the OM "
        "sandbox / moto, "
        "each its own scenario's (servers: CPU over the scenario, peak RSS = VmHWM reset before "
        "it; `*` = the reset was refused and the peak is cumulative); `-` = not running or not "
        "recorded. `floor` (before floors were split) is floor (a) with om-ingest's discovery; "
        "vs floor (b) = wall time / floor_b's.",
        "",
        "| N | lake | scenario | Prefect | conc. | bulk | runs | wall s | start s | "
        "tables/s after start | peak RSS MB | CPU s | OM calls/table | OM writes | "
        "vs floor (b) | measured |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in ordered:
        lake = r.get("lake", "moto")
        floor = floors.get((r["n"], lake))
        ratio = f"{r['seconds'] / floor:.2f}x" if floor else ""
        startup = r.get("startup_s")
        after_start = r.get("after_start_s", r["seconds"] - (startup or 0.0))
        rate = r["n"] / after_start
        prefect = "none" if r["scenario"].startswith("floor") else r.get("prefect", "")
        lines.append(
            f"| {r['n']} | {lake} | {r['scenario']} | {prefect} | {r['concurrency']} | "
            f"{row_bulk(r)} | {r.get('runs', '')} | {r['seconds']:.1f} | "
            f"{'' if startup is None else f'{startup:.1f}'} | {rate:.1f} | "
            f"{_per_process(r, 'rss_mb', 'peak_rss_mb')}{'*' if r.get('rss_cumulative') else ''} | "
            f"{_per_process(r, 'cpu_s', 'cpu_s')} | {r['om_calls'] / r['n']:.2f} | "
            f"{r['om_writes']:.0f} | {ratio} | {r.get('measured', '')} |"
        )
    lines.append(END)
    return "\n".join(lines)


def _per_process(row: dict[str, Any], suffix: str, own: str) -> str:
    """`flow / Prefect / OM / moto` of one measure; `-` where a process was not measured."""
    values = [row.get(own if not p else p + suffix) for p in PROCESSES]
    if all(v is None for v in values):
        return ""
    return " / ".join("-" if v is None else f"{v:.0f}" for v in values)


def _load_rows() -> list[dict[str, Any]]:
    try:
        rows: list[dict[str, Any]] = json.loads(ROWS.read_text())
    except FileNotFoundError:
        return []
    return rows
