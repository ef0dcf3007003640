"""Wait for the machine to be quiet before starting a measurement (shared 2-CPU boxes)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

BUSY_CPUS = 0.3


def busy_cpus(interval: float = 0.5) -> float:
    """How many CPUs' worth of work the whole machine did over `interval` seconds."""
    before = cpu_times()
    time.sleep(interval)
    return busy_since(before)


def busy_since(before: tuple[int, int]) -> float:
    """CPUs' worth of work the whole machine did since `before` (from cpu_times())."""
    after = cpu_times()
    total = after[0] - before[0]
    idle = after[1] - before[1]
    if total <= 0:
        return 0.0
    return (total - idle) / total * (os.cpu_count() or 1)


def cpu_times() -> tuple[int, int]:
    """(total, idle + iowait) jiffies from the aggregate line of /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(fields[:8]), fields[3] + fields[4]


def wait_for_quiet(max_wait: float) -> bool:
    """Block until the machine is (nearly) idle, up to max_wait seconds; True if it was."""
    deadline = time.monotonic() + max_wait
    try:
        load = busy_cpus()
    except OSError:
        return True
    while load > BUSY_CPUS:
        if time.monotonic() >= deadline:
            print(f"    machine still busy ({load:.1f} CPUs), measuring anyway", file=sys.stderr)
            return False
        print(f"    machine busy ({load:.1f} CPUs in use), waiting", file=sys.stderr)
        time.sleep(2.0)
        load = busy_cpus()
    return True
