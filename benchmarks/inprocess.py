"""In-process benchmark of oakling against peer frameworks, over ASGI and WSGI.

Every app runs in its own worker subprocess (same interpreter, env with the malloc
thresholds below), which verifies each case's response and then times it.

Usage:
    benchmarks/.venv/bin/python benchmarks/inprocess.py [--write] [--only asgi:oakling,...]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from harness import report  # noqa: E402
from harness.instructions import N1, N2, count_main, measure_all  # noqa: E402
from harness.measure import Budget, measure_floor, measure_target, summarize  # noqa: E402
from harness.quiet import wait_for_quiet  # noqa: E402
from harness.startup import STARTUP_TARGETS, StartupResult, heaviest_imports  # noqa: E402
from harness.startup import measure as measure_startup  # noqa: E402
from harness.targets import TARGETS, find  # noqa: E402

MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": "1048576", "MALLOC_TRIM_THRESHOLD_": "4194304"}
RESULT_MARK = "@@RESULT "
FLOOR = "floor"
WORKER_TIMEOUT_S = 240


def child_env() -> dict[str, str]:
    """The environment every benchmark subprocess starts with."""
    env = dict(os.environ)
    env.update(MALLOC_ENV)
    # oakling refuses to start without a secret key outside debug; configure it as a
    # deployment would, through the environment (a fresh random key per run).
    env.setdefault("OAKLING_SECRET_KEY", secrets.token_urlsafe(50))
    # Start-up is measured with .pyc caches written, as in any deployed app.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def snapshot_oakling(into: Path) -> str:
    """Copy src/oakling into `into` and put it first on the children's PYTHONPATH.

    oakling's source may change while a long run is in progress (it is installed
    editable); every worker then measures the same code. Returns the revision measured.
    """
    revision = report.git_revision()
    source = ROOT / "src" / "oakling"
    if not source.is_dir():
        return revision
    shutil.copytree(source, into / "oakling", ignore=shutil.ignore_patterns("__pycache__"))
    digest = hashlib.sha256()
    for path in sorted((into / "oakling").rglob("*.py")):
        digest.update(path.read_bytes())
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(into), os.environ.get("PYTHONPATH", "")) if p
    )
    return f"{revision}, sources sha256 {digest.hexdigest()[:12]}"


def run_worker(key: str, budget: Budget) -> dict[str, Any]:
    """Benchmark one target in a fresh subprocess; return its JSON report."""
    argv = [sys.executable, str(Path(__file__).resolve()), "--worker", key]
    argv += ["--budget", json.dumps(asdict(budget))]
    try:
        proc = subprocess.run(
            argv, env=child_env(), capture_output=True, text=True, timeout=WORKER_TIMEOUT_S
        )
    except subprocess.TimeoutExpired:
        return {"key": key, "error": f"worker timed out after {WORKER_TIMEOUT_S}s", "cases": []}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_MARK):
            result: dict[str, Any] = json.loads(line.removeprefix(RESULT_MARK))
            return result
    detail = (proc.stderr or proc.stdout)[-1500:]
    return {"key": key, "error": f"worker exited {proc.returncode}: {detail}", "cases": []}


def worker_main(key: str, budget_json: str) -> None:
    """Entry point inside the subprocess: measure and print one marked JSON line."""
    budget = Budget(**json.loads(budget_json))
    result = measure_floor(budget) if key == FLOOR else measure_target(find(key), budget)
    sys.stdout.write(RESULT_MARK + json.dumps(result) + "\n")
    sys.stdout.flush()


def run_all(
    keys: list[str], budget: Budget, rounds: int, max_wait: float
) -> tuple[report.Results, dict[str, Any]]:
    """Run every target once per round (alternating order); merge rounds per case.

    Several short rounds spread over the run are more robust to a burst of noise from
    elsewhere on the machine than one long measurement per framework.
    """
    per_key: dict[str, list[dict[str, Any]]] = {key: [] for key in keys}
    floors: list[dict[str, Any]] = []
    deadline = time.monotonic() + max_wait
    for index in range(rounds):
        print(f"round {index + 1}/{rounds}", file=sys.stderr)
        wait_for_quiet(deadline - time.monotonic())
        floors.append(run_worker(FLOOR, budget))
        for key in keys if index % 2 == 0 else list(reversed(keys)):
            quiet = wait_for_quiet(deadline - time.monotonic())
            start = time.perf_counter()
            per_key[key].append({**run_worker(key, budget), "started_quiet": quiet})
            status = "error" if per_key[key][-1].get("error") else "ok"
            print(f"  {key:<18} {status} ({time.perf_counter() - start:.1f}s)", file=sys.stderr)
    return {key: merge_rounds(reports) for key, reports in per_key.items()}, merge_floors(floors)


def merge_rounds(reports: list[dict[str, Any]]) -> dict[str, Any]:
    """One report from several rounds: any error wins; otherwise pool the samples."""
    for rep in reports:
        if rep.get("error"):
            return rep
    merged: dict[str, Any] = {**reports[0], "rounds": len(reports), "cases": []}
    merged["started_quiet"] = sum(bool(rep.get("started_quiet", True)) for rep in reports)
    for cases in zip(*(rep["cases"] for rep in reports), strict=True):
        failed = [case for case in cases if case.get("error")]
        if failed:
            merged["cases"].append(failed[0])
            continue
        samples = [us for case in cases for us in case["samples_us"]]
        merged["cases"].append(
            {
                "case": cases[0]["case"],
                "error": None,
                "n": [case["n"] for case in cases],
                "samples_us": samples,
                **summarize(samples),
            }
        )
    return merged


def merge_floors(floors: list[dict[str, Any]]) -> dict[str, Any]:
    """Minimum harness floor per interface over the rounds."""
    good = [floor for floor in floors if "asgi" in floor]
    if not good:
        return floors[0] if floors else {"error": "not run"}
    return {name: min(floor[name] for floor in good) for name in ("asgi", "wsgi")}


def run_startup(runs: int) -> tuple[list[StartupResult], list[tuple[str, float]]]:
    """Measure import / hello-world cost per framework and oakling's heaviest imports."""
    env = child_env()
    rows = [measure_startup(target, env, runs) for target in STARTUP_TARGETS]
    return rows, heaviest_imports("oakling", env)


