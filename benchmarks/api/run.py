"""API benchmark: a validated POST and a paginated list, oakling against FastAPI and Litestar.

Each app runs in its own subprocess per round (3 rounds, alternating order), which
verifies every response before timing it, as in ``benchmarks/inprocess.py``.

Usage:
    benchmarks/.venv/bin/python benchmarks/api/run.py [--rounds N] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
BENCH = HERE.parent
sys.path.insert(0, str(BENCH))

from harness.cases import check  # noqa: E402
from harness.measure import Budget, Driver, describe_exception, measure_case  # noqa: E402
from harness.targets import Target  # noqa: E402
from inprocess import RESULT_MARK, child_env, snapshot_oakling  # noqa: E402

from api.common import CASES  # noqa: E402

N1, N2 = 100, 1100
_IREFS = re.compile(r"I\s+refs:\s+([\d,]+)")
TARGETS = (
    Target("oakling", "asgi", "api.oakling_api", dist="oakling"),
    Target("fastapi", "asgi", "api.fastapi_api", dist="fastapi"),
    Target("litestar", "asgi", "api.litestar_api", dist="litestar"),
    Target("oakling", "wsgi", "api.oakling_sync_api", attr="app.wsgi", dist="oakling"),
    Target("oakling+cors", "asgi", "api.oakling_cors_api", dist="oakling"),
    Target("oakling+cors", "wsgi", "api.oakling_cors_sync_api", attr="app.wsgi", dist="oakling"),
)


def worker(key: str, budget: Budget) -> dict[str, Any]:
    target = next(t for t in TARGETS if t.key == key)
    result: dict[str, Any] = {"key": key, "error": None, "cases": []}
    driver = Driver(target)
    try:
        driver.start()
    except Exception:
        result["error"] = "could not start app: " + describe_exception()
        return result
    for case in CASES:
        if case.status == 422 and target.name == "litestar":
            # NOTE: Litestar answers invalid input with a 400 (its documented choice).
            case = replace(case, status=400)
        result["cases"].append(measure_case(driver, case, budget).as_json())
    driver.stop()
    return result


def count_worker(key: str, spec: str) -> None:
    """Under valgrind: verify and warm every case, then send the requests in ``spec``."""
    counts: dict[str, int] = json.loads(spec)
    target = next(t for t in TARGETS if t.key == key)
    driver = Driver(target)
    driver.start()
    for case in CASES:
        if case.status == 422 and target.name == "litestar":
            case = replace(case, status=400)
        one, many = driver.prepare(case)
        error = check(case, *one())
        if error is not None:
            raise SystemExit(f"check failed: {case.name}: {error}")
        many(200)
        many(counts[case.name])
    driver.stop()


def instructions(key: str, env: dict[str, str]) -> dict[str, float]:
    """k instructions per request of each case (valgrind; deterministic on a busy machine)."""
    base = {case.name: N1 for case in CASES}
    specs = [base, *({**base, case.name: N2} for case in CASES)]
    script = str(Path(__file__).resolve())
    subprocess.run([sys.executable, script, "--count", key, json.dumps(base)], env=env, check=False)

    def irefs(spec: dict[str, int]) -> int:
        argv = [
            "valgrind",
            "--tool=cachegrind",
            "--cache-sim=no",
            "--cachegrind-out-file=/dev/null",
        ]
        argv += [sys.executable, script, "--count", key, json.dumps(spec)]
        proc = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
        match = _IREFS.search(proc.stderr)
        if proc.returncode != 0 or match is None:
            raise RuntimeError(f"{key}: exit {proc.returncode}: {proc.stderr[-500:]}")
        return int(match.group(1).replace(",", ""))

    with ThreadPoolExecutor(max_workers=2) as pool:
        first, *per_case = pool.map(irefs, specs)
    return {
        case.name: (total - first) / (N2 - N1) / 1000
        for case, total in zip(CASES, per_case, strict=True)
    }


def run_worker(key: str, budget: Budget) -> dict[str, Any]:
    argv = [sys.executable, str(Path(__file__).resolve()), "--worker", key]
    argv += ["--budget", json.dumps(asdict(budget))]
    proc = subprocess.run(argv, env=child_env(), capture_output=True, text=True, timeout=240)
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_MARK):
            found: dict[str, Any] = json.loads(line.removeprefix(RESULT_MARK))
            return found
    return {"key": key, "error": (proc.stderr or proc.stdout)[-1500:], "cases": []}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker")
    parser.add_argument("--budget")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--count", nargs=2, metavar=("KEY", "SPEC"))
    parser.add_argument(
        "--instructions", action="store_true", help="count instructions under valgrind instead"
    )
    args = parser.parse_args()
    if args.count:
        count_worker(*args.count)
        return
    if args.instructions:
        print_instructions()
        return
    if args.worker:
        result = worker(args.worker, Budget(**json.loads(args.budget)))
        sys.stdout.write(RESULT_MARK + json.dumps(result) + "\n")
        return
    budget = Budget(repeats=1, max_repeats=1) if args.quick else Budget()
    print_timings(budget, 1 if args.quick else args.rounds)


def print_timings(budget: Budget, rounds: int) -> None:
    keys = [t.key for t in TARGETS]
    best: dict[tuple[str, str], float] = {}
    errors: dict[tuple[str, str], str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        revision = snapshot_oakling(Path(tmp))
        for index in range(rounds):
            print(f"round {index + 1}/{rounds}", file=sys.stderr)
            for key in keys if index % 2 == 0 else list(reversed(keys)):
                started = time.perf_counter()
                result = run_worker(key, budget)
                print(f"  {key:<14} ({time.perf_counter() - started:.1f}s)", file=sys.stderr)
                if result.get("error"):
                    for case in CASES:
                        errors[key, case.name] = str(result["error"])
                    continue
                for case in result["cases"]:
                    if case.get("error"):
                        errors[key, case["case"]] = case["error"]
                    else:
                        slot = (key, case["case"])
                        best[slot] = min(best.get(slot, float("inf")), case["min_us"])
    print(f"\noakling {revision}; µs/request, lower is better (min over {rounds} rounds)\n")
    print("| case | " + " | ".join(keys) + " |")
    print("| --- |" + " ---: |" * len(keys))
    for case in CASES:
        base = best.get(("asgi:oakling", case.name))
        cells = []
        for key in keys:
            if (key, case.name) in errors:
                cells.append("error")
                continue
            value = best[key, case.name]
            ratio = f" ({value / base:.2f}×)" if base and key != "asgi:oakling" else ""  # noqa: RUF001
            cells.append(f"{value:.1f}{ratio}")
        print(f"| {case.name} | " + " | ".join(cells) + " |")
    for (key, case_name), error in errors.items():
        print(f"\n{key} / {case_name}: {error[:800]}", file=sys.stderr)


def print_instructions() -> None:
    keys = [t.key for t in TARGETS]
    env = {**child_env(), "PYTHONHASHSEED": "0"}
    with tempfile.TemporaryDirectory() as tmp:
        revision = snapshot_oakling(Path(tmp))
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
        counts = {}
        for key in keys:
            print(f"  {key}", file=sys.stderr)
            counts[key] = instructions(key, env)
    print(f"\noakling {revision}; k instructions/request (valgrind), lower is better\n")
    print("| case | " + " | ".join(keys) + " |")
    print("| --- |" + " ---: |" * len(keys))
    for case in CASES:
        base = counts["asgi:oakling"][case.name]
        cells = [
            f"{counts[key][case.name]:.1f}"
            + (f" ({counts[key][case.name] / base:.2f}×)" if key != "asgi:oakling" else "")  # noqa: RUF001
            for key in keys
        ]
        print(f"| {case.name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
