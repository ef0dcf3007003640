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


def run_target(target: Target, tests: list[str], args: argparse.Namespace, snapshot: str) -> dict:
    """Verify then time ``target`` on ``tests``; the result entry for the report."""
    result: dict[str, Any] = {
        "name": target.name,
        "server": target.server,
        "ceiling": target.ceiling,
        "peer": not (target.ceiling or target.oakling),
        "tests": {},
    }
    try:
        with servers.running(target, args.logdir, snapshot) as server:
            failed = verify(server.port, tests)
            for test in tests:
                if test in failed:
                    result["tests"][test] = {"error": f"verification: {failed[test]}"}
                    print(f"  {test:10} FAILED verification: {failed[test][:300]}", flush=True)
                    continue
                result["tests"][test] = _time(server.port, test, args)
    except RuntimeError as exc:
        result["error"] = str(exc)
        print(f"  FAILED: {str(exc)[:500]}", flush=True)
    return result


def _time(port: int, test: str, args: argparse.Namespace) -> dict[str, Any]:
    path = PATHS[test]
    try:
        servers.wrk(port, path, args.warmup)
        load = servers.wrk(port, path, args.duration)
    except (RuntimeError, OSError) as exc:
        print(f"  {test:10} wrk failed: {exc}", flush=True)
        return {"error": str(exc)}
    flag = f"  ({load.errors} errors)" if load.errors else ""
    print(f"  {test:10} {load.rps:>10,.0f} req/s  p99 {load.p99_ms:7.2f} ms{flag}", flush=True)
    return {"rps": load.rps, "p50_ms": load.p50_ms, "p99_ms": load.p99_ms,
            "requests": load.requests, "errors": load.errors}  # fmt: skip


def section(results: report.Results, args: argparse.Namespace, revision: str) -> str:
    """The README section: environment, method, one table per server, ratios."""
    command = "benchmarks/.venv/bin/python benchmarks/http/run.py --write"
    if args.quick:
        command += " --quick"
    lines = [
        "### Results (HTTP)",
        "",
        *report.environment(revision, DISTS),
        f"- Reproduce: `bash benchmarks/setup.sh && {command}` ({args.elapsed / 60:.0f} min)",
        f"- Load: wrk, 1 thread, {servers.CONNECTIONS} connections, pinned to CPU "
        f"{servers.LOAD_CPU}; {args.warmup:g} s warm-up then {args.duration:g} s measured per "
        f"test; `/queries` and `/updates` with `queries=20`.",
        f"- Servers: one worker pinned to CPU {servers.SERVER_CPU}; granian ASGI with "
        f"`--loop {servers.LOOP}`; WSGI with {POOL_SIZE} threads (granian blocking threads, "
        f"gunicorn gthread); asyncpg pools of {POOL_SIZE}; env "
        "`MALLOC_MMAP_THRESHOLD_=1048576 MALLOC_TRIM_THRESHOLD_=4194304`. PostgreSQL runs on the "
        "same 2 CPUs, unpinned.",
        "- Cells: requests/s (p99 latency in ms), higher/lower is better; ⚠: wrk saw socket "
        "errors or non-2xx answers. Every answer was verified first.",
        "",
    ]
    for server, title in SERVER_TITLES.items():
        if any(r["server"] == server for r in results.values()):
            lines += [f"#### {title}", "", report.table(results, server), ""]
    for key in results:
        if results[key]["name"].startswith("oakling"):
            lines += [f"`{key}` against the field (requests/s ratios):", ""]
            lines += [report.ratios(results, key), ""]
    bad = report.failures(results)
    if bad:
        lines += ["Failures:", "", *bad, ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 s warm-up, 2 s per test")
    parser.add_argument("--only", help="targets: keys, names or servers, comma-separated")
    parser.add_argument("--tests", default=",".join(PATHS), help="tests, comma-separated")
    parser.add_argument("--warmup", type=float, help="warm-up seconds per test (default 2)")
    parser.add_argument("--duration", type=float, help="measured seconds per test (default 6)")
    parser.add_argument("--write", action="store_true", help="rewrite the README section")
    parser.add_argument("--json", type=Path, help="write the raw results to this file")
    parser.add_argument("--reset-db", action="store_true", help="drop and refill the tables")
    args = parser.parse_args()
    args.warmup = args.warmup or (1.0 if args.quick else 2.0)
    args.duration = args.duration or (2.0 if args.quick else 6.0)
    tests = [t.strip() for t in args.tests.split(",") if t.strip()]
    unknown = set(tests) - set(PATHS)
    if unknown:
        parser.error(f"unknown tests {sorted(unknown)}; known: {list(PATHS)}")
    if not shutil.which("wrk"):
        parser.error("wrk is not installed: run `bash benchmarks/setup.sh`")
    targets = select(args.only)
    database.ensure(reset=args.reset_db)
    started = time.monotonic()
    results: report.Results = {}
    with tempfile.TemporaryDirectory(prefix="oakling-http-") as tmp:
        args.logdir = Path(tmp)
        revision = snapshot_oakling(Path(tmp))
        for target in targets:
            print(f"{target.key}", flush=True)
            results[target.key] = run_target(target, tests, args, tmp)
    args.elapsed = time.monotonic() - started
    print(f"done in {args.elapsed / 60:.1f} min")
    text = section(results, args, revision)
    print(text)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    if args.write:
        report.write_readme(ROOT / "benchmarks" / "README.md", text)


if __name__ == "__main__":
    main()
