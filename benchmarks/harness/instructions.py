"""Instructions per request under valgrind: slow, but immune to a busy machine.

Per app, 1 + len(CASES) worker processes run under ``valgrind --tool=cachegrind
--cache-sim=no``. Every worker verifies and warms up every case the same way, then sends
N1 requests per case, except that worker c sends N2 for case c. The difference between
worker c's and the base worker's instruction totals, divided by N2 - N1, is the cost of
one request of case c, with start-up and warm-up cancelled out.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from harness.cases import CASES, check
from harness.measure import Driver
from harness.targets import find

if TYPE_CHECKING:
    from pathlib import Path

N1, N2 = 100, 1100
WARMUP = 200
FAILED_CHECK = 3
_IREFS = re.compile(r"I\s+refs:\s+([\d,]+)")


def count_main(key: str, spec: str) -> int:
    """Worker: per case, verify, warm up, then send the number of requests in `spec`."""
    counts: dict[str, int] = json.loads(spec)
    driver = Driver(find(key))
    driver.start()
    for case in CASES:
        one, many = driver.prepare(case)
        error = check(case, *one())
        if error is not None:
            sys.stderr.write(f"check failed: {case.name}: {error}\n")
            return FAILED_CHECK
        many(WARMUP)
        many(counts[case.name])
    return 0


def _irefs(script: Path, key: str, counts: dict[str, int], env: dict[str, str]) -> int:
    """Total instructions executed by one worker process."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise RuntimeError("valgrind is not installed (apt-get install valgrind)")
    argv = [valgrind, "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null"]
    argv += [sys.executable, str(script), "--count", key, json.dumps(counts)]
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    match = _IREFS.search(proc.stderr)
    if proc.returncode != 0 or match is None:
        raise RuntimeError(f"exit {proc.returncode}: {_last_line(proc.stderr)}")
    return int(match.group(1).replace(",", ""))


def _last_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line and not line.startswith("==")]
    hits = [line for line in lines if line.startswith("check failed")]
    return (hits or lines or ["(no output)"])[-1]


def _specs() -> list[dict[str, int]]:
    """The base run (N1 everywhere), then one run per case with N2 for that case."""
    base = {case.name: N1 for case in CASES}
    return [base, *({**base, case.name: N2} for case in CASES)]


def _warm_pyc(script: Path, key: str, env: dict[str, str]) -> None:
    """One native run first, so no valgrind run pays for compiling .pyc files."""
    argv = [sys.executable, str(script), "--count", key, json.dumps(_specs()[0])]
    subprocess.run(argv, env=env, capture_output=True, check=False)


def measure_app(script: Path, key: str, env: dict[str, str], jobs: int) -> dict[str, Any]:
    """k instructions per request for every case of one app, or the error."""
    _warm_pyc(script, key, env)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        try:
            base, *per_case = pool.map(lambda spec: _irefs(script, key, spec, env), _specs())
        except RuntimeError as exc:
            return {"key": key, "error": str(exc), "cases": []}
    cases = [
        {"case": case.name, "error": None, "kinstr": (total - base) / (N2 - N1) / 1000}
        for case, total in zip(CASES, per_case, strict=True)
    ]
    return {"key": key, "error": None, "cases": cases}


def measure_all(script: Path, keys: list[str], env: dict[str, str], jobs: int) -> dict[str, Any]:
    """Count every app, `jobs` valgrind processes at a time."""
    env = {**env, "PYTHONHASHSEED": "0"}
    results = {}
    for key in keys:
        results[key] = measure_app(script, key, env, jobs)
        print(f"  {key:<18} counted", file=sys.stderr)
    return results
