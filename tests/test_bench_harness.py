"""The bench harness's own logic: folding repeated runs, merging rows, grouping py-spy samples
(benchmarks/results.py, benchmarks/where_time_goes.py, benchmarks/processes.py). Nothing here
times anything."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from hypothesis import given
from hypothesis import strategies as st

from benchmarks.processes import ServerMeter, cpu_seconds, group_pids, peak_rss_mb
from benchmarks.results import median_row, merge, render
from benchmarks.where_time_goes import classify, summarize

SITE = "/venv/lib/python3.11/site-packages"


def frame(function: str, path: str, line: int = 1) -> str:
    return f"{function} ({path}:{line})"


def run(seconds: float, calls: int = 50, **extra: object) -> dict[str, object]:
    return {"n": 50, "lake": "fs", "scenario": "first_run", "concurrency": 1, "bulk_size": 100,
            "prefect": "server", "seconds": seconds, "om_calls": calls, "om_writes": 3,
            "outcomes": {"success": 53}, **extra}  # fmt: skip


def test_repeated_runs_become_their_median_with_min_and_max_kept() -> None:
    row = median_row([run(30.0, startup_s=9.0), run(10.0, startup_s=7.0), run(20.0, startup_s=8.0)])
    assert row["seconds"] == 20.0
    assert row["startup_s"] == 8.0
    assert row["range"]["seconds"] == [10.0, 30.0]
    assert row["runs"] == 3
    # what was run is not averaged, and non-numbers are carried over
    assert (row["n"], row["concurrency"], row["bulk_size"]) == (50, 1, 100)
    assert row["outcomes"] == {"success": 53}


@given(st.lists(st.floats(1, 1000), min_size=1, max_size=9))
def test_the_median_lies_within_the_runs(seconds: list[float]) -> None:
    row = median_row([run(s) for s in seconds])
    assert min(seconds) <= row["seconds"] <= max(seconds)
    if len(seconds) > 1:
        assert row["range"]["seconds"] == [min(seconds), max(seconds)]
    else:
        assert "range" not in row


def test_a_new_measurement_replaces_only_its_own_prefect_kind_and_batch_size() -> None:
    old = [
        # before the Prefect kind was recorded: kept beside new rows, with a blank column
        {k: v for k, v in run(274.0, measured="2026-11-30").items() if k != "prefect"},
        run(40.0, measured="2026-11-30"),
        {**run(60.0, measured="2026-11-30"), "bulk_size": 1},
    ]
    merged = merge(old, [run(20.0)])
    by_value = {(r.get("prefect"), r["bulk_size"]): r["seconds"] for r in merged}
    assert by_value == {(None, 100): 274.0, ("server", 100): 20.0, ("server", 1): 60.0}
    new = next(r for r in merged if r["seconds"] == 20.0)
    assert new["measured"] == time.strftime("%Y-%m-%d")


def test_old_rows_render_with_blank_new_columns_and_floors_with_their_own_batch() -> None:
    old = {"n": 100, "scenario": "rerun", "concurrency": 1, "seconds": 14.8,
           "peak_rss_mb": 430.7, "om_calls": 4, "om_writes": 0}  # fmt: skip
    floor_a = {**run(90.0, cpu_s=15.0, om_cpu_s=7.0), "scenario": "floor_a", "prefect": ""}
    new = run(30.0, startup_s=10.0, runs=3, peak_rss_mb=500.0, prefect_rss_mb=300.0,
              om_rss_mb=200.0, cpu_s=20.0, prefect_cpu_s=5.0, om_cpu_s=2.0)  # fmt: skip
    rows = {line.split(" | ")[2]: line for line in render([old, floor_a, new]).splitlines()
            if line.startswith("| 50 ") or line.startswith("| 100 ")}  # fmt: skip
    assert rows["rerun"].startswith("| 100 | moto | rerun |  | 1 | 1 |  | 14.8 |  |")
    assert "| 431 / - / - / - |" in rows["rerun"]  # 430.7, rounded
    assert rows["floor_a"].startswith("| 50 | fs | floor_a | none | 1 | 1 |")
    # N / (wall - start): 50 / 20 s
    assert rows["first_run"].startswith(
        "| 50 | fs | first_run | server | 1 | 100 | 3 | 30.0 | 10.0 | 2.5 |"
    )
    assert "| 500 / 300 / 200 / - | 20 / 5 / 2 / - |" in rows["first_run"]
    # with repeats, the rate is N over the median time after start-up, not a difference of medians
    repeated = {**new, "after_start_s": 25.0}
    assert "| 30.0 | 10.0 | 2.0 |" in render([repeated]).splitlines()[-2]


def test_samples_are_grouped_by_the_innermost_owner() -> None:
    task = [frame("run_task", f"{SITE}/prefect/task_engine.py"),
            frame("write", "/repo/om_ingest/engine/bulk.py")]  # fmt: skip
    put = frame("put", f"{SITE}/metadata/ingestion/ometa/client.py")
    assert classify([*task, put, frame("urlopen", f"{SITE}/urllib3/connectionpool.py")]) == (
        "OM HTTP / SDK"
    )
    assert classify([*task, put, frame("model_validate", f"{SITE}/pydantic/main.py")]) == (
        "SDK model validation"
    )
    assert classify([*task, frame("model_validate", f"{SITE}/pydantic/main.py")]) == (
        "SDK model validation"
    )
    # boto3's urllib3 is discovery's, not OM's
    listing = frame("list", "/repo/om_ingest/sources/s3_hudi/connector.py")
    assert classify([*task, listing, frame("_make_api_call", f"{SITE}/botocore/client.py"),
                     frame("urlopen", f"{SITE}/urllib3/connectionpool.py")]) == "discovery"  # fmt: skip
    assert classify([*task, frame("sleep", "/usr/lib/python3.11/threading.py")]) == (
        "om-ingest engine"
    )
    assert classify([*task[:1], frame("validate", f"{SITE}/pydantic/main.py")]) == (
        "Prefect engine/client"
    )
    assert classify([frame("<module>", "/repo/flows/ingest.py"),
                     frame("_find_and_load", "<frozen importlib._bootstrap>", 1176),
                     put]) == "imports"  # fmt: skip
    assert classify([frame("read_flow_run", f"{SITE}/prefect/server/api/flow_runs.py")]) == (
        "Prefect server"
    )
    # py-spy nests the ephemeral API's process under the flow's; its start-up imports are its
    ephemeral = 'process 7:"python -m uvicorn --factory prefect.server.api.server:create_app"'
    loop = frame("run", "/usr/lib/python3.11/asyncio/base_events.py")
    assert classify(['process 6:"python -m benchmarks.run"', ephemeral, loop]) == "Prefect server"
    importing = frame("_find_and_load", "<frozen importlib._bootstrap>", 1176)
    assert classify(['process 6:"python -m benchmarks.run"', ephemeral, importing]) == (
        "Prefect server"
    )
    assert classify(['process 6:"python -m benchmarks.run"', importing]) == "imports"
    # the client's use of the server's schemas is the client's
    schema = frame("validate", f"{SITE}/prefect/server/schemas/states.py")
    assert classify([task[0], schema]) == "Prefect engine/client"
    assert classify(['process 6:"python -m benchmarks.run"']) == "no Python frame"
    assert classify([frame("main", "/usr/lib/python3.11/runpy.py")]) == "other"


def test_the_summary_shares_add_up_and_attached_servers_keep_their_group() -> None:
    put = frame("put", f"{SITE}/metadata/ingestion/ometa/client.py")
    sdk = frame("sdk", f"{SITE}/metadata/__init__.py")
    run = 'process 1:"python -m benchmarks.run"'
    flow = f"{run};{frame('ingest', '/r/flows/ingest.py')};{put} 30\n"
    flow += f"{run};{frame('ingest', '/r/flows/ingest.py', 9)} 10\n"
    flow += f"{run};{frame('<module>', '/r/flows/ingest.py')};"
    flow += f"{frame('_find_and_load', '<frozen importlib._bootstrap>', 1)};"
    flow += f"{frame('<module>', f'{SITE}/metadata/__init__.py')};{sdk} 20\n"
    sandbox = f'process 2:"sandbox";{frame("handle", "/r/om_ingest/sandbox/app.py")} 40\n'
    text = summarize([(None, flow), ("OM sandbox", sandbox)], "t")
    rows = {line.split(" | ")[0].strip("| "): line for line in text.splitlines()}
    assert (
        rows["OM sandbox"] == "| OM sandbox | 40.0 % | `handle (om_ingest/sandbox/app.py)` 40.0 % |"
    )
    assert rows["OM HTTP / SDK"] == (
        "| OM HTTP / SDK | 30.0 % | `put (metadata/ingestion/ometa/client.py)` 30.0 % |"
    )
    # one entry per function, whatever its line
    assert rows["om-ingest engine"] == (
        "| om-ingest engine | 10.0 % | `ingest (flows/ingest.py)` 10.0 % |"
    )
    assert rows["imports"] == "| imports | 20.0 % | `import metadata` 20.0 % |"


def test_the_meter_reports_a_servers_cpu_and_peak_of_the_scenario_only() -> None:
    # before the scenario: 0.5 s of CPU and a 150 MB peak; during it: a 60 MB block
    server = (
        "import sys, time\nend = time.process_time() + 0.5\nwhile time.process_time() < end: pass\n"
        "x = b'1' * (150 * 2**20)\ndel x\nprint('ready', flush=True)\nsys.stdin.readline()\n"
        "x = b'1' * (60 * 2**20)\nprint('done', flush=True)\ntime.sleep(60)\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", server], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        start_new_session=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None and process.stdin is not None
        process.stdout.readline()
        assert group_pids(process.pid) == [process.pid]
        assert peak_rss_mb(process.pid) >= 150
        meter = ServerMeter({"om": process.pid})
        meter.start()
        process.stdin.write(b"go\n")
        process.stdin.flush()
        process.stdout.readline()
        measured = meter.read()
        assert 60 <= measured["om_rss_mb"] < 150
        assert "rss_cumulative" not in measured
        assert cpu_seconds(process.pid) >= 0.5 > measured["om_cpu_s"]
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
