"""Where a profiled bench scenario's time goes, from py-spy's raw (collapsed-stack) output.

`BENCH_PROFILE=1 python -m benchmarks.run N` records each flow scenario with
`py-spy record -f raw --full-filenames` (the scenario process and its subprocesses, e.g. the
ephemeral Prefect API) and attaches py-spy to the servers it talks to; this module turns those
files into a short table. Also usable by hand:
`python -m benchmarks.where_time_goes OUT.md flow.raw "Prefect server=server.raw" ...`
(a `GROUP=FILE` argument puts every sample of that file in GROUP).

Each sample goes to one group: `imports` when any frame is executing an import; `Prefect
server` when it is in the ephemeral API's process or any frame is in `prefect/server/`;
otherwise the innermost frame of a known owner decides — the OM SDK (split into `SDK model
validation` when pydantic runs below it and `OM HTTP` otherwise; pydantic below om-ingest's own
code is `SDK model validation` too: that is where om-ingest builds the SDK's request models),
Prefect's engine and client, discovery (om-ingest's sources, hudi-rs, pyarrow, boto3), the
om-ingest engine (`om_ingest/`, `flows/`); the rest is `other`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

GROUPS = (
    "Prefect server",
    "imports",
    "Prefect engine/client",
    "om-ingest engine",
    "SDK model validation",
    "OM HTTP",
    "discovery",
    "OM sandbox",
    "moto",
    "other",
)
OWNERS = (
    ("site-packages/prefect/server/", "Prefect server"),
    ("site-packages/metadata/", "OM SDK"),
    ("site-packages/prefect/", "Prefect engine/client"),
    ("/om_ingest/sources/", "discovery"),
    ("site-packages/hudi/", "discovery"),
    ("site-packages/pyarrow/", "discovery"),
    ("site-packages/boto3/", "discovery"),
    ("site-packages/botocore/", "discovery"),
    ("/om_ingest/", "om-ingest engine"),
    ("/flows/", "om-ingest engine"),
)
"""Path fragments that say whose code a frame is, most specific first."""
PYDANTIC = "site-packages/pydantic"
IMPORTING = "<frozen importlib._bootstrap"


SERVERS = {"prefect": "Prefect server", "om": "OM sandbox", "s3": "moto"}
"""The bench's server names (ServerMeter's) and the group each one's samples go to."""
RECORD = ("record", "--rate", "50", "--format", "raw", "--full-filenames", "--subprocesses")


def py_spy() -> str:
    """py-spy from `$PY_SPY` or PATH; a clear exit when it is not there."""
    found = os.environ.get("PY_SPY") or shutil.which("py-spy")
    if not found or not Path(found).is_file():
        sys.exit(
            "BENCH_PROFILE=1 needs py-spy: put it on PATH or set PY_SPY=/path/to/py-spy "
            f"(PY_SPY={os.environ.get('PY_SPY', '')!r}, not on PATH)"
        )
    return found