def render(
    results: report.Results,
    floor: dict[str, Any],
    startup: list[StartupResult] | None,
    imports: list[tuple[str, float]],
    budget: Budget,
    rounds: int,
    revision: str,
    counts: report.Results | None = None,
) -> str:
    """The full Markdown results section."""
    parts = [
        "## Results",
        "",
        *report.environment(revision),
        f"- Reproduce: `{report.REPRODUCE}`",
        "- Method: each cell is the **minimum** over all repeats of the mean µs/request of a "
        f"batch sized to ~{budget.repeat_seconds:.2f} s (after warm-up): {rounds} rounds, one "
        f"fresh process per app and round, {budget.repeats} to {budget.max_repeats} repeats per "
        "case and round (more until the best two agree within 3%). Lower is better. Every "
        "response was verified (status, content-type, body) before timing.",
        _floor_line(floor),
        f"- Subprocess env: `{' '.join(f'{k}={v}' for k, v in MALLOC_ENV.items())}`",
        "",
        "### ASGI (µs/request)",
        "",
        report.table("asgi", results),
        "",
        "### WSGI, sync handlers (µs/request)",
        "",
        report.table("wsgi", results),
    ]
    parts += ["", *report.noise_lines(results)]
    if failures := report.failures(results):
        parts += ["", "### Failed checks", "", *failures]
    if counts is not None:
        parts += _instruction_section(counts)
    if startup is not None:
        parts += ["", "### Start-up", "", report.startup_table(startup)]
    if imports:
        heavy = ", ".join(f"`{name}` {ms:.1f}" for name, ms in imports)
        parts += ["", f"oakling's heaviest imports (cumulative ms, `-X importtime`): {heavy}"]
    return "\n".join(parts) + "\n"


def _instruction_section(counts: report.Results) -> list[str]:
    parts = [
        "",
        "### Instructions per request (thousands, valgrind)",
        "",
        f"`--instructions`: the extra instructions of {N2} over {N1} requests of a case, per "
        "request, from cachegrind runs of each app (see `harness/instructions.py`); nearly "
        "deterministic, so unaffected by other load on the machine. Not time: cache misses "
        "and branch mispredictions are not weighed, and C extensions count like Python.",
        "",
        "ASGI:",
        "",
        report.table("asgi", counts),
        "",
        "WSGI:",
        "",
        report.table("wsgi", counts),
    ]
    if failures := report.failures(counts):
        parts += ["", *failures]
    return parts


def _floor_line(floor: dict[str, Any]) -> str:
    if "asgi" not in floor:
        return f"- Harness floor: not measured ({floor.get('error', 'unknown error')})"
    return (
        f"- Harness floor (an app that only sends a constant response, included in every cell): "
        f"ASGI {floor['asgi']:.2f} µs, WSGI {floor['wsgi']:.2f} µs"
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite README results section")
    parser.add_argument("--only", help="comma-separated targets, e.g. asgi:oakling,wsgi:flask")
    parser.add_argument("--quick", action="store_true", help="short run for a smoke test")
    parser.add_argument("--rounds", type=int, default=3, help="rounds over all apps (default 3)")
    parser.add_argument(
        "--max-wait",
        type=float,
        default=60,
        help="total seconds to spend waiting for an idle machine (default 60)",
    )
    parser.add_argument("--no-startup", action="store_true", help="skip start-up measurements")
    parser.add_argument("--json", type=Path, help="also dump raw results to this file")
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="also count instructions/request under valgrind (slow: ~10 min for all apps)",
    )
    parser.add_argument("--count", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--budget", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print (and optionally write) the Markdown results."""
    args = parse_args(argv)
    if args.worker:
        worker_main(args.worker, args.budget or "{}")
        return 0
    if args.count:
        return count_main(*args.count)
    with tempfile.TemporaryDirectory(prefix="oakling-bench-") as snapshot:
        return run(args, snapshot_oakling(Path(snapshot)))


def run(args: argparse.Namespace, revision: str) -> int:
    """The orchestrator: timings, optional instruction counts, start-up, report."""
    quick = Budget(repeats=3, max_repeats=3, repeat_seconds=0.03, warmup_seconds=0.02)
    budget = quick if args.quick else Budget()
    rounds = 1 if args.quick else args.rounds
    keys = args.only.split(",") if args.only else [t.key for t in TARGETS]
    print(f"benchmarking {len(keys)} apps ...", file=sys.stderr)
    results, floor = run_all(keys, budget, rounds, args.max_wait)
    counts = None
    if args.instructions:
        print("counting instructions under valgrind ...", file=sys.stderr)
        counts = measure_all(Path(__file__).resolve(), keys, child_env(), os.cpu_count() or 1)
    if not args.no_startup:
        wait_for_quiet(30)
    startup, imports = (None, []) if args.no_startup else run_startup(3 if args.quick else 10)
    section = render(results, floor, startup, imports, budget, rounds, revision, counts)
    print(section)
    if args.json:
        args.json.write_text(json.dumps({"asgi_wsgi": results}, indent=2))
    if args.write:
        report.write_readme(HERE / "README.md", section)
        print(f"wrote {HERE / 'README.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
