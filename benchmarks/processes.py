"""CPU seconds and peak RSS of the bench's long-lived servers, per scenario.

A server (OM sandbox, moto, Prefect server) outlives the scenarios it serves, so its counters
are cumulative: CPU is taken as the difference over the scenario, and the peak resident set
(VmHWM) is reset to the current RSS before each scenario (`/proc/PID/clear_refs`, "5"), so the
peak read after it is the scenario's own. Where the kernel refuses the reset the peak read is
the process's whole life, and the row says so (`rss_cumulative`).
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def peak_rss_mb(pid: int) -> float:
    """A process's peak resident set since it started or since `reset_peak` (VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def reset_peak(pid: int) -> bool:
    """Reset VmHWM to the current RSS; False when the kernel does not allow it."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used so far (/proc/PID/stat fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def group_pids(leader: int) -> list[int]:
    """The live processes of the process group `leader` leads (a server and its children)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError):
            if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[2]) == leader:
                found.append(int(entry.name))
    return found or [leader]


@dataclass
class ServerMeter:
    """One scenario's CPU and peak RSS of named servers, each a process group (the leader's
    pid): `start()` before the scenario, `read()` after it, as `{name}_cpu_s` / `{name}_rss_mb`
    (CPU and peaks summed over the group's processes)."""

    servers: dict[str, int]
    _cpu: dict[str, float] = field(default_factory=dict)
    _reset: bool = True

    def start(self) -> None:
        self._reset = True
        for name, leader in self.servers.items():
            pids = group_pids(leader)
            self._cpu[name] = sum(cpu_seconds(pid) for pid in pids)
            self._reset = all([reset_peak(pid) for pid in pids]) and self._reset

    def read(self) -> dict[str, Any]:
        measured: dict[str, Any] = {}
        for name, leader in self.servers.items():
            pids = group_pids(leader)
            measured[f"{name}_cpu_s"] = sum(cpu_seconds(pid) for pid in pids) - self._cpu[name]
            measured[f"{name}_rss_mb"] = sum(peak_rss_mb(pid) for pid in pids)
        if not self._reset:
            measured["rss_cumulative"] = True
        return measured
