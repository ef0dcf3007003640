"""Tables of the HTTP benchmark, and the README section they are written into."""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from targets import ROOT

START = "<!-- http-results:start -->"
END = "<!-- http-results:end -->"
TESTS = ["json", "plaintext", "db", "queries", "updates", "fortunes"]
Results = dict[str, dict[str, Any]]
"""By target key: {"name", "server", "tests": {test: {"rps", "p99_ms", ...} | {"error"}}}."""


def _cell(test: dict[str, Any] | None, metric: str = "rps") -> str:
    if not test or (metric not in test and "error" not in test):
        return "-"
    if "error" in test:
        return "fail"
    if metric == "cpu_us":
        return f"{test['cpu_us']:,.0f}"
    errors = " ⚠" if test.get("errors") else ""
    return f"{test['rps']:,.0f} ({test['p99_ms']:.1f}){errors}"


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def table(results: Results, server: str, metric: str = "rps") -> str:
    """Per test, for every target run under ``server``: requests/s (p99 latency in ms),
    or with ``metric="cpu_us"`` the server's CPU µs per request."""
    lines = [
        _row(["app", *TESTS]),
        _row(["---", *["---:"] * len(TESTS)]),
    ]
    for result in results.values():
        if result["server"] != server:
            continue
        name = f"**{result['name']}**" if result["name"].startswith("oakling") else result["name"]
        lines.append(_row([name, *[_cell(result["tests"].get(t), metric) for t in TESTS]]))
    return "\n".join(lines)


def _rps(result: dict[str, Any] | None, test: str, metric: str = "rps") -> float | None:
    if result is None:
        return None
    cell = result["tests"].get(test)
    return cell[metric] if cell and metric in cell else None


def ratios(results: Results, oakling_key: str) -> str:
    """oakling's requests/s over the best peer's and over the bare ceiling's, per test."""
    mine = results.get(oakling_key)
    if mine is None:
        return ""
    server = mine["server"]
    peers = [r for r in results.values() if r["server"] == server and r.get("peer")]
    bare = next((r for r in results.values() if r["server"] == server and r.get("ceiling")), None)
    lines = [
        _row(["test", "req/s ÷ best peer", "req/s ÷ bare", "CPU/req: best peer ÷ oakling",
              "CPU/req: bare ÷ oakling"]),
        _row(["---", "---:", "---:", "---:", "---:"]),
    ]  # fmt: skip
    for test in TESTS:
        own = _rps(mine, test)
        best = max(((_rps(p, test) or 0.0, p["name"]) for p in peers), default=(0.0, ""))
        ceiling = _rps(bare, test)
        vs_peer = f"{own / best[0]:.2f}x ({best[1]})" if own and best[0] else "-"
        vs_bare = f"{own / ceiling:.0%}" if own and ceiling else "-"
        own_cpu, bare_cpu = _rps(mine, test, "cpu_us"), _rps(bare, test, "cpu_us")
        peer_cpus = [(c, p["name"]) for p in peers if (c := _rps(p, test, "cpu_us"))]
        best_cpu = min(peer_cpus, default=None)
        cpu_peer = f"{best_cpu[0] / own_cpu:.2f}x ({best_cpu[1]})" if own_cpu and best_cpu else "-"
        cpu_bare = f"{bare_cpu / own_cpu:.0%}" if own_cpu and bare_cpu else "-"
        lines.append(_row([test, vs_peer, vs_bare, cpu_peer, cpu_bare]))
    return "\n".join(lines)


def failures(results: Results) -> list[str]:
    """One line per failed verification or run."""
    lines = []
    for key, result in results.items():
        if result.get("error"):
            lines.append(f"- `{key}`: {_one_line(result['error'])}")
        for test, cell in result["tests"].items():
            if "error" in cell:
                lines.append(f"- `{key}` {test}: {_one_line(cell['error'])}")
    return lines


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def environment(revision: str, dists: list[str]) -> list[str]:
    """Date, machine, versions."""
    versions = ", ".join(f"{d} {version(d)}" for d in dists)
    return [
        f"- Date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Machine: {_cpu_model()}, {os.cpu_count()} CPUs (nproc), Linux {platform.release()}",
        f"- Python: {platform.python_implementation()} {platform.python_version()}; "
        f"PostgreSQL {_postgres_version()}; {_wrk_version()}",
        f"- Versions: {versions}",
        f"- oakling source: `{revision}` (working tree, copied at the start of the run)",
    ]


def version(dist: str) -> str:
    """The installed version of ``dist``."""
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def git_revision() -> str:
    """``git describe --always --dirty`` of this repository."""
    try:
        proc = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--abbrev=10"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return proc.stdout.strip()


def _cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown CPU"
    match = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
    return match.group(1).strip() if match else "unknown CPU"


def _wrk_version() -> str:
    try:
        proc = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    except OSError:
        return "wrk not found"
    match = re.search(r"wrk (\S+)", proc.stdout + proc.stderr)
    return f"wrk {match.group(1)}" if match else "wrk"


def _postgres_version() -> str:
    import psycopg
    from tfb import DSN

    try:
        with psycopg.connect(DSN, autocommit=True) as conn:
            row = conn.execute("SHOW server_version").fetchone()
    except psycopg.Error:
        return "unknown"
    return str(row[0]).split()[0] if row else "unknown"


def write_readme(readme: Path, section: str) -> None:
    """Replace the text between the HTTP results markers (or append the section)."""
    text = readme.read_text()
    block = f"{START}\n{section.strip()}\n{END}"
    if START in text and END in text:
        head, _, rest = text.partition(START)
        _, _, tail = rest.partition(END)
        text = head + block + tail
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    readme.write_text(text)
