"""Where a profiled bench scenario's time goes, from py-spy's raw (collapsed-stack) output.

`BENCH_PROFILE=1 python -m benchmarks.run N` records each flow scenario with
`py-spy record -f raw --full-filenames` (the scenario process and its subprocesses, e.g. the
ephemeral Prefect API) and attaches py-spy to the servers it talks to; this module turns those
files into a short table. Also usable by hand:
`python -m benchmarks.where_time_goes OUT.md flow.raw "Prefect server=server.raw" ...`
(a `GROUP=FILE` argument puts every sample of that file in GROUP).

Each sample goes to one group: `Prefect server` when it is in the ephemeral API's process
(its start-up included) or any frame is in `prefect/server/` (e.g. the database migrations;
not its `schemas` and `utilities`, which the client uses too); `imports` when any frame is
executing an import; otherwise the innermost frame of a known owner decides — the OM SDK (split into `SDK model validation` when pydantic runs below it and
`OM HTTP / SDK` otherwise; pydantic below om-ingest's own code is `SDK model validation` too:
that is where om-ingest builds the SDK's request models), Prefect's engine and client,
discovery (om-ingest's sources, hudi-rs, pyarrow, boto3), the om-ingest engine (`om_ingest/`,
`flows/`); `no Python frame` when py-spy saw the process but no Python stack (interpreter start
and exit); the rest is `other`. A file given a group (an attached server) keeps it for all its
samples. Each group lists its top frames: per sample the innermost frame of the deciding
owner, the package being imported, else the innermost frame outside the standard library.
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
    "OM HTTP / SDK",
    "discovery",
    "OM sandbox",
    "moto",
    "no Python frame",
    "other",
)
OWNERS = (
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
        why = f"PY_SPY={found} is not a file" if found else "py-spy is not on PATH"
        sys.exit(f"BENCH_PROFILE=1 needs py-spy ({why}): put it on PATH or set PY_SPY")
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
    return attribute(frames)[0]


def attribute(frames: list[str], fixed: str | None = None) -> tuple[str, str]:
    """The group of one sample (`fixed` if given) and the frame that says most about it: the
    innermost frame of the owner that decided the group, the package being imported, else the
    innermost frame outside the standard library."""
    paths = [frame_path(f) for f in frames]
    if not any(paths):
        return fixed or "no Python frame", ""
    # py-spy nests a subprocess's frames under its parent's: `process A;process B;...`
    process = next((f for f in reversed(frames) if f.startswith("process ")), "")
    in_server = "prefect.server" in process or "prefect server" in process
    if fixed is None and (in_server or any(_server_code(p) for p in paths)):
        fixed = "Prefect server"
    if fixed is None and any(IMPORTING in p for p in paths):
        modules = [p for f, p in zip(frames, paths, strict=True) if f.startswith("<module> (")]
        return "imports", f"import {_package(modules[-1])}" if modules else ""
    for depth in range(len(paths) - 1, -1, -1):
        found = owner(paths[depth])
        if found is None or fixed is not None:
            continue
        below_validates = any(PYDANTIC in p for p in paths[depth + 1 :])
        if found == "OM SDK":
            found = "SDK model validation" if below_validates else "OM HTTP / SDK"
        elif found == "om-ingest engine" and below_validates:
            found = "SDK model validation"
        return found, _without_line(frames[depth])
    own = [f for f, p in zip(frames, paths, strict=True) if p and not _stdlib(p)]
    return fixed or "other", _without_line(own[-1] if own else frames[-1])


def summarize(profiles: Iterable[tuple[str | None, str]], title: str, top: int = 4) -> str:
    """Markdown: each group's share of all samples and its top frames, each frame with the
    share of all samples it was the telling frame of (see `attribute`). `profiles`: (the group
    of all its samples, or None to classify each; raw text)."""
    groups: Counter[str] = Counter()
    telling: dict[str, Counter[str]] = {}
    total = 0
    for fixed, text in profiles:
        for frames, count in parse_raw(text):
            total += count
            group, frame = attribute(frames, fixed)
            groups[group] += count
            if frame:
                telling.setdefault(group, Counter())[frame] += count
    if total == 0:
        return f"# Where the time goes: {title}\n\nNo samples.\n"
    lines = [
        f"# Where the time goes: {title}",
        "",
        f"{total} samples (py-spy, all profiled processes); how a sample's group and its top "
        "frame are chosen: `benchmarks/where_time_goes.py`.",
        "",
        "| group | share | top frames (share of all samples) |",
        "|---|---|---|",
    ]
    for group in sorted(groups, key=lambda g: (-groups[g], GROUPS.index(g))):
        frames = [
            f"`{_short(frame)}` {100 * count / total:.1f} %"
            for frame, count in telling.get(group, Counter()).most_common(top)
        ]
        lines.append(f"| {group} | {100 * groups[group] / total:.1f} % | {'<br>'.join(frames)} |")
    return "\n".join(lines) + "\n"


def _server_code(path: str) -> bool:
    """Prefect's API server (its schemas and utilities are shared with the client)."""
    return "site-packages/prefect/server/" in path and not any(
        f"prefect/server/{shared}/" in path for shared in ("schemas", "utilities")
    )


def _stdlib(path: str) -> bool:
    return path.startswith("<") or ("/lib/python3" in path and "site-packages" not in path)


def _package(path: str) -> str:
    """The top-level package a file belongs to (`metadata`, `prefect`, `om_ingest`, ...)."""
    for marker in ("site-packages/", "/om_ingest/", "/flows/", "/benchmarks/"):
        if marker in path:
            rest = path.split(marker, 1)[1] if marker == "site-packages/" else marker.strip("/")
            return rest.split("/", 1)[0].removesuffix(".py")
    return path.rsplit("/", 1)[-1]


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
