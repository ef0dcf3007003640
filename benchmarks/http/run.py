"""The six TechEmpower tests over real HTTP on PostgreSQL: oakling against its peers.

Creates and fills the ``oakling_bench`` database, then for every app: starts it under
granian (ASGI or WSGI) or gunicorn pinned to one core, verifies its answers, and loads
each test with wrk pinned to the other core (warm-up, then a measured run).

Usage:
    benchmarks/.venv/bin/python benchmarks/http/run.py [--quick] [--only oakling,starlette]
        [--tests db,fortunes] [--write] [--json FILE]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import database  # noqa: E402
import report  # noqa: E402
import servers  # noqa: E402
from targets import ROOT, Target, select  # noqa: E402
from tfb import POOL_SIZE  # noqa: E402
from verify import verify  # noqa: E402

PATHS = {
    "json": "/json",
    "plaintext": "/plaintext",
    "db": "/db",
    "queries": "/queries?queries=20",
    "updates": "/updates?queries=20",
    "fortunes": "/fortunes",
}
SERVER_TITLES = {
    "granian-asgi": "granian, ASGI (async handlers, asyncpg)",
    "granian-wsgi": "granian, WSGI (sync handlers, psycopg 3)",
    "gunicorn": "gunicorn gthread, WSGI (sync handlers, psycopg 3)",
}
DISTS = ["oakling", "starlette", "fastapi", "litestar", "falcon", "blacksheep", "flask",
         "django", "granian", "gunicorn", "uvloop", "asyncpg", "psycopg", "jinja2", "msgspec",
         "pydantic", "sqlalchemy"]  # fmt: skip


def snapshot_oakling(into: Path) -> str:
    """Copy src/oakling into ``into`` (first on the servers' path): one revision per run."""
    revision = report.git_revision()
    shutil.copytree(
        ROOT / "src" / "oakling", into / "oakling", ignore=shutil.ignore_patterns("__pycache__")
    )
    digest = hashlib.sha256()
    for path in sorted((into / "oakling").rglob("*.py")):
        digest.update(path.read_bytes())
    return f"{revision}, sources sha256 {digest.hexdigest()[:12]}"


def new_result(target: Target) -> dict[str, Any]:
    """An empty result entry for ``target``."""
    return {
        "name": target.name,
        "server": target.server,
        "ceiling": target.ceiling,
        "peer": not (target.ceiling or target.oakling),
        "tests": {},
    }


def run_round(
    target: Target, tests: list[str], result: dict[str, Any], args: argparse.Namespace, path: str
) -> None:
    """Start ``target``, verify it (first round), time each test once; add to ``result``."""
    cells = result["tests"]
    todo = [t for t in tests if "error" not in cells.get(t, {})]
    if not todo or result.get("error"):
        return
    try:
        with servers.running(target, args.logdir, path) as server:
            failed = verify(server.port, todo) if not cells else {}
            for test in todo:
                if test in failed:
                    cells[test] = {"error": f"verification: {failed[test]}"}
                    print(f"  {test:10} FAILED verification: {failed[test][:300]}", flush=True)
                    continue
                cell = cells.setdefault(test, {"samples": []})
                # NOTE: the first round warms each test up; later ones start on a fresh
                # server but with the pools already open, and only the best round counts.
                sample = _time(server, test, args, warm=not cell["samples"])
                if "error" in sample:
                    cells[test] = sample
                    continue
                cell["samples"].append(sample)
                best = max(cell["samples"], key=lambda s: s["rps"])
                cell.update(rps=best["rps"], p99_ms=best["p99_ms"], errors=best["errors"])
                cell["cpu_us"] = min(s["cpu_us"] for s in cell["samples"])
    except RuntimeError as exc:
        result["error"] = str(exc)
        print(f"  FAILED: {str(exc)[:500]}", flush=True)


def _time(
    server: servers.Server, test: str, args: argparse.Namespace, *, warm: bool
) -> dict[str, Any]:
    path = PATHS[test]
    try:
        if warm:
            servers.wrk(server.port, path, args.warmup)
        server.wait_idle()
        cpu = server.cpu_seconds()
        load = servers.wrk(server.port, path, args.duration)
        # NOTE: the handlers still running when wrk stops are part of this test's cost.
        server.wait_idle()
        cpu_us = (server.cpu_seconds() - cpu) / max(load.requests, 1) * 1e6
    except (RuntimeError, OSError) as exc:
        print(f"  {test:10} wrk failed: {exc}", flush=True)
        return {"error": str(exc)}
    flag = f"  ({load.errors} errors)" if load.errors else ""
    print(
        f"  {test:10} {load.rps:>10,.0f} req/s  p99 {load.p99_ms:7.2f} ms  "
        f"{cpu_us:7.1f} µs CPU/req{flag}",
        flush=True,
    )
    return {"rps": load.rps, "p50_ms": load.p50_ms, "p99_ms": load.p99_ms, "cpu_us": cpu_us,
            "requests": load.requests, "errors": load.errors}  # fmt: skip


def merge(runs: list[dict[str, Any]]) -> tuple[report.Results, dict[str, Any]]:
    """Several saved runs as one: every round's samples pooled, the best of them kept."""
    if len(runs) == 1:
        return runs[0]["results"], runs[0]["meta"]
    results: report.Results = {}
    for run in runs:
        for key, result in run["results"].items():
            into = results.setdefault(key, {**result, "tests": {}})
            for test, cell in result["tests"].items():
                pooled = into["tests"].setdefault(test, {"samples": []})
                if "error" in cell or "error" in pooled:
                    into["tests"][test] = cell if "error" in cell else pooled
                    continue
                pooled["samples"] += cell["samples"]
                best = max(pooled["samples"], key=lambda s: s["rps"])
                pooled.update(rps=best["rps"], p99_ms=best["p99_ms"], errors=best["errors"])
                pooled["cpu_us"] = min(s["cpu_us"] for s in pooled["samples"])
    metas = [run["meta"] for run in runs]
    meta = {
        **metas[-1],
        "rounds": sum(m["rounds"] for m in metas),
        "elapsed": sum(m["elapsed"] for m in metas),
        "load": [x for m in metas for x in m["load"]],
        "runs": len(runs),
    }
    return results, meta


def section(results: report.Results, meta: dict[str, Any]) -> str:
    """The README section: environment, method, one table per server, ratios."""
    args = argparse.Namespace(**meta)
    command = "benchmarks/.venv/bin/python benchmarks/http/run.py --write"
    if args.quick:
        command += " --quick"
    lines = [
        "### Results (HTTP)",
        "",
        *args.environment,
        f"- Reproduce: `bash benchmarks/setup.sh && {command}` ({args.elapsed / 60:.0f} min"
        + (f" in {args.runs} runs, pooled with `--from-json`)" if "runs" in meta else ")"),
        f"- Load: wrk, 1 thread, {servers.CONNECTIONS} connections, pinned to CPU "
        f"{servers.LOAD_CPU}; {args.rounds} round(s) over all apps, a fresh server each time, "
        "every other round in reverse order; per test and round "
        f"{args.duration} s measured (after {args.warmup} s of warm-up in the first round); "
        "`/queries` and `/updates` with `queries=20`.",
        f"- Servers: one worker pinned to CPU {servers.SERVER_CPU}; granian ASGI with "
        f"`--loop {servers.LOOP}`; WSGI with {POOL_SIZE} threads (granian blocking threads, "
        f"gunicorn gthread); asyncpg pools of {POOL_SIZE}; env "
        "`MALLOC_MMAP_THRESHOLD_=1048576 MALLOC_TRIM_THRESHOLD_=4194304`. PostgreSQL runs on the "
        "same 2 CPUs, unpinned.",
        "- Cells: requests/s (p99 latency in ms) of the best round (noise only ever lowers "
        "the rate); ⚠: wrk saw socket errors or non-2xx answers. Every answer was verified "
        "before timing.",
        f"- Machine load (1-min load average, sampled between apps): "
        f"{min(args.load):.1f} to {max(args.load):.1f}, median "
        f"{sorted(args.load)[len(args.load) // 2]:.1f}. The 2 CPUs were shared with other "
        "work during the run: treat differences under ~15% as noise.",
        "",
    ]
    for server, title in SERVER_TITLES.items():
        if any(r["server"] == server for r in results.values()):
            lines += [f"#### {title}", "", report.table(results, server), ""]
            lines += ["Server CPU µs per request (lowest round):", ""]
            lines += [report.table(results, server, "cpu_us"), ""]
    for key in results:
        if results[key]["name"].startswith("oakling"):
            lines += [f"`{key}` against the field (above 1x / 100%: oakling ahead):", ""]
            lines += [report.ratios(results, key), ""]
    bad = report.failures(results)
    if bad:
        lines += ["Failures:", "", *bad, ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one round of 1 s per test")
    parser.add_argument("--rounds", type=int, help="rounds over every app (default 3)")
    parser.add_argument("--only", help="targets: keys, names or servers, comma-separated")
    parser.add_argument("--tests", default=",".join(PATHS), help="tests, comma-separated")
    parser.add_argument("--warmup", type=int, default=1, help="warm-up seconds per test")
    parser.add_argument("--duration", type=int, help="measured seconds per test (default 2)")
    parser.add_argument("--write", action="store_true", help="rewrite the README section")
    parser.add_argument("--json", type=Path, help="write the raw results to this file")
    parser.add_argument("--reset-db", action="store_true", help="drop and refill the tables")
    parser.add_argument(
        "--from-json", type=Path, nargs="+", help="report runs saved with --json (best of all)"
    )
    args = parser.parse_args()
    if args.from_json:
        results, meta = merge([json.loads(path.read_text()) for path in args.from_json])
        _report(results, meta, args)
        return
    args.duration = args.duration or (1 if args.quick else 2)
    args.rounds = args.rounds or (1 if args.quick else 3)
    tests = [t.strip() for t in args.tests.split(",") if t.strip()]
    unknown = set(tests) - set(PATHS)
    if unknown:
        parser.error(f"unknown tests {sorted(unknown)}; known: {list(PATHS)}")
    if not shutil.which("wrk"):
        parser.error("wrk is not installed: run `bash benchmarks/setup.sh`")
    targets = select(args.only)
    database.ensure(reset=args.reset_db)
    started = time.monotonic()
    results: report.Results = {t.key: new_result(t) for t in targets}
    args.load = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory(prefix="oakling-http-") as tmp:
        args.logdir = Path(tmp)
        revision = snapshot_oakling(Path(tmp))
        for round_ in range(args.rounds):
            # NOTE: every other round in reverse: a burst of load from elsewhere then hits
            # one round of an app, not the same app's neighbours every time.
            for target in targets if round_ % 2 == 0 else targets[::-1]:
                print(f"{target.key} (round {round_ + 1}/{args.rounds})", flush=True)
                run_round(target, tests, results[target.key], args, tmp)
                args.load.append(os.getloadavg()[0])
    elapsed = time.monotonic() - started
    print(f"done in {elapsed / 60:.1f} min")
    meta = {
        "environment": report.environment(revision, DISTS),
        "quick": args.quick,
        "rounds": args.rounds,
        "warmup": args.warmup,
        "duration": args.duration,
        "elapsed": elapsed,
        "load": args.load,
    }
    if args.json:
        args.json.write_text(json.dumps({"meta": meta, "results": results}, indent=1))
    _report(results, meta, args)


def _report(results: report.Results, meta: dict[str, Any], args: argparse.Namespace) -> None:
    text = section(results, meta)
    print(text)
    if args.write:
        report.write_readme(ROOT / "benchmarks" / "README.md", text)


if __name__ == "__main__":
    main()