@contextlib.contextmanager
def profiled(command: list[str], servers: dict[str, int], out: Path) -> Iterator[list[str]]:
    """Yield `command` wrapped in `py-spy record`, with py-spy attached to each server (name:
    pid) meanwhile; when the body is done, stop those (SIGINT: py-spy writes its file) and
    write the summary of all the raw files to `out` (the raw files are kept beside it in a
    `.raw/` folder, which is not committed)."""
    spy = py_spy()
    raw = out.parent / ".raw" / out.stem
    raw.mkdir(parents=True, exist_ok=True)
    attached: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for name, pid in servers.items():
            attached[name] = subprocess.Popen(
                [spy, *RECORD, "--nonblocking", "--pid", str(pid), "-o", str(raw / f"{name}.raw")],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
        yield [spy, *RECORD, "-o", str(raw / "flow.raw"), "--", *command]
    finally:
        for process in attached.values():
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    profiles: list[tuple[str | None, str]] = [(None, (raw / "flow.raw").read_text())]
    profiles += [
        (SERVERS[name], (raw / f"{name}.raw").read_text())
        for name in servers
        if (raw / f"{name}.raw").exists()
    ]
    out.write_text(summarize(profiles, out.stem))


def parse_raw(text: str) -> Iterator[tuple[list[str], int]]:
    """py-spy's raw lines, `frame;frame;... COUNT` root first, as (frames, count)."""
    for line in text.splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            yield stack.split(";"), int(count)


def frame_path(frame: str) -> str:
    """The file of a frame `function (path:line)`; '' for py-spy's `process PID:"cmd"`."""
    if not frame.endswith(")") or " (" not in frame:
        return ""
    path, _, line = frame[:-1].rsplit(" (", 1)[1].rpartition(":")
    return path if line.isdigit() else f"{path}:{line}".lstrip(":")


def owner(path: str) -> str | None:
    return next((group for fragment, group in OWNERS if fragment in path), None)


def classify(frames: list[str]) -> str:
    """The group of one sample (frames root first)."""
    paths = [frame_path(f) for f in frames]
    if any(IMPORTING in p for p in paths):
        return "imports"
    process = frames[0] if frames and frames[0].startswith("process ") else ""
    if "prefect.server" in process or "prefect server" in process:
        return "Prefect server"
    for depth in range(len(paths) - 1, -1, -1):
        found = owner(paths[depth])
        if found is None:
            continue
        below_validates = any(PYDANTIC in p for p in paths[depth + 1 :])
        if found == "OM SDK":
            return "SDK model validation" if below_validates else "OM HTTP"
        if found == "om-ingest engine" and below_validates:
            return "SDK model validation"
        return found
    return "other"


def summarize(profiles: Iterable[tuple[str | None, str]], title: str, top: int = 20) -> str:
    """Markdown: each group's share of all samples, then the top frames by inclusive share
    (the share of samples a frame is on the stack of). `profiles`: (group or None, raw text)."""
    groups: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for fixed, text in profiles:
        for frames, count in parse_raw(text):
            total += count
            groups[fixed or classify(frames)] += count
            for frame in {_without_line(f) for f in frames if not f.startswith("process ")}:
                inclusive[frame] += count
    if total == 0:
        return f"# Where the time goes: {title}\n\nNo samples.\n"
    lines = [
        f"# Where the time goes: {title}",
        "",
        f"{total} samples (py-spy, all profiled processes). Groups: see "
        "`benchmarks/where_time_goes.py`.",
        "",
        "| group | samples | share |",
        "|---|---|---|",
    ]
    for group in sorted(groups, key=lambda g: (-groups[g], GROUPS.index(g))):
        lines.append(f"| {group} | {groups[group]} | {100 * groups[group] / total:.1f} % |")
    lines += ["", "| inclusive share | frame | owner |", "|---|---|---|"]
    for frame, count in inclusive.most_common(top):
        lines.append(
            f"| {100 * count / total:.1f} % | `{_short(frame)}` | {owner(frame_path(frame)) or ''} |"
        )
    return "\n".join(lines) + "\n"


def _without_line(frame: str) -> str:
    """`function (path:line)` → `function (path)`: one entry per function, not per line."""
    path = frame_path(frame)
    return f"{frame.rsplit(' (', 1)[0]} ({path})" if path else frame


def _short(frame: str) -> str:
    for marker in ("site-packages/", "/om_ingest/", "/flows/", "/benchmarks/"):
        if marker in frame:
            head, _, tail = frame.partition(" (")
            keep = marker.strip("/") + "/" if marker != "site-packages/" else ""
            return f"{head} ({keep}{tail.split(marker, 1)[1]}"
    return frame


def main(argv: list[str]) -> None:
    if len(argv) < 2:
        sys.exit("usage: python -m benchmarks.where_time_goes OUT.md [GROUP=]RAW ...")
    out, *inputs = argv
    profiles: list[tuple[str | None, str]] = []
    for argument in inputs:
        group, _, path = argument.rpartition("=")
        profiles.append((group or None, Path(path).read_text()))
    Path(out).write_text(summarize(profiles, Path(out).stem))


if __name__ == "__main__":
    main(sys.argv[1:])
