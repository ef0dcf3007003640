"""Start-up cost: cold import wall time and a hello-world app process's wall time and peak RSS."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

GNU_TIME = "/usr/bin/time"
HELLO_DIR = Path(__file__).resolve().parent.parent / "hello"


@dataclass(frozen=True, slots=True)
class StartupTarget:
    """A framework's top-level import and its hello-world module."""

    name: str
    import_stmt: str

    @property
    def hello(self) -> Path:
        """Path of the hello-world script."""
        return HELLO_DIR / f"{self.name}_hello.py"


STARTUP_TARGETS: tuple[StartupTarget, ...] = (
    StartupTarget("python", "pass"),
    StartupTarget("oakling", "import oakling"),
    StartupTarget("starlette", "import starlette.applications"),
    StartupTarget("flask", "import flask"),
)


@dataclass(slots=True)
class StartupResult:
    """Min wall times (ms) and median peak RSS (MiB); error if the process failed."""

    name: str
    import_ms: float = 0.0
    hello_ms: float = 0.0
    hello_rss_mib: float = 0.0
    error: str | None = None


def run_wall(argv: list[str], env: dict[str, str]) -> float:
    """Run a process to completion and return its wall time in ms. Raises on failure."""
    start = time.perf_counter_ns()
    proc = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall_ms = (time.perf_counter_ns() - start) / 1e6
    if proc.returncode != 0:
        stderr = proc.stderr.decode(errors="replace")
        raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}: {stderr[-600:]}")
    return wall_ms


def run_rss(argv: list[str], env: dict[str, str]) -> float:
    """Peak RSS (MiB) of a process, as reported by GNU time.

    Not measured with os.wait4 from here: a child spawned by this (large) process
    inherits the parent's high-water mark across vfork/exec and would over-report.
    """
    if not Path(GNU_TIME).exists():
        raise RuntimeError(f"{GNU_TIME} is missing (apt-get install time)")
    proc = subprocess.run(
        [GNU_TIME, "-f", "@@maxrss %M", *argv],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines = [line for line in proc.stderr.splitlines() if line.startswith("@@maxrss ")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}: {proc.stderr[-600:]}")
    return int(lines[-1].split()[1]) / 1024


def measure(target: StartupTarget, env: dict[str, str], runs: int) -> StartupResult:
    """Warm the .pyc caches once, then take the min wall time over `runs` runs."""
    result = StartupResult(target.name)
    import_argv = [sys.executable, "-c", target.import_stmt]
    hello_argv = [sys.executable, str(target.hello)]
    try:
        run_wall(import_argv, env)
        run_wall(hello_argv, env)
        result.import_ms = min(run_wall(import_argv, env) for _ in range(runs))
        result.hello_ms = min(run_wall(hello_argv, env) for _ in range(runs))
        result.hello_rss_mib = statistics.median(run_rss(hello_argv, env) for _ in range(3))
    except RuntimeError as exc:
        result.error = str(exc)
    return result


def heaviest_imports(module: str, env: dict[str, str], top: int = 8) -> list[tuple[str, float]]:
    """Top modules by cumulative import time (ms) from ``python -X importtime``."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        return []
    rows: list[tuple[str, float]] = []
    for line in proc.stderr.splitlines():
        parts = [p.strip() for p in line.removeprefix("import time:").split("|")]
        if len(parts) == 3 and parts[1].isdigit():
            rows.append((parts[2], int(parts[1]) / 1000))
    rows.sort(key=lambda row: row[1], reverse=True)
    return rows[:top]
